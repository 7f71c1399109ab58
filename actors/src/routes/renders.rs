//! `/v1/renders`: the app's surface.

use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use studio::api::ApiError;
use studio::brief::parse_brief;
use studio::ids::{CreatorId, JobId};
use wasm_bindgen::JsValue;
use worker::{Env, Method, Request, Response};

use super::util::{MAX_BODY, call_job, job_stub, json_response, parse_job_id, read_body};
use crate::auth::{authenticate, require_app};
use crate::error::OrInternal;
use crate::{clock, media_links};

/// A job id: derived from the creator and Idempotency-Key when there is one, so every duplicate
/// of a create reaches the same job object, which settles them one at a time; random otherwise.
fn job_id_for(creator: &CreatorId, idempotency_key: Option<&str>) -> Result<JobId, ApiError> {
    let bytes: [u8; 16] = match idempotency_key {
        Some(key) => {
            let digest = Sha256::digest(format!("{creator}\n{key}").as_bytes());
            let mut out = [0u8; 16];
            out.copy_from_slice(digest.get(..16).unwrap_or(&[0u8; 16]));
            out
        }
        None => {
            let mut out = [0u8; 16];
            getrandom::fill(&mut out).map_err(|e| ApiError::Internal(format!("random id: {e}")))?;
            out
        }
    };
    Ok(JobId(format!("rnd_{}", hex::encode(bytes))))
}

fn random_seed() -> Result<u64, ApiError> {
    let mut out = [0u8; 8];
    getrandom::fill(&mut out).map_err(|e| ApiError::Internal(format!("random seed: {e}")))?;
    Ok(u64::from_le_bytes(out))
}

async fn creator_is_paid(env: &Env, creator: &CreatorId) -> Result<bool, ApiError> {
    #[derive(Deserialize)]
    struct Tier {
        tier: String,
    }
    let row: Option<Tier> = env
        .d1("DB")
        .or_internal("D1")?
        .prepare("SELECT tier FROM creators WHERE id = ?1")
        .bind(&[creator.as_str().into()])
        .or_internal("binding tier")?
        .first(None)
        .await
        .or_internal("reading tier")?;
    Ok(row.is_some_and(|t| t.tier != "free"))
}

/// How long the download links in a view stay valid
const DOWNLOAD_LINK_LIFETIME: studio::time::Millis = studio::time::Millis::from_secs(3600);

fn etag(view: &str) -> String {
    format!(
        "\"{}\"",
        hex::encode(
            Sha256::digest(view.as_bytes())
                .get(..12)
                .unwrap_or_default()
        )
    )
}

/// `POST /v1/renders`: validates the brief and creates the job; 202 with `Location`
pub(crate) async fn create(mut req: Request, env: &Env) -> Result<Response, ApiError> {
    let principal = authenticate(&req, env).await?;
    let creator = require_app(&principal)?;
    let body = read_body(&mut req, MAX_BODY).await?;
    let validated = parse_brief(&body).map_err(|e| ApiError::BadRequest {
        code: e.code(),
        message: e.to_string(),
        field: e.field().map(str::to_owned),
    })?;
    let idempotency_key = req.headers().get("idempotency-key").ok().flatten();
    if idempotency_key
        .as_ref()
        .is_some_and(|k| k.is_empty() || k.len() > 255)
    {
        return Err(ApiError::bad_field(
            "invalid_header",
            "Idempotency-Key",
            "must be 1 to 255 characters",
        ));
    }
    let job_id = job_id_for(&creator, idempotency_key.as_deref())?;
    let body_hash = hex::encode(Sha256::digest(&body));
    let now = clock::now();
    let brief = validated.brief;
    env.d1("DB")
        .or_internal("D1")?
        .prepare(
            "INSERT INTO renders (job_id, creator_id, project_id, status, created_at, updated_at) \
             VALUES (?1, ?2, ?3, 'queued', ?4, ?4) ON CONFLICT (job_id) DO NOTHING",
        )
        .bind(&[
            job_id.as_str().into(),
            creator.as_str().into(),
            brief.project_id.as_str().into(),
            JsValue::from_f64(now.0 as f64),
        ])
        .or_internal("binding render index")?
        .run()
        .await
        .or_internal("writing render index")?;
    let create = json!({
        "job_id": job_id,
        "creator": creator,
        "brief": brief,
        "paid_tier": creator_is_paid(env, &creator).await?,
        "submitted_by": principal.key_prefix,
        "seed": random_seed()?,
        "body_hash": body_hash,
        "idempotency_key": idempotency_key,
    });
    let stub = job_stub(env, &job_id)?;
    let (status, view, text) = call_job(&stub, Method::Post, "/create", Some(&create)).await?;
    match status {
        200 | 201 => {
            let mut resp = json_response(&view, 202)?;
            let headers = resp.headers_mut();
            headers
                .set("location", &format!("/v1/renders/{job_id}"))
                .or_internal("location")?;
            if status == 200 {
                headers
                    .set("idempotent-replayed", "true")
                    .or_internal("header")?;
            }
            Ok(resp)
        }
        409 => Err(ApiError::Conflict {
            code: "idempotency_conflict",
            message: "this Idempotency-Key was used with a different request body".into(),
        }),
        400 => Err(ApiError::BadRequest {
            code: "invalid_brief",
            message: text,
            field: None,
        }),
        _ => Err(ApiError::Internal(format!(
            "job object answered {status}: {text}"
        ))),
    }
}

