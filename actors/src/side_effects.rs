//! The job's writes to D1: the render index, the cost ledger, and the task index that routes
//! id-only callbacks.
//!
//! The index and the ledger are effects of the core with deadlines (`studio::job::writes`): each
//! write's outcome goes back to the job as `Input::WriteResult`, and a write without a result (the
//! isolate died, D1 failed) is issued again from the alarm. So each is idempotent on this side:
//! the index is an upsert that only moves to a higher status sequence (a late re-issue never
//! overwrites a newer status), the ledger is keyed by (job, stage, attempt) (a re-issue never
//! counts twice). The task index is best effort (a lost row only costs Sora's webhook its
//! routing; the job's safety-net poll still finds the result).

use studio::ids::{Attempt, CreatorId, JobId, ModelId, ProjectId, ProviderRef, StageId};
use studio::job::{Job, JobStatus};
use studio::providers::ProviderKind;
use studio::time::Timestamp;
use wasm_bindgen::JsValue;
use worker::Env;

use crate::clock;

async fn exec(env: &Env, what: &str, sql: &str, args: &[JsValue]) -> Result<(), String> {
    let result = async { env.d1("DB")?.prepare(sql).bind(args)?.run().await }.await;
    result.map(|_| ()).map_err(|e| format!("D1 {what}: {e}"))
}

/// Remembers which job a provider task belongs to (Sora's webhook names only the video id)
pub(crate) async fn index_task(
    env: &Env,
    provider: ProviderKind,
    provider_ref: &ProviderRef,
    job: &JobId,
    stage: &StageId,
    attempt: Attempt,
) {
    let written = exec(
        env,
        "provider_tasks",
        "INSERT INTO provider_tasks (provider, provider_ref, job_id, stage_id, attempt, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (provider, provider_ref) DO NOTHING",
        &[
            provider.as_str().into(),
            provider_ref.as_str().into(),
            job.as_str().into(),
            stage.as_str().into(),
            f64::from(attempt.0).into(),
            (clock::now().0 as f64).into(),
        ],
    )
    .await;
    if let Err(e) = written {
        worker::console_error!("{e}");
    }
}

/// What a job's D1 rows say of it besides the change itself, read from the job before a write
/// (a write awaits D1, so it cannot hold the job object's borrow)
pub(crate) struct JobFacts {
    job: JobId,
    creator: CreatorId,
    project: ProjectId,
    created_at: Timestamp,
}

impl JobFacts {
    /// The facts of `job`
    pub(crate) fn of(job: &Job) -> Self {
        let spec = job.spec();
        Self {
            job: spec.job_id.clone(),
            creator: spec.creator.clone(),
            project: spec.brief.project_id.clone(),
            created_at: spec.created_at,
        }
    }
}

/// The provider a model of the job's pinned registry runs on, for the ledger
pub(crate) fn provider_of(job: &Job, model: &ModelId) -> &'static str {
    job.spec()
        .registry
        .get(model)
        .map(|m| m.provider.as_str())
        .unwrap_or("unknown")
}

/// One ledger row per paid stage attempt (a repeat of the same attempt changes nothing)
pub(crate) async fn record_cost(
    env: &Env,
    facts: &JobFacts,
    provider: &str,
    stage: &StageId,
    attempt: Attempt,
    model: &ModelId,
    usd: f64,
) -> Result<(), String> {
    exec(
        env,
        "cost_ledger",
        "INSERT INTO cost_ledger (job_id, stage_id, attempt, creator_id, model, provider, usd, recorded_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (job_id, stage_id, attempt) DO NOTHING",
        &[
            facts.job.as_str().into(),
            stage.as_str().into(),
            f64::from(attempt.0).into(),
            facts.creator.as_str().into(),
            model.as_str().into(),
            provider.into(),
            usd.into(),
            (clock::now().0 as f64).into(),
        ],
    )
    .await
}

/// Moves the D1 render index to `status` unless it already holds a newer one (`seq` is the
/// job's status sequence); an upsert, so a missing row (the Worker's insert raced a crash) is
/// written whole
pub(crate) async fn index_status(
    env: &Env,
    facts: &JobFacts,
    status: JobStatus,
    seq: u32,
    total_usd: f64,
) -> Result<(), String> {
    exec(
        env,
        "renders status",
        "INSERT INTO renders (job_id, creator_id, project_id, status, total_usd, created_at, \
         updated_at, status_seq) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) \
         ON CONFLICT (job_id) DO UPDATE SET status = excluded.status, \
         total_usd = excluded.total_usd, updated_at = excluded.updated_at, \
         status_seq = excluded.status_seq WHERE renders.status_seq < excluded.status_seq",
        &[
            facts.job.as_str().into(),
            facts.creator.as_str().into(),
            facts.project.as_str().into(),
            status.as_str().into(),
            total_usd.into(),
            (facts.created_at.0 as f64).into(),
            (clock::now().0 as f64).into(),
            f64::from(seq).into(),
        ],
    )
    .await
}
