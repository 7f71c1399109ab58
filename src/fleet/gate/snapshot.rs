//! What support sees of a gate.

use serde::{Deserialize, Serialize};

use super::config::ProviderLimits;
use super::lease::Lease;
use crate::ids::CreatorId;
use crate::time::{Millis, Timestamp};

/// A read-only view of a gate at one moment
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct GateSnapshot {
    /// The account's configured limits
    pub limits: ProviderLimits,
    /// Slots the gate may fill now, after 429 back-off (`1..=max_concurrent`)
    pub effective_limit: u32,
    /// Submits the rate limit allows right now
    pub tokens: u64,
    /// The slots in use, with their holders' job, stage, attempt, creator and model
    pub slots: Vec<Lease>,
    /// Requests waiting for a slot
    pub waiting: usize,
    /// Requests waiting, per creator
    pub waiting_by_creator: Vec<CreatorWaiting>,
    /// 429s received since the gate was created
    pub rate_limited_total: u64,
    /// 429s received within `rate_limit_window` (counted by whole minutes)
    pub rate_limited_recent: u64,
    /// The window of `rate_limited_recent`
    pub rate_limit_window: Millis,
    /// The last 429
    pub last_rate_limited_at: Option<Timestamp>,
    /// Whether a `Retry-After` currently stops all grants
    pub paused: bool,
    /// When the current pause ends
    pub paused_until: Option<Timestamp>,
    /// When the effective limit next grows by itself, if it is below the account's
    pub next_recovery_at: Option<Timestamp>,
    /// Leases that ran out without a release (their holder died or lost touch)
    pub leases_expired_total: u64,
    /// Waiting requests dropped because they were not asked again in time
    pub waiters_dropped_total: u64,
}

/// One creator's share of the waiting line
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CreatorWaiting {
    /// The creator
    pub creator: CreatorId,
    /// Their requests waiting
    pub waiting: usize,
}
