//! What the creator's app sees of a job (`GET /v1/renders/{id}`, the answers to create and
//! cancel, the event stream and the status webhooks): stages, progress, cost and Ra's notes.
//!
//! Its own types, not the support view with words replaced: a field that is not here cannot
//! leak. No model id, provider name, provider task id, routing score, feature flag or rollout
//! bucket, and none of support's own words or identity. Where the support view has a routing
//! reason, the creator's has Ra's words for the same choice (`Decision::said`); where it has a
//! failure or a stage error, Ra says what happened; support's actions are one fixed plain
//! sentence each, relayed by Ra. Support's view stays [`JobView`](super::JobView).
//!
//! Building it reads every stage (O(stages)); it is for API reads, never for `handle`.

use serde::{Deserialize, Serialize};

use super::Job;
use super::ra_notes::stage_words;
use super::state::{ActionRecord, SUPPORT_ACTOR, SupportAction};
use super::state::{Artifact, JobStatus, StageRow, StageState, StatusEntry};
use super::view::{NotificationView, ProgressView, ShotCost, VariantView};
use crate::brief::PacingWarning;
use crate::brief::ra::{self, NoteTopic, RaNote};
use crate::ids::{Attempt, CreatorId, JobId, ShotId, StageId};
use crate::plan::StageKind;
use crate::time::Timestamp;

/// A job as the creator's app sees it
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CreatorJobView {
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
    /// The brief's budget, USD
    pub budget_usd: f64,
    /// Committed (reserved, spent, or possibly billed), USD
    pub committed_usd: f64,
    /// Spent on finished stages, USD
    pub cost_usd: f64,
    /// Spent per shot (keyframe, motion, dialogue), USD, in shot order
    pub cost_by_shot: Vec<ShotCost>,
    /// Ra's pacing notes on the brief, each naming the field it is about
    pub warnings: Vec<PacingWarning>,
    /// Every note from Ra to the Director, oldest first: the pacing notes, then the job's
    /// (splits, budget and deadline trade-offs, fallbacks, retries, voices), then support's
    /// actions in plain words
    pub notes: Vec<RaNote>,
    /// Why it failed, in Ra's words
    pub failure: Option<String>,
    /// Who cancelled it (`support` when support did)
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
    pub stages: Vec<CreatorStageView>,
    /// While paused: the status a resume returns to
    pub paused_from: Option<JobStatus>,
    /// Support's actions, oldest first: what and why in a plain sentence, never who
    pub actions: Vec<CreatorActionView>,
    /// Status webhooks and how their delivery stands, by id
    pub notifications: Vec<NotificationView>,
}

/// One stage as the creator's app sees it
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CreatorStageView {
    /// The stage
    pub id: StageId,
    /// What it makes
    pub kind: StageKind,
    /// Its shot
    pub shot: Option<ShotId>,
    /// `blocked`, `ready`, `submitting`, `running`, `storing`, `backing_off`, `done`, `failed`,
    /// `cancelled`
    pub status: String,
    /// Stages it waits for
    pub deps: Vec<StageId>,
    /// Tries so far (the current or last one's number)
    pub attempt: Attempt,
    /// Spent, USD
    pub cost_usd: f64,
    /// First submit to done, seconds
    pub seconds: Option<f64>,
    /// Its artifacts in R2
    pub artifacts: Vec<Artifact>,
    /// While it is retrying or once it failed: what happened, in Ra's words
    pub error: Option<String>,
    /// Why Ra made it the way it did, in Ra's words
    pub why: String,
    /// While it waits its turn at a generator every render shares, in Ra's words (no model)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiting: Option<String>,
}

/// The kind of a support action, as the creator sees it (the support view also names the
/// model of a reroute)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CreatorActionKind {
    /// A step was given a fresh try
    RetryStage,
    /// A step was moved to another option
    Reroute,
    /// The render was paused
    Pause,
    /// The render was resumed
    Resume,
    /// The render was cancelled
    Cancel,
    /// A step and what follows it were redone
    RestartFrom,
}

/// What a support action was, on which step
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CreatorAction {
    /// Its kind
    pub action: CreatorActionKind,
    /// The step it was on, if any
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<StageId>,
}

/// One support action as the creator sees it
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CreatorActionView {
    /// When it was handled
    pub at: Timestamp,
    /// Always `support`
    pub by: String,
    /// Why, in one fixed plain sentence per kind of action
    pub reason: String,
    /// What
    pub action: CreatorAction,
}

impl CreatorAction {
    fn of(action: &SupportAction) -> Self {
        let (kind, stage) = match action {
            SupportAction::RetryStage { stage } => (CreatorActionKind::RetryStage, Some(stage)),
            SupportAction::Reroute { stage, .. } => (CreatorActionKind::Reroute, Some(stage)),
            SupportAction::Pause => (CreatorActionKind::Pause, None),
            SupportAction::Resume => (CreatorActionKind::Resume, None),
            SupportAction::Cancel => (CreatorActionKind::Cancel, None),
            SupportAction::RestartFrom { stage } => (CreatorActionKind::RestartFrom, Some(stage)),
        };
        Self {
            action: kind,
            stage: stage.cloned(),
        }
    }
}

impl CreatorActionView {
    fn of(record: &ActionRecord) -> Self {
        let plain = record.for_creator();
        Self {
            at: plain.at,
            by: plain.by,
            reason: plain.reason,
            action: CreatorAction::of(&record.action),
        }
    }
}

