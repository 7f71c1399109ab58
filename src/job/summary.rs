//! What a finished render tells the creator's memory graph (`EnrichMemory`).

use serde::{Deserialize, Serialize};

use super::Job;
use super::state::{AttemptOutcome, JobStatus, StageState};
use crate::brief::{OutcomeTarget, ShotKind};
use crate::ids::{CreatorId, JobId, ModelId, ProjectId, ShotId, StageId};
use crate::plan::StageKind;
use crate::time::Timestamp;

/// One render, summarised for the memory graph (idempotent by `job`)
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RenderSummary {
    /// The job
    pub job: JobId,
    /// Whose
    pub creator: CreatorId,
    /// The brief's project
    pub project: ProjectId,
    /// The brief's format
    pub format: String,
    /// What it was optimised for
    pub outcome_target: OutcomeTarget,
    /// How it ended
    pub status: JobStatus,
    /// Spent, USD
    pub cost_usd: f64,
    /// Created to end, seconds
    pub seconds: f64,
    /// The stages that finished or were tried
    pub stages: Vec<StageSummary>,
    /// R2 key of the master, when it succeeded
    pub master_key: Option<String>,
}

/// One stage of the summary
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageSummary {
    /// The stage
    pub stage: StageId,
    /// Its kind
    pub kind: StageKind,
    /// Its shot
    pub shot: Option<ShotId>,
    /// The shot's kind
    pub shot_kind: Option<ShotKind>,
    /// The model that made it, when done
    pub model: Option<ModelId>,
    /// Spent, USD
    pub cost_usd: f64,
    /// First submit to done, seconds
    pub seconds: Option<f64>,
    /// Failed attempts per model: (model, reason)
    pub failures: Vec<(ModelId, String)>,
}

impl Job {
    /// Summarises the render for the memory graph (O(stages); only at the end)
    pub(super) fn summary(&self, now: Timestamp) -> RenderSummary {
        let stages = self
            .rows
            .iter()
            .filter(|r| !r.attempts.is_empty())
            .map(|r| {
                let (model, seconds) = if let StageState::Done {
                    model, finished_at, ..
                } = &r.state
                {
                    (
                        Some(model.clone()),
                        r.started_at.map(|s| finished_at.since(s).as_secs_f64()),
                    )
                } else {
                    (None, None)
                };
                StageSummary {
                    stage: r.spec.id.clone(),
                    kind: r.spec.kind,
                    shot: r.spec.shot.clone(),
                    shot_kind: r.spec.shot_kind,
                    model,
                    cost_usd: r.spent.usd(),
                    seconds,
                    failures: r
                        .attempts
                        .iter()
                        .filter_map(|a| match &a.outcome {
                            AttemptOutcome::Failed { reason } => {
                                Some((a.model.clone(), reason.clone()))
                            }
                            AttemptOutcome::InFlight
                            | AttemptOutcome::Succeeded
                            | AttemptOutcome::Cancelled
                            | AttemptOutcome::Abandoned { .. } => None,
                        })
                        .collect(),
                }
            })
            .collect();
        RenderSummary {
            job: self.spec.job_id.clone(),
            creator: self.spec.creator.clone(),
            project: self.spec.brief.project_id.clone(),
            format: self.spec.brief.format.clone(),
            outcome_target: self.spec.brief.outcome_target,
            status: self.header.status,
            cost_usd: self.header.spent.usd(),
            seconds: now.since(self.spec.created_at).as_secs_f64(),
            stages,
            master_key: self.master().map(|a| a.key.clone()),
        }
    }
}
