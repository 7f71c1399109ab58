//! The persisted state of a job, split the way the shell stores it:
//!
//! - [`JobSpec`]: written once at creation and once more when the memory context arrives
//!   (brief, registry, seed, warnings, context);
//! - [`JobHeader`]: one small row, rewritten on most steps (status, counters, money);
//! - [`StageRow`]: one row per stage, rewritten only when that stage changes.
//!
//! The records those rows hold live in the submodules, each beside nothing but its data, so
//! that the modules acting on them (`notify`, `writes`, `support`, `in_doubt`) depend on the
//! state and never the other way round.

mod doubt;
mod notification;
mod pending_write;
mod status;
mod support_action;

use serde::{Deserialize, Serialize};

pub use doubt::InDoubt;
pub use notification::{EventType, Notification, NotificationState, StatusEvent};
pub use pending_write::{PendingWrite, WriteId, WriteKind, WriteState};
pub use status::JobStatus;
pub(crate) use support_action::SUPPORT_ACTOR;
pub use support_action::{ActionRecord, SupportAction};

use super::budget::Micros;
use crate::api::tier_limits::Tier;
use crate::brief::{AspectRatio, Brief, PacingWarning};
use crate::ids::{Attempt, CreatorId, DeliveryId, JobId, ModelId, ProviderRef};
use crate::memory::MemoryContext;
use crate::plan::StageSpec;
use crate::providers::Output;
use crate::routing::live::LiveHealth;
use crate::routing::{Decision, Registry};
use crate::time::Timestamp;

/// What a job is pinned to; written at creation and when the memory context arrives
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobSpec {
    /// The job
    pub job_id: JobId,
    /// Whose render
    pub creator: CreatorId,
    /// Who submitted it
    pub submitted_by: String,
    /// The validated brief
    pub brief: Brief,
    /// Ra's pacing notes
    pub warnings: Vec<PacingWarning>,
    /// Seeds jitter and provider seeds
    pub seed: u64,
    /// The pinned registry
    pub registry: Registry,
    /// Paid tier (badge)
    pub paid_tier: bool,
    /// When the job was created
    pub created_at: Timestamp,
    /// The memory context, once it arrived
    pub memory: Option<MemoryContext>,
    /// `Some(tier)`: every submit first takes a slot at its provider's gate, shared by all jobs,
    /// waiting with this tier's share; `None`: the job limits only itself (jobs created before
    /// the gates, and tests of one job alone)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fleet: Option<Tier>,
    /// What the providers' gates observed of the models when the job planned (routing used it)
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub live: Vec<LiveHealth>,
}

/// One status change, for the view and support
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct StatusEntry {
    /// The new status
    pub status: JobStatus,
    /// When
    pub at: Timestamp,
}

/// Stage counts by phase, kept incrementally (and checked on load)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Counts {
    /// Stages in the plan
    pub total: u32,
    /// Done
    pub done: u32,
    /// Submitting, running or storing
    pub running: u32,
    /// Failed
    pub failed: u32,
}

/// A pending memory context fetch
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemoryWait {
    /// Fetches issued so far
    pub fetches: u32,
    /// When to fetch again (or give up)
    pub deadline: Timestamp,
}

