//! What every provider's statuses, outputs and errors normalise to.

use serde::{Deserialize, Serialize};

use crate::time::{Millis, Timestamp};

/// One output of a finished task
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Output {
    /// Bytes to download from the provider before `expires_at`
    Url {
        /// Where the bytes are
        url: String,
        /// MIME type when the provider says
        content_type: Option<String>,
        /// After this the URL is dead (BFL: 10 minutes, Sora: 1 hour)
        expires_at: Option<Timestamp>,
    },
    /// Already in our R2 bucket (synchronous providers whose body the shell stored at once)
    Stored {
        /// R2 key
        key: String,
        /// MIME type
        content_type: String,
        /// Size in bytes
        bytes: u64,
    },
}

/// A provider's view of a task, normalised
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum ProviderStatus {
    /// Accepted, queued or throttled: nothing to do but wait
    Queued,
    /// Running
    Running,
    /// Done; outputs must be copied to R2
    Succeeded {
        /// The outputs, first is primary
        outputs: Vec<Output>,
    },
    /// Failed; `retryable` says whether the same model may be tried again
    Failed {
        /// A reason a person can read
        reason: String,
        /// Whether another attempt on the same model may succeed
        retryable: bool,
    },
    /// Refused by the provider's safety system: fall back to another model
    Moderated {
        /// The provider's words
        reason: String,
    },
}

impl ProviderStatus {
    /// Whether no further status can follow this one
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            Self::Succeeded { .. } | Self::Failed { .. } | Self::Moderated { .. }
        )
    }
}

/// Why a provider call did not produce a status
#[derive(Debug, Clone, PartialEq, thiserror::Error, Serialize, Deserialize)]
pub enum ProviderError {
    /// Network error, 5xx, timeout: try again later
    #[error("transient provider error: {reason}")]
    Transient {
        /// What happened
        reason: String,
    },
    /// 429 or a provider's own throttle
    #[error("rate limited by provider")]
    RateLimited {
        /// From `Retry-After` when present
        retry_after: Option<Millis>,
    },
    /// 4xx other than auth and rate limits: this request will not succeed on this model
    #[error("request rejected by provider: {reason}")]
    Rejected {
        /// The provider's words
        reason: String,
    },
    /// Refused for content
    #[error("refused by provider moderation: {reason}")]
    Moderated {
        /// The provider's words
        reason: String,
    },
    /// 401/403 from the provider: our credentials are wrong
    #[error("provider rejected our credentials")]
    Unauthorized,
    /// A body we cannot parse or a status string we do not know: retryable, never a panic
    #[error("malformed provider response: {reason}")]
    Malformed {
        /// What was wrong
        reason: String,
    },
}
