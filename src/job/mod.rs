//! The render job machine: `handle(now, input) -> effects`, `next_deadline()`, `view()`.
//!
//! Sans-IO and deterministic: the same inputs at the same times give the same state and effects
//! (time is an argument, jitter comes from the job's seed, every map is ordered), which is what
//! lets [`Job::replay`] rebuild a job from its journal.
//!
//! # Job status
//!
//! ```text
//! queued --new--> planning --memory context (or 3 unanswered fetches)--> rendering
//! rendering --assembly's inputs all done--> assembling --assembly stored--> succeeded
//! planning | rendering | assembling | paused --routing/budget impossible, or a stage out of models--> failed
//! planning | rendering | assembling | paused --Cancel--> cancelled
//! planning | rendering | assembling --support pause--> paused --support resume--> (the status before)
//! paused --assembly stored (it was in flight)--> succeeded
//! succeeded --support restart_from--> rendering | assembling
//! failed --support retry/reroute of its failed stage, or restart_from upstream of it--> rendering | assembling
//! succeeded | failed | cancelled --anything else--> (unchanged; inputs are acknowledged and ignored)
//! ```
//!
//! While paused nothing new is submitted: ready stages wait in their queues, while attempts in
//! flight keep their deadlines (polls, timeouts, re-issues of the same submit, copies) and their
//! results are collected and stored; a stage that then needs another attempt waits, ready. The
//! progress the job makes meanwhile (planning -> rendering -> assembling) is kept in
//! `paused_from`, which is where a resume returns. Every status change is a status webhook
//! (see `notify`), whose deadlines outlive the job.
//!
//! # Support actions (`Input::Support`; see `support`)
//!
//! Every action needs a non-blank reason and is refused on a cancelled job. A refused action is
//! a [`JobError`] (`InvalidAction`, or `UnknownStage`) and changes nothing; an accepted one is
//! recorded in `header.actions` (who, why, what). "Fresh attempt" means: the attempt in flight
//! is fenced out (its record says `abandoned`, a running task gets a best-effort `CancelTask`,
//! its reservation stays committed since the provider may bill it, anything it still reports is
//! ignored) and the stage goes back to ready; it is submitted by the usual dispatch (budget,
//! concurrency), at once unless paused.
//!
//! ```text
//! action        planning            rendering | assembling                paused                       succeeded                    failed
//! pause         -> paused           -> paused                             refused (already)            refused                      refused
//! resume        refused             refused                               -> the status before         refused                      refused
//! cancel        -> cancelled        -> cancelled                          -> cancelled                 refused                      refused
//! retry_stage   unknown stage       submitting|running|storing|           as rendering; submitted      refused (done:               its failed stage: fresh
//!                                   backing_off: fresh attempt on its     on resume                    use restart_from)            attempt on the model that
//!                                   current model; failures_on_model = 0;                                                           failed, the job reopens (*)
//!                                   blocked | ready | done refused
//! reroute       unknown stage       model first in candidates (override   as rendering; submitted      refused (done)               its failed stage: as
//!                                   in the decision), cursor 0, fresh     on resume                                                 rendering, the job
//!                                   attempt on it; blocked: starts on it                                                             reopens (*)
//!                                   once ready; done refused
//! restart_from  unknown stage       the stage and its transitive          as rendering; submitted      -> rendering | assembling,   as succeeded, if every
//!                                   dependents (the assembly among them)  on resume                    the stage and dependents     failed stage is among
//!                                   back to blocked/ready, fresh                                       redone (*)                   them
//!                                   attempts; blocked | ready refused
//! ```
//! (*) Reopening: the status goes back to rendering (assembling when the assembly is ready at
//! once), `failure` moves to `notes`, and the stages the failure stopped are set going again.
//! Retry and reroute need a stage that is in flight, backing off or failed; a reroute's model must
//! be in the pinned registry, have the stage's capability, make its duration and aspect, and fit
//! the budget; every action that needs new reservations is refused when the budget cannot
//! cover the cheapest of them. Redone stages get new attempt numbers, so new idempotency keys
//! and new artifact keys; the old artifacts stay in R2.
//!
//! # Stage transitions (the table is `transition::transition`; `*` = the attempt in flight,
//! anything for another attempt is ignored)
//!
//! ```text
//! blocked     --last dependency done-------------------------> ready(model = candidate[cursor])
//! ready       --slot free, budget fits candidate i >= cursor--> submitting*          [Submit]
//! ready       --budget only fits a cheaper candidate----------> ready(cheaper model)
//! ready       --no candidate fits the budget------------------> failed => job failed
//! submitting  --SubmitAccepted--------------------------------> running              (poll + timeout deadlines)
//! submitting  --ack deadline, < 3 re-issues-------------------> submitting           [Submit, same key]
//! submitting  --Succeeded (result beat the ack)---------------> storing              [StoreArtifact...]
//! running     --ProviderUpdate Running------------------------> running (progress)
//! running     --poll deadline---------------------------------> running              [Poll]
//! running     --PollFailed 429 + Retry-After------------------> running (next poll then)
//! running     --Succeeded---------------------------------------> storing              [StoreArtifact...]
//! storing     --ArtifactStored (last pending)-----------------> done                 [RecordCost], dependents may turn ready
//! storing     --copy deadline, < 3 re-issues------------------> storing              [StoreArtifact, same keys]
//! submitting | running | storing --failure--------------------> backing_off (same model, backoff or Retry-After)
//!                                                             | ready (next candidate: moderation, refusal, 3rd failure)
//!                                                             | failed (no candidate left) => job failed
//! running     --attempt timeout (p95 x 1.5 + 30 s after ack)--> as a failure         [CancelTask]
//! backing_off --until-----------------------------------------> ready
//! any active  --job cancelled or failed-----------------------> cancelled            [CancelTask if running]
//! submitting | running | storing | backing_off | failed --support retry or reroute--> ready (fresh attempt)
//! any but blocked --support restart_from (this or an upstream stage)--> blocked | ready
//! cancelled   --failed job reopened by support----------------> ready
//! ```
//!
//! # Persistence
//!
//! The job is stored as a spec row (written once, and once more when the memory context
//! arrives), a small header row, and one row per stage; see [`Changes`] for what the shell must
//! write after each step. Handling one callback touches only its stage's row and the header:
//! counters, queues and deadlines are kept incrementally (see `index`), never by scanning stages.

