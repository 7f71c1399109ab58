//! The job's writes to D1: the render index, the cost ledger, and the task index that routes
//! id-only callbacks. Each write is idempotent (primary keys, upserts), because an effect may be
//! performed twice when an isolate dies between performing it and feeding its result back.

use studio::ids::{Attempt, JobId, ModelId, ProviderRef, StageId};
use studio::job::JobStatus;
use studio::providers::ProviderKind;
use wasm_bindgen::JsValue;
use worker::Env;

use crate::clock;
use crate::render_job::Inner;

async fn exec(env: &Env, what: &str, sql: &str, args: &[JsValue]) {
    let result = async { env.d1("DB")?.prepare(sql).bind(args)?.run().await }.await;
    if let Err(e) = result {
        worker::console_error!("D1 {what}: {e}");
    }
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
    exec(
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
}

/// One ledger row per paid stage attempt
pub(crate) async fn record_cost(
    inner: &Inner,
    stage: &StageId,
    attempt: Attempt,
    model: &ModelId,
    usd: f64,
) {
    let facts = inner.with_job(|j| {
        let provider = j
            .spec()
            .registry
            .get(model)
            .map(|m| m.provider.as_str())
            .unwrap_or("unknown");
        (j.spec().job_id.clone(), j.spec().creator.clone(), provider)
    });
    let Some((job, creator, provider)) = facts else {
        return;
    };
    exec(
        &inner.env,
        "cost_ledger",
        "INSERT INTO cost_ledger (job_id, stage_id, attempt, creator_id, model, provider, usd, recorded_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (job_id, stage_id, attempt) DO NOTHING",
        &[
            job.as_str().into(),
            stage.as_str().into(),
            f64::from(attempt.0).into(),
            creator.as_str().into(),
            model.as_str().into(),
            provider.into(),
            usd.into(),
            (clock::now().0 as f64).into(),
        ],
    )
    .await;
}

/// Keeps the D1 render index in step with the job's status
pub(crate) async fn index_status(inner: &Inner, status: JobStatus) {
    let facts = inner.with_job(|j| (j.spec().job_id.clone(), j.header().spent.usd()));
    let Some((job, spent)) = facts else { return };
    exec(
        &inner.env,
        "renders status",
        "UPDATE renders SET status = ?1, total_usd = ?2, updated_at = ?3 WHERE job_id = ?4",
        &[
            status.as_str().into(),
            spent.into(),
            (clock::now().0 as f64).into(),
            job.as_str().into(),
        ],
    )
    .await;
}
