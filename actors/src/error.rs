//! Turning failures into JSON responses, and shell errors into API errors.

use studio::api::ApiError;
use worker::{Response, Result};

/// Renders an [`ApiError`] as `{"error": {...}}` with its status (and `Retry-After` on 429)
pub(crate) fn respond(err: &ApiError) -> Result<Response> {
    if let ApiError::Internal(message) = err {
        worker::console_error!("internal error: {message}");
    }
    let mut response = Response::from_json(&err.body())?.with_status(err.status());
    if let ApiError::RateLimited { retry_after } = err {
        let seconds = retry_after.0.div_ceil(1000).max(1);
        response
            .headers_mut()
            .set("retry-after", &seconds.to_string())?;
    }
    Ok(response)
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