mod budget;
mod changes;
mod creator_view;
mod creator_view_text;
mod deadlines;
mod dispatch;
mod early_slots;
mod effect;
mod error;
mod in_doubt;
mod index;
mod input;
mod lifecycle;
mod notify;
mod planning;
mod poll_now;
mod ra_notes;
mod redo;
mod retry;
mod slots;
mod stage_flow;
mod state;
mod summary;
mod support;
mod timeline;
mod transition;
mod view;
mod writes;

use std::collections::{BTreeMap, BTreeSet};

pub use budget::Micros;
pub use changes::Changes;
pub use creator_view::{
    CreatorAction, CreatorActionKind, CreatorActionView, CreatorJobView, CreatorStageView,
};
pub use creator_view_text::{CreatorViewText, MAX_KEPT_PARTS, ViewText};
pub use deadlines::{
    CALL_TIMEOUT, Delivery, MAX_MEMORY_FETCHES, MAX_STORE_REISSUES, MAX_SUBMIT_REISSUES,
    MEMORY_TIMEOUT, STORE_TIMEOUT, SUBMIT_ACK_TIMEOUT, answers_with_result, attempt_timeout,
    delivery, poll_interval, submit_ack_timeout, submit_call_timeout,
};
pub use effect::{Effect, IdempotencyKey, SlotOutcome, SlotPriority, StageInputs, artifact_key};
pub use error::JobError;
pub use in_doubt::{CALLBACK_GRACE, COMPLETION_GRACE, LOOKUP_RETRY, Reconcile, reconcile};
pub use input::{Created, Input};
pub use notify::{
    MAX_NOTIFY_ATTEMPTS, MAX_OUTBOX, NOTIFY_RESULT_TIMEOUT, NOTIFY_RETRY_AFTER_MAX,
    NOTIFY_SCHEDULE, notify_backoff, webhook_id,
};
pub use ra_notes::MAX_SAID;
pub use retry::{BACKOFF_BASE, BACKOFF_MAX, Failure, MAX_FAILURES_PER_MODEL, backoff};
pub use slots::{SLOT_ASK_AGAIN, SPILL_AHEAD, SPILL_QUALITY};
pub use stage_flow::MAX_OUTPUTS_PER_STAGE;
pub use state::{
    ActionRecord, Artifact, AttemptOutcome, AttemptRecord, Counts, EventType, InDoubt, JobHeader,
    JobSpec, JobStatus, MemoryWait, Notification, NotificationState, PendingOutput, PendingWrite,
    Progress, SlotWait, StageRow, StageState, StatusEntry, StatusEvent, SupportAction, WriteId,
    WriteKind, WriteState,
};
pub use summary::{RenderSummary, StageSummary};
pub use support::MAX_ACTIONS;
pub use timeline::{
    StageTimeline, Timeline, TimelineEvent, TimelineEventKind, TimelinePhase, TimelineRecorder,
    TimelineSpan,
};
pub use view::{JobView, NotificationView, ProgressView, ShotCost, StageView, VariantView};
pub use writes::{
    MAX_WRITE_ATTEMPTS, WRITE_BACKOFF_BASE, WRITE_BACKOFF_MAX, WRITE_RESULT_TIMEOUT, write_backoff,
};

