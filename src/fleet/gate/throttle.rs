//! Back-off on 429: the effective concurrency limit (AIMD) and the pause a `Retry-After` asks
//! for, plus the 429 counts support looks at.
//!
//! A 429 stops new grants until its `Retry-After` has passed: the provider said so, for the
//! whole account. When 429s are a real share of what the provider answers lately (at least
//! [`OVERLOAD_MIN`] of the last [`OUTCOME_WINDOW`] task outcomes, and a quarter of them), the
//! account is over its limit: the effective limit halves (floor 1) and the pause is at least
//! the default one. The limit then grows back by one per recovery interval and by one per
//! successful task, up to the account's `max_concurrent`: slow to trust again, quick to back
//! off, as TCP does.
//!
//! Why not halve on every 429: providers also answer 429 now and then under no overload of
//! ours (a capacity blip, a queue that was momentarily full). With 10% of submits answered 429
//! at random, halving on each held Veo at 1 of 8 slots with 740 stages waiting (a 200-render
//! run): every 429 halved again and restarted the recovery clock before it had grown back.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use super::config::GateConfig;
use crate::time::{Millis, Timestamp};

/// The 429 counts are kept per minute, so their memory is bounded by the window's minutes
const MINUTE: u64 = 60_000;

/// Task outcomes remembered to tell an overload from a stray 429
pub const OUTCOME_WINDOW: usize = 20;
/// 429s among the remembered outcomes that mean overload (and at least a quarter of them)
pub const OVERLOAD_MIN: usize = 3;

/// 429s received during one minute
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct MinuteCount {
    /// Minutes since the epoch
    minute: u64,
    /// 429s in that minute
    count: u32,
}

/// The gate's reaction to the provider's 429s
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Throttle {
    /// Slots the gate may fill now, `1..=max_concurrent`
    effective: u32,
    /// No grants before this moment
    paused_until: Option<Timestamp>,
    /// The last halving; 429s within the holdoff after it do not halve again
    last_decrease: Option<Timestamp>,
    /// When the limit next grows by itself; `None` at `max_concurrent`
    next_step: Option<Timestamp>,
    /// 429s since the gate was created
    total: u64,
    /// The last 429
    last_at: Option<Timestamp>,
    /// 429s by minute within the window, oldest first
    recent: VecDeque<MinuteCount>,
    /// The last [`OUTCOME_WINDOW`] task outcomes, oldest first: `true` for a 429
    #[serde(default)]
    outcomes: VecDeque<bool>,
}

impl Throttle {
    /// An untroubled gate: the full limit, no pause
    pub(super) fn new(config: &GateConfig) -> Self {
        Self {
            effective: config.limits.concurrency(),
            paused_until: None,
            last_decrease: None,
            next_step: None,
            total: 0,
            last_at: None,
            recent: VecDeque::new(),
            outcomes: VecDeque::new(),
        }
    }

    /// Slots the gate may fill now
    pub(super) fn effective(&self) -> u32 {
        self.effective
    }

    /// The end of the current pause, if the gate is paused at `now`
    pub(super) fn paused_until(&self, now: Timestamp) -> Option<Timestamp> {
        self.paused_until.filter(|until| now < *until)
    }

    /// The end of the pause as last recorded; [`Self::advance`] forgets a pause that is over
    pub(super) fn pause_end(&self) -> Option<Timestamp> {
        self.paused_until
    }

    /// When the limit next grows by itself, if it is below the account's
    pub(super) fn next_step(&self) -> Option<Timestamp> {
        self.next_step
    }

    /// 429s since the gate was created
    pub(super) fn total(&self) -> u64 {
        self.total
    }

    /// The last 429
    pub(super) fn last_at(&self) -> Option<Timestamp> {
        self.last_at
    }

    /// 429s in the window that ends at `now`, counted by whole minutes
    pub(super) fn recent(&self, now: Timestamp, config: &GateConfig) -> u64 {
        let oldest = oldest_minute(now, config);
        self.recent
            .iter()
            .filter(|m| m.minute >= oldest)
            .map(|m| u64::from(m.count))
            .sum()
    }