/// Fetches a job's view, 404 unless it belongs to `creator`
async fn owned_view(env: &Env, id: &str, creator: &CreatorId) -> Result<(JobId, Value), ApiError> {
    let job = parse_job_id(id)?;
    let stub = job_stub(env, &job)?;
    let (status, view, _) = call_job(&stub, Method::Get, "/view", None).await?;
    // Another creator's job answers exactly like a missing one: 404 reveals nothing.
    if status != 200 || view["creator"].as_str() != Some(creator.as_str()) {
        return Err(ApiError::NotFound(format!("no render {id}")));
    }
    Ok((job, view))
}

/// `GET /v1/renders/{id}` with `ETag` and `If-None-Match`
pub(crate) async fn get(req: &Request, env: &Env, id: &str) -> Result<Response, ApiError> {
    let principal = authenticate(req, env).await?;
    let creator = require_app(&principal)?;
    let (_, mut view) = owned_view(env, id, &creator).await?;
    // The ETag covers the state, not the signed links, whose expiry moves with every request.
    let tag = etag(&view.to_string());
    media_links::sign_keys(env, &mut view, clock::now(), DOWNLOAD_LINK_LIFETIME);
    let not_modified = req
        .headers()
        .get("if-none-match")
        .ok()
        .flatten()
        .is_some_and(|v| v.split(',').any(|t| t.trim() == tag));
    let mut resp = if not_modified {
        Response::empty().or_internal("empty")?.with_status(304)
    } else {
        json_response(&view, 200)?
    };
    resp.headers_mut().set("etag", &tag).or_internal("etag")?;
    Ok(resp)
}

/// `POST /v1/renders/{id}/cancel`
pub(crate) async fn cancel(req: &Request, env: &Env, id: &str) -> Result<Response, ApiError> {
    let principal = authenticate(req, env).await?;
    let creator = require_app(&principal)?;
    let (job, _) = owned_view(env, id, &creator).await?;
    let stub = job_stub(env, &job)?;
    let (status, view, text) = call_job(
        &stub,
        Method::Post,
        "/cancel",
        Some(&json!({ "by": format!("app:{}", principal.key_prefix) })),
    )
    .await?;
    match status {
        200 => json_response(&view, 200),
        409 => Err(ApiError::Conflict {
            code: "invalid_state",
            message: text,
        }),
        _ => Err(ApiError::Internal(format!(
            "job object answered {status}: {text}"
        ))),
    }
}

/// `GET /v1/renders?project=&status=&limit=&cursor=`: the creator's renders from the D1 index,
/// newest first, paged by a `created_at` cursor
pub(crate) async fn list(req: Request, env: &Env) -> Result<Response, ApiError> {
    let principal = authenticate(&req, env).await?;
    let creator = require_app(&principal)?;
    let url = req.url().or_internal("url")?;
    let mut project = None;
    let mut status = None;
    let mut limit = 20u32;
    let mut cursor = i64::MAX;
    for (k, v) in url.query_pairs() {
        match k.as_ref() {
            "project" => project = Some(v.to_string()),
            "status" => status = Some(v.to_string()),
            "limit" => {
                limit = v
                    .parse()
                    .ok()
                    .filter(|n| (1..=100).contains(n))
                    .ok_or_else(|| {
                        ApiError::bad_field(
                            "invalid_query",
                            "limit",
                            "must be a whole number from 1 to 100",
                        )
                    })?
            }
            "cursor" => {
                cursor = v.parse().map_err(|_| {
                    ApiError::bad_field(
                        "invalid_query",
                        "cursor",
                        "must be a cursor from a previous page",
                    )
                })?
            }
            _ => {}
        }
    }
    #[derive(Deserialize, serde::Serialize)]
    struct Row {
        job_id: String,
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
            "SELECT job_id, project_id, status, total_usd, created_at, updated_at FROM renders \
             WHERE creator_id = ?1 AND (?2 IS NULL OR project_id = ?2) AND (?3 IS NULL OR status = ?3) \
             AND created_at < ?4 ORDER BY created_at DESC, job_id DESC LIMIT ?5",
        )
        .bind(&[
            creator.as_str().into(),
            project.map_or(JsValue::NULL, JsValue::from),
            status.map_or(JsValue::NULL, JsValue::from),
            JsValue::from_f64(cursor as f64),
            JsValue::from_f64(f64::from(limit)),
        ])
        .or_internal("binding list")?
        .all()
        .await
        .or_internal("listing renders")?
        .results()
        .or_internal("decoding renders")?;
    let next = (rows.len() == limit as usize)
        .then(|| rows.last().map(|r| r.created_at as i64))
        .flatten();
    json_response(&json!({ "renders": rows, "next_cursor": next }), 200)
}