use self::deadlines::DeadlineKey;
use self::index::{Index, Positions};
use self::state::Phase;
use self::transition::{Outcome, StageEvent, transition};
use crate::brief::validate_brief;
use crate::ids::{Attempt, DeliveryId, ModelId, StageId};
use crate::journal::Skipped;
use crate::providers::ProviderKind;
use crate::routing::ModelSpec;
use crate::time::{Millis, Timestamp};

/// One render job: its persisted parts plus derived indexes
///
/// Stages live in plan order (`rows[i].spec.order == i`) and are addressed internally by that
/// position; ids are resolved once per input through a hash map.
#[derive(Debug, Clone)]
pub struct Job {
    spec: JobSpec,
    header: JobHeader,
    rows: Vec<StageRow>,
    positions: Positions,
    idx: Index,
    spec_dirty: bool,
    header_dirty: bool,
    dirty: BTreeSet<u32>,
    /// Why the last step changed nothing, when it did not (see `journal`)
    skipped: Option<Skipped>,
    /// Gate slots this step gave up, turned into `ReleaseSlot` effects at its end (see `slots`)
    slot_releases: slots::PendingReleases,
    /// Copies into R2 this step began, finished or abandoned (see `early_slots`)
    storing: early_slots::StoringChanges,
}

/// Equality of the state (persisted parts and derived indexes), not of pending changes
impl PartialEq for Job {
    fn eq(&self, other: &Self) -> bool {
        self.spec == other.spec
            && self.header == other.header
            && self.rows == other.rows
            && self.idx == other.idx
    }
}

/// What can change in a header, cheap to take and compare on every step: `history` and `notes`
/// only grow, `failure` is set once (and cleared only by a support action, which marks the
/// header itself, as do the outbox and the action log)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct HeaderMark {
    status: JobStatus,
    history: usize,
    counts: Counts,
    money: [Micros; 3],
    memory_wait: Option<MemoryWait>,
    notes: usize,
    failure: bool,
    cancelled_by: bool,
    paused_from: Option<JobStatus>,
}

impl JobHeader {
    fn mark(&self) -> HeaderMark {
        HeaderMark {
            status: self.status,
            history: self.history.len(),
            counts: self.counts,
            money: [self.committed, self.spent, self.outstanding_floor],
            memory_wait: self.memory_wait,
            notes: self.notes.len(),
            failure: self.failure.is_some(),
            cancelled_by: self.cancelled_by.is_some(),
            paused_from: self.paused_from,
        }
    }
}

fn pos(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(u32::MAX)
}

