//! The live health of one provider's models: a sliding window of recent outcomes per model, the
//! figures derived from it (failure rate, 429 rate, latency percentiles), and a circuit breaker
//! per model so that one job's discovery that a model is failing spares every other job.
//!
//! The provider's gate object holds one [`HealthBook`]; every attempt's [`Outcome`] is
//! [`record`](HealthBook::record)ed, dispatch asks [`admits`](HealthBook::admits) before each
//! submit, routing asks [`refusal`](HealthBook::refusal) and
//! [`blended_latency`](HealthBook::blended_latency) at planning, and the shell arms its alarm at
//! [`next_wake`](HealthBook::next_wake). Sans-IO: time is an argument, the state is plain serde
//! data, nothing can fail (an unknown model is simply one with no history).
//!
//! The breaker of one model:
//!
//! | state    | event                                                        | next state |
//! |----------|--------------------------------------------------------------|------------|
//! | Closed   | failure, and since it closed at least `min_samples` outcomes with a failure rate of at least `trip_failure_percent`, or `trip_consecutive` failures in a row | Open for `cooldown` |
//! | Open     | time reaches the end of the cool-down                        | HalfOpen, probe slot free |
//! | HalfOpen | `admits` with the slot free (answer: `Probe`)                | HalfOpen, slot leased |
//! | HalfOpen | `admits` with the slot leased (answer: `Refuse`)             | unchanged |
//! | HalfOpen | time reaches the end of the lease, nothing reported          | HalfOpen, slot free |
//! | HalfOpen | success                                                      | Closed (cool-down back to `cooldown`) |
//! | HalfOpen | failure                                                      | Open for twice the last cool-down, at most `max_cooldown` |
//! | Open     | success or failure of an attempt admitted before it opened   | unchanged (the window still counts it) |
//! | any      | 429                                                          | unchanged: pacing is the gate's business |
//!
//! Old outcomes leave the window by age and by count on every mutating call, and a model with
//! an empty window and a closed breaker is dropped, so the book's size is bounded by
//! `max_outcomes` per recently used model.

mod admission;
mod breaker;
mod latency;
mod outcome;
mod window;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use admission::{Admission, Refusal, RefusedBy, Trip, TripCause, clock};
pub use breaker::{BreakerState, ProbeLease};
pub use latency::{Latency, blend};
pub use outcome::{FailureKind, Outcome};
pub use window::WindowFigures;

use crate::fleet::touched::Touched;
use crate::ids::ModelId;
use crate::time::{Millis, Timestamp};
use window::Window;

/// The knobs of the window, the breaker and the latency blend
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default)]
pub struct HealthConfig {
    /// How far back outcomes count
    pub window: Millis,
    /// Most outcomes kept per model, newest win (bounds memory under a flood of reports)
    pub max_outcomes: u32,
    /// Fewest successes plus failures before the failure rate may trip the breaker (0 acts as 1)
    pub min_samples: u32,
    /// Failure rate, in percent, at which the breaker trips
    pub trip_failure_percent: u32,
    /// Failures in a row that trip the breaker whatever the rate; 0 turns the rule off
    pub trip_consecutive: u32,
    /// First cool-down after the breaker opens
    pub cooldown: Millis,
    /// Longest cool-down, however often the probe fails
    pub max_cooldown: Millis,
    /// How many observed successes the registry's latency prior is worth
    pub prior_weight: u32,
}

impl Default for HealthConfig {
    /// Ten minutes is long enough for a video model's slow renders to add up to a verdict and
    /// short enough that an outage an hour ago is forgotten; 200 outcomes is more than a
    /// provider's concurrency produces in that time
    fn default() -> Self {
        Self {
            window: Millis::from_secs(600),
            max_outcomes: 200,
            min_samples: 5,
            trip_failure_percent: 50,
            trip_consecutive: 5,
            cooldown: Millis::from_secs(30),
            max_cooldown: Millis::from_secs(600),
            prior_weight: 10,
        }
    }
}

/// One model's window and breaker
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
struct ModelHealth {
    window: Window,
    breaker: BreakerState,
}

/// A model's health as support sees it, at one moment
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ModelSnapshot {
    /// The model
    pub model: ModelId,
    /// When the snapshot was taken
    pub at: Timestamp,
    /// The window's figures at `at`
    pub figures: WindowFigures,
    /// The breaker at `at`, with its times
    pub breaker: BreakerState,
    /// Failures since the newest success in the window (429s skipped)
    pub consecutive_failures: u32,
    /// When the breaker next changes by time alone
    pub wakes_at: Option<Timestamp>,
}

/// The health of all models of one provider
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct HealthBook {
    config: HealthConfig,
    models: BTreeMap<ModelId, ModelHealth>,
    /// Set by the calls that change what only the stored book can tell: an outcome recorded, a
    /// probe slot taken, new knobs. Not by [`tick`](Self::tick): what time alone changes (old
    /// outcomes leaving the window, a cool-down or probe lease ending, an idle model forgotten)
    /// the next call after a load applies again from the stored book, so writing it would only
    /// cost the serialising (the book is the bulk of a busy gate's stored state).
    #[serde(skip)]
    unwritten: Touched<()>,
}

impl HealthBook {
    /// An empty book
    pub fn new(config: HealthConfig) -> Self {
        Self {
            config,
            models: BTreeMap::new(),
            unwritten: Touched::default(),
        }
    }

    /// The knobs in use
    pub fn config(&self) -> &HealthConfig {
        &self.config
    }

