//! How one attempt at a model ended, as far as the model's health is concerned.

use serde::{Deserialize, Serialize};

use crate::job::Failure;
use crate::time::Millis;

/// Why an attempt failed, for the support view (both kinds count against the model)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// Another try may succeed (5xx, timeout, provider-side failure)
    Transient,
    /// The model will not do it (request refused, model gone, credentials rejected)
    Permanent,
}

/// How one attempt at a model ended
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Outcome {
    /// The model delivered; `latency` is submit to output
    Succeeded {
        /// Time from submit to output
        latency: Millis,
    },
    /// The model failed the attempt
    Failed {
        /// Whether another try could help
        failure: FailureKind,
    },
    /// The provider answered 429: counts toward the 429 rate, never toward failures (pacing is
    /// the gate's business, not the model's health)
    RateLimited,
}

impl Outcome {
    /// The outcome a job's failure stands for; `None` when it says nothing about the model:
    /// a moderation refusal is the prompt's doing, and a failed copy into storage comes after
    /// the model delivered (report that attempt as [`Outcome::Succeeded`] when its latency is
    /// known)
    pub fn of_failure(failure: &Failure) -> Option<Self> {
        match failure {
            Failure::Transient { .. } | Failure::TimedOut { .. } => Some(Self::Failed {
                failure: FailureKind::Transient,
            }),
            Failure::ModelUnusable { .. } => Some(Self::Failed {
                failure: FailureKind::Permanent,
            }),
            Failure::RateLimited { .. } => Some(Self::RateLimited),
            Failure::Moderated { .. } | Failure::StoreFailed { .. } => None,
        }
    }

    /// Whether this outcome is evidence about the model's health (a 429 is not)
    pub(crate) fn is_health_sample(self) -> bool {
        match self {
            Self::Succeeded { .. } | Self::Failed { .. } => true,
            Self::RateLimited => false,
        }
    }
}