impl Job {
    /// Creates a job from its `Created` input; returns it with its first effects
    /// (`StatusChanged` queued -> planning, `FetchMemoryContext`). Everything is marked changed.
    pub fn new(now: Timestamp, created: Created) -> Result<(Self, Vec<Effect>), JobError> {
        let validated = validate_brief(created.brief)?;
        let brief = validated.brief;
        let budget = Micros::from_usd(brief.budget_usd);
        let spec = JobSpec {
            job_id: created.job_id,
            creator: created.creator,
            submitted_by: created.submitted_by,
            brief,
            warnings: validated.warnings,
            seed: created.seed,
            registry: created.registry,
            paid_tier: created.paid_tier,
            created_at: now,
            memory: None,
            fleet: created.fleet,
            live: Vec::new(),
        };
        let header = JobHeader {
            status: JobStatus::Queued,
            history: vec![StatusEntry {
                status: JobStatus::Queued,
                at: now,
            }],
            counts: Counts::default(),
            budget,
            committed: Micros::ZERO,
            spent: Micros::ZERO,
            outstanding_floor: Micros::ZERO,
            memory_wait: None,
            notes: Vec::new(),
            failure: None,
            cancelled_by: None,
            paused_from: None,
            actions: Vec::new(),
            outbox: Vec::new(),
            notifications_issued: 0,
            writes: Vec::new(),
            writes_issued: 0,
            said: Vec::new(),
        };
        let mut job = Self {
            spec,
            header,
            rows: Vec::new(),
            positions: Positions::default(),
            idx: Index::default(),
            spec_dirty: true,
            header_dirty: true,
            dirty: BTreeSet::new(),
            skipped: None,
            slot_releases: slots::PendingReleases::default(),
            storing: early_slots::StoringChanges::default(),
        };
        let mut fx = Vec::new();
        job.set_status(now, JobStatus::Planning, None, &mut fx);
        job.fetch_memory(now, 1, &mut fx);
        Ok((job, fx))
    }

    /// Rebuilds a job from its stored rows (in any order); counters and money in the header are
    /// recomputed from the stage rows (the rows are the truth), indexes are derived
    pub fn from_parts(
        spec: JobSpec,
        mut header: JobHeader,
        stages: impl IntoIterator<Item = StageRow>,
    ) -> Result<Self, JobError> {
        let mut rows: Vec<StageRow> = stages.into_iter().collect();
        rows.sort_by_key(|r| r.spec.order);
        let mut positions = Positions::default();
        for (i, row) in rows.iter().enumerate() {
            if row.spec.order != pos(i) {
                return Err(JobError::Corrupt {
                    reason: format!(
                        "stage {} has position {}, expected {i}",
                        row.spec.id, row.spec.order
                    ),
                });
            }
            if positions.insert(row.spec.id.clone(), pos(i)).is_some() {
                return Err(JobError::Corrupt {
                    reason: format!("stage {} stored twice", row.spec.id),
                });
            }
        }
        for row in &rows {
            if let Some(dep) = row.spec.deps.iter().find(|d| !positions.contains_key(*d)) {
                return Err(JobError::Corrupt {
                    reason: format!("{} depends on missing {dep}", row.spec.id),
                });
            }
        }
        if (header.status == JobStatus::Paused) != header.paused_from.is_some() {
            return Err(JobError::Corrupt {
                reason: format!(
                    "status {} with paused_from {:?}",
                    header.status.as_str(),
                    header.paused_from
                ),
            });
        }
        let outbox = &header.outbox;
        let ids_ordered = outbox
            .iter()
            .zip(outbox.iter().skip(1))
            .all(|(a, b)| a.id < b.id);
        let issued = header.notifications_issued;
        if !ids_ordered || header.outbox.iter().any(|n| n.id == 0 || n.id > issued) {
            return Err(JobError::Corrupt {
                reason: format!("outbox ids out of order or above {issued}"),
            });
        }
        let writes = &header.writes;
        let writes_ordered = writes
            .iter()
            .zip(writes.iter().skip(1))
            .all(|(a, b)| a.id < b.id);
        let issued = header.writes_issued;
        if !writes_ordered || writes.iter().any(|w| w.id.0 == 0 || w.id.0 > issued) {
            return Err(JobError::Corrupt {
                reason: format!("write ids out of order or above {issued}"),
            });
        }
        let mut counts = Counts::default();
        let (mut committed, mut spent, mut floor) = (Micros::ZERO, Micros::ZERO, Micros::ZERO);
        for row in &rows {
            counts.total += 1;
            bump(&mut counts, row.state.phase(), true);
            committed = committed.plus(row.committed);
            spent = spent.plus(row.spent);
            if row.state.holds_floor() {
                floor = floor.plus(row.floor);
            }
        }
        header.counts = counts;
        header.committed = committed;
        header.spent = spent;
        header.outstanding_floor = floor;
        let idx = Index::rebuild(&header, &rows, &positions);
        Ok(Self {
            spec,
            header,
            rows,
            positions,
            idx,
            spec_dirty: false,
            header_dirty: false,
            dirty: BTreeSet::new(),
            skipped: None,
            slot_releases: slots::PendingReleases::default(),
            storing: early_slots::StoringChanges::default(),
        })
    }