/// A support action relayed by Ra: "Director, our support team paused your render ..."
fn support_note(action: &SupportAction) -> RaNote {
    let sentence = action.for_creator();
    let mut chars = sentence.chars();
    let body = match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect::<String>(),
        None => String::new(),
    };
    RaNote::new(NoteTopic::Support, &body)
}

impl Job {
    /// The job for the creator's app; see the module doc for what it leaves out
    pub fn creator_view(&self) -> CreatorJobView {
        let mut view = self.creator_view_without_stages();
        view.stages = self
            .rows_in_order()
            .into_iter()
            .map(|row| self.creator_stage_view(row))
            .collect();
        view
    }

    /// Stage rows in plan order
    pub(super) fn rows_in_order(&self) -> Vec<&StageRow> {
        let mut rows: Vec<&StageRow> = self.rows.iter().collect();
        rows.sort_by_key(|r| r.spec.order);
        rows
    }

    /// [`Self::creator_view`] with `stages` left empty: what does not depend on one stage alone
    pub(super) fn creator_view_without_stages(&self) -> CreatorJobView {
        let view = self.view_of_stages(false);
        let by_support = self.header.actions.iter().any(|a| {
            a.action == SupportAction::Cancel && view.cancelled_by.as_ref() == Some(&a.by)
        });
        CreatorJobView {
            job_id: view.job_id,
            creator: view.creator,
            status: view.status,
            history: view.history,
            progress: view.progress,
            budget_usd: view.budget_usd,
            committed_usd: view.committed_usd,
            cost_usd: view.cost_usd,
            cost_by_shot: view.cost_by_shot,
            warnings: view.warnings,
            notes: self.creator_notes(),
            failure: self.failure_for_creator(),
            cancelled_by: if by_support {
                Some(SUPPORT_ACTOR.to_owned())
            } else {
                view.cancelled_by
            },
            master_key: view.master_key,
            variants: view.variants,
            poster_key: view.poster_key,
            captions_key: view.captions_key,
            stages: Vec::new(),
            paused_from: view.paused_from,
            actions: self
                .header
                .actions
                .iter()
                .map(CreatorActionView::of)
                .collect(),
            notifications: view.notifications,
        }
    }

    /// One stage as the creator sees it: its row and, for a support reroute's words, the
    /// support actions taken (see [`super::CreatorViewText`], which relies on exactly that)
    pub(super) fn creator_stage_view(&self, row: &StageRow) -> CreatorStageView {
        let (artifacts, seconds, _) = super::view::stage_outcome(row);
        CreatorStageView {
            error: self.stage_error_for_creator(row),
            why: self.why_for_creator(row),
            waiting: super::slots::waiting_for_creator(row),
            id: row.spec.id.clone(),
            kind: row.spec.kind,
            shot: row.spec.shot.clone(),
            status: row.state.name().to_owned(),
            deps: row.spec.deps.clone(),
            attempt: row.attempt,
            cost_usd: row.spent.usd(),
            seconds,
            artifacts,
        }
    }

    /// Every note from Ra the creator reads, oldest first: the pacing notes on the brief, Ra's
    /// notes on the job, then one per support action
    pub fn creator_notes(&self) -> Vec<RaNote> {
        self.spec
            .warnings
            .iter()
            .map(RaNote::from_pacing)
            .chain(self.header.said.iter().cloned())
            .chain(self.header.actions.iter().map(|a| support_note(&a.action)))
            .collect()
    }

    /// The reason a status webhook to the creator's app carries: the failure in Ra's words, a
    /// support action's plain sentence, and nothing else (support's and the job's own words
    /// stay in the support view)
    pub(super) fn reason_for_creator(
        &self,
        status: JobStatus,
        reason: Option<&str>,
    ) -> Option<String> {
        if status == JobStatus::Failed {
            return self.failure_for_creator();
        }
        let reason = reason?;
        self.header
            .actions
            .iter()
            .rev()
            .find(|a| reason.contains(a.action.note(&a.reason).as_str()))
            .map(|a| support_note(&a.action).text)
    }

    /// A stage's trouble in Ra's words: retrying, or why it stopped
    fn stage_error_for_creator(&self, row: &StageRow) -> Option<String> {
        let words = stage_words(&row.spec);
        match &row.state {
            StageState::BackingOff { last_error, .. } => Some(ra::say(&if last_error
                .starts_with("every candidate failed")
            {
                format!("every option I had for {words} failed once; I'm trying them again.")
            } else {
                format!("{words} hit a snag; I'm trying it again shortly.")
            })),
            StageState::Failed { reason } if reason.contains("budget") => {
                Some(ra::say(&format!("the budget left doesn't cover {words}.")))
            }
            StageState::Failed { .. } => {
                Some(ra::say(&format!("{words} failed on every option I had.")))
            }
            StageState::Blocked
            | StageState::Ready { .. }
            | StageState::Submitting { .. }
            | StageState::Running { .. }
            | StageState::Storing { .. }
            | StageState::Done { .. }
            | StageState::Cancelled { .. } => None,
        }
    }

    /// Why a stage is made the way it is, in Ra's words: the router's own words for the
    /// Director, or support's plain sentence when support rerouted it
    fn why_for_creator(&self, row: &StageRow) -> String {
        let d = &row.decision;
        let rerouted = self
            .header
            .actions
            .iter()
            .rev()
            .find(|a| d.reason == a.action.note(&a.reason));
        match rerouted {
            Some(a) => support_note(&a.action).text,
            None if !d.said.is_empty() => ra::say(&d.said),
            // A decision recorded before Ra's words were kept
            None => ra::say(&format!(
                "I chose the best option I have for {}.",
                stage_words(&row.spec)
            )),
        }
    }
}
