//! Turning failures into JSON responses, and shell errors into API errors.

use studio::api::{ApiError, RequestId};
use worker::{Headers, Response, Result};

/// The header that carries the request id on every response
pub(crate) const REQUEST_ID_HEADER: &str = "x-request-id";

/// Renders an [`ApiError`] as `{"error": {...}}` with its status (and `Retry-After` on 429).
/// A failure of ours is logged here with the request id, and answered without its details.
pub(crate) fn respond(err: &ApiError, request_id: &RequestId) -> Result<Response> {
    if let Some(detail) = err.log_detail() {
        worker::console_error!("[{request_id}] internal error: {detail}");
    }
    let mut response = Response::from_json(&err.public_body(request_id))?.with_status(err.status());
    if let ApiError::RateLimited { retry_after } = err {
        let seconds = retry_after.0.div_ceil(1000).max(1);
        response
            .headers_mut()
            .set("retry-after", &seconds.to_string())?;
    }
    Ok(response)
}

/// The response with `x-request-id` set. A response of ours takes it in place; a response
/// relayed from a Durable Object or `fetch` has immutable headers, so they are copied first and
/// its body (a stream) is passed on as is
pub(crate) fn with_request_id(mut response: Response, request_id: &RequestId) -> Result<Response> {
    if response
        .headers_mut()
        .set(REQUEST_ID_HEADER, request_id.as_str())
        .is_ok()
    {
        return Ok(response);
    }
    let headers = Headers::new();
    for (name, value) in response.headers().entries() {
        headers.append(&name, &value)?;
    }
    headers.set(REQUEST_ID_HEADER, request_id.as_str())?;
    Ok(response.with_headers(headers))
}

/// Maps a runtime or binding failure to a 500: only for failures of ours, never for bad input
pub(crate) trait OrInternal<T> {
    /// Tags the failure with what we were doing
    fn or_internal(self, doing: &str) -> std::result::Result<T, ApiError>;
}

impl<T> OrInternal<T> for Result<T> {
    fn or_internal(self, doing: &str) -> std::result::Result<T, ApiError> {
        self.map_err(|e| ApiError::Internal(format!("{doing}: {e}")))
    }
}
