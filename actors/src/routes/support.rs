//! `/v1/support/...`: support staff see everything about any creator's job and act on it.
//!
//! Every route needs a support key (an app key gets 403); actions need an admin support key.
//! Actions go to the job object as the core's `Input::Support`, journaled with the key's label
//! and id (`Principal::audit_name`) and the reason given, so the journal says who did what and
//! why. Every route that names a job finds it in the D1 render index before touching its object.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use studio::api::ApiError;
use studio::providers::ProviderKind;
use wasm_bindgen::JsValue;
use worker::{Env, Method, Request, Response};

use super::util::{
    Cursor, bounded_param, call_job, indexed_job, job_request, job_stub, json_response,
    query_pairs, read_body, read_job_answer, status_param,
};
use crate::auth::{authenticate, require_support, require_support_admin};
use crate::error::OrInternal;
use crate::render_job::{LOAD_MS_HEADER, STORAGE_BYTES_HEADER};
use crate::{clock, media_links};

/// How long the download links in a support view stay valid
const LINK_LIFETIME: studio::time::Millis = studio::time::Millis::from_secs(3600);

/// One line of the cost ledger
#[derive(Debug, Serialize, Deserialize)]
struct LedgerRow {
    stage_id: String,
    attempt: f64,
    model: String,
    provider: String,
    usd: f64,
    recorded_at: f64,
}

async fn ledger(env: &Env, job: &str) -> Result<Vec<LedgerRow>, ApiError> {
    env.d1("DB")
        .or_internal("D1")?
        .prepare(
            "SELECT stage_id, attempt, model, provider, usd, recorded_at FROM cost_ledger \
             WHERE job_id = ?1 ORDER BY recorded_at, stage_id, attempt",
        )
        .bind(&[job.into()])
        .or_internal("binding ledger")?
        .all()
        .await
        .or_internal("reading ledger")?
        .results()
        .or_internal("decoding ledger")
}

/// One task a provider accepted for the job (`provider_tasks`)
#[derive(Debug, Serialize, Deserialize)]
struct TaskRow {
    provider: String,
    provider_ref: String,
    stage_id: String,
    attempt: f64,
}

async fn tasks(env: &Env, job: &str) -> Result<Vec<TaskRow>, ApiError> {
    env.d1("DB")
        .or_internal("D1")?
        .prepare(
            "SELECT provider, provider_ref, stage_id, attempt FROM provider_tasks \
             WHERE job_id = ?1 ORDER BY stage_id, attempt",
        )
        .bind(&[job.into()])
        .or_internal("binding tasks")?
        .all()
        .await
        .or_internal("reading tasks")?
        .results()
        .or_internal("decoding tasks")
}

/// Fills the provider's task id of attempts whose result beat the provider's acknowledgement
/// (the job never learnt the id) from the task index
fn fill_provider_refs(view: &mut Value, tasks: &[TaskRow]) {
    let Some(stages) = view["stages"].as_array_mut() else {
        return;
    };
    for stage in stages {
        let id = stage["id"].as_str().unwrap_or_default().to_owned();
        let Some(attempts) = stage["attempts"].as_array_mut() else {
            continue;
        };
        for attempt in attempts.iter_mut().filter(|a| a["provider_ref"].is_null()) {
            let n = attempt["attempt"].as_f64();
            if let Some(task) = tasks
                .iter()
                .find(|t| t.stage_id == id && Some(t.attempt) == n)
            {
                attempt["provider_ref"] = json!(task.provider_ref);
            }
        }
    }
}

/// `GET /v1/support/renders/{id}`: the job view plus the DAG's edges, every attempt with its
/// provider and task id, routing decisions with each candidate's five scores, costs and the
/// ledger, warnings, support actions taken, notifications
pub(crate) async fn get(req: &Request, env: &Env, id: &str) -> Result<Response, ApiError> {
    let principal = authenticate(req, env).await?;
    require_support(&principal)?;
    support_view(env, id).await
}

/// The support view of a job (the caller is already checked)
async fn support_view(env: &Env, id: &str) -> Result<Response, ApiError> {
    let job = indexed_job(env, id, None).await?;
    let answer = job_request(&job_stub(env, &job)?, Method::Get, "/support", None, &[]).await?;
    // The object's footprint headers go out as they came
    let (status, text, footprint) =
        read_job_answer(answer, &[STORAGE_BYTES_HEADER, LOAD_MS_HEADER]).await?;
    let mut view: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    match status {
        200 => {}
        404 => return Err(ApiError::NotFound(format!("no render {id}"))),
        _ => {
            return Err(ApiError::Internal(format!(
                "job object answered {status}: {text}"
            )));
        }
    }
    let tasks = tasks(env, job.as_str()).await?;
    fill_provider_refs(&mut view, &tasks);
    view["provider_tasks"] = json!(tasks);
    let rows = ledger(env, job.as_str()).await?;
    let ledger_usd: f64 = rows.iter().map(|r| r.usd).sum();
    view["cost_ledger"] = json!({ "rows": rows, "total_usd": ledger_usd });
    media_links::sign_keys(env, &mut view, clock::now(), LINK_LIFETIME)?;
    let mut resp = json_response(&view, 200)?;
    for (name, value) in footprint {
        resp.headers_mut()
            .set(name, &value)
            .or_internal("footprint header")?;
    }
    Ok(resp)
}

