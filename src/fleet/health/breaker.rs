//! The circuit breaker of one model. Transitions are functions of (state, now, event); the
//! state carries every time it needs, so it persists as-is and replays identically.

use serde::{Deserialize, Serialize};

use super::HealthConfig;
use super::admission::{Admission, Refusal, RefusedBy, Trip, TripCause};
use super::outcome::Outcome;
use super::window::{Tally, Window};
use crate::ids::ModelId;
use crate::time::{Millis, Timestamp};

/// The one probe a half-open breaker lets through
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ProbeLease {
    /// When it was granted
    pub since: Timestamp,
    /// When the slot frees if the prober has not reported
    pub until: Timestamp,
}

/// A model's circuit breaker
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum BreakerState {
    /// Submits go through
    Closed {
        /// Only outcomes reported from here on can trip it: the failures that opened it last
        /// time are still in the window and must not re-open it on the next failure
        since: Timestamp,
    },
    /// No submits until `until`
    Open {
        /// Why it opened
        trip: Trip,
        /// End of the cool-down
        until: Timestamp,
        /// This cool-down's length; the next re-open doubles it
        cooldown: Millis,
    },
    /// One probe at a time; its outcome decides
    HalfOpen {
        /// Why it opened
        trip: Trip,
        /// When the cool-down ended
        since: Timestamp,
        /// The cool-down that ended; a failed probe re-opens for twice as long
        cooldown: Millis,
        /// The probe in flight, if any
        probe: Option<ProbeLease>,
    },
}

impl Default for BreakerState {
    fn default() -> Self {
        Self::Closed {
            since: Timestamp(0),
        }
    }
}

impl BreakerState {
    /// Applies what time alone changes: the end of a cool-down, the end of an unreported
    /// probe's lease. Idempotent, so calling it late or twice is harmless
    pub(crate) fn advance(&mut self, now: Timestamp) {
        match self {
            Self::Open {
                trip,
                until,
                cooldown,
            } if now >= *until => {
                *self = Self::HalfOpen {
                    trip: *trip,
                    since: *until,
                    cooldown: *cooldown,
                    probe: None,
                };
            }
            Self::HalfOpen { probe, .. } if probe.is_some_and(|l| now >= l.until) => *probe = None,
            Self::Closed { .. } | Self::Open { .. } | Self::HalfOpen { .. } => {}
        }
    }

    /// When time alone next changes this state (call [`advance`](Self::advance) then)
    pub(crate) fn wake_at(&self) -> Option<Timestamp> {
        match self {
            Self::Open { until, .. } => Some(*until),
            Self::HalfOpen {
                probe: Some(lease), ..
            } => Some(lease.until),
            Self::Closed { .. } | Self::HalfOpen { probe: None, .. } => None,
        }
    }

    /// Takes an outcome already pushed into `window`; `self` must be advanced to `now`.
    ///
    /// While open, outcomes (stragglers of attempts admitted before it opened) only feed the
    /// window: the cool-down is a promise to routing. While half-open, any success or failure
    /// decides, the probe's or a straggler's: both were reported after the cool-down, so both
    /// say how the model is doing now.
    pub(crate) fn on_outcome(
        &mut self,
        now: Timestamp,
        outcome: Outcome,
        window: &Window,
        config: &HealthConfig,
    ) {
        match (*self, outcome) {
            (_, Outcome::RateLimited)
            | (Self::Open { .. }, _)
            | (Self::Closed { .. }, Outcome::Succeeded { .. }) => {}
            (Self::HalfOpen { .. }, Outcome::Succeeded { .. }) => {
                *self = Self::Closed { since: now };
            }
            (Self::Closed { since }, Outcome::Failed { .. }) => {
                let t = window.tally(now, config.window, since);
                if let Some(cause) = trip_cause(t, config) {
                    let trip = trip_of(now, cause, t, config);
                    let cooldown = config.cooldown.min(config.max_cooldown);
                    *self = open(trip, now, cooldown);
                }
            }
            (Self::HalfOpen { cooldown, .. }, Outcome::Failed { .. }) => {
                let t = window.tally(now, config.window, Timestamp(0));
                let trip = trip_of(now, TripCause::ProbeFailed, t, config);
                let cooldown = Millis(cooldown.0.saturating_mul(2)).min(config.max_cooldown);
                *self = open(trip, now, cooldown);
            }
        }
    }

    /// What a submit would get now; a free probe slot is taken for `lease`. `self` must be
    /// advanced to `now`
    pub(crate) fn admit(&mut self, now: Timestamp, model: &ModelId, lease: Millis) -> Admission {
        match self {
            Self::Closed { .. } => Admission::Admit,
            Self::Open { trip, until, .. } => Admission::Refuse(Refusal {
                model: model.clone(),
                by: RefusedBy::Open { trip: *trip },
                retry_at: *until,
            }),
            Self::HalfOpen {
                trip,
                probe: Some(held),
                ..
            } => Admission::Refuse(Refusal {
                model: model.clone(),
                by: RefusedBy::ProbeInFlight {
                    trip: *trip,
                    probe_since: held.since,
                },
                retry_at: held.until,
            }),
            Self::HalfOpen { probe, .. } => {
                let until = now.plus(lease);
                *probe = Some(ProbeLease { since: now, until });
                Admission::Probe { lease_until: until }
            }
        }
    }
}

fn open(trip: Trip, now: Timestamp, cooldown: Millis) -> BreakerState {
    BreakerState::Open {
        trip,
        until: now.plus(cooldown),
        cooldown,
    }
}

fn trip_of(now: Timestamp, cause: TripCause, t: Tally, config: &HealthConfig) -> Trip {
    Trip {
        at: now,
        cause,
        failed: t.failed,
        samples: t.samples,
        window: config.window,
    }
}

/// Which rule, if any, trips a closed breaker on these samples; the rate first, since its
/// figures make the better reason
fn trip_cause(t: Tally, config: &HealthConfig) -> Option<TripCause> {
    let enough = t.samples >= config.min_samples.max(1);
    let rate_hit =
        u64::from(t.failed) * 100 >= u64::from(config.trip_failure_percent) * u64::from(t.samples);
    if enough && rate_hit {
        Some(TripCause::FailureRate)
    } else if config.trip_consecutive > 0 && t.in_a_row >= config.trip_consecutive {
        Some(TripCause::ConsecutiveFailures { count: t.in_a_row })
    } else {
        None
    }
}
