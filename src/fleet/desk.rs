//! One provider account's desk: its gate, the health of its models and the models retired
//! from service, behind the three calls a job makes (acquire, release) and the one an alarm
//! makes (tick). The Worker keeps one desk per provider in a Durable Object and persists it as
//! rows after every call (`stored_desk`).
//!
//! ```text
//! acquire: retired?  --yes--> refused (for good)
//!          breaker?  --open--> refused (for now; the reason names the figures)
//!          gate      --------> granted | queued (n ahead)
//! release: outcome -> the model's health (a 429 also slows the gate), slot back to the gate
//! ```
//!
//! Slots handed to waiting requests by any call come back as [`SlotNotice`]s for the shell to
//! push to their jobs (a lost push is covered: the job asks again, which finds its lease).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::gate::{
    Admission as GateAdmission, Gate, GateConfig, GateSnapshot, Grant, ProviderLimits,
    RequesterKey, SlotRequest, TaskOutcome,
};
use super::health::{
    Admission as HealthAdmission, FailureKind, HealthBook, HealthConfig, Latency, ModelSnapshot,
    Outcome,
};
use crate::api::tier_limits::Tier;
use crate::ids::{CreatorId, ModelId};
use crate::job::{SlotOutcome, SlotPriority};
use crate::providers::ProviderKind;
use crate::routing::live::LiveHealth;
use crate::time::{Millis, Timestamp};

/// A job's request for a slot, as it arrives at the desk
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AcquireCall {
    /// Job, stage and attempt: asking again with the same key is idempotent
    pub key: RequesterKey,
    /// The model to submit to
    pub model: ModelId,
    /// Whose share of the gate
    pub creator: CreatorId,
    /// The creator's tier
    pub tier: Tier,
    /// Order within the creator's share
    pub priority: SlotPriority,
    /// How long the lease lasts once granted
    pub lease_ms: u64,
}

/// The desk's answer to an acquire
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "answer", rename_all = "snake_case")]
pub enum AcquireAnswer {
    /// Submit now
    Granted,
    /// In line; the slot will be pushed, and asking again keeps the place
    Queued {
        /// Requests served first
        ahead: u32,
        /// When to ask again, in ms from now: the gate paces a long line (far back asks less
        /// often). Absent from gates of before, which meant `job::SLOT_ASK_AGAIN`.
        #[serde(default)]
        ask_again_ms: Option<u64>,
    },
    /// Not this model: fall back down the ranked list
    Refused {
        /// For support and the journal
        reason: String,
        /// For good (retired) rather than for now (breaker open)
        retired: bool,
    },
}

/// A job's release of a slot (or of its place in line)
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReleaseCall {
    /// Job, stage and attempt
    pub key: RequesterKey,
    /// The model the slot was for
    pub model: ModelId,
    /// How the attempt ended
    pub outcome: SlotOutcome,
}

/// A slot handed to a job that was waiting: the shell tells that job
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlotNotice {
    /// Who waited
    pub key: RequesterKey,
    /// On which model
    pub model: ModelId,
}

/// The support view of one provider account
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ProviderView {
    /// The provider
    pub provider: ProviderKind,
    /// Its gate: limits, slots in use and by whom, waiting by creator, 429s
    pub gate: GateSnapshot,
    /// Its models' health and breakers
    pub models: Vec<ModelSnapshot>,
    /// Models retired from service, and since when
    pub retired: BTreeMap<ModelId, Timestamp>,
}

/// `GET /v1/support/providers`: every provider account
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct FleetView {
    /// One entry per provider
    pub providers: Vec<ProviderEntry>,
}

/// A provider account as support sees it, or why its gate could not be read
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum ProviderEntry {
    /// Its gate answered
    View(Box<ProviderView>),
    /// Its gate did not answer (the others are still shown)
    Unreachable {
        /// The provider
        provider: ProviderKind,
        /// What went wrong
        error: String,
    },
}

/// One provider account's desk (persisted as JSON)
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Desk {
    provider: ProviderKind,
    gate: Gate,
    health: HealthBook,
    #[serde(default)]
    retired: BTreeMap<ModelId, Timestamp>,
}