    /// A 429 from the provider: pause, halve unless just halved, restart the recovery clock
    pub(super) fn rate_limited(
        &mut self,
        now: Timestamp,
        retry_after: Option<Millis>,
        config: &GateConfig,
    ) {
        self.total = self.total.saturating_add(1);
        self.last_at = Some(now);
        self.count(now, config);
        self.remember(true);
        let overloaded = self.overloaded();

        // The provider's own `Retry-After` always holds; without one, a stray 429 pauses
        // nothing and an overload pauses the default time.
        let pause = match (retry_after, overloaded) {
            (Some(after), _) => after,
            (None, true) => config.default_pause,
            (None, false) => Millis(0),
        }
        .min(config.max_pause);
        let until = now.plus(pause);
        // A zero pause pauses nothing; storing it would put a wake-up at `now`.
        if until > now {
            self.paused_until = Some(self.paused_until.map_or(until, |t| t.max(until)));
        }
        if !overloaded {
            return;
        }

        let holding_off = self
            .last_decrease
            .is_some_and(|at| now.since(at) < config.decrease_holdoff);
        if !holding_off {
            self.effective = (self.effective / 2).max(1);
            self.last_decrease = Some(now);
        }
        // An overload's 429 that does not halve (within the holdoff) still says the provider
        // is unhappy: growth waits for a full interval after the (possibly extended) pause.
        let resume = self.paused_until.unwrap_or(until);
        self.next_step =
            (self.effective < config.limits.concurrency()).then(|| resume.plus(interval(config)));
    }

    /// A task failed for a reason other than a 429: it counts among the outcomes
    pub(super) fn failed(&mut self) {
        self.remember(false);
    }

    /// Whether the remembered outcomes say the account is over its limit
    fn overloaded(&self) -> bool {
        let limited = self.outcomes.iter().filter(|&&o| o).count();
        limited >= OVERLOAD_MIN && limited.saturating_mul(4) >= self.outcomes.len()
    }

    fn remember(&mut self, rate_limited: bool) {
        self.outcomes.push_back(rate_limited);
        while self.outcomes.len() > OUTCOME_WINDOW {
            self.outcomes.pop_front();
        }
    }

    /// A task ended well. Tasks granted before the last halving prove nothing about the
    /// provider's state since, so only later ones grow the limit.
    pub(super) fn succeeded(&mut self, granted_at: Timestamp, config: &GateConfig) {
        self.remember(false);
        if self.last_decrease.is_some_and(|at| granted_at < at) {
            return;
        }
        self.grow(1, config);
    }

    /// Ends a pause that is over and applies the recovery steps that are due by `now`
    pub(super) fn advance(&mut self, now: Timestamp, config: &GateConfig) {
        // A pause in the past is forgotten, so `next_wake` never points at it again.
        if self.paused_until.is_some_and(|until| until <= now) {
            self.paused_until = None;
        }
        let Some(step) = self.next_step else {
            return;
        };
        if now < step {
            return;
        }
        let every = interval(config).0;
        let due = now.since(step).0 / every + 1;
        self.grow(u32::try_from(due).unwrap_or(u32::MAX), config);
        if self.next_step.is_some() {
            self.next_step = Some(step.plus(Millis(due.saturating_mul(every))));
        }
    }

    /// Follows a config change: a smaller account limit caps the effective one at once; a
    /// larger one is reached at once unless the gate is recovering from 429s, in which case the
    /// recovery steps carry on up to it
    pub(super) fn reconfigure(&mut self, config: &GateConfig) {
        let max = config.limits.concurrency();
        if self.next_step.is_none() || self.effective >= max {
            self.effective = max;
            self.next_step = None;
        }
    }

    fn grow(&mut self, by: u32, config: &GateConfig) {
        let max = config.limits.concurrency();
        self.effective = self.effective.saturating_add(by).min(max);
        if self.effective == max {
            self.next_step = None;
        }
    }

    fn count(&mut self, now: Timestamp, config: &GateConfig) {
        let minute = now.0 / MINUTE;
        match self.recent.back_mut() {
            Some(last) if last.minute == minute => last.count = last.count.saturating_add(1),
            Some(_) | None => self.recent.push_back(MinuteCount { minute, count: 1 }),
        }
        let oldest = oldest_minute(now, config);
        while self.recent.front().is_some_and(|m| m.minute < oldest) {
            self.recent.pop_front();
        }
    }
}

/// The first minute inside the window that ends at `now`
fn oldest_minute(now: Timestamp, config: &GateConfig) -> u64 {
    let minutes = config.rate_limit_window.0.div_ceil(MINUTE).max(1);
    (now.0 / MINUTE).saturating_sub(minutes - 1)
}

/// The recovery interval, at least a millisecond so the step arithmetic never divides by zero
fn interval(config: &GateConfig) -> Millis {
    Millis(config.recovery_interval.0.max(1))
}