/// The small, often rewritten part of a job
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobHeader {
    /// Current status
    pub status: JobStatus,
    /// Every status change
    pub history: Vec<StatusEntry>,
    /// Stage counts
    pub counts: Counts,
    /// The brief's budget
    pub budget: Micros,
    /// Reserved for in-flight attempts, plus spent, plus attempts we gave up on that may bill
    pub committed: Micros,
    /// Spent on finished stages
    pub spent: Micros,
    /// Cheapest projected cost of every stage not holding a reservation
    pub outstanding_floor: Micros,
    /// The memory context fetch, while waiting for it
    pub memory_wait: Option<MemoryWait>,
    /// Notes for support (planned without memory context, ...)
    pub notes: Vec<String>,
    /// Why the job failed
    pub failure: Option<String>,
    /// Who cancelled it
    pub cancelled_by: Option<String>,
    // The fields below are left out of the stored row while empty: the header is rewritten on
    // most steps, and most jobs are never paused, acted on or watched by a webhook.
    /// While paused: the status a resume returns to
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused_from: Option<JobStatus>,
    /// Support actions accepted on the job, oldest first (the last [`MAX_ACTIONS`](super::MAX_ACTIONS))
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<ActionRecord>,
    /// Status webhooks, by id (the last [`MAX_OUTBOX`](super::MAX_OUTBOX))
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub outbox: Vec<Notification>,
    /// Notifications issued so far (the last id)
    #[serde(default, skip_serializing_if = "is_zero")]
    pub notifications_issued: u32,
    /// Writes to the D1 index and ledger and the memory graph not yet acknowledged, by id
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub writes: Vec<PendingWrite>,
    /// Writes issued so far (the last id)
    #[serde(default, skip_serializing_if = "is_zero")]
    pub writes_issued: u32,
    /// Ra's notes to the Director on this job, oldest first (see `ra_notes`; the last
    /// [`MAX_SAID`](super::MAX_SAID)); the creator's view shows these, never `notes`
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub said: Vec<crate::brief::ra::RaNote>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// Progress seen from the provider while running
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Progress {
    /// Accepted, waiting in the provider's queue
    Queued,
    /// Being generated
    Running,
}

/// An output in R2
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Artifact {
    /// `output`, `master`, `variant-9x16`, ...
    pub name: String,
    /// R2 key
    pub key: String,
    /// MIME type
    pub content_type: String,
    /// Size
    pub bytes: u64,
    /// Frame shape, for the assembly's master and variants
    pub aspect: Option<AspectRatio>,
    /// Index among the provider's outputs (0 = primary)
    pub position: u32,
}

/// An output still to be copied into R2
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingOutput {
    /// The artifact name it will have
    pub name: String,
    /// The R2 key it goes to
    pub key: String,
    /// Where it is now
    pub output: Output,
    /// Frame shape, for the assembly's outputs
    pub aspect: Option<AspectRatio>,
    /// Index among the provider's outputs (0 = primary)
    pub position: u32,
}

/// A ready stage's place at its provider's gate (see `slots`)
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlotWait {
    /// The attempt the slot is for (the stage's next attempt number)
    pub attempt: Attempt,
    /// When the stage first asked
    pub asked_at: Timestamp,
    /// When to ask again: a re-ask keeps the place (the gate drops a waiter that stops asking,
    /// so a job that died never blocks the queue) and covers a lost answer or grant
    pub ask_again_at: Timestamp,
    /// How many requests the gate will serve first, as it last said
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ahead: Option<u32>,
    /// The gate granted the slot while an input was still being stored: the stage holds it and
    /// submits once the input is in (see `early_slots`)
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub granted: bool,
}

/// A stage's state; each variant carries what that state needs
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum StageState {
    /// Waiting for its dependencies
    Blocked,
    /// Inputs ready, waiting for a concurrency slot on `model`: first in the job's own queue,
    /// then (with `slot`) at the provider's gate, which every job shares. With `slot`, the last
    /// input may still be being stored: the stage asked early (see `early_slots`)
    Ready {
        /// The model it will be submitted to (budget permitting)
        model: ModelId,
        /// Since when
        since: Timestamp,
        /// Set once the stage asked its provider's gate for a slot and waits for the answer
        #[serde(default, skip_serializing_if = "Option::is_none")]
        slot: Option<SlotWait>,
    },
    /// Submit issued, waiting for the provider's acknowledgement
    Submitting {
        /// The attempt
        attempt: Attempt,
        /// The model
        model: ModelId,
        /// Money reserved for it
        reserved: Micros,
        /// When it was first submitted
        since: Timestamp,
        /// When to re-issue the submit
        deadline: Timestamp,
        /// Re-issues so far
        reissues: u32,
        /// Set when the job was reloaded with this submit in flight: its outcome is unknown
        /// and it is reconciled before any second submit (see `in_doubt`)
        #[serde(default, skip_serializing_if = "Option::is_none")]
        doubt: Option<InDoubt>,
    },
    /// Accepted by the provider, waiting for a terminal status
    Running {
        /// The attempt
        attempt: Attempt,
        /// The model
        model: ModelId,
        /// Money reserved for it
        reserved: Micros,
        /// The provider's task id
        provider_ref: ProviderRef,
        /// When it was submitted
        since: Timestamp,
        /// When the attempt times out
        deadline: Timestamp,
        /// When to poll next
        next_poll: Timestamp,
        /// What the provider last said
        progress: Progress,
    },
    /// Succeeded at the provider; outputs being copied into R2
    Storing {
        /// The attempt
        attempt: Attempt,
        /// The model
        model: ModelId,
        /// Money reserved for it
        reserved: Micros,
        /// The provider's task id (unknown when the result beat the acknowledgement)
        provider_ref: Option<ProviderRef>,
        /// Outputs not yet in R2
        pending: Vec<PendingOutput>,
        /// Outputs already in R2
        stored: Vec<Artifact>,
        /// When to issue the copies again
        deadline: Timestamp,
        /// Re-issues so far
        reissues: u32,
    },
    /// Waiting before the next attempt on `model`
    BackingOff {
        /// When to try again
        until: Timestamp,
        /// The model
        model: ModelId,
        /// What went wrong last
        last_error: String,
    },
    /// Finished; its artifacts are in R2
    Done {
        /// The attempt that made them
        attempt: Attempt,
        /// The model that made them
        model: ModelId,
        /// The artifacts, primary first
        artifacts: Vec<Artifact>,
        /// When
        finished_at: Timestamp,
    },
    /// No model left (or no budget): the job fails with it
    Failed {
        /// For a person
        reason: String,
    },
    /// Stopped because the job ended (cancelled or failed elsewhere)
    Cancelled {
        /// When
        at: Timestamp,
    },
}

/// Counting bucket of a stage state
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    Waiting,
    Running,
    Done,
    Failed,
    Cancelled,
}

