//! The request as provider modules see it, and response helpers.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use bytes::Bytes;
use serde_json::Value;

/// One request under a provider prefix
#[derive(Debug, Clone)]
pub struct SimRequest {
    /// The method
    pub method: Method,
    /// Percent-decoded path segments after the provider prefix (no empty ones)
    pub segments: Vec<String>,
    /// Decoded query pairs, in order
    pub query: Vec<(String, String)>,
    /// The headers
    pub headers: HeaderMap,
    /// The raw body
    pub body: Bytes,
    /// When its head arrived, wall clock in microseconds (see [`Task::received_unix_us`])
    ///
    /// [`Task::received_unix_us`]: crate::state::Task::received_unix_us
    pub received_unix_us: u64,
}

impl SimRequest {
    /// The segments as `&str`, for slice patterns
    pub fn segs(&self) -> Vec<&str> {
        self.segments.iter().map(String::as_str).collect()
    }

    /// A header value, when it is valid text
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The first query value named `name`
    pub fn query(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The credential of `Authorization: <scheme> <credential>` (scheme case-insensitive)
    pub fn auth(&self, scheme: &str) -> Option<&str> {
        let value = self.header("authorization")?.trim();
        let (s, rest) = value.split_once(' ')?;
        s.eq_ignore_ascii_case(scheme).then(|| rest.trim())
    }

    /// The body as JSON, or a message saying why not
    pub fn json(&self) -> Result<Value, String> {
        if self.body.is_empty() {
            return Err("request body is empty".to_string());
        }
        serde_json::from_slice(&self.body).map_err(|e| format!("invalid JSON body: {e}"))
    }

    /// The body as a JSON object, or a message saying why not
    pub fn json_object(&self) -> Result<serde_json::Map<String, Value>, String> {
        match self.json()? {
            Value::Object(m) => Ok(m),
            _ => Err("request body must be a JSON object".to_string()),
        }
    }
}

/// A JSON response
pub fn json(status: StatusCode, body: &Value) -> Response {
    raw(status, "application/json", body.to_string().into_bytes())
}

/// A response with a body of the given content type
pub fn raw(status: StatusCode, content_type: &str, body: Vec<u8>) -> Response {
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = status;
    if let Ok(v) = HeaderValue::from_str(content_type) {
        r.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    r
}

/// An empty response
pub fn empty(status: StatusCode) -> Response {
    let mut r = Response::new(Body::empty());
    *r.status_mut() = status;
    r
}

/// Adds a header (ignored when the value is not a valid header value)
pub fn with_header(mut r: Response, name: &'static str, value: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(value) {
        r.headers_mut().insert(HeaderName::from_static(name), v);
    }
    r
}

/// The answer of the `malformed` fault: 200 with JSON cut off mid-object
pub fn malformed() -> Response {
    raw(
        StatusCode::OK,
        "application/json",
        br#"{"id": "sim-malformed", "status": "#.to_vec(),
    )
}
