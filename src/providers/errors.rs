//! The one mapping from a provider's HTTP failure to a [`ProviderError`], shared by every adapter
//! so retry semantics do not drift between providers:
//!
//! | response | error |
//! |---|---|
//! | 429 | `RateLimited`, `retry_after` from `Retry-After` seconds (an HTTP date is ignored) |
//! | 401, 403 | `Unauthorized` |
//! | 408, 425 | `Transient` (the provider asks us to try again) |
//! | other 4xx | `Moderated` when the adapter recognises its provider's refusal, else `Rejected` |
//! | 5xx | `Transient` |
//! | 1xx, 3xx | `Malformed` (nothing we asked for answers like this) |
//! | 2xx with a body we cannot parse | `Malformed` ([`parse_json`]) |

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::{HttpResponse, ProviderError};
use crate::time::Millis;

/// Longest provider text we copy into an error reason
const MAX_REASON_CHARS: usize = 300;

/// Maps a non-2xx response; `is_moderation` reads the provider's reason and says whether it is a
/// content refusal (each provider words them differently)
pub fn http_error(resp: &HttpResponse, is_moderation: fn(&str) -> bool) -> ProviderError {
    let reason = error_reason(&resp.body);
    match resp.status {
        429 => ProviderError::RateLimited {
            retry_after: retry_after(resp),
        },
        401 | 403 => ProviderError::Unauthorized,
        408 | 425 => ProviderError::Transient {
            reason: format!("http {}: {reason}", resp.status),
        },
        400..=499 if is_moderation(&reason) => ProviderError::Moderated { reason },
        400..=499 => ProviderError::Rejected {
            reason: format!("http {}: {reason}", resp.status),
        },
        500..=599 => ProviderError::Transient {
            reason: format!("http {}: {reason}", resp.status),
        },
        other => ProviderError::Malformed {
            reason: format!("unexpected http status {other}"),
        },
    }
}

/// `Retry-After` in whole seconds; an HTTP date or garbage gives `None` (the caller backs off on
/// its own schedule)
pub fn retry_after(resp: &HttpResponse) -> Option<Millis> {
    resp.header("retry-after")?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Millis::from_secs)
}

/// A short human-readable reason from an error body, trying the shapes our providers use
pub fn error_reason(body: &[u8]) -> String {
    if let Ok(json) = crate::json_bytes::from_bytes::<Value>(body) {
        const POINTERS: [&str; 10] = [
            "/error/message",
            "/error",
            "/detail/message",
            "/detail/0/msg",
            "/detail",
            "/message",
            "/msg",
            "/base_resp/status_msg",
            "/failure",
            "/status",
        ];
        for p in POINTERS {
            if let Some(s) = json
                .pointer(p)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
            {
                return truncate(s);
            }
        }
    }
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        "empty body".to_owned()
    } else {
        truncate(text)
    }
}

/// Truncates to 300 characters, on a character boundary
pub fn truncate(s: &str) -> String {
    s.chars().take(MAX_REASON_CHARS).collect()
}

/// Parses a JSON body into `T`; a body that is not the shape we know is `Malformed`
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ProviderError> {
    crate::json_bytes::from_bytes(body).map_err(|e| ProviderError::Malformed {
        reason: format!(
            "unexpected body ({e}): {}",
            truncate(&String::from_utf8_lossy(body))
        ),
    })
}

/// The 2xx body as `T`, or the mapped error of a non-2xx response
pub fn expect_json<T: DeserializeOwned>(
    resp: &HttpResponse,
    is_moderation: fn(&str) -> bool,
) -> Result<T, ProviderError> {
    if resp.is_success() {
        parse_json(&resp.body)
    } else {
        Err(http_error(resp, is_moderation))
    }
}

/// For providers whose 4xx bodies never signal moderation
pub fn never_moderation(_: &str) -> bool {
    false
}

/// `Malformed` for a status string a provider is not documented to send
pub fn unknown_status(provider: &str, status: &str) -> ProviderError {
    ProviderError::Malformed {
        reason: format!("unknown {provider} status {:?}", truncate(status)),
    }
}

/// `Malformed` for a required field that is absent
pub fn missing(what: &str) -> ProviderError {
    ProviderError::Malformed {
        reason: format!("missing {what}"),
    }
}
