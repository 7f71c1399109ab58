//! What the shell feeds the job: API calls, provider answers, results of its own effects, alarms.
//!
//! Every input is journaled by the shell (with the time and who caused it) once `handle` has
//! accepted it, so `Job::replay` can rebuild the job from the journal alone.

use serde::{Deserialize, Serialize};

use super::state::{SupportAction, WriteId};
use crate::api::tier_limits::Tier;
use crate::brief::Brief;
use crate::ids::ModelId;
use crate::ids::{Attempt, CreatorId, DeliveryId, JobId, ProviderRef, StageId};
use crate::memory::MemoryContext;
use crate::providers::{ProviderError, ProviderKind, ProviderStatus};
use crate::routing::Registry;
use crate::routing::live::LiveHealth;
use crate::time::Millis;

/// The creation of a job: everything it is pinned to for its whole life
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Created {
    /// The job (also its Durable Object's name)
    pub job_id: JobId,
    /// Whose render
    pub creator: CreatorId,
    /// The brief, as validated by the API (validated again here: the journal is the truth)
    pub brief: Brief,
    /// Seeds retry jitter and provider seeds, so a replay makes the same choices
    pub seed: u64,
    /// The model registry the job is pinned to (its `version` is recorded)
    pub registry: Registry,
    /// Paid tier renders carry the "Made with CreatorStudio" badge
    pub paid_tier: bool,
    /// The API key or person that submitted it
    pub submitted_by: String,
    /// `Some(tier)`: submits take slots at the providers' gates (see `JobSpec::fleet`)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fleet: Option<Tier>,
}

/// One input to [`Job::handle`](super::Job::handle)
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Input {
    /// The job was created (the first journal entry; `Job::new` takes it, `handle` ignores a repeat)
    Created(Created),
    /// The creator's memory graph answered `FetchMemoryContext`
    MemoryContext {
        /// The context for this brief
        context: MemoryContext,
    },
    /// What the providers' gates observed of the registry's models lately (latency, open
    /// breakers): the shell feeds it just before the memory context, and planning routes with it
    FleetHealth {
        /// One entry per model the gates know
        models: Vec<LiveHealth>,
    },
    /// The provider accepted a submit
    SubmitAccepted {
        /// The stage
        stage: StageId,
        /// The attempt the submit was for
        attempt: Attempt,
        /// The provider's id for the task
        provider_ref: ProviderRef,
    },
    /// A submit did not produce a task
    SubmitFailed {
        /// The stage
        stage: StageId,
        /// The attempt the submit was for
        attempt: Attempt,
        /// Why, normalised
        error: ProviderError,
    },
    /// A submit call ended without an answer (it timed out, or the connection dropped): the
    /// provider may or may not have made the task. The submit is put in doubt and reconciled by
    /// its provider's plan, as after a restart (`in_doubt`), instead of failing the attempt,
    /// whose retry would make a second task wherever the first one exists
    SubmitUnanswered {
        /// The stage
        stage: StageId,
        /// The attempt the submit was for
        attempt: Attempt,
        /// What the shell saw, for support
        reason: String,
    },
    /// A status from a callback or a poll
    ProviderUpdate {
        /// The stage (from the callback URL's token or the poll effect)
        stage: StageId,
        /// The attempt (same)
        attempt: Attempt,
        /// The status, normalised
        status: ProviderStatus,
        /// The provider's delivery id (`webhook-id`, ...), to drop replays
        delivery_id: Option<DeliveryId>,
    },
    /// A status from a provider's callback, with the provider whose route it came in on: the
    /// same as `ProviderUpdate`, but refused ([`JobError::WrongProvider`](super::JobError)) when
    /// the attempt runs on another provider's model, so a callback rerouted to another provider's
    /// route (whose signature check it may pass more easily) changes nothing
    Callback {
        /// The provider of the callback route (`/v1/callbacks/{provider}/...`)
        provider: ProviderKind,
        /// The stage (from the callback URL's token or the provider's task id)
        stage: StageId,
        /// The attempt (same)
        attempt: Attempt,
        /// The status, normalised
        status: ProviderStatus,
        /// The provider's delivery id (`webhook-id`, ...), to drop replays
        delivery_id: Option<DeliveryId>,
    },
    /// A poll did not produce a status
    PollFailed {
        /// The stage
        stage: StageId,
        /// The attempt polled
        attempt: Attempt,
        /// Why, normalised
        error: ProviderError,
    },
    /// An output is in R2
    ArtifactStored {
        /// The stage
        stage: StageId,
        /// The attempt whose output it is
        attempt: Attempt,
        /// The R2 key it was stored under (the one `StoreArtifact` named)
        key: String,
        /// Its MIME type
        content_type: String,
        /// Its size
        bytes: u64,
    },
    /// An output could not be copied (expired URL, 404): the stage is retried
    ArtifactFailed {
        /// The stage
        stage: StageId,
        /// The attempt whose output it is
        attempt: Attempt,
        /// The R2 key `StoreArtifact` named
        key: String,
        /// What happened
        reason: String,
    },
    /// The provider's gate granted the slot a stage asked for (`Effect::AcquireSlot`): as the
    /// answer, or later, pushed by the gate when a slot freed
    SlotGranted {
        /// The stage
        stage: StageId,
        /// The attempt the slot is for
        attempt: Attempt,
        /// The model the slot is on
        model: ModelId,
    },
    /// The gate put the request in its queue
    SlotQueued {
        /// The stage
        stage: StageId,
        /// The attempt the slot is for
        attempt: Attempt,
        /// Requests the gate will serve first
        ahead: u32,
        /// When the gate wants to be asked again, in ms (it paces a long line); `None` (and
        /// journal entries of before) means [`super::SLOT_ASK_AGAIN`]
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ask_again_ms: Option<u64>,
    },
    /// The gate will not let the stage submit to `model`: its circuit breaker is open (it keeps
    /// failing for every job) or it is retired. The stage falls back down its ranked list.
    SlotRefused {
        /// The stage
        stage: StageId,
        /// The attempt the slot was for
        attempt: Attempt,
        /// The model refused
        model: ModelId,
        /// For support, journaled with the input ("breaker open on veo-3: 9 of 10 failed ...")
        reason: String,
        /// Retired: never again for this stage; otherwise (a breaker) only for now
        retired: bool,
    },
    /// The shell loaded the job from storage after its object (re)started with a submit in
    /// flight ([`Job::has_submits_in_flight`](super::Job::has_submits_in_flight)): whether
    /// each such submit reached its provider is unknown, so it is put in doubt and reconciled
    Reloaded,
    /// A lookup of an in-doubt submit (`Effect::LookUp`) found no task (`error: None`) or could
    /// not tell (`error`); a task it found comes back as `SubmitAccepted` and its status instead
    LookUpMissed {
        /// The stage
        stage: StageId,
        /// The attempt looked up
        attempt: Attempt,
        /// Why the search failed, if it did
        error: Option<ProviderError>,
    },
    /// The alarm fired (maybe late, maybe twice)
    Tick,
    /// The app cancelled the job
    Cancel {
        /// Who
        by: String,
    },
    /// A support action; refused (`JobError`) unless it applies to the job as it is
    Support {
        /// Who (support principal)
        by: String,
        /// Why; required
        reason: String,
        /// What
        action: SupportAction,
    },
    /// The result of one `Effect::Notify` delivery attempt
    NotifyResult {
        /// The notification
        notification: u32,
        /// The attempt the effect named
        attempt: u32,
        /// The receiver answered 2xx
        ok: bool,
        /// The receiver's `Retry-After`, if any
        retry_after: Option<Millis>,
        /// What went wrong (status code, network error)
        error: Option<String>,
    },
    /// The result of one issue of a write (`StatusChanged`, `RecordCost`, `EnrichMemory`)
    WriteResult {
        /// The write the effect named
        write: WriteId,
        /// The store acknowledged it
        ok: bool,
        /// What went wrong
        error: Option<String>,
    },
}

