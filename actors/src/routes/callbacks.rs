//! `/v1/callbacks/{provider}/...`: providers calling back into a job.
//!
//! Every callback is verified before anything else, in order of cost: first what the URL alone
//! proves (the provider, and on a per-job URL our token bound to provider, job, stage and
//! attempt; only Sora calls back on the project-level URL), then the body is read under a
//! running cap, then the provider's own signature is checked. A bad or missing token or
//! signature is 401 and touches no job. The job object fences by attempt and drops replays by
//! delivery id, so a duplicate, late or out-of-order delivery is acknowledged and changes nothing.

use std::cell::RefCell;

use serde::Deserialize;
use serde_json::json;
use studio::api::ApiError;
use studio::ids::{Attempt, JobId, StageId};
use studio::providers::signature::CallbackRoute;
use studio::providers::signature::Jwks;
use studio::providers::signature::token::parse_callback_url;
use studio::providers::{
    CallbackEvent, HttpRequest, Method as CoreMethod, ProviderKind, VerifyContext, adapter, fal,
};
use studio::time::{Millis, Timestamp};
use worker::{Env, Method, Response, web_sys};

use super::util::{
    call_job, header_pairs, job_stub, json_response, json_text_response, parse_job_id,
    read_raw_body,
};
use crate::error::OrInternal;
use crate::{clock, config, outbound};

/// Largest callback body we read
const MAX_CALLBACK_BODY: usize = 1024 * 1024;
/// Providers whose webhooks are set per project, not per request, so they call back on
/// `/v1/callbacks/{provider}` without a job (and without our token): only Sora. Every other
/// provider gets a per-job URL with our token, and its bare route is refused unread.
const PROJECT_LEVEL: [ProviderKind; 1] = [ProviderKind::Sora];
/// The answer to a callback the job took
const ACCEPTED: &str = r#"{"accepted":true}"#;
/// How long a fetched fal key set is trusted before it is fetched again
const JWKS_TTL: Millis = Millis::from_secs(3600);

thread_local! {
    /// fal's key set, per isolate: fetched on the first fal callback, refreshed hourly
    static FAL_JWKS: RefCell<Option<(Timestamp, Jwks)>> = const { RefCell::new(None) };
}

async fn fal_jwks(env: &Env, now: Timestamp) -> Option<Jwks> {
    if let Some(cached) = FAL_JWKS.with(|c| {
        c.borrow()
            .as_ref()
            .filter(|(at, _)| now.since(*at) < JWKS_TTL)
            .map(|(_, k)| k.clone())
    }) {
        return Some(cached);
    }
    let cfg = config::provider(env, ProviderKind::FalPika).ok()?;
    let resp = outbound::send(&fal::jwks_request(&cfg), outbound::CALL_TIMEOUT)
        .await
        .ok()?;
    let jwks = Jwks::from_json(&resp.body).ok()?;
    FAL_JWKS.with(|c| *c.borrow_mut() = Some((now, jwks.clone())));
    Some(jwks)
}

/// What the URL alone proves, checked before a byte of the body is read: on a per-job URL, our
/// token for this provider, job, stage and attempt (so a forged or replayed URL costs us no
/// read); on the bare route, that the provider calls back there at all
fn check_url(
    url: &str,
    kind: ProviderKind,
    per_job: bool,
    secret: &studio::providers::config::Secret,
    now: Timestamp,
) -> Result<Option<CallbackRoute>, ApiError> {
    if !per_job {
        return if PROJECT_LEVEL.contains(&kind) {
            Ok(None)
        } else {
            Err(ApiError::Unauthenticated(format!(
                "{kind} calls back only on its per-job callback URL"
            )))
        };
    }
    let route = parse_callback_url(url)
        .map_err(|e| ApiError::Unauthenticated(format!("callback url: {e}")))?;
    if route.provider != kind {
        return Err(ApiError::Unauthenticated(
            "callback url names another provider".into(),
        ));
    }
    parse_job_id(route.job.as_str())?;
    route
        .verify(secret, now)
        .map_err(|e| ApiError::Unauthenticated(format!("callback token: {e}")))?;
    Ok(Some(route))
}