    /// Replaces the knobs (the persisted book carries the ones it was built with); they apply
    /// from the next call on, without rewriting past trips
    pub fn set_config(&mut self, config: HealthConfig) {
        self.config = config;
        self.unwritten.insert(());
    }

    /// Whether the book changed since the last call, in a way its stored form must carry (see
    /// the `unwritten` field); clears the record. A book loaded from its stored form and
    /// [`tick`](Self::tick)ed to the same moment equals this one.
    pub fn take_unwritten(&mut self) -> bool {
        !self.unwritten.take().is_empty()
    }

    /// Records how an attempt at `model` ended; returns the breaker's new state when this
    /// outcome changed it (opened or closed it), for the shell to log
    pub fn record(
        &mut self,
        now: Timestamp,
        model: &ModelId,
        outcome: Outcome,
    ) -> Option<BreakerState> {
        self.tick(now);
        self.unwritten.insert(());
        let max = usize::try_from(self.config.max_outcomes).unwrap_or(usize::MAX);
        let health = self.models.entry(model.clone()).or_default();
        health.window.push(now, outcome, max);
        let before = health.breaker;
        health
            .breaker
            .on_outcome(now, outcome, &health.window, &self.config);
        let after = health.breaker;
        // A window of `max_outcomes = 0` keeps nothing; drop the model again if so.
        if health.window.is_empty() && matches!(after, BreakerState::Closed { .. }) {
            self.models.remove(model);
        }
        (after != before).then_some(after)
    }

    /// Whether a submit to `model` may go ahead now; in a half-open breaker the first asker
    /// gets the probe slot for `probe_lease` (the attempt's timeout, so a prober that dies
    /// silently frees it) and everyone else is refused until it reports
    pub fn admits(&mut self, now: Timestamp, model: &ModelId, probe_lease: Millis) -> Admission {
        self.tick(now);
        let Some(health) = self.models.get_mut(model) else {
            return Admission::Admit;
        };
        let admission = health.breaker.admit(now, model, probe_lease);
        // Only the probe slot taken changes the breaker here, and a load must keep it taken.
        if let Admission::Probe { .. } = admission {
            self.unwritten.insert(());
        }
        admission
    }

    /// Why a submit to `model` would be refused now, without taking the probe slot: for
    /// routing at planning, where a half-open model is still worth planning on
    pub fn refusal(&self, now: Timestamp, model: &ModelId) -> Option<Refusal> {
        let mut breaker = self.models.get(model)?.breaker;
        breaker.advance(now);
        match breaker.admit(now, model, Millis(0)) {
            Admission::Refuse(refusal) => Some(refusal),
            Admission::Admit | Admission::Probe { .. } => None,
        }
    }

    /// The window's figures for `model` at `now`
    pub fn figures(&self, now: Timestamp, model: &ModelId) -> WindowFigures {
        match self.models.get(model) {
            Some(h) => h.window.figures(now, self.config.window),
            None => Window::default().figures(now, self.config.window),
        }
    }

    /// The latency routing should assume for `model`: `prior` (the registry's) blended with the
    /// window's successes, see [`blend`]
    pub fn blended_latency(&self, now: Timestamp, model: &ModelId, prior: Latency) -> Latency {
        let f = self.figures(now, model);
        let observed = f
            .latency_p50
            .zip(f.latency_p95)
            .map(|(p50, p95)| Latency { p50, p95 });
        blend(prior, observed, f.succeeded, self.config.prior_weight)
    }

    /// `model`'s health at `now`, for support
    pub fn snapshot(&self, now: Timestamp, model: &ModelId) -> ModelSnapshot {
        let (figures, mut breaker, in_a_row) = match self.models.get(model) {
            Some(h) => (
                h.window.figures(now, self.config.window),
                h.breaker,
                h.window
                    .tally(now, self.config.window, Timestamp(0))
                    .in_a_row,
            ),
            None => (
                Window::default().figures(now, self.config.window),
                BreakerState::default(),
                0,
            ),
        };
        breaker.advance(now);
        ModelSnapshot {
            model: model.clone(),
            at: now,
            figures,
            breaker,
            consecutive_failures: in_a_row,
            wakes_at: breaker.wake_at(),
        }
    }

    /// Every model with history or an open breaker, by id
    pub fn snapshots(&self, now: Timestamp) -> Vec<ModelSnapshot> {
        self.models
            .keys()
            .map(|model| self.snapshot(now, model))
            .collect()
    }

    /// When some breaker next changes by time alone (a cool-down or a probe lease ends); the
    /// shell arms its alarm here and calls [`tick`](Self::tick). May be in the past when
    /// nothing has called in since, which only means "now"
    pub fn next_wake(&self) -> Option<Timestamp> {
        self.models
            .values()
            .filter_map(|h| h.breaker.wake_at())
            .min()
    }

    /// Applies what time alone changes: drops outcomes that left the window, ends cool-downs
    /// and expired probe leases, forgets idle healthy models. Every mutating call does this
    /// first; calling it late or twice is harmless
    pub fn tick(&mut self, now: Timestamp) {
        let span = self.config.window;
        self.models.retain(|_, h| {
            h.window.prune(now, span);
            h.breaker.advance(now);
            !(h.window.is_empty() && matches!(h.breaker, BreakerState::Closed { .. }))
        });
    }

    /// How many outcomes the book stores for `model` (at most `max_outcomes`)
    pub fn stored_outcomes(&self, model: &ModelId) -> usize {
        self.models.get(model).map_or(0, |h| h.window.len())
    }
}