impl Input {
    /// The variant's name, for journals and errors
    pub fn name(&self) -> &'static str {
        match self {
            Self::Created(_) => "created",
            Self::MemoryContext { .. } => "memory_context",
            Self::FleetHealth { .. } => "fleet_health",
            Self::SubmitAccepted { .. } => "submit_accepted",
            Self::SubmitFailed { .. } => "submit_failed",
            Self::SubmitUnanswered { .. } => "submit_unanswered",
            Self::ProviderUpdate { .. } => "provider_update",
            Self::Callback { .. } => "callback",
            Self::PollFailed { .. } => "poll_failed",
            Self::ArtifactStored { .. } => "artifact_stored",
            Self::ArtifactFailed { .. } => "artifact_failed",
            Self::SlotGranted { .. } => "slot_granted",
            Self::SlotQueued { .. } => "slot_queued",
            Self::SlotRefused { .. } => "slot_refused",
            Self::Reloaded => "reloaded",
            Self::LookUpMissed { .. } => "look_up_missed",
            Self::Tick => "tick",
            Self::Cancel { .. } => "cancel",
            Self::Support { .. } => "support",
            Self::NotifyResult { .. } => "notify_result",
            Self::WriteResult { .. } => "write_result",
        }
    }

    /// The stage the input is about, if any
    pub fn stage(&self) -> Option<&StageId> {
        match self {
            Self::SubmitAccepted { stage, .. }
            | Self::SubmitFailed { stage, .. }
            | Self::SubmitUnanswered { stage, .. }
            | Self::ProviderUpdate { stage, .. }
            | Self::Callback { stage, .. }
            | Self::PollFailed { stage, .. }
            | Self::ArtifactStored { stage, .. }
            | Self::ArtifactFailed { stage, .. }
            | Self::SlotGranted { stage, .. }
            | Self::SlotQueued { stage, .. }
            | Self::SlotRefused { stage, .. }
            | Self::LookUpMissed { stage, .. } => Some(stage),
            Self::Support { action, .. } => action.stage(),
            Self::Created(_)
            | Self::MemoryContext { .. }
            | Self::FleetHealth { .. }
            | Self::Reloaded
            | Self::Tick
            | Self::Cancel { .. }
            | Self::NotifyResult { .. }
            | Self::WriteResult { .. } => None,
        }
    }
}
