//! The recent outcomes of one model: bounded by age and by count, and the figures derived from
//! them. At most a few hundred entries, so figures are computed exactly on demand, never kept.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use super::outcome::{FailureKind, Outcome};
use crate::time::{Millis, Timestamp};

/// One reported outcome and when it was reported
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub(crate) struct Entry {
    at: Timestamp,
    outcome: Outcome,
}

/// Outcomes in report order, oldest first
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(transparent)]
pub(crate) struct Window {
    entries: VecDeque<Entry>,
}

/// What the window says about a model at one moment
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct WindowFigures {
    /// Outcomes in the window, 429s included
    pub attempts: u32,
    /// Successes
    pub succeeded: u32,
    /// Failures of either kind
    pub failed: u32,
    /// Of `failed`, the permanent ones
    pub failed_permanent: u32,
    /// 429s
    pub rate_limited: u32,
    /// `failed / (succeeded + failed)`, 0 without either: 429s say nothing about the model
    pub failure_rate: f64,
    /// `rate_limited / attempts`, 0 without attempts
    pub rate_limit_rate: f64,
    /// Median latency of the successes (nearest rank), `None` without successes
    pub latency_p50: Option<Millis>,
    /// 95th percentile latency of the successes (nearest rank), `None` without successes
    pub latency_p95: Option<Millis>,
}

/// The health samples the breaker decides on
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Tally {
    /// Failures
    pub failed: u32,
    /// Successes plus failures
    pub samples: u32,
    /// Failures since the newest success (429s neither break nor extend the run)
    pub in_a_row: u32,
}

/// Whether an outcome reported `at` still counts at `now`; one reported after `now` (a clock
/// that stepped back) counts rather than vanishing
fn in_window(at: Timestamp, now: Timestamp, span: Millis) -> bool {
    now.since(at) < span
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn ratio(part: u32, whole: u32) -> f64 {
    if whole == 0 {
        0.0
    } else {
        f64::from(part) / f64::from(whole)
    }
}

/// The nearest-rank percentile (`pct` in 1..=100) of ascending values: always an observed value
pub(crate) fn percentile(sorted: &[Millis], pct: usize) -> Option<Millis> {
    let rank = pct.saturating_mul(sorted.len()).div_ceil(100).max(1);
    sorted.get(rank - 1).copied()
}

impl Window {
    /// Appends an outcome, dropping the oldest beyond `max` entries
    pub(crate) fn push(&mut self, at: Timestamp, outcome: Outcome, max: usize) {
        self.entries.push_back(Entry { at, outcome });
        while self.entries.len() > max {
            self.entries.pop_front();
        }
    }

    /// Drops what has left the window. `retain` rather than popping the front, so an entry
    /// reported out of order cannot shield older ones behind it
    pub(crate) fn prune(&mut self, now: Timestamp, span: Millis) {
        self.entries.retain(|e| in_window(e.at, now, span));
    }

    /// How many entries are stored (pruned or not)
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing is stored
    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn live(&self, now: Timestamp, span: Millis) -> impl DoubleEndedIterator<Item = &Entry> {
        self.entries
            .iter()
            .filter(move |e| in_window(e.at, now, span))
    }

    /// The figures over the outcomes still in the window at `now`
    pub(crate) fn figures(&self, now: Timestamp, span: Millis) -> WindowFigures {
        let (mut failed, mut failed_permanent, mut rate_limited, mut attempts) = (0, 0, 0, 0);
        let mut latencies = Vec::new();
        for e in self.live(now, span) {
            attempts += 1;
            match e.outcome {
                Outcome::Succeeded { latency } => latencies.push(latency),
                Outcome::Failed { failure } => {
                    failed += 1;
                    match failure {
                        FailureKind::Permanent => failed_permanent += 1,
                        FailureKind::Transient => {}
                    }
                }
                Outcome::RateLimited => rate_limited += 1,
            }
        }
        latencies.sort_unstable();
        let succeeded = count(latencies.len());
        let attempts = count(attempts);
        let failed = count(failed);
        let rate_limited = count(rate_limited);
        WindowFigures {
            attempts,
            succeeded,
            failed,
            failed_permanent: count(failed_permanent),
            rate_limited,
            failure_rate: ratio(failed, succeeded.saturating_add(failed)),
            rate_limit_rate: ratio(rate_limited, attempts),
            latency_p50: percentile(&latencies, 50),
            latency_p95: percentile(&latencies, 95),
        }
    }

    /// The health samples in the window at `now` reported at or after `since`
    pub(crate) fn tally(&self, now: Timestamp, span: Millis, since: Timestamp) -> Tally {
        let mut t = Tally {
            failed: 0,
            samples: 0,
            in_a_row: 0,
        };
        let mut run_open = true;
        for e in self.live(now, span).rev().filter(|e| e.at >= since) {
            if !e.outcome.is_health_sample() {
                continue;
            }
            t.samples = t.samples.saturating_add(1);
            match e.outcome {
                Outcome::Failed { .. } => {
                    t.failed = t.failed.saturating_add(1);
                    if run_open {
                        t.in_a_row = t.in_a_row.saturating_add(1);
                    }
                }
                Outcome::Succeeded { .. } | Outcome::RateLimited => run_open = false,
            }
        }
        t
    }
}