impl StageState {
    /// The same state with a running stage's next poll and progress replaced where given;
    /// any other state comes back unchanged
    pub(crate) fn rescheduled(mut self, at: Option<Timestamp>, to: Option<Progress>) -> Self {
        if let Self::Running {
            next_poll,
            progress,
            ..
        } = &mut self
        {
            if let Some(at) = at {
                *next_poll = at;
            }
            if let Some(to) = to {
                *progress = to;
            }
        }
        self
    }

    /// The same state with a running stage's deadline no earlier than `at`; any other state
    /// comes back unchanged
    pub(crate) fn deadline_at_least(mut self, at: Timestamp) -> Self {
        if let Self::Running { deadline, .. } = &mut self {
            *deadline = (*deadline).max(at);
        }
        self
    }

    /// The attempt in flight, if any
    pub fn attempt(&self) -> Option<Attempt> {
        match self {
            Self::Submitting { attempt, .. }
            | Self::Running { attempt, .. }
            | Self::Storing { attempt, .. } => Some(*attempt),
            Self::Blocked
            | Self::Ready { .. }
            | Self::BackingOff { .. }
            | Self::Done { .. }
            | Self::Failed { .. }
            | Self::Cancelled { .. } => None,
        }
    }

    /// When this state needs the alarm
    pub fn wake_at(&self) -> Option<Timestamp> {
        match self {
            Self::Submitting { deadline, .. } | Self::Storing { deadline, .. } => Some(*deadline),
            Self::Running {
                deadline,
                next_poll,
                ..
            } => Some((*deadline).min(*next_poll)),
            Self::BackingOff { until, .. } => Some(*until),
            Self::Ready {
                slot: Some(wait), ..
            } => Some(wait.ask_again_at),
            Self::Blocked
            | Self::Ready { slot: None, .. }
            | Self::Done { .. }
            | Self::Failed { .. }
            | Self::Cancelled { .. } => None,
        }
    }

    /// The model whose concurrency slot this state holds
    pub fn slot(&self) -> Option<&ModelId> {
        match self {
            Self::Submitting { model, .. } | Self::Running { model, .. } => Some(model),
            // Asking the gate already counts against the job's own limit, which stays an upper
            // bound on what one job holds or waits for at a provider.
            Self::Ready {
                model,
                slot: Some(_),
                ..
            } => Some(model),
            Self::Blocked
            | Self::Ready { slot: None, .. }
            | Self::Storing { .. }
            | Self::BackingOff { .. }
            | Self::Done { .. }
            | Self::Failed { .. }
            | Self::Cancelled { .. } => None,
        }
    }

    /// The model whose ready queue this state waits in
    pub fn queue(&self) -> Option<&ModelId> {
        match self {
            Self::Ready {
                model, slot: None, ..
            } => Some(model),
            Self::Blocked
            | Self::Ready { slot: Some(_), .. }
            | Self::Submitting { .. }
            | Self::Running { .. }
            | Self::Storing { .. }
            | Self::BackingOff { .. }
            | Self::Done { .. }
            | Self::Failed { .. }
            | Self::Cancelled { .. } => None,
        }
    }

    /// The model this state belongs to, if any
    pub fn model(&self) -> Option<&ModelId> {
        match self {
            Self::Ready { model, .. }
            | Self::Submitting { model, .. }
            | Self::Running { model, .. }
            | Self::Storing { model, .. }
            | Self::BackingOff { model, .. }
            | Self::Done { model, .. } => Some(model),
            Self::Blocked | Self::Failed { .. } | Self::Cancelled { .. } => None,
        }
    }

    /// Money reserved by the attempt in flight
    pub fn reserved(&self) -> Micros {
        match self {
            Self::Submitting { reserved, .. }
            | Self::Running { reserved, .. }
            | Self::Storing { reserved, .. } => *reserved,
            Self::Blocked
            | Self::Ready { .. }
            | Self::BackingOff { .. }
            | Self::Done { .. }
            | Self::Failed { .. }
            | Self::Cancelled { .. } => Micros::ZERO,
        }
    }

    /// Whether the stage still needs a reservation (its floor counts as outstanding)
    pub fn holds_floor(&self) -> bool {
        match self {
            Self::Blocked | Self::Ready { .. } | Self::BackingOff { .. } => true,
            Self::Submitting { .. }
            | Self::Running { .. }
            | Self::Storing { .. }
            | Self::Done { .. }
            | Self::Failed { .. }
            | Self::Cancelled { .. } => false,
        }
    }

