//! The answer to "may a job submit to this model now?", with a reason routing can quote:
//! `breaker open on veo-3 since 12:01:30 UTC: 9 of 10 failed in the last 10 min; retry from
//! 12:02:00 UTC`.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::ids::ModelId;
use crate::time::{Millis, Timestamp};

/// What opened the breaker
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TripCause {
    /// At least `min_samples` outcomes and a failure rate at or above the threshold
    FailureRate,
    /// Too many failures in a row
    ConsecutiveFailures {
        /// How many
        count: u32,
    },
    /// The half-open probe failed
    ProbeFailed,
}

/// Why and when the breaker opened, with the figures of that moment (so the reason given to
/// routing stays the one that opened it)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Trip {
    /// When it opened
    pub at: Timestamp,
    /// What opened it
    pub cause: TripCause,
    /// Failures counted
    pub failed: u32,
    /// Successes plus failures counted
    pub samples: u32,
    /// The window they were counted over
    pub window: Millis,
}

/// Whether a submit may go ahead
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Admission {
    /// The breaker is closed: submit
    Admit,
    /// The breaker is half-open and this submit is its one probe: report the outcome before
    /// `lease_until`, after which the slot goes to the next asker
    Probe {
        /// When the probe slot frees if no outcome was reported
        lease_until: Timestamp,
    },
    /// Do not submit to this model now
    Refuse(Refusal),
}

/// Why a model refuses submits, and until when
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Refusal {
    /// The model refused
    pub model: ModelId,
    /// What refuses
    pub by: RefusedBy,
    /// The earliest time asking again can be admitted
    pub retry_at: Timestamp,
}

/// What refuses a submit
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RefusedBy {
    /// The breaker is open, cooling down
    Open {
        /// Why it opened
        trip: Trip,
    },
    /// The breaker is half-open and another job holds its one probe
    ProbeInFlight {
        /// Why it opened
        trip: Trip,
        /// When the probe was admitted
        probe_since: Timestamp,
    },
}

/// `HH:MM:SS UTC` of a timestamp: refusals last minutes, so the time of day is enough
pub fn clock(t: Timestamp) -> String {
    let s = t.as_secs() % 86_400;
    format!("{:02}:{:02}:{:02} UTC", s / 3600, s / 60 % 60, s % 60)
}

/// A span in the largest whole unit: `10 min`, `30 s`, `1500 ms`
pub(crate) fn span(d: Millis) -> String {
    match d.0 {
        ms if ms >= 60_000 && ms % 60_000 == 0 => format!("{} min", ms / 60_000),
        ms if ms >= 1000 && ms % 1000 == 0 => format!("{} s", ms / 1000),
        ms => format!("{ms} ms"),
    }
}

/// The figures of a trip: `9 of 10 failed in the last 10 min`
fn figures(trip: &Trip) -> String {
    format!(
        "{} of {} failed in the last {}",
        trip.failed,
        trip.samples,
        span(trip.window)
    )
}

/// Why it opened: the figures, led by the rule that fired
fn cause(trip: &Trip) -> String {
    match trip.cause {
        TripCause::FailureRate => figures(trip),
        TripCause::ConsecutiveFailures { count } => {
            format!("{count} failures in a row ({})", figures(trip))
        }
        TripCause::ProbeFailed => format!("the probe failed ({})", figures(trip)),
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.by {
            RefusedBy::Open { trip } => write!(
                f,
                "breaker open on {} since {}: {}; retry from {}",
                self.model,
                clock(trip.at),
                cause(trip),
                clock(self.retry_at)
            ),
            RefusedBy::ProbeInFlight { trip, probe_since } => write!(
                f,
                "breaker half-open on {}: its probe is in flight since {} (opened at {}: {}); \
                 retry from {}",
                self.model,
                clock(*probe_since),
                clock(trip.at),
                cause(trip),
                clock(self.retry_at)
            ),
        }
    }
}
