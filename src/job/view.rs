//! What the API shows of a job: status, progress, every stage with its model, attempts, cost,
//! artifacts and routing decision, costs per shot and in total, the master and its variants,
//! the support actions taken (who, why) and the status webhooks with their delivery state.
//!
//! Two audiences: [`Job::view`] is everything (support's view builds on it: models, provider
//! task ids, routing decisions with their flags, every attempt, support's own words), and
//! [`Job::creator_view`](super::creator_view) is what the app's key gets: its own type, with
//! stages, progress, cost and Ra's notes, and none of that.
//!
//! Building a view reads every stage (O(stages)); it is for API reads, never for `handle`.

use serde::{Deserialize, Serialize};

use super::Job;
use super::budget::Micros;
use super::state::{
    ActionRecord, Artifact, AttemptRecord, JobStatus, NotificationState, StageState, StatusEntry,
};
use crate::brief::ra::RaNote;
use crate::brief::{AspectRatio, PacingWarning};
use crate::ids::{Attempt, CreatorId, JobId, ModelId, ProviderRef, ShotId, StageId};
use crate::plan::StageKind;
use crate::routing::Decision;
use crate::time::Timestamp;

/// A job as the API returns it
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct JobView {
    /// The job
    pub job_id: JobId,
    /// Whose
    pub creator: CreatorId,
    /// Current status
    pub status: JobStatus,
    /// Every status change
    pub history: Vec<StatusEntry>,
    /// Stage counts
    pub progress: ProgressView,
    /// Registry version the job is pinned to
    pub registry_version: u32,
    /// The brief's budget, USD
    pub budget_usd: f64,
    /// Committed (reserved, spent, or possibly billed), USD
    pub committed_usd: f64,
    /// Spent on finished stages, USD
    pub cost_usd: f64,
    /// Spent per shot (keyframe, motion, dialogue), USD, in shot order
    pub cost_by_shot: Vec<ShotCost>,
    /// Ra's pacing notes
    pub warnings: Vec<PacingWarning>,
    /// Notes for support
    pub notes: Vec<String>,
    /// Ra's notes to the Director on the job (what the creator's view shows, with the pacing
    /// notes and support's actions in plain words)
    pub said: Vec<RaNote>,
    /// Why it failed
    pub failure: Option<String>,
    /// Who cancelled it
    pub cancelled_by: Option<String>,
    /// R2 key of the master, once assembled
    pub master_key: Option<String>,
    /// R2 keys of the per-platform variants
    pub variants: Vec<VariantView>,
    /// R2 key of the poster frame, once assembled
    pub poster_key: Option<String>,
    /// R2 key of the WebVTT captions, once assembled (none when nothing is spoken)
    pub captions_key: Option<String>,
    /// Every stage, in plan order
    pub stages: Vec<StageView>,
    /// When the job next needs its alarm
    pub next_deadline: Option<Timestamp>,
    /// While paused: the status a resume returns to
    pub paused_from: Option<JobStatus>,
    /// Support actions, oldest first: who did what and why
    pub actions: Vec<ActionRecord>,
    /// Status webhooks and how their delivery stands, by id
    pub notifications: Vec<NotificationView>,
}

/// One status webhook
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct NotificationView {
    /// Its id (the webhook id is `{job}-{id}`)
    pub id: u32,
    /// The status it announces
    pub status: JobStatus,
    /// Delivery attempts so far
    pub attempts: u32,
    /// Sending, pending (with the next attempt's time), delivered or given up
    pub state: NotificationState,
}

/// Stage counts
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ProgressView {
    /// Stages in the plan
    pub total: u32,
    /// Done
    pub done: u32,
    /// Submitting, running or storing
    pub running: u32,
    /// Failed
    pub failed: u32,
}

/// Spend on one shot
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ShotCost {
    /// The shot
    pub shot: ShotId,
    /// USD
    pub usd: f64,
}

/// One per-platform variant
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct VariantView {
    /// Its frame shape
    pub aspect: AspectRatio,
    /// R2 key
    pub key: String,
}

/// One stage as the API shows it
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct StageView {
    /// The stage
    pub id: StageId,
    /// Its kind
    pub kind: StageKind,
    /// Its shot
    pub shot: Option<ShotId>,
    /// `blocked`, `ready`, `submitting`, `running`, `storing`, `backing_off`, `done`, `failed`,
    /// `cancelled`
    pub status: String,
    /// Stages it waits for
    pub deps: Vec<StageId>,
    /// The model of the current or last attempt
    pub model: Option<ModelId>,
    /// The current or last attempt
    pub attempt: Attempt,
    /// The provider's task id of the current or last attempt
    pub provider_ref: Option<ProviderRef>,
    /// Spent, USD
    pub cost_usd: f64,
    /// First submit to done, seconds
    pub seconds: Option<f64>,
    /// Its artifacts in R2
    pub artifacts: Vec<Artifact>,
    /// What went wrong last (backing off) or why it failed
    pub error: Option<String>,
    /// Ra's routing decision: candidates best first with scores, exclusions, reason
    pub decision: Decision,
    /// Every attempt
    pub attempts: Vec<AttemptRecord>,
    /// While it waits at its provider's gate: for which slot, and how many go first
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiting: Option<String>,
}

impl Job {
    /// The master artifact, once assembled
    pub(super) fn master(&self) -> Option<&Artifact> {
        self.assembled("master")
    }