    /// Applies one input at `now`; returns the effects to perform after persisting.
    ///
    /// Stale, duplicate, late and out-of-order inputs return `Ok(vec![])` and change nothing.
    /// `Err` means misuse (see [`JobError`]); the job is unchanged and the input must not be
    /// journaled.
    #[must_use = "effects must be performed by the shell"]
    pub fn handle(&mut self, now: Timestamp, input: Input) -> Result<Vec<Effect>, JobError> {
        let before = self.header.mark();
        let probe = Probe::of(&input);
        let mut fx = Vec::new();
        match input {
            Input::Created(c) => {
                if c.job_id != self.spec.job_id {
                    return Err(JobError::AlreadyCreated {
                        existing: self.spec.job_id.clone(),
                        requested: c.job_id,
                    });
                }
            }
            Input::MemoryContext { context } => self.on_memory(now, context, &mut fx),
            Input::FleetHealth { models } => self.on_fleet_health(models),
            Input::SubmitAccepted {
                stage,
                attempt,
                provider_ref,
            } => {
                let ev = StageEvent::Accepted {
                    attempt,
                    provider_ref,
                };
                self.on_stage(now, &stage, ev, None, &mut fx)?;
            }
            Input::SubmitFailed {
                stage,
                attempt,
                error,
            } => {
                let ev = StageEvent::SubmitFailed { attempt, error };
                self.on_stage(now, &stage, ev, None, &mut fx)?;
            }
            Input::ProviderUpdate {
                stage,
                attempt,
                status,
                delivery_id,
            } => {
                let ev = StageEvent::Update { attempt, status };
                self.on_stage(now, &stage, ev, delivery_id, &mut fx)?;
            }
            Input::Callback {
                provider,
                stage,
                attempt,
                status,
                delivery_id,
            } => {
                if let Some(expected) = self.attempt_provider(&stage, attempt)
                    && expected != provider
                {
                    return Err(JobError::WrongProvider {
                        stage,
                        attempt,
                        expected,
                        got: provider,
                    });
                }
                let ev = StageEvent::Update { attempt, status };
                self.on_stage(now, &stage, ev, delivery_id, &mut fx)?;
            }
            Input::PollFailed {
                stage,
                attempt,
                error,
            } => {
                let ev = StageEvent::PollFailed { attempt, error };
                self.on_stage(now, &stage, ev, None, &mut fx)?;
            }
            Input::ArtifactStored {
                stage,
                attempt,
                key,
                content_type,
                bytes,
            } => {
                let ev = StageEvent::Stored {
                    attempt,
                    key,
                    content_type,
                    bytes,
                };
                self.on_stage(now, &stage, ev, None, &mut fx)?;
            }
            Input::ArtifactFailed {
                stage,
                attempt,
                key,
                reason,
            } => {
                let ev = StageEvent::StoreFailed {
                    attempt,
                    key,
                    reason,
                };
                self.on_stage(now, &stage, ev, None, &mut fx)?;
            }
            Input::SlotGranted {
                stage,
                attempt,
                model,
            } => self.on_slot_granted(now, &stage, attempt, &model, &mut fx),
            Input::SlotQueued {
                stage,
                attempt,
                ahead,
                ask_again_ms,
            } => {
                let pace = ask_again_ms.map(Millis);
                self.on_slot_queued(now, &stage, attempt, (ahead, pace), &mut fx)
            }
            Input::SlotRefused {
                stage,
                attempt,
                model,
                reason: _,
                retired,
            } => self.on_slot_refused(now, &stage, attempt, &model, retired, &mut fx),
            Input::Reloaded => self.on_reloaded(now),
            Input::SubmitUnanswered { stage, attempt, .. } => {
                self.on_submit_unanswered(now, &stage, attempt)?;
            }
            Input::LookUpMissed {
                stage,
                attempt,
                error,
            } => self.on_lookup_missed(now, &stage, attempt, error.as_ref(), &mut fx)?,
            Input::Tick => self.on_tick(now, &mut fx),
            Input::Cancel { by } => self.cancel(now, by, None, &mut fx),
            Input::Support { by, reason, action } => {
                self.on_support(now, by, reason, action, &mut fx)?;
            }
            Input::NotifyResult {
                notification,
                attempt,
                ok,
                retry_after,
                error,
            } => self.on_notify_result(now, notification, attempt, ok, retry_after, error)?,
            Input::WriteResult { write, ok, error } => {
                self.on_write_result(now, write, ok, error);
            }
        }
        self.settle_early_slots(now, &mut fx);
        self.pump(now, &mut fx);
        self.drain_releases(now, &mut fx);
        if self.header.mark() != before {
            self.header_dirty = true;
        }
        let unchanged = !self.spec_dirty && !self.header_dirty && self.dirty.is_empty();
        self.skipped = unchanged.then(|| self.classify(probe));
        Ok(fx)
    }

