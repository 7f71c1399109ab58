//! `/v1/renders`: the app's surface.

use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use studio::api::ApiError;
use studio::api::webhook_url::{WebhookUrlPolicy, check_webhook_url};
use studio::brief::parse_render_brief;
use studio::ids::{CreatorId, JobId};
use wasm_bindgen::JsValue;
use worker::{Env, Method, Request, Response};

use super::util::{
    Cursor, MAX_BODY, bounded_param, call_job, indexed_job, job_request, job_stub, json_response,
    json_text_response, query_pairs, read_body, read_job_answer, status_param,
};
use crate::auth::{authenticate, require_app};
use crate::error::OrInternal;
use crate::render_job::MAX_WAIT_SECS;
use crate::server_timing::PhaseTimer;
use crate::{clock, config, media_links, object_fetch, object_sql};

/// A fresh random job id
fn random_job_id() -> Result<JobId, ApiError> {
    let mut out = [0u8; 16];
    getrandom::fill(&mut out).map_err(|e| ApiError::Internal(format!("random id: {e}")))?;
    Ok(JobId(format!("rnd_{}", hex::encode(out))))
}

/// A brief may leave its pacing to its format's DNA in the creator's Memory Graph; with neither
/// it is refused, naming `pacing`, before anything is written or spent. Asks the graph's plain
/// `/context` (the job's asks cast voices as a side effect).
async fn require_pacing(
    env: &Env,
    creator: &CreatorId,
    brief: &studio::brief::Brief,
) -> Result<(), ApiError> {
    if brief.pacing.is_some() {
        return Ok(());
    }
    let body = serde_json::to_string(brief)
        .map_err(|e| ApiError::Internal(format!("encoding the brief: {e}")))?;
    let mut resp = crate::memory_client::call(env, creator, Method::Post, "/context", Some(body))
        .await
        .or_internal("memory graph")?;
    let context: studio::memory::MemoryContext = object_sql::read_json_response(&mut resp)
        .await
        .or_internal("memory context")?;
    studio::brief::require_pacing(brief, context.format_dna.as_ref()).map_err(|e| {
        ApiError::BadRequest {
            code: e.code(),
            message: e.to_string(),
            field: e.field().map(str::to_owned),
        }
    })
}

/// How long an Idempotency-Key is kept: `IDEMPOTENCY_TTL_S` seconds, 24 hours by default
fn idempotency_ttl(env: &Env) -> studio::time::Millis {
    let secs = config::lookup(env, "IDEMPOTENCY_TTL_S")
        .and_then(|s| s.parse::<u64>().ok())
        .filter(|s| *s > 0)
        .unwrap_or(24 * 3600);
    studio::time::Millis::from_secs(secs)
}

/// The job an Idempotency-Key names. D1 keeps `(creator, sha256(key)) -> job` with the time the
/// key was first used; within the key's lifetime every request with it (concurrent ones too: the
/// upsert and the read run as one D1 transaction) gets the same job id, whose object then settles
/// the duplicates one at a time and compares bodies. Once the key is older than its lifetime the
/// same upsert replaces the row, so the key starts a new job (as with Stripe's 24-hour keys).
async fn keyed_job_id(
    env: &Env,
    creator: &CreatorId,
    key: &str,
    now: studio::time::Timestamp,
) -> Result<JobId, ApiError> {
    let key_hash = hex::encode(Sha256::digest(key.as_bytes()));
    let candidate = random_job_id()?;
    let expired_before = now.0.saturating_sub(idempotency_ttl(env).0);
    let db = env.d1("DB").or_internal("D1")?;
    let upsert = db
        .prepare(
            "INSERT INTO idempotency_keys (creator_id, key_hash, job_id, created_at) \
             VALUES (?1, ?2, ?3, ?4) ON CONFLICT (creator_id, key_hash) DO UPDATE SET \
             job_id = excluded.job_id, created_at = excluded.created_at \
             WHERE idempotency_keys.created_at <= ?5",
        )
        .bind(&[
            creator.as_str().into(),
            key_hash.as_str().into(),
            candidate.as_str().into(),
            JsValue::from_f64(now.0 as f64),
            JsValue::from_f64(expired_before as f64),
        ])
        .or_internal("binding idempotency key")?;
    let read = db
        .prepare("SELECT job_id FROM idempotency_keys WHERE creator_id = ?1 AND key_hash = ?2")
        .bind(&[creator.as_str().into(), key_hash.as_str().into()])
        .or_internal("binding idempotency read")?;
    #[derive(Deserialize)]
    struct Row {
        job_id: String,
    }
    let results = db
        .batch(vec![upsert, read])
        .await
        .or_internal("idempotency key")?;
    let rows: Vec<Row> = results
        .get(1)
        .ok_or_else(|| ApiError::Internal("idempotency read returned nothing".into()))?
        .results()
        .or_internal("decoding idempotency key")?;
    rows.into_iter()
        .next()
        .map(|r| JobId(r.job_id))
        .ok_or_else(|| ApiError::Internal("idempotency key row missing".into()))
}