impl Desk {
    /// A fresh desk with the provider's limits
    pub fn new(provider: ProviderKind, limits: ProviderLimits, now: Timestamp) -> Self {
        Self {
            provider,
            gate: Gate::new(GateConfig::new(limits), now),
            health: HealthBook::new(HealthConfig::default()),
            retired: BTreeMap::new(),
        }
    }

    /// The provider
    pub fn provider(&self) -> ProviderKind {
        self.provider
    }

    /// The gate (read only: every change goes through the desk's calls)
    pub fn gate(&self) -> &Gate {
        &self.gate
    }

    /// For the stored layout, which takes the gate's record of changed rows
    pub(super) fn gate_mut(&mut self) -> &mut Gate {
        &mut self.gate
    }

    /// Its models' health, as stored (the gate's benchmark weighs what writing it costs)
    pub fn health(&self) -> &HealthBook {
        &self.health
    }

    /// For the stored layout, which takes the health book's record of changes
    pub(super) fn health_mut(&mut self) -> &mut HealthBook {
        &mut self.health
    }

    /// Every part, for the stored layout's head and health rows
    pub(super) fn parts(
        &self,
    ) -> (
        ProviderKind,
        &Gate,
        &HealthBook,
        &BTreeMap<ModelId, Timestamp>,
    ) {
        (self.provider, &self.gate, &self.health, &self.retired)
    }

    /// Applies new limits (configuration changed since the desk was stored)
    #[must_use = "slots handed out must be pushed to their jobs"]
    pub fn set_limits(&mut self, now: Timestamp, limits: ProviderLimits) -> Vec<SlotNotice> {
        if self.gate.config().limits == limits {
            return Vec::new();
        }
        let mut config = self.gate.config().clone();
        config.limits = limits;
        let grants = self.gate.reconfigure(now, config);
        self.notices(grants)
    }

    /// Replaces the retired models (from the newest registry version)
    pub fn set_retired(&mut self, retired: BTreeMap<ModelId, Timestamp>) {
        self.retired = retired;
    }

    /// A job asks for a slot. `probe_lease`: how long a half-open breaker's single probe may
    /// take before another is let through (the attempt's timeout).
    #[must_use = "slots handed out must be pushed to their jobs"]
    pub fn acquire(
        &mut self,
        now: Timestamp,
        call: AcquireCall,
        probe_lease: Millis,
    ) -> (AcquireAnswer, Vec<SlotNotice>) {
        if let Some(&since) = self.retired.get(&call.model)
            && since <= now
        {
            let grants = self.forget(now, &call.key);
            let reason = format!(
                "{} is retired since {} (registry)",
                call.model,
                super::health::clock(since)
            );
            let answer = AcquireAnswer::Refused {
                reason,
                retired: true,
            };
            return (answer, self.notices(grants));
        }
        // A request already holding a lease or a place is past the breaker's check.
        let known =
            self.gate.lease_of(&call.key).is_some() || self.gate.position(&call.key).is_some();
        if !known {
            match self.health.admits(now, &call.model, probe_lease) {
                HealthAdmission::Refuse(refusal) => {
                    let answer = AcquireAnswer::Refused {
                        reason: refusal.to_string(),
                        retired: false,
                    };
                    let grants = self.gate.tick(now);
                    return (answer, self.notices(grants));
                }
                HealthAdmission::Admit | HealthAdmission::Probe { .. } => {}
            }
        }
        let request = SlotRequest {
            key: call.key,
            creator: call.creator,
            tier: call.tier,
            model: call.model,
            hero: call.priority.hero,
            deadline: Some(call.priority.deadline),
            lease_ttl: Some(Millis(call.lease_ms)),
        };
        match self.gate.acquire(now, request) {
            Ok(decision) => {
                let answer = match decision.answer {
                    GateAdmission::Granted(_) => AcquireAnswer::Granted,
                    GateAdmission::Waiting {
                        ahead,
                        ask_again_at,
                        ..
                    } => AcquireAnswer::Queued {
                        ahead: u32::try_from(ahead).unwrap_or(u32::MAX),
                        ask_again_ms: Some(ask_again_at.0.saturating_sub(now.0)),
                    },
                };
                (answer, self.notices(decision.grants))
            }
            // The line is full: the job asks again later, as for a lost answer.
            Err(_) => {
                let waiting = u32::try_from(self.gate.waiting()).unwrap_or(u32::MAX);
                let answer = AcquireAnswer::Queued {
                    ahead: waiting,
                    ask_again_ms: Some(self.gate.pace(self.gate.waiting()).0),
                };
                (answer, Vec::new())
            }
        }
    }

