//! What to do after a failed attempt: the retry policy as types, not strings.
//!
//! A transient fault never fails a render while its deadline allows:
//!
//! - transient failures (5xx, timeouts, malformed answers, lost tasks, expired output URLs)
//!   retry on the same model with capped exponential backoff (2 s doubling to 60 s) and jitter
//!   derived from the job's seed (passed in, so a replay computes the same schedule). An expired
//!   output is generated again: the retry is a new attempt, never a second download of the
//!   dead URL;
//! - a 429 waits exactly its `Retry-After` when the provider sent one;
//! - after [`MAX_FAILURES_PER_MODEL`] failures on one model, or at once on a moderation refusal
//!   or a refusal of the request itself, the stage falls back to the next routing candidate;
//! - a permanent refusal ([`Failure::is_permanent`]) takes the model off the stage's list for
//!   good; when transient failures have used up the rest of the list, the stage starts over
//!   from its first candidate not refused ([`start_over_delay`] after the last failure, growing
//!   with the stage's failures), for as long as the job's deadline has not passed.
//!
//! So a stage fails only when every candidate refused it for good, when its list is used up
//! after the deadline, or when the budget cannot cover another attempt.

use serde::{Deserialize, Serialize};

use crate::ids::{Attempt, StageId};
use crate::providers::{ProviderError, ProviderStatus};
use crate::time::Millis;

/// Failures on one model before the stage falls back to the next candidate
pub const MAX_FAILURES_PER_MODEL: u32 = 3;
/// First backoff delay
pub const BACKOFF_BASE: Millis = Millis::from_secs(2);
/// Longest backoff delay
pub const BACKOFF_MAX: Millis = Millis::from_secs(60);
/// Longest `Retry-After` honoured; a provider asking for more is waited out this long
pub const RETRY_AFTER_MAX: Millis = Millis::from_secs(3600);

/// Why an attempt ended without an artifact
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Failure {
    /// Worth another try on the same model
    Transient {
        /// What happened
        reason: String,
    },
    /// Throttled by the provider
    RateLimited {
        /// The provider's `Retry-After`
        retry_after: Option<Millis>,
    },
    /// This model will not do this request (rejected, not retryable, bad credentials)
    ModelUnusable {
        /// What happened
        reason: String,
    },
    /// Refused by the provider's safety system
    Moderated {
        /// The provider's words
        reason: String,
    },
    /// No answer in time; the provider may still finish and bill
    TimedOut {
        /// What we waited for
        reason: String,
    },
    /// The output could not be copied into R2 (expired URL); the provider billed it
    StoreFailed {
        /// What happened
        reason: String,
    },
}

impl Failure {
    /// Whether the provider may bill the attempt anyway (its reservation is kept)
    pub fn may_be_billed(&self) -> bool {
        match self {
            Self::TimedOut { .. } | Self::StoreFailed { .. } => true,
            Self::Transient { .. }
            | Self::RateLimited { .. }
            | Self::ModelUnusable { .. }
            | Self::Moderated { .. } => false,
        }
    }

    /// Whether the model refused this stage for good: trying it again would get the same answer
    /// (another model may still take it)
    pub fn is_permanent(&self) -> bool {
        match self {
            Self::ModelUnusable { .. } | Self::Moderated { .. } => true,
            Self::Transient { .. }
            | Self::RateLimited { .. }
            | Self::TimedOut { .. }
            | Self::StoreFailed { .. } => false,
        }
    }

    /// A line a support person can read
    pub fn describe(&self) -> String {
        match self {
            Self::Transient { reason } => format!("failed: {reason}"),
            Self::RateLimited {
                retry_after: Some(d),
            } => {
                format!("rate limited, retry after {:.1} s", d.as_secs_f64())
            }
            Self::RateLimited { retry_after: None } => "rate limited".into(),
            Self::ModelUnusable { reason } => format!("refused the request: {reason}"),
            Self::Moderated { reason } => format!("refused by moderation: {reason}"),
            Self::TimedOut { reason } => format!("timed out: {reason}"),
            Self::StoreFailed { reason } => format!("output not stored: {reason}"),
        }
    }

    /// The failure a provider error stands for
    pub fn from_error(error: &ProviderError) -> Self {
        match error {
            ProviderError::Transient { reason } | ProviderError::Malformed { reason } => {
                Self::Transient {
                    reason: reason.clone(),
                }
            }
            ProviderError::RateLimited { retry_after } => Self::RateLimited {
                retry_after: *retry_after,
            },
            ProviderError::Rejected { reason } => Self::ModelUnusable {
                reason: reason.clone(),
            },
            ProviderError::Moderated { reason } => Self::Moderated {
                reason: reason.clone(),
            },
            ProviderError::Unauthorized => Self::ModelUnusable {
                reason: "provider rejected our credentials".into(),
            },
        }
    }

