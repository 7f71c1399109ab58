//! The API's error body and the single table from error to HTTP status.
//!
//! What a client sees of a failure of ours is [`ApiError::public_body`]: a 500 says only
//! "internal error" and the request id, so raw D1, object or runtime text never leaves the
//! Worker; the details go to the log under the same id ([`ApiError::log_detail`]).

use serde::{Deserialize, Serialize};

use super::request_id::RequestId;
use crate::time::Millis;

/// Everything the API can answer with other than success
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ApiError {
    /// The request body or a parameter is invalid
    #[error("{message}")]
    BadRequest {
        /// Stable machine code, e.g. `invalid_brief`
        code: &'static str,
        /// What is wrong, for a person
        message: String,
        /// The offending field path, e.g. `shots[3].duration_s`
        field: Option<String>,
    },
    /// No key, or a key we do not know
    #[error("{0}")]
    Unauthenticated(String),
    /// The key is valid but its role may not do this
    #[error("{0}")]
    Forbidden(String),
    /// Not there, or not yours (never 403 for another creator's job: that would confirm it exists)
    #[error("{0}")]
    NotFound(String),
    /// The method is not allowed on this route
    #[error("method not allowed")]
    MethodNotAllowed,
    /// An idempotency key reused with another body, or a state that forbids the action
    #[error("{message}")]
    Conflict {
        /// Stable machine code
        code: &'static str,
        /// What conflicts
        message: String,
    },
    /// The body is larger than the route accepts
    #[error("request body over {limit} bytes")]
    TooLarge {
        /// The limit in bytes
        limit: usize,
    },
    /// Over the key's rate
    #[error("rate limit exceeded")]
    RateLimited {
        /// When to try again
        retry_after: Millis,
    },
    /// A binding or downstream failed; never used for bad input
    #[error("{0}")]
    Internal(String),
    /// A dependency is down or not configured
    #[error("{0}")]
    Unavailable(String),
}

/// `{"error": {"code", "message", "field"}}`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ErrorBody {
    /// The error
    pub error: ErrorDetail,
}

/// The inner object of [`ErrorBody`]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ErrorDetail {
    /// Stable machine code
    pub code: String,
    /// What happened, for a person
    pub message: String,
    /// The offending field, when there is one
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub field: Option<String>,
    /// The request's id (also the `x-request-id` header): quote it to support, who find the
    /// logged details under it
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub request_id: Option<String>,
}

/// The whole message a client gets for a failure of ours
pub const INTERNAL_MESSAGE: &str = "internal error";

impl ApiError {
    /// A 400 naming a field
    pub fn bad_field(
        code: &'static str,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self::BadRequest {
            code,
            message: message.into(),
            field: Some(field.into()),
        }
    }

    /// The HTTP status for this error
    pub fn status(&self) -> u16 {
        match self {
            Self::BadRequest { .. } => 400,
            Self::Unauthenticated(_) => 401,
            Self::Forbidden(_) => 403,
            Self::NotFound(_) => 404,
            Self::MethodNotAllowed => 405,
            Self::Conflict { .. } => 409,
            Self::TooLarge { .. } => 413,
            Self::RateLimited { .. } => 429,
            Self::Internal(_) => 500,
            Self::Unavailable(_) => 503,
        }
    }

    /// The stable machine code
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadRequest { code, .. } | Self::Conflict { code, .. } => code,
            Self::Unauthenticated(_) => "unauthenticated",
            Self::Forbidden(_) => "forbidden",
            Self::NotFound(_) => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::TooLarge { .. } => "payload_too_large",
            Self::RateLimited { .. } => "rate_limited",
            Self::Internal(_) => "internal",
            Self::Unavailable(_) => "unavailable",
        }
    }

    /// The JSON body
    pub fn body(&self) -> ErrorBody {
        let field = match self {
            Self::BadRequest { field, .. } => field.clone(),
            _ => None,
        };
        ErrorBody {
            error: ErrorDetail {
                code: self.code().to_owned(),
                message: self.to_string(),
                field,
                request_id: None,
            },
        }
    }

    /// The body a client gets, carrying the request id; a failure of ours (500) says only
    /// [`INTERNAL_MESSAGE`], whatever its details
    pub fn public_body(&self, request_id: &RequestId) -> ErrorBody {
        let mut body = self.body();
        if let Self::Internal(_) = self {
            INTERNAL_MESSAGE.clone_into(&mut body.error.message);
        }
        body.error.request_id = Some(request_id.as_str().to_owned());
        body
    }

    /// What is logged (never answered) for this error: the details of a failure of ours
    pub fn log_detail(&self) -> Option<&str> {
        match self {
            Self::Internal(detail) => Some(detail),
            Self::BadRequest { .. }
            | Self::Unauthenticated(_)
            | Self::Forbidden(_)
            | Self::NotFound(_)
            | Self::MethodNotAllowed
            | Self::Conflict { .. }
            | Self::TooLarge { .. }
            | Self::RateLimited { .. }
            | Self::Unavailable(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_follow_the_design_table() {
        assert_eq!(
            ApiError::bad_field("invalid_brief", "shots[3].duration_s", "x").status(),
            400
        );
        assert_eq!(ApiError::Unauthenticated("no key".into()).status(), 401);
        assert_eq!(ApiError::Forbidden("role".into()).status(), 403);
        assert_eq!(ApiError::NotFound("job".into()).status(), 404);
        assert_eq!(
            ApiError::Conflict {
                code: "idempotency_conflict",
                message: "x".into()
            }
            .status(),
            409
        );
        assert_eq!(ApiError::TooLarge { limit: 10 }.status(), 413);
        assert_eq!(
            ApiError::RateLimited {
                retry_after: Millis(1000)
            }
            .status(),
            429
        );
    }

    #[test]
    fn body_names_the_field() {
        let body = ApiError::bad_field("invalid_brief", "budget_usd", "must be positive").body();
        let json = serde_json::to_value(&body).unwrap_or_default();
        assert_eq!(json["error"]["field"], "budget_usd");
        assert_eq!(json["error"]["code"], "invalid_brief");
        let unauth =
            serde_json::to_value(ApiError::Unauthenticated("x".into()).body()).unwrap_or_default();
        assert!(unauth["error"].get("field").is_none());
        assert!(unauth["error"].get("request_id").is_none());
    }

    #[test]
    fn a_failure_of_ours_shows_only_the_request_id() {
        let id = RequestId::new(None, [7; 16]);
        let err = ApiError::Internal("D1_ERROR: no such table: renders".into());
        let json = serde_json::to_value(err.public_body(&id)).unwrap_or_default();
        assert_eq!(json["error"]["message"], INTERNAL_MESSAGE);
        assert_eq!(json["error"]["code"], "internal");
        assert_eq!(json["error"]["request_id"], id.as_str());
        assert!(!json.to_string().contains("D1_ERROR"));
        assert_eq!(err.log_detail(), Some("D1_ERROR: no such table: renders"));
        let bad = ApiError::bad_field("invalid_brief", "budget_usd", "must be positive");
        let json = serde_json::to_value(bad.public_body(&id)).unwrap_or_default();
        assert_eq!(json["error"]["message"], "must be positive");
        assert_eq!(json["error"]["request_id"], id.as_str());
        assert_eq!(bad.log_detail(), None);
    }
}
