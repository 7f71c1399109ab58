//! What the job asks the shell to do, as data, performed after the step is persisted.
//!
//! Every effect's result comes back as an [`Input`](super::Input). Effects may be lost (the
//! isolate dies between persisting and performing): each waiting state has a deadline, and on
//! it the same effect is issued again with the same idempotency key or R2 key. Writes to other
//! stores (the D1 index and ledger, the memory graph) are the same: see `writes`.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::state::{JobStatus, StatusEvent, WriteId};
use super::summary::RenderSummary;
use crate::api::tier_limits::Tier;
use crate::brief::AspectRatio;
use crate::ids::{Attempt, CreatorId, JobId, ModelId, ProviderRef, StageId};
use crate::plan::Timeline;
use crate::providers::{Output, ProviderKind};
use crate::time::Timestamp;

/// The key that makes a submit idempotent at the provider and in the shell: the same for every
/// re-issue of one attempt, different for every attempt
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct IdempotencyKey(pub String);

impl IdempotencyKey {
    /// `{job}:{stage}:{attempt}`
    pub fn for_attempt(job: &JobId, stage: &StageId, attempt: Attempt) -> Self {
        Self(format!("{job}:{stage}:{attempt}"))
    }
}

impl fmt::Display for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The R2 key of one output of one attempt: `renders/{job}/{stage}/{attempt}/{name}`
pub fn artifact_key(job: &JobId, stage: &StageId, attempt: Attempt, name: &str) -> String {
    format!("renders/{job}/{stage}/{attempt}/{name}")
}

/// What a provider needs to run a stage, by kind; the shell's adapter turns it into the
/// provider's request
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum StageInputs {
    /// A keyframe
    Image {
        /// Prompt with the cast's looks and the creator's look
        prompt: String,
        /// What the look must not drift to, for models with a negative prompt
        #[serde(default, skip_serializing_if = "Option::is_none")]
        negative_prompt: Option<String>,
        /// Frame shape
        aspect: AspectRatio,
        /// R2 keys of reference images
        reference_images: Vec<String>,
    },
    /// A moving shot from its keyframe
    Video {
        /// Prompt, with the creator's look
        prompt: String,
        /// What the look must not drift to, for models with a negative prompt
        #[serde(default, skip_serializing_if = "Option::is_none")]
        negative_prompt: Option<String>,
        /// Length, seconds
        duration_s: f64,
        /// Frame shape
        aspect: AspectRatio,
        /// R2 key of the keyframe (first frame)
        image_key: String,
        /// R2 keys of the shot's cast's reference images (its keyframe's), for models that take
        /// them beside the first frame (`providers::references`)
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        reference_images: Vec<String>,
    },
    /// Dialogue or narration
    Speech {
        /// The words
        text: String,
        /// Cast id or voice name
        voice: String,
        /// Locked provider voice id, when the memory graph has one
        voice_id: Option<String>,
        /// The audience's language (ISO 639-1), for models that take one
        #[serde(default, skip_serializing_if = "Option::is_none")]
        language: Option<String>,
    },
    /// The music bed
    Music {
        /// Mood prompt
        mood: String,
        /// Length, seconds
        duration_s: f64,
    },
    /// The cut: outputs are the master, one variant per `timeline.variants` in order, then
    /// the poster and the captions (told apart by content type)
    Assembly {
        /// Every artifact on the timeline (boxed: it dwarfs every other stage's inputs)
        timeline: Box<Timeline>,
    },
}

/// Where a slot request stands within its creator's share of a gate: hero shots first, then
/// the request whose job must finish soonest
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlotPriority {
    /// A hero shot's stage
    pub hero: bool,
    /// When the job must be done (created + the brief's `deadline_s`)
    pub deadline: Timestamp,
}