    /// The failure a terminal non-success status stands for (`None` for other statuses)
    pub fn from_status(status: &ProviderStatus) -> Option<Self> {
        match status {
            ProviderStatus::Failed {
                reason,
                retryable: true,
            } => Some(Self::Transient {
                reason: reason.clone(),
            }),
            ProviderStatus::Failed {
                reason,
                retryable: false,
            } => Some(Self::ModelUnusable {
                reason: reason.clone(),
            }),
            ProviderStatus::Moderated { reason } => Some(Self::Moderated {
                reason: reason.clone(),
            }),
            ProviderStatus::Queued | ProviderStatus::Running | ProviderStatus::Succeeded { .. } => {
                None
            }
        }
    }
}

/// The next step after a failure
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryStep {
    /// Try the same model again after this delay
    SameModel {
        /// How long to wait
        delay: Millis,
    },
    /// Move to the next routing candidate now
    NextCandidate,
}

/// Decides the next step; `failures` counts failures on the current model including this one
pub fn next_step(
    failure: &Failure,
    failures: u32,
    seed: u64,
    stage: &StageId,
    attempt: Attempt,
) -> RetryStep {
    match failure {
        Failure::Moderated { .. } | Failure::ModelUnusable { .. } => RetryStep::NextCandidate,
        Failure::Transient { .. }
        | Failure::RateLimited { .. }
        | Failure::TimedOut { .. }
        | Failure::StoreFailed { .. }
            if failures >= MAX_FAILURES_PER_MODEL =>
        {
            RetryStep::NextCandidate
        }
        Failure::RateLimited {
            retry_after: Some(d),
        } => RetryStep::SameModel {
            delay: Millis(d.0.min(RETRY_AFTER_MAX.0)),
        },
        Failure::RateLimited { retry_after: None }
        | Failure::Transient { .. }
        | Failure::TimedOut { .. }
        | Failure::StoreFailed { .. } => RetryStep::SameModel {
            delay: backoff(seed, stage, attempt, failures),
        },
    }
}

/// Exponential backoff with "equal jitter": half the step fixed, half drawn from the seed
pub fn backoff(seed: u64, stage: &StageId, attempt: Attempt, failures: u32) -> Millis {
    let exp = failures.saturating_sub(1).min(16);
    let step = BACKOFF_BASE
        .0
        .saturating_mul(1u64 << exp)
        .min(BACKOFF_MAX.0);
    let half = step / 2;
    let draw = mix(seed ^ hash_str(stage.as_str()) ^ (u64::from(attempt.0) << 32));
    Millis(half + draw % (half + 1))
}

/// The wait before a stage whose candidates transient failures used up starts its list over:
/// the backoff of its `failures` so far (all models), so it keeps growing to the cap however
/// often the list wraps, with the same seeded jitter
pub fn start_over_delay(seed: u64, stage: &StageId, next: Attempt, failures: u32) -> Millis {
    backoff(seed, stage, next, failures)
}

/// FNV-1a: a stable hash (std's hasher is randomly keyed and may change between releases)
pub fn hash_str(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// SplitMix64's finaliser: spreads a seed over all bits
pub fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_within_equal_jitter_and_caps() {
        let stage = StageId("s01.motion".into());
        for failures in 1..=8 {
            let step = BACKOFF_BASE
                .0
                .saturating_mul(1 << (failures - 1))
                .min(BACKOFF_MAX.0);
            for seed in 0..50 {
                let d = backoff(seed, &stage, Attempt(failures), failures).0;
                assert!(
                    d >= step / 2 && d <= step,
                    "{d} outside [{}, {step}]",
                    step / 2
                );
            }
        }
    }

    #[test]
    fn moderation_falls_back_and_the_third_failure_too() {
        let stage = StageId("s".into());
        let moderated = Failure::Moderated { reason: "x".into() };
        assert_eq!(
            next_step(&moderated, 1, 0, &stage, Attempt(1)),
            RetryStep::NextCandidate
        );
        let transient = Failure::Transient { reason: "x".into() };
        assert!(matches!(
            next_step(&transient, 2, 0, &stage, Attempt(2)),
            RetryStep::SameModel { .. }
        ));
        assert_eq!(
            next_step(&transient, 3, 0, &stage, Attempt(3)),
            RetryStep::NextCandidate
        );
        let throttled = Failure::RateLimited {
            retry_after: Some(Millis(4_200)),
        };
        assert_eq!(
            next_step(&throttled, 1, 0, &stage, Attempt(1)),
            RetryStep::SameModel {
                delay: Millis(4_200)
            }
        );
    }
}
