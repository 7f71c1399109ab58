//! Sends the core's IO-free [`HttpRequest`]s with the runtime's `fetch`.

use std::time::Duration;

use futures::future::{Either, select};
use studio::providers::{HttpRequest, HttpResponse, Method, ProviderError};
use worker::{Delay, Fetch, Headers, Request, RequestInit};

/// How long one provider call may take before it counts as a transient failure
pub(crate) const CALL_TIMEOUT: Duration = Duration::from_secs(30);

fn method(m: Method) -> worker::Method {
    match m {
        Method::Get => worker::Method::Get,
        Method::Post => worker::Method::Post,
        Method::Put => worker::Method::Put,
        Method::Delete => worker::Method::Delete,
    }
}

async fn send_inner(req: &HttpRequest) -> worker::Result<HttpResponse> {
    let headers = Headers::new();
    for (k, v) in &req.headers {
        headers.append(k, v)?;
    }
    let mut init = RequestInit::new();
    init.with_method(method(req.method)).with_headers(headers);
    if !req.body.is_empty() {
        let body = worker::js_sys::Uint8Array::from(req.body.as_slice());
        init.with_body(Some(body.into()));
    }
    let request = Request::new_with_init(&req.url, &init)?;
    let mut resp = Fetch::Request(request).send().await?;
    let status = resp.status_code();
    let headers = resp.headers().entries().collect::<Vec<(String, String)>>();
    let body = resp.bytes().await?;
    Ok(HttpResponse {
        status,
        headers,
        body,
    })
}

/// Sends a request; network failures and timeouts become [`ProviderError::Transient`]
pub(crate) async fn send(
    req: &HttpRequest,
    timeout: Duration,
) -> Result<HttpResponse, ProviderError> {
    let call = Box::pin(send_inner(req));
    let timer = Box::pin(Delay::from(timeout));
    match select(call, timer).await {
        Either::Left((Ok(resp), _)) => Ok(resp),
        Either::Left((Err(e), _)) => Err(ProviderError::Transient {
            reason: format!("{} {}: {e}", req.method.as_str(), req.url),
        }),
        Either::Right(_) => Err(ProviderError::Transient {
            reason: format!(
                "{} {} timed out after {}s",
                req.method.as_str(),
                req.url,
                timeout.as_secs()
            ),
        }),
    }
}