    /// An assembly output by name (`master`, `poster`, `captions`), once assembled
    pub(super) fn assembled(&self, name: &str) -> Option<&Artifact> {
        self.rows
            .iter()
            .find(|r| r.spec.kind == StageKind::Assembly)
            .and_then(|r| match &r.state {
                StageState::Done { artifacts, .. } => artifacts.iter().find(|a| a.name == name),
                StageState::Blocked
                | StageState::Ready { .. }
                | StageState::Submitting { .. }
                | StageState::Running { .. }
                | StageState::Storing { .. }
                | StageState::BackingOff { .. }
                | StageState::Failed { .. }
                | StageState::Cancelled { .. } => None,
            })
    }

    /// The job for the API
    pub fn view(&self) -> JobView {
        self.view_of_stages(true)
    }

    /// [`Self::view`], with its stages only when `with_stages` (the creator's view builds its
    /// own, smaller ones: a polled render would otherwise clone every stage's routing decision
    /// and attempts to drop them)
    pub(crate) fn view_of_stages(&self, with_stages: bool) -> JobView {
        let mut rows: Vec<_> = self.rows.iter().collect();
        rows.sort_by_key(|r| r.spec.order);
        let mut cost_by_shot: Vec<ShotCost> = Vec::new();
        for shot in &self.spec.brief.shots {
            cost_by_shot.push(ShotCost {
                shot: shot.id.clone(),
                usd: 0.0,
            });
        }
        let mut shot_spent: std::collections::BTreeMap<&ShotId, Micros> = Default::default();
        for r in &rows {
            if let Some(shot) = &r.spec.shot {
                let e = shot_spent.entry(shot).or_default();
                *e = e.plus(r.spent);
            }
        }
        for c in &mut cost_by_shot {
            c.usd = shot_spent.get(&c.shot).copied().unwrap_or_default().usd();
        }
        let variants = self
            .rows
            .iter()
            .filter(|r| r.spec.kind == StageKind::Assembly)
            .flat_map(|r| match &r.state {
                StageState::Done { artifacts, .. } => artifacts
                    .iter()
                    .filter(|a| a.name.starts_with("variant-"))
                    .collect::<Vec<_>>(),
                StageState::Blocked
                | StageState::Ready { .. }
                | StageState::Submitting { .. }
                | StageState::Running { .. }
                | StageState::Storing { .. }
                | StageState::BackingOff { .. }
                | StageState::Failed { .. }
                | StageState::Cancelled { .. } => Vec::new(),
            })
            .filter_map(|a| {
                a.aspect.map(|aspect| VariantView {
                    aspect,
                    key: a.key.clone(),
                })
            })
            .collect();
        let h = &self.header;
        JobView {
            job_id: self.spec.job_id.clone(),
            creator: self.spec.creator.clone(),
            status: h.status,
            history: h.history.clone(),
            progress: ProgressView {
                total: h.counts.total,
                done: h.counts.done,
                running: h.counts.running,
                failed: h.counts.failed,
            },
            registry_version: self.spec.registry.version,
            budget_usd: h.budget.usd(),
            committed_usd: h.committed.usd(),
            cost_usd: h.spent.usd(),
            cost_by_shot,
            warnings: self.spec.warnings.clone(),
            notes: h.notes.clone(),
            said: h.said.clone(),
            failure: h.failure.clone(),
            cancelled_by: h.cancelled_by.clone(),
            master_key: self.master().map(|a| a.key.clone()),
            variants,
            poster_key: self.assembled("poster").map(|a| a.key.clone()),
            captions_key: self.assembled("captions").map(|a| a.key.clone()),
            stages: if with_stages {
                rows.into_iter().map(stage_view).collect()
            } else {
                Vec::new()
            },
            next_deadline: self.next_deadline(),
            paused_from: h.paused_from,
            actions: h.actions.clone(),
            notifications: h
                .outbox
                .iter()
                .map(|n| NotificationView {
                    id: n.id,
                    status: n.event.status,
                    attempts: n.attempts,
                    state: n.state.clone(),
                })
                .collect(),
        }
    }
}

/// A stage's outcome as views show it: its artifacts and seconds when done, its error when
/// backing off or failed
pub(crate) fn stage_outcome(
    r: &super::state::StageRow,
) -> (Vec<Artifact>, Option<f64>, Option<String>) {
    match &r.state {
        StageState::Done {
            artifacts,
            finished_at,
            ..
        } => (
            artifacts.clone(),
            r.started_at.map(|s| finished_at.since(s).as_secs_f64()),
            None,
        ),
        StageState::BackingOff { last_error, .. } => (Vec::new(), None, Some(last_error.clone())),
        StageState::Failed { reason } => (Vec::new(), None, Some(reason.clone())),
        StageState::Blocked
        | StageState::Ready { .. }
        | StageState::Submitting { .. }
        | StageState::Running { .. }
        | StageState::Storing { .. }
        | StageState::Cancelled { .. } => (Vec::new(), None, None),
    }
}

fn stage_view(r: &super::state::StageRow) -> StageView {
    let last = r.attempts.last();
    let (artifacts, seconds, error) = stage_outcome(r);
    StageView {
        id: r.spec.id.clone(),
        kind: r.spec.kind,
        shot: r.spec.shot.clone(),
        status: r.state.name().to_owned(),
        deps: r.spec.deps.clone(),
        model: r
            .state
            .model()
            .cloned()
            .or_else(|| last.map(|a| a.model.clone())),
        attempt: r.attempt,
        provider_ref: last.and_then(|a| a.provider_ref.clone()),
        cost_usd: r.spent.usd(),
        seconds,
        artifacts,
        error,
        decision: r.decision.clone(),
        attempts: r.attempts.clone(),
        waiting: super::slots::waiting_for_support(&r.state),
    }
}