/// `GET /v1/support/renders/{id}/journal?after=SEQ&limit=N`: the journal, a page at a time
pub(crate) async fn journal(req: &Request, env: &Env, id: &str) -> Result<Response, ApiError> {
    let principal = authenticate(req, env).await?;
    require_support(&principal)?;
    let mut after = 0;
    let mut limit = 100;
    for (k, v) in query_pairs(req)? {
        match k.as_str() {
            "after" => after = bounded_param("after", &v, 0, MAX_SAFE_INTEGER)?,
            "limit" => limit = bounded_param("limit", &v, 1, 500)?,
            _ => {}
        }
    }
    let job = indexed_job(env, id, None).await?;
    let path = format!("/journal?after={after}&limit={limit}");
    let (status, page, text) = call_job(job_stub(env, &job)?, Method::Get, &path, None).await?;
    match status {
        200 => json_response(&page, 200),
        404 => Err(ApiError::NotFound(format!("no render {id}"))),
        _ => Err(ApiError::Internal(format!(
            "job object answered {status}: {text}"
        ))),
    }
}

/// `GET /v1/support/renders/{id}/timeline`: every stage's phases and events on one time axis,
/// and the critical path, replayed from the journal by the job object
pub(crate) async fn timeline(req: &Request, env: &Env, id: &str) -> Result<Response, ApiError> {
    let principal = authenticate(req, env).await?;
    require_support(&principal)?;
    let job = indexed_job(env, id, None).await?;
    let (status, body, text) =
        call_job(job_stub(env, &job)?, Method::Get, "/timeline", None).await?;
    match status {
        200 => json_response(&body, 200),
        404 => Err(ApiError::NotFound(format!("no render {id}"))),
        _ => Err(ApiError::Internal(format!(
            "job object answered {status}: {text}"
        ))),
    }
}

/// A time bound in a query: ms since the epoch, else 400 naming it
/// The largest integer JSON carries exactly (2^53 - 1), the documented maximum of `after` and
/// the time parameters
const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

fn time_param(name: &str, value: &str) -> Result<i64, ApiError> {
    value
        .parse::<i64>()
        .ok()
        .filter(|t| (0..=MAX_SAFE_INTEGER as i64).contains(t))
        .ok_or_else(|| {
            ApiError::bad_field(
                "invalid_query",
                name,
                "must be a time in milliseconds since the Unix epoch",
            )
        })
}