    /// Whether the job must stop it when it ends
    pub fn is_active(&self) -> bool {
        match self {
            Self::Ready { .. }
            | Self::Submitting { .. }
            | Self::Running { .. }
            | Self::Storing { .. }
            | Self::BackingOff { .. } => true,
            Self::Blocked | Self::Done { .. } | Self::Failed { .. } | Self::Cancelled { .. } => {
                false
            }
        }
    }

    pub(crate) fn phase(&self) -> Phase {
        match self {
            Self::Blocked | Self::Ready { .. } | Self::BackingOff { .. } => Phase::Waiting,
            Self::Submitting { .. } | Self::Running { .. } | Self::Storing { .. } => Phase::Running,
            Self::Done { .. } => Phase::Done,
            Self::Failed { .. } => Phase::Failed,
            Self::Cancelled { .. } => Phase::Cancelled,
        }
    }

    /// The state's name, as on the wire
    pub fn name(&self) -> &'static str {
        match self {
            Self::Blocked => "blocked",
            Self::Ready { .. } => "ready",
            Self::Submitting { .. } => "submitting",
            Self::Running { .. } => "running",
            Self::Storing { .. } => "storing",
            Self::BackingOff { .. } => "backing_off",
            Self::Done { .. } => "done",
            Self::Failed { .. } => "failed",
            Self::Cancelled { .. } => "cancelled",
        }
    }
}

/// How an attempt ended
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
#[derive(schemars::JsonSchema)]
pub enum AttemptOutcome {
    /// Still going
    InFlight,
    /// Produced the stage's artifacts
    Succeeded,
    /// Ended without them
    Failed {
        /// For a person
        reason: String,
    },
    /// Stopped because the job ended
    Cancelled,
    /// Given up by a support action (retry, reroute, restart) for a fresh attempt; whatever it
    /// still reports is ignored
    Abandoned {
        /// Which action, and why
        reason: String,
    },
}

/// One attempt of a stage, for support
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AttemptRecord {
    /// Its number
    pub attempt: Attempt,
    /// The model
    pub model: ModelId,
    /// The provider's task id, once known
    pub provider_ref: Option<ProviderRef>,
    /// Submitted at
    pub started_at: Timestamp,
    /// Ended at
    pub ended_at: Option<Timestamp>,
    /// Reserved for it
    pub reserved: Micros,
    /// How it ended
    pub outcome: AttemptOutcome,
    /// Why this model (set when the budget pushed the stage down its candidate list)
    pub note: Option<String>,
}

/// Deliveries remembered per stage to drop replays (older ones also fail the state checks)
pub const SEEN_DELIVERIES: usize = 16;

/// One stage's row: the plan's spec, the routing decision, and everything that changes
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageRow {
    /// What the plan says
    pub spec: StageSpec,
    /// Ra's routing decision (candidates best first)
    pub decision: Decision,
    /// Cheapest projected cost over the candidates
    pub floor: Micros,
    /// Candidates before this index are used up
    pub cursor: u32,
    /// Failures on the current candidate
    pub failures_on_model: u32,
    /// Candidates that refused the stage for good (moderation, an invalid request): never
    /// tried again automatically, while transient failures start the list over
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub refused: Vec<ModelId>,
    /// The last attempt number issued (0: none yet)
    pub attempt: Attempt,
    /// The state
    pub state: StageState,
    /// Every attempt
    pub attempts: Vec<AttemptRecord>,
    /// Committed for this stage (spent, reserved, given-up attempts that may bill)
    pub committed: Micros,
    /// Spent on this stage
    pub spent: Micros,
    /// When its first attempt was submitted
    pub started_at: Option<Timestamp>,
    /// Recent provider delivery ids
    pub seen_deliveries: Vec<DeliveryId>,
}

impl StageRow {
    /// The primary artifact's R2 key, once done
    pub fn primary_key(&self) -> Option<&str> {
        match &self.state {
            StageState::Done { artifacts, .. } => artifacts.first().map(|a| a.key.as_str()),
            StageState::Blocked
            | StageState::Ready { .. }
            | StageState::Submitting { .. }
            | StageState::Running { .. }
            | StageState::Storing { .. }
            | StageState::BackingOff { .. }
            | StageState::Failed { .. }
            | StageState::Cancelled { .. } => None,
        }
    }

    /// The attempt record of `attempt`
    pub(crate) fn record_mut(&mut self, attempt: Attempt) -> Option<&mut AttemptRecord> {
        self.attempts
            .iter_mut()
            .rev()
            .find(|r| r.attempt == attempt)
    }
}