    /// Why a step that changed nothing did not: a callback or provider answer the stage had
    /// already taken (its delivery id seen, or the same news again) is a duplicate; one for an
    /// attempt no longer in flight, or for an ended job, is stale
    fn classify(&self, probe: Probe) -> Skipped {
        match probe {
            Probe::Tick => Skipped::NoOpTick,
            Probe::Other => Skipped::Other,
            Probe::Provider {
                stage,
                attempt,
                delivery,
            } => {
                let Some(row) = self.stage(&stage) else {
                    return Skipped::StaleCallback;
                };
                if delivery.is_some_and(|d| row.seen_deliveries.contains(&d)) {
                    Skipped::DuplicateCallback
                } else if self.header.status.is_terminal() || row.state.attempt() != Some(attempt) {
                    Skipped::StaleCallback
                } else {
                    Skipped::DuplicateCallback
                }
            }
        }
    }

    /// The earliest time the shell must deliver `Input::Tick` (arm the alarm there)
    pub fn next_deadline(&self) -> Option<Timestamp> {
        self.idx.deadlines.next()
    }

    /// What changed since the last call; see [`Changes`] for the persistence contract
    pub fn take_changes(&mut self) -> Changes {
        let stages = std::mem::take(&mut self.dirty)
            .into_iter()
            .filter_map(|i| self.rows.get(i as usize).map(|r| r.spec.id.clone()))
            .collect();
        let changes = Changes {
            spec: self.spec_dirty,
            header: self.header_dirty,
            stages,
            skipped: self.skipped.take(),
        };
        self.spec_dirty = false;
        self.header_dirty = false;
        changes
    }

    /// The immutable part
    pub fn spec(&self) -> &JobSpec {
        &self.spec
    }

    /// The header row
    pub fn header(&self) -> &JobHeader {
        &self.header
    }

    /// One stage's row
    pub fn stage(&self, id: &StageId) -> Option<&StageRow> {
        self.positions
            .get(id)
            .and_then(|&i| self.rows.get(i as usize))
    }

    /// Every stage row, in plan order
    pub fn stages(&self) -> &[StageRow] {
        &self.rows
    }

    /// The current status
    pub fn status(&self) -> JobStatus {
        self.header.status
    }

    /// The stored parts, for a full write (e.g. after a replay)
    pub fn into_parts(self) -> (JobSpec, JobHeader, BTreeMap<StageId, StageRow>) {
        let stages = self
            .rows
            .into_iter()
            .map(|r| (r.spec.id.clone(), r))
            .collect();
        (self.spec, self.header, stages)
    }