fn random_seed() -> Result<u64, ApiError> {
    let mut out = [0u8; 8];
    getrandom::fill(&mut out).map_err(|e| ApiError::Internal(format!("random seed: {e}")))?;
    Ok(u64::from_le_bytes(out))
}

/// How long the download links in a view stay valid
const DOWNLOAD_LINK_LIFETIME: studio::time::Millis = studio::time::Millis::from_secs(3600);

/// `POST /v1/renders`: validates the brief and creates the job; 202 with `Location`
pub(crate) async fn create(mut req: Request, env: &Env) -> Result<Response, ApiError> {
    let mut timer = PhaseTimer::start();
    let principal = authenticate(&req, env).await?;
    let creator = require_app(&principal)?;
    let body = read_body(&mut req, MAX_BODY).await?;
    timer.mark("auth");
    // Refuses what cannot be rendered at all (a budget below the cheapest plan) before anything
    // is written or spent.
    let registry = crate::registry_client::latest(env).await;
    timer.mark("registry");
    let serving = studio::routing::registry_doc::serving(&registry, clock::now());
    let validated =
        parse_render_brief(&body, &serving, &creator).map_err(|e| ApiError::BadRequest {
            code: e.code(),
            message: e.to_string(),
            field: e.field().map(str::to_owned),
        })?;
    check_webhook(env, validated.brief.webhook_url.as_deref())?;
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
    timer.mark("validate");
    // Cast members sent as an id alone come from the creator's Memory Graph.
    let validated = super::memory_looks::cast_from_graph(env, &creator, validated).await?;
    // Three reads that do not depend on each other, side by side: the pacing the Graph may
    // supply, the tier's budget and shot caps, and an assembly route. Each refuses before the
    // Idempotency-Key or anything else is written.
    let (pacing, tier, route) = futures::join!(
        require_pacing(env, &creator, &validated.brief),
        crate::tier_caps::check(env, &creator, &validated.brief),
        crate::assembly_route::ensure(env, &registry),
    );
    pacing?;
    let tier = tier?;
    route?;
    timer.mark("checks");
    let now = clock::now();
    let job_id = match idempotency_key.as_deref() {
        Some(key) => keyed_job_id(env, &creator, key, now).await?,
        None => random_job_id()?,
    };
    let body_hash = hex::encode(Sha256::digest(&body));
    let brief = validated.brief;
    // Renders in flight, counted and admitted, and the render's index row, in one D1 batch
    // before the job is created.
    crate::tier_caps::admit_and_index(env, &creator, &job_id, &brief.project_id, tier.caps, now)
        .await?;
    timer.mark("admit");
    let create = json!({
        "job_id": job_id,
        "creator": creator,
        "brief": brief,
        "paid_tier": tier.paid,
        "submitted_by": principal.audit_name(),
        "seed": random_seed()?,
        "body_hash": body_hash,
        "idempotency_key": idempotency_key,
        "registry": registry,
        "fleet": config::fleet_gates(env).then_some(tier.caps),
    });
    timer.mark("encode");
    let stub = job_stub(env, &job_id)?;
    let answer = job_request(&stub, Method::Post, "/create", Some(&create), &[]).await?;
    let (status, text, object_timing) = read_job_answer(answer, &["server-timing"]).await?;
    timer.mark("job");
    match status {
        200 | 201 => {
            // The object's view goes out as it wrote it: a 500-shot view is large, and
            // decoding it only to encode it again costs the Worker milliseconds.
            let mut resp = Response::ok(text)
                .or_internal("encoding response")?
                .with_status(202);
            let headers = resp.headers_mut();
            headers
                .set("content-type", "application/json")
                .or_internal("content-type")?;
            headers
                .set("location", &format!("/v1/renders/{job_id}"))
                .or_internal("location")?;
            // The object's own phases, prefixed, after the Worker's
            let mut timing = timer.header();
            for phase in object_timing
                .iter()
                .flat_map(|(_, value)| value.split(','))
                .map(str::trim)
                .filter(|p| !p.is_empty())
            {
                timing.push_str(", job-");
                timing.push_str(phase);
            }
            headers
                .set("server-timing", &timing)
                .or_internal("server-timing")?;
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

/// 400 naming `webhook_url` unless the brief's status webhook may go there: https to a public
/// address (loopback too with `ENVIRONMENT=dev`; the rules are the core's)
fn check_webhook(env: &Env, url: Option<&str>) -> Result<(), ApiError> {
    let Some(url) = url else {
        return Ok(());
    };
    let policy = WebhookUrlPolicy {
        allow_loopback: config::lookup(env, "ENVIRONMENT").as_deref() == Some("dev"),
    };
    check_webhook_url(url, policy).map_err(|e| {
        ApiError::bad_field("invalid_brief", "webhook_url", format!("webhook_url {e}"))
    })
}

fn creator_query(creator: &CreatorId) -> String {
    worker::url::form_urlencoded::Serializer::new(String::new())
        .append_pair("creator", creator.as_str())
        .finish()
}

/// `GET /v1/renders/{id}` with `ETag` / `If-None-Match`, and `?wait=N` (N <= 60): the job
/// object holds the request until the job changes or N seconds pass
pub(crate) async fn get(req: &Request, env: &Env, id: &str) -> Result<Response, ApiError> {
    let principal = authenticate(req, env).await?;
    let creator = require_app(&principal)?;
    let mut wait = 0;
    for (k, v) in query_pairs(req)? {
        if k == "wait" {
            wait = bounded_param("wait", &v, 0, MAX_WAIT_SECS)?;
        }
    }
    let job = indexed_job(env, id, Some(&creator)).await?;
    let stub = job_stub(env, &job)?;
    let mut headers = Vec::new();
    if let Some(tag) = req.headers().get("if-none-match").ok().flatten() {
        headers.push(("if-none-match", tag));
    }
    let path = format!("/view?{}&wait={wait}", creator_query(&creator));
    let mut resp = job_request(&stub, Method::Get, &path, None, &headers).await?;
    let status = resp.status_code();
    let tag = resp.headers().get("etag").ok().flatten();
    let mut out = match status {
        200 => {
            let view = object_fetch::response_text(&resp)
                .await
                .or_internal("reading view")?;
            // The ETag covers the state, not the signed links, whose expiry moves window by window.
            // The view is spliced as text, never parsed: polls are most of what the Worker serves.
            let signed = media_links::sign_text(env, &view, clock::now(), DOWNLOAD_LINK_LIFETIME)?;
            json_text_response(signed)?
        }
        304 => Response::empty().or_internal("empty")?.with_status(304),
        404 => return Err(ApiError::NotFound(format!("no render {id}"))),
        _ => {
            let text = resp.text().await.unwrap_or_default();
            return Err(ApiError::Internal(format!(
                "job object answered {status}: {text}"
            )));
        }
    };
    if let Some(tag) = tag {
        out.headers_mut().set("etag", &tag).or_internal("etag")?;
    }
    out.headers_mut()
        .set("cache-control", "private, no-cache")
        .or_internal("cache-control")?;
    Ok(out)
}

/// `GET /v1/renders/{id}/events`: Server-Sent Events from the job object, a snapshot first,
/// then one event per status and per stage change; the stream ends with the job
pub(crate) async fn events(req: &Request, env: &Env, id: &str) -> Result<Response, ApiError> {
    let principal = authenticate(req, env).await?;
    let creator = require_app(&principal)?;
    let job = indexed_job(env, id, Some(&creator)).await?;
    let stub = job_stub(env, &job)?;
    // The job object caps open streams per key and per job.
    let path = format!(
        "/events?{}&key={}",
        creator_query(&creator),
        principal.key_id
    );
    let mut resp = job_request(&stub, Method::Get, &path, None, &[]).await?;
    match resp.status_code() {
        200 => Ok(resp),
        404 => Err(ApiError::NotFound(format!("no render {id}"))),
        429 => Err(ApiError::RateLimited {
            retry_after: studio::time::Millis::from_secs(5),
        }),
        status => {
            let text = resp.text().await.unwrap_or_default();
            Err(ApiError::Internal(format!(
                "job object answered {status}: {text}"
            )))
        }
    }
}

/// `POST /v1/renders/{id}/cancel`
pub(crate) async fn cancel(req: &Request, env: &Env, id: &str) -> Result<Response, ApiError> {
    let principal = authenticate(req, env).await?;
    let creator = require_app(&principal)?;
    let job = indexed_job(env, id, Some(&creator)).await?;
    let stub = job_stub(env, &job)?;
    let (status, view, text) = call_job(
        stub,
        Method::Post,
        "/cancel",
        Some(&json!({ "by": format!("app:{}", principal.audit_name()) })),
    )
    .await?;
    match status {
        200 => json_response(&view, 200),
        404 => Err(ApiError::NotFound(format!("no render {id}"))),
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
/// newest first, paged by a `(created_at, job_id)` cursor
pub(crate) async fn list(req: Request, env: &Env) -> Result<Response, ApiError> {
    let principal = authenticate(&req, env).await?;
    let creator = require_app(&principal)?;
    let mut project = None;
    let mut status = None;
    let mut limit = 20;
    let mut cursor = Cursor::start();
    for (k, v) in query_pairs(&req)? {
        match k.as_str() {
            "project" => project = Some(v),
            "status" => status = Some(status_param("status", &v)?),
            "limit" => limit = bounded_param("limit", &v, 1, 100)?,
            "cursor" => cursor = Cursor::parse(&v)?,
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
             AND (created_at < ?4 OR (created_at = ?4 AND job_id < ?5)) \
             ORDER BY created_at DESC, job_id DESC LIMIT ?6",
        )
        .bind(&[
            creator.as_str().into(),
            project.map_or(JsValue::NULL, JsValue::from),
            status.map_or(JsValue::NULL, |s| JsValue::from(s.as_str())),
            JsValue::from_f64(cursor.created_at as f64),
            cursor.job_id.as_str().into(),
            JsValue::from_f64(limit as f64),
        ])
        .or_internal("binding list")?
        .all()
        .await
        .or_internal("listing renders")?
        .results()
        .or_internal("decoding renders")?;
    let next = (rows.len() as u64 == limit)
        .then(|| rows.last().map(|r| Cursor::after(r.created_at, &r.job_id)))
        .flatten();
    json_response(&json!({ "renders": rows, "next_cursor": next }), 200)
}
