//! Sends the core's IO-free [`HttpRequest`]s with the runtime's `fetch`.
//!
//! Every call has a deadline; past it the fetch is aborted (a dropped future alone would leave
//! the runtime downloading). A response body is read with a running cap, so a provider that
//! answers a control call with hundreds of megabytes cannot take the isolate's memory; callers
//! that only need the status (webhook receivers, health probes) never read the body at all, and
//! never follow a redirect: an app's webhook URL is checked when the render is created, and a
//! `302` to an internal address must not take the signed payload past that check, so a 3xx
//! comes back as it is and counts as a failed delivery (only 2xx acknowledges).

use std::time::Duration;

use futures::StreamExt;
use futures::future::{Either, select};
use studio::api::body_cap::CappedBody;
use studio::providers::{HttpRequest, HttpResponse, Method, ProviderError};
use worker::{AbortController, Delay, Fetch, Headers, Request, RequestInit, RequestRedirect};

use crate::object_fetch;

/// How long one provider control call may take before it counts as unanswered (the core's
/// `CALL_TIMEOUT`; a submit answered with the result gets `submit_call_timeout`)
pub(crate) const CALL_TIMEOUT: Duration = Duration::from_millis(studio::job::CALL_TIMEOUT.0);

/// The largest body read from a control call. Synchronous providers answer with the output
/// itself (ElevenLabs' audio of a line, MiniMax's hex audio of a score): minutes of MP3 fit.
pub(crate) const MAX_RESPONSE_BYTES: usize = 32 * 1024 * 1024;

fn method(m: Method) -> worker::Method {
    match m {
        Method::Get => worker::Method::Get,
        Method::Post => worker::Method::Post,
        Method::Put => worker::Method::Put,
        Method::Delete => worker::Method::Delete,
    }
}

/// Whether the body is read (and how much of it may be)
#[derive(Clone, Copy)]
enum Body {
    Read { cap: usize },
    Discard,
}

impl Body {
    /// Status-only calls go to URLs others chose (an app's webhook receiver): their redirects
    /// are answers, not directions
    fn redirect(self) -> RequestRedirect {
        match self {
            Self::Read { .. } => RequestRedirect::Follow,
            Self::Discard => RequestRedirect::Manual,
        }
    }
}

/// The runtime's request for one of the core's (redirects followed)
pub(crate) fn request(req: &HttpRequest) -> worker::Result<Request> {
    request_with(req, RequestRedirect::Follow)
}

fn request_with(req: &HttpRequest, redirect: RequestRedirect) -> worker::Result<Request> {
    let headers = Headers::new();
    for (k, v) in &req.headers {
        headers.append(k, v)?;
    }
    let mut init = RequestInit::new();
    init.with_method(method(req.method))
        .with_headers(headers)
        .with_redirect(redirect);
    if !req.body.is_empty() {
        let bytes = worker::js_sys::Uint8Array::from(req.body.as_slice());
        init.with_body(Some(bytes.into()));
    }
    Request::new_with_init(&req.url, &init)
}

async fn send_inner(
    req: &HttpRequest,
    signal: &worker::AbortSignal,
    body: Body,
) -> Result<HttpResponse, String> {
    let request = request_with(req, body.redirect()).map_err(|e| e.to_string())?;
    let mut resp = Fetch::Request(request)
        .send_with_signal(signal)
        .await
        .map_err(|e| e.to_string())?;
    let status = resp.status_code();
    let headers = resp.headers().entries().collect::<Vec<(String, String)>>();
    let body = match body {
        Body::Discard => Vec::new(),
        Body::Read { cap } => read_capped(&mut resp, cap).await?,
    };
    Ok(HttpResponse {
        status,
        headers,
        body,
    })
}

async fn read_capped(resp: &mut worker::Response, cap: usize) -> Result<Vec<u8>, String> {
    let too_large = |_| format!("the response is larger than {cap} bytes");
    let headers = resp.headers();
    let length = headers.get("content-length").ok().flatten();
    let encoding = headers.get("content-encoding").ok().flatten();
    let mut body =
        CappedBody::for_response(cap, length.as_deref(), encoding.as_deref()).map_err(too_large)?;
    // A plain body of declared length ends there: one read, not a stream reader's round trips
    // (whose `releaseLock` alone was 3% of the runtime's CPU under fifty renders).
    if body.length_declared() {
        let bytes = object_fetch::response_bytes(resp)
            .await
            .map_err(|e| e.to_string())?;
        body.push(&bytes).map_err(too_large)?;
        return Ok(body.finish());
    }
    let mut stream = resp.stream().map_err(|e| e.to_string())?;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| e.to_string())?;
        body.push(&chunk).map_err(too_large)?;
    }
    Ok(body.finish())
}

/// A call that brought back no answer we can read: it timed out, the connection failed, or the
/// body could not be read. Whether the other side acted on it is unknown.
#[derive(Debug)]
pub(crate) struct Unanswered(pub String);

impl From<Unanswered> for ProviderError {
    fn from(e: Unanswered) -> Self {
        ProviderError::Transient { reason: e.0 }
    }
}

async fn send_with(
    req: &HttpRequest,
    timeout: Duration,
    body: Body,
) -> Result<HttpResponse, Unanswered> {
    let controller = AbortController::default();
    let signal = controller.signal();
    let call = Box::pin(send_inner(req, &signal, body));
    let timer = Box::pin(Delay::from(timeout));
    // Only the host and path go into reasons: query strings carry our callback tokens and
    // signed media URLs, and reasons reach journals and views.
    let target = req.url.split('?').next().unwrap_or_default();
    match select(call, timer).await {
        Either::Left((Ok(resp), _)) => Ok(resp),
        Either::Left((Err(e), _)) => {
            Err(Unanswered(format!("{} {target}: {e}", req.method.as_str())))
        }
        Either::Right(_) => {
            controller.abort();
            Err(Unanswered(format!(
                "{} {target} timed out after {}s",
                req.method.as_str(),
                timeout.as_secs()
            )))
        }
    }
}

/// Sends a request and reads its body (at most [`MAX_RESPONSE_BYTES`]); network failures,
/// oversized bodies and timeouts become [`ProviderError::Transient`]
pub(crate) async fn send(
    req: &HttpRequest,
    timeout: Duration,
) -> Result<HttpResponse, ProviderError> {
    Ok(send_or_unanswered(req, timeout).await?)
}

/// As [`send`], keeping "no answer" apart from an answer: a submit that got none may have made
/// a task, which the job must reconcile rather than retry (`Input::SubmitUnanswered`)
pub(crate) async fn send_or_unanswered(
    req: &HttpRequest,
    timeout: Duration,
) -> Result<HttpResponse, Unanswered> {
    send_with(
        req,
        timeout,
        Body::Read {
            cap: MAX_RESPONSE_BYTES,
        },
    )
    .await
}

/// Sends a request and reads only its status and headers: the body is never read and a redirect
/// is never followed (a 3xx is the answer)
pub(crate) async fn send_for_status(
    req: &HttpRequest,
    timeout: Duration,
) -> Result<HttpResponse, ProviderError> {
    Ok(send_with(req, timeout, Body::Discard).await?)
}
