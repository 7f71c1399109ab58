//! Small helpers shared by the route handlers.

use serde_json::Value;
use studio::api::ApiError;
use studio::ids::JobId;
use worker::{Env, Method, Request, RequestInit, Response, Stub};

use crate::error::OrInternal;

/// Largest request body the API reads (a 1,000-shot brief fits comfortably)
pub(crate) const MAX_BODY: usize = 512 * 1024;

/// Reads a body, refusing one over `limit` with 413 before buffering more than it
pub(crate) async fn read_body(req: &mut Request, limit: usize) -> Result<Vec<u8>, ApiError> {
    let declared = req
        .headers()
        .get("content-length")
        .ok()
        .flatten()
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(ApiError::TooLarge { limit });
    }
    let bytes = req.bytes().await.or_internal("reading body")?;
    if bytes.len() > limit {
        return Err(ApiError::TooLarge { limit });
    }
    Ok(bytes)
}

/// Job ids are `rnd_` and 32 lowercase hex digits; anything else is not a job
pub(crate) fn parse_job_id(id: &str) -> Result<JobId, ApiError> {
    let valid = id.strip_prefix("rnd_").is_some_and(|hex| {
        hex.len() == 32
            && hex
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    });
    if valid {
        Ok(JobId(id.to_owned()))
    } else {
        Err(ApiError::NotFound(format!("no render {id}")))
    }
}

/// The job object of a job id
pub(crate) fn job_stub(env: &Env, job: &JobId) -> Result<Stub, ApiError> {
    env.durable_object("RENDER_JOB")
        .and_then(|ns| ns.get_by_name(job.as_str()))
        .or_internal("job object")
}

/// Calls a job object's internal route
pub(crate) async fn call_job(
    stub: &Stub,
    method: Method,
    path: &str,
    body: Option<&Value>,
) -> Result<(u16, Value, String), ApiError> {
    let mut init = RequestInit::new();
    init.with_method(method);
    if let Some(b) = body {
        init.with_body(Some(b.to_string().into()));
    }
    let req = Request::new_with_init(&format!("https://job{path}"), &init)
        .or_internal("building job request")?;
    let mut resp = stub
        .fetch_with_request(req)
        .await
        .or_internal("calling job object")?;
    let status = resp.status_code();
    let text = resp.text().await.or_internal("reading job response")?;
    let json = serde_json::from_str(&text).unwrap_or(Value::Null);
    Ok((status, json, text))
}

/// A JSON response with a status
pub(crate) fn json_response(value: &Value, status: u16) -> Result<Response, ApiError> {
    Response::from_json(value)
        .map(|r| r.with_status(status))
        .or_internal("encoding response")
}