    /// A job gives a slot (or its place) back, with how the attempt ended
    #[must_use = "slots handed out must be pushed to their jobs"]
    pub fn release(&mut self, now: Timestamp, call: &ReleaseCall) -> Vec<SlotNotice> {
        let (health, task) = match call.outcome {
            SlotOutcome::Succeeded { latency_ms } => (
                Some(Outcome::Succeeded {
                    latency: Millis(latency_ms),
                }),
                TaskOutcome::Succeeded,
            ),
            SlotOutcome::Failed => (
                Some(Outcome::Failed {
                    failure: FailureKind::Transient,
                }),
                TaskOutcome::Failed,
            ),
            SlotOutcome::RateLimited { retry_after_ms } => (
                Some(Outcome::RateLimited),
                TaskOutcome::RateLimited {
                    retry_after: retry_after_ms.map(Millis),
                },
            ),
            SlotOutcome::Unused => (None, TaskOutcome::Failed),
        };
        if let Some(outcome) = health {
            let _changed = self.health.record(now, &call.model, outcome);
        }
        let grants = if self.gate.lease_of(&call.key).is_some() {
            self.gate.release(now, &call.key, None, task).grants
        } else {
            // Never granted (or the lease ran out): leave the line, and let a 429 slow the gate.
            let mut grants = self.gate.withdraw(now, &call.key).grants;
            if let TaskOutcome::RateLimited { retry_after } = task {
                grants.extend(self.gate.rate_limited(now, retry_after));
            }
            grants
        };
        self.notices(grants)
    }

    /// What time alone changed (the alarm)
    #[must_use = "slots handed out must be pushed to their jobs"]
    pub fn tick(&mut self, now: Timestamp) -> Vec<SlotNotice> {
        self.health.tick(now);
        let grants = self.gate.tick(now);
        self.notices(grants)
    }

    /// When to call [`Desk::tick`] next
    pub fn next_wake(&self) -> Option<Timestamp> {
        match (self.gate.next_wake(), self.health.next_wake()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The live health of some models, for routing: each with its registry prior
    pub fn health_of(&self, now: Timestamp, models: &[(ModelId, Latency)]) -> Vec<LiveHealth> {
        models
            .iter()
            .map(|(model, prior)| {
                let latency = self.health.blended_latency(now, model, *prior);
                LiveHealth {
                    model: model.clone(),
                    p50_ms: latency.p50.0,
                    p95_ms: latency.p95.0,
                    refused: self.health.refusal(now, model).map(|r| r.to_string()),
                }
            })
            .collect()
    }

    /// The support view
    pub fn view(&self, now: Timestamp) -> ProviderView {
        ProviderView {
            provider: self.provider,
            gate: self.gate.snapshot(now),
            models: self.health.snapshots(now),
            retired: self.retired.clone(),
        }
    }

    fn forget(&mut self, now: Timestamp, key: &RequesterKey) -> Vec<Grant> {
        if self.gate.lease_of(key).is_some() {
            self.gate
                .release(now, key, None, TaskOutcome::Failed)
                .grants
        } else {
            self.gate.withdraw(now, key).grants
        }
    }

    fn notices(&self, grants: Vec<Grant>) -> Vec<SlotNotice> {
        grants
            .into_iter()
            .filter_map(|g| {
                let model = self.gate.lease_of(&g.key)?.model.clone();
                Some(SlotNotice { key: g.key, model })
            })
            .collect()
    }
}