    /// The model an attempt of a stage runs on, in the job's registry; `None` for an unknown
    /// stage or an attempt not made yet
    pub fn attempt_model(&self, stage: &StageId, attempt: Attempt) -> Option<&ModelSpec> {
        let record = self
            .stage(stage)?
            .attempts
            .iter()
            .find(|a| a.attempt == attempt)?;
        self.model(&record.model)
    }

    /// The provider an attempt of a stage runs on (see [`Job::attempt_model`])
    pub fn attempt_provider(&self, stage: &StageId, attempt: Attempt) -> Option<ProviderKind> {
        self.attempt_model(stage, attempt).map(|m| m.provider)
    }

    /// The providers the stages that take `stage`'s output as an input would be sent to now
    /// (each one's current candidate), so the Worker can keep what they will need of it
    pub fn dependent_providers(&self, stage: &StageId) -> Vec<ProviderKind> {
        let Some(&i) = self.positions.get(stage) else {
            return Vec::new();
        };
        self.dependents_of(i)
            .into_iter()
            .filter_map(|d| early_slots::current_candidate(self.row(d)?))
            .filter_map(|model| self.model(&model).map(|m| m.provider))
            .collect()
    }

    fn model(&self, id: &ModelId) -> Option<&ModelSpec> {
        self.spec.registry.get(id)
    }

    /// The row at a plan position
    fn row(&self, i: u32) -> Option<&StageRow> {
        self.rows.get(i as usize)
    }

    /// The id of the stage at a plan position (for effects)
    fn sid(&self, i: u32) -> StageId {
        self.row(i)
            .map(|r| r.spec.id.clone())
            .unwrap_or_else(|| StageId(String::new()))
    }

    fn on_stage(
        &mut self,
        now: Timestamp,
        id: &StageId,
        event: StageEvent,
        delivery: Option<DeliveryId>,
        fx: &mut Vec<Effect>,
    ) -> Result<(), JobError> {
        let Some((i, row)) = self
            .positions
            .get(id)
            .and_then(|&i| Some((i, self.row(i)?)))
        else {
            return Err(JobError::UnknownStage {
                job: self.spec.job_id.clone(),
                stage: id.clone(),
            });
        };
        if self.header.status.is_terminal() {
            return Ok(());
        }
        if let Some(d) = &delivery
            && row.seen_deliveries.contains(d)
        {
            return Ok(());
        }
        let outcome = transition(&row.state, now, event);
        if outcome == Outcome::Ignore {
            return Ok(());
        }
        if let Some(d) = delivery
            && let Some(row) = self.row_mut(i)
        {
            if row.seen_deliveries.len() >= state::SEEN_DELIVERIES {
                row.seen_deliveries.remove(0);
            }
            row.seen_deliveries.push(d);
        }
        self.apply(now, i, outcome, fx);
        Ok(())
    }

    fn on_tick(&mut self, now: Timestamp, fx: &mut Vec<Effect>) {
        for key in self.idx.deadlines.due(now) {
            // Webhooks outlive the job (its last status is one of them); its own work does not.
            let ended = self.header.status.is_terminal();
            match key {
                DeadlineKey::Notify(id) => self.on_notify_due(now, id, fx),
                DeadlineKey::Write(id) => self.on_write_due(now, WriteId(id), fx),
                DeadlineKey::Memory | DeadlineKey::Stage(_) if ended => {}
                DeadlineKey::Memory => self.on_memory_due(now, fx),
                DeadlineKey::Stage(i)
                    if self.row(i).is_some_and(|r| {
                        matches!(r.state, StageState::Ready { slot: Some(_), .. })
                    }) =>
                {
                    self.ask_slot_again(now, i, fx);
                }
                DeadlineKey::Stage(i) => {
                    if let Some(row) = self.row(i) {
                        let outcome = transition(&row.state, now, StageEvent::Due);
                        self.apply(now, i, outcome, fx);
                    }
                }
            }
        }
    }

    /// A stage row for writing; marks it changed
    fn row_mut(&mut self, i: u32) -> Option<&mut StageRow> {
        let row = self.rows.get_mut(i as usize)?;
        self.dirty.insert(i);
        Some(row)
    }

