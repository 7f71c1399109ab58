//! Deterministic fault decisions.
//!
//! A probability `p` fires when `roll(seed, provider, kind, identity, n) < p`, where `n` counts
//! the earlier decisions of that kind for that identity (a task identity or a task id). The
//! outcome therefore depends on the seed and on each task's own history, not on how requests of
//! different tasks interleave. `{"first": N}` fires for the first N decisions of that kind at
//! that provider since the faults (or the seed) were last set.

use std::collections::HashMap;
use std::time::Duration;

use crate::config::{FaultRate, FaultSpec};
use crate::providers::Provider;
use crate::util::hash64;

/// A kind of fault, as named in the configuration and in the counters
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FaultKind {
    /// 5xx on submit
    Submit5xx,
    /// 429 with Retry-After on submit
    Submit429,
    /// Submit held past the client's timeout
    Timeout,
    /// Truncated JSON body
    Malformed,
    /// Refused by moderation
    Moderation,
    /// Terminal callback delivered twice
    CallbackDuplicate,
    /// Callbacks delivered late
    CallbackLate,
    /// Stale callback after the terminal one
    CallbackOutOfOrder,
    /// Output URL already expired
    ExpiredOutput,
}

impl FaultKind {
    /// The name used in the configuration and in `faults_injected`
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Submit5xx => "submit_5xx",
            Self::Submit429 => "submit_429",
            Self::Timeout => "timeout",
            Self::Malformed => "malformed",
            Self::Moderation => "moderation",
            Self::CallbackDuplicate => "callback_duplicate",
            Self::CallbackLate => "callback_late",
            Self::CallbackOutOfOrder => "callback_out_of_order",
            Self::ExpiredOutput => "expired_output",
        }
    }

    fn rate(self, spec: &FaultSpec) -> Option<FaultRate> {
        match self {
            Self::Submit5xx => spec.submit_5xx,
            Self::Submit429 => spec.submit_429,
            Self::Timeout => spec.timeout,
            Self::Malformed => spec.malformed,
            Self::Moderation => spec.moderation,
            Self::CallbackDuplicate => spec.callback_duplicate,
            Self::CallbackOutOfOrder => spec.callback_out_of_order,
            Self::ExpiredOutput => spec.expired_output,
            Self::CallbackLate => spec
                .callback_late_ms
                .filter(|ms| *ms > 0)
                .map(|_| FaultRate::Probability(1.0)),
        }
    }
}

/// A fault that replaces the normal answer to a submission
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SubmitFault {
    /// Answer 500 in the provider's error shape
    ServerError,
    /// Answer 429 with this Retry-After, in seconds
    RateLimited {
        /// Seconds to wait
        retry_after_s: u64,
    },
    /// Hold the request, then answer 504; `accept` means the task is created anyway
    Timeout {
        /// How long to hold (real time)
        hold: Duration,
        /// Whether the task is created
        accept: bool,
    },
    /// Answer 200 with a truncated JSON body; no task is created
    Malformed,
}

/// The per-task callback faults, decided when the task is created
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CallbackFaults {
    /// Deliver the terminal callback twice
    pub duplicate: bool,
    /// Deliver a stale non-terminal callback after the terminal one
    pub out_of_order: bool,
    /// Extra delay of every callback (scaled)
    pub late: Duration,
}

/// Counters behind the decisions; cleared when faults or seed change
#[derive(Debug, Default)]
pub struct FaultState {
    per_identity: HashMap<(Provider, FaultKind, String), u64>,
    per_provider: HashMap<(Provider, FaultKind), u64>,
}

impl FaultState {
    /// Decides one occurrence of `kind` for `identity`
    pub fn decide(
        &mut self,
        seed: u64,
        provider: Provider,
        kind: FaultKind,
        spec: &FaultSpec,
        identity: &str,
    ) -> bool {
        let Some(rate) = kind.rate(spec) else {
            return false;
        };
        match rate {
            FaultRate::Probability(p) => {
                if p <= 0.0 {
                    return false;
                }
                let n = self
                    .per_identity
                    .entry((provider, kind, identity.to_string()))
                    .or_insert(0);
                let index = *n;
                *n += 1;
                roll(seed, provider, kind, identity, index) < p
            }
            FaultRate::First { first } => {
                let n = self.per_provider.entry((provider, kind)).or_insert(0);
                let index = *n;
                *n += 1;
                index < first
            }
        }
    }
}

/// A uniform number in [0, 1) from the seed and the occurrence
fn roll(seed: u64, provider: Provider, kind: FaultKind, identity: &str, n: u64) -> f64 {
    let h = hash64(&[
        &seed.to_le_bytes(),
        provider.as_str().as_bytes(),
        kind.as_str().as_bytes(),
        identity.as_bytes(),
        &n.to_le_bytes(),
    ]);
    (h >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probability_is_deterministic_per_seed() {
        let spec = FaultSpec {
            submit_5xx: Some(FaultRate::Probability(0.5)),
            ..FaultSpec::default()
        };
        let run = |seed| {
            let mut s = FaultState::default();
            (0..64)
                .map(|i| {
                    s.decide(
                        seed,
                        Provider::Sora,
                        FaultKind::Submit5xx,
                        &spec,
                        &format!("t{}", i % 8),
                    )
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
        let fired = run(7).iter().filter(|b| **b).count();
        assert!((16..=48).contains(&fired), "fired {fired} of 64");
    }

    #[test]
    fn first_n_fires_exactly_n_times() {
        let spec = FaultSpec {
            submit_429: Some(FaultRate::First { first: 2 }),
            ..FaultSpec::default()
        };
        let mut s = FaultState::default();
        let got: Vec<bool> = (0..4)
            .map(|_| s.decide(0, Provider::Bfl, FaultKind::Submit429, &spec, "x"))
            .collect();
        assert_eq!(got, [true, true, false, false]);
    }

    #[test]
    fn bounds_of_probability() {
        let never = FaultSpec {
            moderation: Some(FaultRate::Probability(0.0)),
            ..FaultSpec::default()
        };
        let always = FaultSpec {
            moderation: Some(FaultRate::Probability(1.0)),
            ..FaultSpec::default()
        };
        let mut s = FaultState::default();
        for i in 0..32 {
            let id = i.to_string();
            assert!(!s.decide(1, Provider::Luma, FaultKind::Moderation, &never, &id));
            assert!(s.decide(1, Provider::Luma, FaultKind::Moderation, &always, &id));
        }
    }
}