/// Finds the job of a callback that names only the provider's task id (Sora's project webhook)
async fn lookup_task(
    env: &Env,
    provider: ProviderKind,
    provider_ref: &str,
) -> Result<Option<(JobId, StageId, Attempt)>, ApiError> {
    #[derive(Deserialize)]
    struct Row {
        job_id: String,
        stage_id: String,
        attempt: f64,
    }
    let row: Option<Row> = env
        .d1("DB")
        .or_internal("D1")?
        .prepare("SELECT job_id, stage_id, attempt FROM provider_tasks WHERE provider = ?1 AND provider_ref = ?2")
        .bind(&[provider.as_str().into(), provider_ref.into()])
        .or_internal("binding task lookup")?
        .first(None)
        .await
        .or_internal("task lookup")?;
    Ok(row.map(|r| {
        (
            JobId(r.job_id),
            StageId(r.stage_id),
            Attempt(r.attempt as u32),
        )
    }))
}

/// Receives one callback, at `url` (the request's own)
pub(crate) async fn receive(
    req: web_sys::Request,
    url: String,
    env: &Env,
    provider: &str,
    rest: &[&str],
) -> Result<Response, ApiError> {
    let kind = ProviderKind::parse(provider)
        .ok_or_else(|| ApiError::NotFound(format!("no provider {provider}")))?;
    let now = clock::now();
    let callbacks = config::callbacks(env).map_err(|e| ApiError::Unavailable(e.to_string()))?;
    // The URL as the runtime has it; the token check parses what it needs of it.
    let route = check_url(&url, kind, !rest.is_empty(), &callbacks.secret, now)?;
    let cfg = config::provider(env, kind).map_err(|e| ApiError::Unavailable(e.to_string()))?;
    let headers = header_pairs(&req.headers())?;
    let body = read_raw_body(req, MAX_CALLBACK_BODY).await?;
    let http = HttpRequest {
        method: CoreMethod::Post,
        url,
        headers,
        body,
    };
    let jwks = if kind == ProviderKind::FalPika {
        fal_jwks(env, now).await
    } else {
        None
    };
    let ctx = VerifyContext {
        now,
        callback_secret: &callbacks.secret,
        fal_jwks: jwks.as_ref(),
    };
    let adapter = adapter(kind);
    adapter
        .verify_callback(&http, &cfg, &ctx)
        .map_err(|e| ApiError::Unauthenticated(format!("callback signature: {e}")))?;
    let callback = adapter
        .parse_callback(&http, now)
        .map_err(|e| ApiError::BadRequest {
            code: "invalid_callback",
            message: e.to_string(),
            field: None,
        })?;
    let target = match (&callback.event, route) {
        (CallbackEvent::Challenge { response }, _) => {
            let body = String::from_utf8_lossy(&response.body).to_string();
            let mut resp = Response::ok(body)
                .or_internal("challenge")?
                .with_status(response.status);
            for (k, v) in &response.headers {
                resp.headers_mut()
                    .set(k, v)
                    .or_internal("challenge header")?;
            }
            return Ok(resp);
        }
        (CallbackEvent::Ignore, _) => {
            return json_response(&json!({ "accepted": true, "ignored": true }), 200);
        }
        // Our URL, its token verified before the body was read: the route is the target. A
        // provider reference in the body is only a claim; the job polls the task it recorded.
        (_, Some(route)) => (route.job, route.stage, route.attempt),
        (_, None) => {
            let provider_ref = callback.provider_ref.as_ref().ok_or_else(|| {
                ApiError::bad_field("invalid_callback", "id", "the callback names no task")
            })?;
            lookup_task(env, kind, provider_ref.as_str())
                .await?
                .ok_or_else(|| {
                    ApiError::NotFound(format!("no task {provider_ref} of {provider}"))
                })?
        }
    };
    let (job, stage, attempt) = target;
    let body = json!({
        "provider": kind,
        "stage": stage,
        "attempt": attempt,
        "provider_ref": callback.provider_ref,
        "delivery_id": callback.delivery_id,
        "event": callback.event,
    });
    let (status, _, text) =
        call_job(job_stub(env, &job)?, Method::Post, "/callback", Some(&body)).await?;
    match status {
        // The same few bytes on every accepted callback: written out, not built and encoded.
        200 => json_text_response(ACCEPTED.to_owned()),
        404 => Err(ApiError::NotFound(format!("no render {job}"))),
        // The job refused the input as misuse (e.g. an unknown stage): a bad callback, not ours.
        409 | 400 => Err(ApiError::BadRequest {
            code: "invalid_callback",
            message: text,
            field: None,
        }),
        _ => Err(ApiError::Internal(format!(
            "job object answered {status}: {text}"
        ))),
    }
}
