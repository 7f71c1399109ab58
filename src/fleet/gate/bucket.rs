//! The submit-rate token bucket, in integers so a persisted bucket replays exactly.

use serde::{Deserialize, Serialize};

use super::config::ProviderLimits;
use crate::time::{Millis, Timestamp};

/// One token in bucket units. Refilling `requests_per_minute` units per millisecond then gives
/// exactly `requests_per_minute` tokens a minute, with no rounding.
const UNITS_PER_TOKEN: u64 = 60_000;

/// Submits allowed right now, refilled continuously up to the burst size
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct TokenBucket {
    /// Tokens in units of 1/60,000
    units: u64,
    /// When `units` was last brought up to date
    updated: Timestamp,
}

impl TokenBucket {
    /// A full bucket
    pub(super) fn full(limits: &ProviderLimits, now: Timestamp) -> Self {
        Self {
            units: capacity(limits),
            updated: now,
        }
    }

    /// Adds what accrued since the last update; time that runs backwards adds nothing
    pub(super) fn refill(&mut self, now: Timestamp, limits: &ProviderLimits) {
        let accrued = now
            .since(self.updated)
            .0
            .saturating_mul(u64::from(limits.rate()));
        self.units = self.units.saturating_add(accrued).min(capacity(limits));
        self.updated = self.updated.max(now);
    }

    /// Whether a submit may go out now (after a refill)
    pub(super) fn has_token(&self) -> bool {
        self.units >= UNITS_PER_TOKEN
    }

    /// Spends one token; the caller checked [`Self::has_token`]
    pub(super) fn take(&mut self) {
        self.units = self.units.saturating_sub(UNITS_PER_TOKEN);
    }

    /// Whole tokens available
    pub(super) fn tokens(&self) -> u64 {
        self.units / UNITS_PER_TOKEN
    }

    /// When the next whole token is there, if it is not yet
    pub(super) fn next_token_at(&self, limits: &ProviderLimits) -> Option<Timestamp> {
        let missing = UNITS_PER_TOKEN.checked_sub(self.units).filter(|m| *m > 0)?;
        let wait = missing.div_ceil(u64::from(limits.rate()));
        Some(self.updated.plus(Millis(wait)))
    }

    /// Keeps the bucket within a new, possibly smaller size
    pub(super) fn clamp(&mut self, limits: &ProviderLimits) {
        self.units = self.units.min(capacity(limits));
    }
}

fn capacity(limits: &ProviderLimits) -> u64 {
    u64::from(limits.bucket()).saturating_mul(UNITS_PER_TOKEN)
}