/// How an attempt that held a gate slot ended, for the model's shared health
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum SlotOutcome {
    /// The provider made it, this long after the submit
    Succeeded {
        /// Submit to result, ms
        latency_ms: u64,
    },
    /// It failed at the provider (or timed out)
    Failed,
    /// The provider throttled it: the gate slows down for every job
    RateLimited {
        /// The provider's `Retry-After`, ms
        retry_after_ms: Option<u64>,
    },
    /// Not used, or stopped by us (cancelled, abandoned by support, the budget moved the stage
    /// to another model): says nothing about the model
    Unused,
}

/// One thing for the shell to do
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Effect {
    /// Ask the creator's MemoryGraph for the brief's context; answer with `Input::MemoryContext`
    /// (on failure do nothing: the job asks again on its deadline, then plans without)
    FetchMemoryContext {
        /// The job (the brief is in `Job::spec()`)
        job: JobId,
        /// Whose graph
        creator: CreatorId,
    },
    /// Submit a stage to a provider; answer with `SubmitAccepted` or `SubmitFailed`. For a
    /// synchronous provider (the body is the result), store the body under
    /// [`artifact_key`]`(job, stage, attempt, "output")`, then answer `SubmitAccepted` followed by
    /// a `ProviderUpdate` whose output is `Output::Stored` (no copy is asked for)
    Submit {
        /// The stage
        stage: StageId,
        /// Fences callbacks: put it (with stage and job) in the callback URL's token
        attempt: Attempt,
        /// Our model id
        model: ModelId,
        /// Which adapter
        provider: ProviderKind,
        /// The provider's model name
        provider_model: String,
        /// Same on every re-issue of this attempt
        idempotency_key: IdempotencyKey,
        /// Generation seed for providers that take one (derived from the job's seed)
        seed: u32,
        /// What to make
        inputs: StageInputs,
    },
    /// Ask the provider's gate (shared by every job) for a submit slot on `model`; answer with
    /// `SlotGranted`, `SlotQueued` or `SlotRefused`. Asking again for the same (job, stage,
    /// attempt) keeps the same place or lease; when the gate cannot be reached, answer nothing
    /// (the stage asks again at [`SLOT_ASK_AGAIN`](super::SLOT_ASK_AGAIN))
    AcquireSlot {
        /// The stage
        stage: StageId,
        /// The attempt the slot is for
        attempt: Attempt,
        /// Our model id
        model: ModelId,
        /// Whose gate
        provider: ProviderKind,
        /// Whose share of the gate it waits in
        creator: CreatorId,
        /// The creator's tier (a larger share for paid tiers)
        tier: Tier,
        /// Order within the creator's share
        priority: SlotPriority,
        /// The lease's length once granted: the longest the attempt can take (its submit
        /// re-issues and its timeout), so a job that dies frees the slot by then
        lease_ms: u64,
    },
    /// Give a gate slot back (the attempt ended, or the stage stopped waiting), with what
    /// happened for the model's shared health; fire and forget (a lost release frees itself
    /// when the lease ends)
    ReleaseSlot {
        /// The stage
        stage: StageId,
        /// The attempt the slot was for
        attempt: Attempt,
        /// Our model id
        model: ModelId,
        /// Whose gate
        provider: ProviderKind,
        /// How the attempt ended
        outcome: SlotOutcome,
    },
    /// Search a provider's list or history for the task of an in-doubt submit (the job was
    /// reloaded with it in flight): the same fields as the `Submit` it looks for, plus when that
    /// submit was first issued. Answer with `SubmitAccepted` followed by the task's status when
    /// found (a synchronous provider's output as `Output::Url`, copied like any other), else
    /// `LookUpMissed` (with the error when the search itself failed)
    LookUp {
        /// The stage
        stage: StageId,
        /// The attempt in doubt
        attempt: Attempt,
        /// Our model id
        model: ModelId,
        /// Which adapter
        provider: ProviderKind,
        /// The provider's model name
        provider_model: String,
        /// The submit's idempotency key
        idempotency_key: IdempotencyKey,
        /// When the submit was first issued: nothing older is ours
        since: Timestamp,
        /// What the submit asked for (the text and voice a history is matched on)
        inputs: StageInputs,
    },
    /// Ask a provider for a task's status; answer with `ProviderUpdate` or `PollFailed`
    Poll {
        /// The stage
        stage: StageId,
        /// The attempt
        attempt: Attempt,
        /// Our model id
        model: ModelId,
        /// Which adapter
        provider: ProviderKind,
        /// The provider's task id
        provider_ref: ProviderRef,
    },
    /// Best effort: tell a provider we no longer want a task (timed out, or the job ended);
    /// nothing comes back
    CancelTask {
        /// The stage
        stage: StageId,
        /// The attempt
        attempt: Attempt,
        /// Our model id
        model: ModelId,
        /// Which adapter
        provider: ProviderKind,
        /// The provider's task id
        provider_ref: ProviderRef,
    },
    /// Copy an output into R2 under `key` (idempotent: same key on re-issue); answer with
    /// `ArtifactStored` or `ArtifactFailed`
    StoreArtifact {
        /// The stage
        stage: StageId,
        /// The attempt
        attempt: Attempt,
        /// Where the bytes are
        output: Output,
        /// Where they go
        key: String,
    },
    /// Write a line to the cost ledger (D1): a stage finished and its price is spent. Answer
    /// with `WriteResult` (idempotent by (job, stage, attempt): re-issued until acknowledged)
    RecordCost {
        /// The stage
        stage: StageId,
        /// The attempt that produced the artifact
        attempt: Attempt,
        /// The model
        model: ModelId,
        /// Dollars
        usd: f64,
        /// Echo it in `WriteResult`
        write: WriteId,
    },
    /// The job's status changed: update the D1 index (the webhook is [`Effect::Notify`]) unless
    /// it holds a newer status (a higher `seq`); answer with `WriteResult`
    StatusChanged {
        /// Old status
        from: JobStatus,
        /// New status
        to: JobStatus,
        /// Why, for failures
        reason: Option<String>,
        /// Echo it in `WriteResult`
        write: WriteId,
        /// Orders the index's status writes: a write with a lower one must not overwrite
        seq: u32,
        /// Spent so far, USD
        total_usd: f64,
    },
    /// Write what happened into the creator's memory graph (idempotent by job id); answer with
    /// `WriteResult`
    EnrichMemory {
        /// The render's summary
        summary: RenderSummary,
        /// Echo it in `WriteResult`
        write: WriteId,
    },
    /// POST a status webhook to `url`, signed, with `webhook_id` as its id (Standard Webhooks:
    /// `webhook-id`, `webhook-timestamp`, `webhook-signature`); answer with `NotifyResult`
    /// (`ok` for a 2xx, else the error and any `Retry-After`). A re-send carries the same id and
    /// payload, so receivers dedupe on the id.
    Notify {
        /// The notification (sequence in the job, from 1)
        notification: u32,
        /// Its delivery attempt (from 1); echo it in `NotifyResult`
        attempt: u32,
        /// The brief's `webhook_url`
        url: String,
        /// The JSON body
        payload: StatusEvent,
        /// `{job}-{notification}`, the same on every attempt
        webhook_id: String,
    },
}

impl Effect {
    /// The variant's name, for logs
    pub fn name(&self) -> &'static str {
        match self {
            Self::FetchMemoryContext { .. } => "fetch_memory_context",
            Self::Submit { .. } => "submit",
            Self::LookUp { .. } => "look_up",
            Self::AcquireSlot { .. } => "acquire_slot",
            Self::ReleaseSlot { .. } => "release_slot",
            Self::Poll { .. } => "poll",
            Self::CancelTask { .. } => "cancel_task",
            Self::StoreArtifact { .. } => "store_artifact",
            Self::RecordCost { .. } => "record_cost",
            Self::StatusChanged { .. } => "status_changed",
            Self::EnrichMemory { .. } => "enrich_memory",
            Self::Notify { .. } => "notify",
        }
    }
}