    /// Moves a stage to a new state, keeping counters, money floor and indexes in step
    fn set_state(&mut self, i: u32, new: StageState) {
        let Some(row) = self.rows.get_mut(i as usize) else {
            return;
        };
        let old = std::mem::replace(&mut row.state, new);
        let new = &row.state;
        if self.spec.fleet.is_some() {
            self.slot_releases.note(i, &old, new);
            self.storing.note(i, &old, new);
        }
        // Progress, polls and copies keep a stage's slot, queue and activity: only its deadline
        // moves, so the common callback touches one index instead of four.
        let same_place = old.slot() == new.slot()
            && old.queue() == new.queue()
            && old.is_active() == new.is_active();
        if same_place {
            self.idx.deadlines.set(DeadlineKey::Stage(i), new.wake_at());
        } else {
            self.idx.leave(i, &old);
            self.idx.enter(i, new);
        }
        if old.phase() != new.phase() {
            bump(&mut self.header.counts, old.phase(), false);
            bump(&mut self.header.counts, new.phase(), true);
        }
        let floor = row.floor;
        match (old.holds_floor(), new.holds_floor()) {
            (true, false) => {
                self.header.outstanding_floor = self.header.outstanding_floor.minus(floor);
            }
            (false, true) => {
                self.header.outstanding_floor = self.header.outstanding_floor.plus(floor);
            }
            (true, true) | (false, false) => {}
        }
        if matches!(old, StageState::Blocked)
            && !matches!(new, StageState::Blocked)
            && let Some(u) = self.idx.unmet.get_mut(i as usize)
        {
            *u = 0;
        }
        self.dirty.insert(i);
    }

    /// Adds to (or, with `release`, takes back from) a stage's and the job's committed money
    fn commit(&mut self, i: u32, amount: Micros, release: bool) {
        if let Some(row) = self.row_mut(i) {
            row.committed = if release {
                row.committed.minus(amount)
            } else {
                row.committed.plus(amount)
            };
        }
        self.header.committed = if release {
            self.header.committed.minus(amount)
        } else {
            self.header.committed.plus(amount)
        };
    }
}

/// What `handle` needs of an input to say why it changed nothing (taken before the input is
/// consumed; only provider news carries anything)
enum Probe {
    Tick,
    Provider {
        stage: StageId,
        attempt: Attempt,
        delivery: Option<DeliveryId>,
    },
    Other,
}

impl Probe {
    fn of(input: &Input) -> Self {
        match input {
            Input::Tick => Self::Tick,
            Input::ProviderUpdate {
                stage,
                attempt,
                delivery_id,
                ..
            }
            | Input::Callback {
                stage,
                attempt,
                delivery_id,
                ..
            } => Self::Provider {
                stage: stage.clone(),
                attempt: *attempt,
                delivery: delivery_id.clone(),
            },
            Input::SubmitAccepted { stage, attempt, .. }
            | Input::SubmitFailed { stage, attempt, .. }
            | Input::SubmitUnanswered { stage, attempt, .. }
            | Input::PollFailed { stage, attempt, .. } => Self::Provider {
                stage: stage.clone(),
                attempt: *attempt,
                delivery: None,
            },
            Input::Created(_)
            | Input::MemoryContext { .. }
            | Input::FleetHealth { .. }
            | Input::ArtifactStored { .. }
            | Input::ArtifactFailed { .. }
            | Input::Cancel { .. }
            | Input::Support { .. }
            | Input::NotifyResult { .. }
            | Input::Reloaded
            | Input::SlotGranted { .. }
            | Input::SlotQueued { .. }
            | Input::SlotRefused { .. }
            | Input::LookUpMissed { .. }
            | Input::WriteResult { .. } => Self::Other,
        }
    }
}

fn bump(counts: &mut Counts, phase: Phase, up: bool) {
    let slot = match phase {
        Phase::Waiting | Phase::Cancelled => return,
        Phase::Running => &mut counts.running,
        Phase::Done => &mut counts.done,
        Phase::Failed => &mut counts.failed,
    };
    *slot = if up {
        slot.saturating_add(1)
    } else {
        slot.saturating_sub(1)
    };
}
