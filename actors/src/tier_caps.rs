//! The creator's tier caps (`studio::api::tier_limits`) applied to a new render: one call from
//! `POST /v1/renders`, after the job id is known and before the render is indexed, its object
//! created or any provider asked for anything.
//!
//! Budget and shots are the core's pure check (400 naming the field). Renders in flight are
//! counted in D1 by the same statement that admits the render (`render_admissions`, migration
//! 0004), so a burst of concurrent creates cannot all pass under the cap: D1 runs one statement
//! at a time. A job already admitted or indexed (a replay of its Idempotency-Key) is let through
//! without counting: it reaches the existing job and starts nothing new.

use serde::Deserialize;
use studio::api::ApiError;
use studio::api::tier_limits::{
    ORPHANED_QUEUED_AFTER, TERMINAL_STATUSES, Tier, check_brief, in_flight_refusal,
};
use studio::brief::Brief;
use studio::ids::{CreatorId, JobId, ProjectId};
use studio::time::Timestamp;
use wasm_bindgen::JsValue;
use worker::Env;

use crate::error::OrInternal;

/// The creator's tier from D1 `creators.tier` (unknown or missing: free)
/// A creator's D1 tier: the caps it grants, and whether renders carry the paid badge flag (any
/// tier but `free`; a creator with no row is free)
#[derive(Debug, Clone, Copy)]
pub(crate) struct CreatorTier {
    pub(crate) caps: Tier,
    pub(crate) paid: bool,
}

async fn tier(env: &Env, creator: &CreatorId) -> Result<CreatorTier, ApiError> {
    #[derive(Deserialize)]
    struct Row {
        tier: Option<String>,
    }
    let row: Option<Row> = env
        .d1("DB")
        .or_internal("D1")?
        .prepare("SELECT tier FROM creators WHERE id = ?1")
        .bind(&[creator.as_str().into()])
        .or_internal("binding tier")?
        .first(None)
        .await
        .or_internal("reading tier")?;
    let column = row.and_then(|r| r.tier);
    Ok(CreatorTier {
        caps: Tier::from_column(column.as_deref()),
        paid: column.is_some_and(|t| t != "free"),
    })
}

/// `'succeeded', 'failed', 'cancelled'`: literals, because SQLite uses the partial index
/// `renders_in_flight` only when the query repeats its WHERE clause
fn terminal_list() -> String {
    TERMINAL_STATUSES
        .iter()
        .map(|s| format!("'{}'", s.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The creator's tier, once the brief is within its budget and shot caps; called before
/// anything is written (an Idempotency-Key included), so a refused brief changes nothing
pub(crate) async fn check(
    env: &Env,
    creator: &CreatorId,
    brief: &Brief,
) -> Result<CreatorTier, ApiError> {
    let tier = tier(env, creator).await?;
    check_brief(tier.caps, brief)?;
    Ok(tier)
}

/// Admits `job` when `creator`'s tier allows one more render in flight, and writes its row of
/// the render index (`queued`) when admitted: one D1 batch, so one round trip
///
/// # Errors
///
/// 409 `too_many_renders_in_flight` with the limit in the message; 500 when D1 fails.
pub(crate) async fn admit_and_index(
    env: &Env,
    creator: &CreatorId,
    job: &JobId,
    project: &ProjectId,
    tier: Tier,
    now: Timestamp,
) -> Result<(), ApiError> {
    let orphaned_before = now.0.saturating_sub(ORPHANED_QUEUED_AFTER.0) as f64;
    let db = env.d1("DB").or_internal("D1")?;
    let admit = db
        .prepare(format!(
            "INSERT INTO render_admissions (job_id, creator_id, admitted_at) \
             SELECT ?1, ?2, ?3 \
             WHERE NOT EXISTS (SELECT 1 FROM renders WHERE job_id = ?1) \
             AND (SELECT COUNT(*) FROM renders \
                  WHERE creator_id = ?2 AND status NOT IN ({terminal}) \
                  AND (status <> 'queued' OR updated_at > ?4)) \
               + (SELECT COUNT(*) FROM render_admissions a \
                  WHERE a.creator_id = ?2 AND a.admitted_at > ?4 \
                  AND NOT EXISTS (SELECT 1 FROM renders r WHERE r.job_id = a.job_id)) < ?5 \
             ON CONFLICT (job_id) DO NOTHING",
            terminal = terminal_list()
        ))
        .bind(&[
            job.as_str().into(),
            creator.as_str().into(),
            JsValue::from_f64(now.0 as f64),
            JsValue::from_f64(orphaned_before),
            JsValue::from_f64(f64::from(tier.limits().max_in_flight)),
        ])
        .or_internal("binding admission")?;
    let admitted = db
        .prepare(
            "SELECT EXISTS (SELECT 1 FROM render_admissions WHERE job_id = ?1 AND creator_id = ?2) \
             OR EXISTS (SELECT 1 FROM renders WHERE job_id = ?1 AND creator_id = ?2) AS admitted",
        )
        .bind(&[job.as_str().into(), creator.as_str().into()])
        .or_internal("binding admission read")?;
    // The index row exists only for an admitted job (an idempotent replay's is already there).
    let index = db
        .prepare(
            "INSERT INTO renders (job_id, creator_id, project_id, status, created_at, updated_at) \
             SELECT ?1, ?2, ?3, 'queued', ?4, ?4 \
             WHERE EXISTS (SELECT 1 FROM render_admissions WHERE job_id = ?1 AND creator_id = ?2) \
             ON CONFLICT (job_id) DO NOTHING",
        )
        .bind(&[
            job.as_str().into(),
            creator.as_str().into(),
            project.as_str().into(),
            JsValue::from_f64(now.0 as f64),
        ])
        .or_internal("binding render index")?;
    // Admissions past the orphan window no longer count; dropping them keeps the table small.
    let tidy = db
        .prepare("DELETE FROM render_admissions WHERE creator_id = ?1 AND admitted_at <= ?2")
        .bind(&[creator.as_str().into(), JsValue::from_f64(orphaned_before)])
        .or_internal("binding admission tidy")?;
    #[derive(Deserialize)]
    struct Admitted {
        admitted: i64,
    }
    let results = db
        .batch(vec![admit, admitted, index, tidy])
        .await
        .or_internal("admitting the render")?;
    let rows: Vec<Admitted> = results
        .get(1)
        .ok_or_else(|| ApiError::Internal("admission read returned nothing".into()))?
        .results()
        .or_internal("decoding admission")?;
    match rows.first() {
        Some(row) if row.admitted != 0 => Ok(()),
        Some(_) | None => Err(in_flight_refusal(tier).into()),
    }
}