/// `GET /v1/support/renders?creator=&status=&provider=&since=&until=&limit=&cursor=`: every
/// creator's renders from the D1 index, newest first; `provider` matches renders with a task at
/// that provider (`provider_tasks`) or a cost ledger line for it; `since` (inclusive) and `until`
/// (exclusive) bound `created_at`
pub(crate) async fn search(req: &Request, env: &Env) -> Result<Response, ApiError> {
    let principal = authenticate(req, env).await?;
    require_support(&principal)?;
    let mut creator = None;
    let mut status = None;
    let mut provider = None;
    let mut since = 0i64;
    let mut until = i64::MAX;
    let mut limit = 50;
    let mut cursor = Cursor::start();
    for (k, v) in query_pairs(req)? {
        match k.as_str() {
            "creator" => creator = Some(v),
            "status" => status = Some(status_param("status", &v)?),
            "provider" => {
                provider = Some(ProviderKind::parse(&v).ok_or_else(|| {
                    ApiError::bad_field(
                        "invalid_query",
                        "provider",
                        format!(
                            "must be one of {}",
                            ProviderKind::ALL
                                .iter()
                                .map(|p| p.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    )
                })?)
            }
            "since" => since = time_param("since", &v)?,
            "until" => until = time_param("until", &v)?,
            "limit" => limit = bounded_param("limit", &v, 1, 200)?,
            "cursor" => cursor = Cursor::parse(&v)?,
            _ => {}
        }
    }
    #[derive(Deserialize, Serialize)]
    struct Row {
        job_id: String,
        creator_id: String,
        project_id: String,
        status: String,
        total_usd: f64,
        created_at: f64,
        updated_at: f64,
    }
    let rows: Vec<Row> = env
        .d1("DB")
        .or_internal("D1")?
        .prepare(
            "SELECT job_id, creator_id, project_id, status, total_usd, created_at, updated_at \
             FROM renders r \
             WHERE (?1 IS NULL OR creator_id = ?1) AND (?2 IS NULL OR status = ?2) \
             AND (?3 IS NULL \
                  OR EXISTS (SELECT 1 FROM provider_tasks p WHERE p.job_id = r.job_id AND p.provider = ?3) \
                  OR EXISTS (SELECT 1 FROM cost_ledger c WHERE c.job_id = r.job_id AND c.provider = ?3)) \
             AND created_at >= ?4 AND created_at < ?5 \
             AND (created_at < ?6 OR (created_at = ?6 AND job_id < ?7)) \
             ORDER BY created_at DESC, job_id DESC LIMIT ?8",
        )
        .bind(&[
            creator.map_or(JsValue::NULL, JsValue::from),
            status.map_or(JsValue::NULL, |s| JsValue::from(s.as_str())),
            provider.map_or(JsValue::NULL, |p| JsValue::from(p.as_str())),
            JsValue::from_f64(since as f64),
            JsValue::from_f64(until as f64),
            JsValue::from_f64(cursor.created_at as f64),
            cursor.job_id.as_str().into(),
            JsValue::from_f64(limit as f64),
        ])
        .or_internal("binding search")?
        .all()
        .await
        .or_internal("searching renders")?
        .results()
        .or_internal("decoding renders")?;
    let next = (rows.len() as u64 == limit)
        .then(|| rows.last().map(|r| Cursor::after(r.created_at, &r.job_id)))
        .flatten();
    json_response(&json!({ "renders": rows, "next_cursor": next }), 200)
}

/// Largest action body read
const MAX_ACTION_BODY: usize = 16 * 1024;

/// The fields each action needs besides `reason`
fn action_fields(action: &str) -> Option<&'static [&'static str]> {
    match action {
        "retry_stage" | "restart_from" => Some(&["stage"]),
        "reroute" => Some(&["stage", "model"]),
        "pause" | "resume" | "cancel" => Some(&[]),
        _ => None,
    }
}

/// `POST /v1/support/renders/{id}/actions` with `{"action", "reason", ...}` (admin support
/// keys only): `retry_stage {stage}`, `reroute {stage, model}`, `pause`, `resume`, `cancel`,
/// `restart_from {stage}`; journaled with the key's label and id and the reason. 200 with the job's
/// support view; 400 naming `action`, `reason`, `stage` or `model`; 409 when the job refuses
pub(crate) async fn act(mut req: Request, env: &Env, id: &str) -> Result<Response, ApiError> {
    let principal = authenticate(&req, env).await?;
    require_support_admin(&principal)?;
    let job = indexed_job(env, id, None).await?;
    let bytes = read_body(&mut req, MAX_ACTION_BODY).await?;
    let body: Value = studio::json_bytes::from_bytes(&bytes)
        .map_err(|e| ApiError::bad_field("invalid_json", "body", format!("request body: {e}")))?;
    let Value::Object(fields) = &body else {
        return Err(ApiError::bad_field(
            "invalid_action",
            "body",
            "must be a JSON object with `action` and `reason`",
        ));
    };
    let action = fields.get("action").and_then(Value::as_str).unwrap_or("");
    let needs = action_fields(action).ok_or_else(|| {
        ApiError::bad_field(
            "invalid_action",
            "action",
            "must be one of retry_stage, reroute, pause, resume, cancel, restart_from",
        )
    })?;
    let reason = fields
        .get("reason")
        .and_then(Value::as_str)
        .map(str::trim)
        .unwrap_or("");
    if reason.is_empty() {
        return Err(ApiError::bad_field(
            "invalid_action",
            "reason",
            "say why: a non-empty reason is required and journaled with the action",
        ));
    }
    for field in needs {
        if fields
            .get(*field)
            .and_then(Value::as_str)
            .is_none_or(|v| v.trim().is_empty())
        {
            return Err(ApiError::bad_field(
                "invalid_action",
                *field,
                format!("`{action}` needs `{field}`"),
            ));
        }
    }
    let mut action_value = json!({ "action": action });
    for field in needs {
        action_value[*field] = fields.get(*field).cloned().unwrap_or(Value::Null);
    }
    let call = json!({
        "by": principal.audit_name(),
        "reason": reason,
        "action": action_value,
    });
    let (status, answer, text) = call_job(
        job_stub(env, &job)?,
        Method::Post,
        "/support/action",
        Some(&call),
    )
    .await?;
    let message = || {
        answer["message"]
            .as_str()
            .map_or_else(|| text.clone(), str::to_owned)
    };
    match status {
        200 => support_view(env, id).await,
        400 => Err(ApiError::bad_field(
            "invalid_action",
            answer["field"].as_str().unwrap_or("action").to_owned(),
            message(),
        )),
        404 => Err(ApiError::NotFound(format!("no render {id}"))),
        409 => Err(ApiError::Conflict {
            code: "action_refused",
            message: message(),
        }),
        _ => Err(ApiError::Internal(format!(
            "job object answered {status}: {text}"
        ))),
    }
}
