//! The gate's configuration: one provider account's limits and how the gate shares and guards
//! them. The Worker builds it from the provider's config; it is persisted with the gate.

use serde::{Deserialize, Serialize};

use crate::api::tier_limits::Tier;
use crate::time::Millis;

/// What the provider account allows. A zero in any field is read as 1, so a typo in the config
/// slows a provider down instead of closing it for good.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ProviderLimits {
    /// The most tasks that may run at once on the account
    pub max_concurrent: u32,
    /// Submits per minute, refilled continuously (a token bucket)
    pub requests_per_minute: u32,
    /// How many submits may go out back to back after a quiet spell (the bucket's size). Any
    /// interval of length `t` sees at most `burst + requests_per_minute * t / 1 min` grants.
    pub burst: u32,
}

impl ProviderLimits {
    /// The concurrency limit, at least 1
    pub fn concurrency(&self) -> u32 {
        self.max_concurrent.max(1)
    }

    /// The submit rate, at least 1 a minute
    pub fn rate(&self) -> u32 {
        self.requests_per_minute.max(1)
    }

    /// The bucket size, at least 1
    pub fn bucket(&self) -> u32 {
        self.burst.max(1)
    }
}

/// How much of the waiting line each tier gets: under contention a creator with weight 6 is
/// granted six slots for every one granted to a creator with weight 1. Zero is read as 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TierWeights {
    /// Weight of a free creator
    pub free: u32,
    /// Weight of a pro creator
    pub pro: u32,
    /// Weight of a studio creator
    pub studio: u32,
}

impl Default for TierWeights {
    fn default() -> Self {
        Self {
            free: 1,
            pro: 3,
            studio: 6,
        }
    }
}

impl TierWeights {
    /// The weight of `tier`, at least 1
    pub fn of(&self, tier: Tier) -> u32 {
        match tier {
            Tier::Free => self.free,
            Tier::Pro => self.pro,
            Tier::Studio => self.studio,
        }
        .max(1)
    }
}

/// Everything the gate needs to know besides the events it is fed
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct GateConfig {
    /// The account's limits
    pub limits: ProviderLimits,
    /// How long a granted slot lasts without a renewal, unless the request names its own
    /// length. A few renewal periods, so one lost renewal does not take a running task's slot
    /// away.
    pub lease_ttl: Millis,
    /// How long a waiting request stays in line without being asked again
    pub waiter_ttl: Millis,
    /// The most requests that may wait; beyond it `acquire` is refused
    pub max_waiters: u32,
    /// Fair-share weight of each tier
    pub weights: TierWeights,
    /// How long to stop granting after a 429 that carries no `Retry-After`
    pub default_pause: Millis,
    /// The longest pause a `Retry-After` may impose, so a bogus header cannot close the gate
    /// for days
    pub max_pause: Millis,
    /// 429s this soon after a halving do not halve again: they answer submits that went out
    /// before the first one, and a burst of them would otherwise collapse the limit to 1 at once
    pub decrease_holdoff: Millis,
    /// After a pause ends, the effective limit grows by one every this long (and by one per
    /// successful task) until it is back at `max_concurrent`
    pub recovery_interval: Millis,
    /// The window of the "429s recently" count of the snapshot (counted by whole minutes)
    pub rate_limit_window: Millis,
}

impl GateConfig {
    /// A config with the given limits and the defaults below for everything else
    pub fn new(limits: ProviderLimits) -> Self {
        Self {
            limits,
            lease_ttl: Millis::from_secs(120),
            waiter_ttl: Millis::from_secs(60),
            max_waiters: 10_000,
            weights: TierWeights::default(),
            default_pause: Millis::from_secs(10),
            max_pause: Millis::from_secs(600),
            decrease_holdoff: Millis::from_secs(5),
            recovery_interval: Millis::from_secs(30),
            rate_limit_window: Millis::from_secs(600),
        }
    }
}
