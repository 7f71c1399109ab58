//! The job object's internal HTTP interface, called only by the Worker (never exposed).

use std::rc::Rc;
use std::time::Duration;

use futures::future::{Either, select};
use serde::Deserialize;
use serde_json::{Value, json};
use studio::api::tier_limits::Tier;
use studio::brief::Brief;
use studio::ids::{Attempt, CreatorId, DeliveryId, JobId, ModelId, ProviderRef, StageId};
use studio::job::{Created, Input, JobError, SupportAction, ViewText};
use studio::providers::{CallbackEvent, ProviderKind};
use studio::routing::Registry;
use worker::{Delay, Method, Request, Response, Result};

use super::store;
use super::{Inner, StepError};
use crate::clock;
use crate::object_sql;
use crate::server_timing::PhaseTimer;
use studio::journal::Actor;

/// The longest a long-poll is held, seconds (`?wait=` above it is a 400 at the Worker)
pub(crate) const MAX_WAIT_SECS: u64 = 60;

/// `POST /create`
#[derive(Deserialize)]
pub(crate) struct CreateRequest {
    pub job_id: JobId,
    pub creator: CreatorId,
    pub brief: Brief,
    pub paid_tier: bool,
    pub submitted_by: String,
    pub seed: u64,
    /// `Some(tier)`: the job takes its submit slots at the providers' gates
    #[serde(default)]
    pub fleet: Option<Tier>,
    /// The registry version the API checked the brief against (the newest when absent)
    #[serde(default)]
    pub registry: Option<Registry>,
    /// Fingerprint of the creating request (creator + body), for idempotency
    pub body_hash: String,
    pub idempotency_key: Option<String>,
}

/// `POST /callback`: a verified, parsed provider callback
#[derive(Deserialize)]
pub(crate) struct CallbackRequest {
    pub provider: ProviderKind,
    pub stage: StageId,
    pub attempt: Attempt,
    pub provider_ref: Option<ProviderRef>,
    pub delivery_id: Option<DeliveryId>,
    pub event: CallbackEvent,
}

/// `POST /cancel`
#[derive(Deserialize)]
pub(crate) struct CancelRequest {
    pub by: String,
}

fn step_error(e: &StepError) -> Result<Response> {
    match e {
        StepError::NoJob => Response::error("no such job", 404),
        StepError::Job(err) => Response::error(err.to_string(), 409),
        StepError::Store(err) => Response::error(format!("job storage: {err}"), 500),
    }
}

fn view(inner: &Inner) -> Result<Response> {
    match current_view(inner) {
        Some(Ok(view)) => json_text(view.json.clone()),
        Some(Err(e)) => Response::error(format!("encoding view: {e}"), 500),
        None => Response::error("no such job", 404),
    }
}

/// A 200 whose body is JSON already encoded
fn json_text(text: String) -> Result<Response> {
    let mut resp = Response::ok(text)?;
    resp.headers_mut().set("content-type", "application/json")?;
    Ok(resp)
}

/// The view's JSON and its ETag, or `None` without a job
type CurrentView = Option<serde_json::Result<Rc<ViewText>>>;

/// The view encoded once per change of the job, with its ETag (a digest of the text; signed
/// links are added later by the Worker and are not part of it, so it changes only when the
/// state does), kept until the next change (see `Inner::keep_view`); only the stages that
/// changed are encoded again (`studio::job::CreatorViewText`). Support's actions read as plain
/// sentences (the support view has them whole).
fn current_view(inner: &Inner) -> CurrentView {
    if let Some(kept) = inner.kept_view() {
        return Some(Ok(kept));
    }
    let encoded = inner.with_job(|job| inner.view_parts.borrow_mut().encode(job))?;
    Some(encoded.map(|text| inner.keep_view(text)))
}

/// Whether an `If-None-Match` value names `tag`
fn matches(if_none_match: Option<&str>, tag: &str) -> bool {
    if_none_match.is_some_and(|v| v.split(',').any(|t| t.trim() == tag || t.trim() == "*"))
}

fn query(req: &Request) -> Result<Vec<(String, String)>> {
    Ok(req
        .url()?
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect())
}

fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Whether the job belongs to the creator the Worker named (`?creator=`), when it named one;
/// another creator's job answers exactly like a missing one
fn owned_by(inner: &Inner, pairs: &[(String, String)]) -> bool {
    match param(pairs, "creator") {
        Some(creator) => inner
            .with_job(|j| j.spec().creator.as_str() == creator)
            .unwrap_or(false),
        None => inner.with_job(|_| ()).is_some(),
    }
}

fn with_etag(resp: Response, tag: &str) -> Result<Response> {
    let mut resp = resp;
    resp.headers_mut().set("etag", tag)?;
    Ok(resp)
}

/// The view with its ETag, or 304 when `If-None-Match` names the tag
fn answer(current: CurrentView, if_none_match: Option<&str>) -> Result<Response> {
    match current {
        Some(Ok(view)) if matches(if_none_match, &view.etag) => {
            with_etag(Response::empty()?.with_status(304), &view.etag)
        }
        Some(Ok(view)) => with_etag(json_text(view.json.clone())?, &view.etag),
        Some(Err(e)) => Response::error(format!("encoding view: {e}"), 500),
        None => Response::error("no such job", 404),
    }
}

/// `GET /view?creator=&wait=N` with `If-None-Match`: the view now, or, with `wait`, once the job
/// changes or `wait` seconds pass (304 when the client's tag still matches by then)
async fn view_or_wait(inner: &Inner, req: &Request) -> Result<Response> {
    let pairs = query(req)?;
    if !owned_by(inner, &pairs) {
        return Response::error("no such job", 404);
    }
    let wait_secs = param(&pairs, "wait")
        .and_then(|w| w.parse::<u64>().ok())
        .unwrap_or(0)
        .min(MAX_WAIT_SECS);
    let if_none_match = req.headers().get("if-none-match")?;
    let inm = if_none_match.as_deref();
    let deadline = clock::now().0.saturating_add(wait_secs * 1000);
    let mut changed = false;
    loop {
        let current = current_view(inner);
        let fresh = match &current {
            Some(Ok(view)) => matches(inm, &view.etag),
            Some(Err(_)) | None => return answer(current, inm),
        };
        let remaining = deadline.saturating_sub(clock::now().0);
        // Answer now when there is nothing to wait for, when the client's tag is already stale,
        // or when a client without a tag has seen a change.
        let behind = inm.is_some() && !fresh;
        if remaining == 0 || behind || (inm.is_none() && changed) {
            return answer(current, inm);
        }
        // Held until the next step that changes the job, or the deadline. A step that changed
        // rows but not the view (the tag still matches) keeps the request waiting.
        let change = inner.live.next_change();
        let timer = Box::pin(Delay::from(Duration::from_millis(remaining)));
        if let Either::Right(_) = select(change, timer).await {
            return answer(current_view(inner), inm);
        }
        changed = true;
    }
}

/// `GET /events?creator=`: Server-Sent Events, from a snapshot to the terminal status
fn events(inner: &Inner, req: &Request) -> Result<Response> {
    let pairs = query(req)?;
    if !owned_by(inner, &pairs) {
        return Response::error("no such job", 404);
    }
    // Streams are capped per API key (the Worker names the key) and per job.
    let key = param(&pairs, "key").unwrap_or_default().to_owned();
    let seq = store::last_seq(&inner.state.storage().sql())?;
    let stream = {
        let slot = inner.job.borrow();
        let Some(job) = slot.as_ref() else {
            return Response::error("no such job", 404);
        };
        inner.live.subscribe(job, seq, &key)
    };
    let stream = match stream {
        Ok(stream) => stream,
        Err(refused) => return Response::error(refused.to_string(), 429),
    };
    let mut resp = Response::from_stream(stream)?;
    let headers = resp.headers_mut();
    headers.set("content-type", "text/event-stream; charset=utf-8")?;
    headers.set("cache-control", "no-cache")?;
    Ok(resp)
}

async fn create(inner: &Rc<Inner>, mut req: Request) -> Result<Response> {
    // A new object's storage was set up just before this request was handed here
    let mut timer = match inner.schema_ms.take() {
        Some(ms) => PhaseTimer::after("schema", ms),
        None => PhaseTimer::start(),
    };
    let mut body: CreateRequest = object_sql::read_json(&mut req).await?;
    timer.mark("parse");
    // The registry is settled before the idempotency check below, which must not be split from
    // the create by an `await`.
    let registry = match body.registry.take() {
        Some(r) => r,
        None => crate::registry_client::latest(&inner.env).await,
    };
    if let Err(e) = inner.ensure_loaded() {
        return Response::error(format!("job storage: {e}"), 500);
    }
    timer.mark("load");
    let sql = inner.state.storage().sql();
    // The object is single-threaded and this check and the create below have no `await`
    // between them, so concurrent duplicates of one Idempotency-Key make exactly one job.
    if let Some(existing) = store::creation_hash(&sql)? {
        return if existing == body.body_hash {
            view(inner).map(|r| r.with_status(200))
        } else {
            Response::error("idempotency key reused with a different request", 409)
        };
    }
    let created = Created {
        job_id: body.job_id,
        creator: body.creator,
        brief: body.brief,
        seed: body.seed,
        registry,
        paid_tier: body.paid_tier,
        submitted_by: body.submitted_by.clone(),
        fleet: body.fleet,
    };
    // The fingerprint commits with the job's first step: a job never exists without it.
    let fingerprint = store::creation_statement(&body.body_hash, body.idempotency_key.as_deref());
    let effects = match inner.create(
        clock::now(),
        &Actor::App {
            by: body.submitted_by,
        },
        created,
        vec![fingerprint],
    ) {
        Ok(effects) => effects,
        Err(e) => return step_error(&e),
    };
    // Plan, route and the first step's writes
    timer.mark("step");
    // The alarm is armed before the answer leaves: a crash right after `/create` answered must
    // still find the job's first deadline (the memory context's) armed.
    inner.sync_alarm().await;
    timer.mark("alarm");
    inner.spawn_after_answer(effects);
    let mut resp = view(inner)?.with_status(201);
    timer.mark("view");
    resp.headers_mut().set("server-timing", &timer.header())?;
    Ok(resp)
}

async fn callback(inner: &Rc<Inner>, mut req: Request) -> Result<Response> {
    let cb: CallbackRequest = object_sql::read_json(&mut req).await?;
    let actor = Actor::Provider {
        provider: cb.provider,
    };
    let now = clock::now();
    let input = match cb.event {
        // The core refuses it when the attempt runs on another provider's model.
        CallbackEvent::Status { status } => Input::Callback {
            provider: cb.provider,
            stage: cb.stage,
            attempt: cb.attempt,
            status,
            delivery_id: cb.delivery_id,
        },
        // Sora's webhook says only "something changed": poll now, through the same effect
        // the job uses for its own polls (so the result is fenced by attempt like any other).
        CallbackEvent::FetchStatus => {
            let Some(provider_ref) = cb.provider_ref else {
                return Response::error("callback names no task", 400);
            };
            let runs_on = inner.with_job(|j| j.attempt_provider(&cb.stage, cb.attempt));
            if runs_on.flatten().is_some_and(|p| p != cb.provider) {
                return Response::error("callback for another provider's attempt", 409);
            }
            let effects = inner.poll_now(&cb.stage, cb.attempt, provider_ref);
            inner.spawn(effects);
            return Response::from_json(&json!({ "accepted": true }));
        }
        CallbackEvent::Challenge { .. } | CallbackEvent::Ignore => {
            return Response::from_json(&json!({ "accepted": true }));
        }
    };
    match inner.step(now, &actor, input) {
        Ok(effects) => {
            inner.spawn(effects);
            Response::from_json(&json!({ "accepted": true }))
        }
        Err(e) => step_error(&e),
    }
}

/// `POST /slot`: a provider's gate pushes a slot the job waited for
#[derive(Deserialize)]
struct SlotRequest {
    stage: StageId,
    attempt: Attempt,
    model: ModelId,
}

async fn slot_granted(inner: &Rc<Inner>, mut req: Request) -> Result<Response> {
    let body: SlotRequest = object_sql::read_json(&mut req).await?;
    let input = Input::SlotGranted {
        stage: body.stage,
        attempt: body.attempt,
        model: body.model,
    };
    match inner.step(clock::now(), &Actor::System, input) {
        Ok(effects) => {
            inner.spawn(effects);
            Response::from_json(&json!({ "taken": true }))
        }
        Err(e) => step_error(&e),
    }
}

async fn cancel(inner: &Rc<Inner>, mut req: Request) -> Result<Response> {
    let body: CancelRequest = object_sql::read_json(&mut req).await?;
    match inner.step(
        clock::now(),
        &Actor::App {
            by: body.by.clone(),
        },
        Input::Cancel { by: body.by },
    ) {
        Ok(effects) => {
            inner.spawn(effects);
            view(inner)
        }
        Err(e) => step_error(&e),
    }
}

fn journal(inner: &Inner, req: &Request) -> Result<Response> {
    if inner.with_job(|_| ()).is_none() {
        return Response::error("no such job", 404);
    }
    let pairs = query(req)?;
    let after = param(&pairs, "after")
        .and_then(|v| v.parse::<i64>().ok())
        .unwrap_or(0)
        .max(0);
    let limit = param(&pairs, "limit")
        .and_then(|v| v.parse::<i64>().ok())
        .unwrap_or(100)
        .clamp(1, 500);
    let rows = store::journal_page(&inner.state.storage().sql(), after, limit)?;
    let entries = match decode_entries(&rows) {
        Ok(entries) => entries,
        Err(e) => return Response::error(format!("journal: {e}"), 500),
    };
    // A full page may have more behind it; a short one is the end (for now).
    let full = i64::try_from(entries.len()).unwrap_or(i64::MAX) >= limit;
    let next_after = entries.last().filter(|_| full).map(|e| e.seq);
    Response::from_json(&json!({ "entries": entries, "next_after": next_after }))
}

fn decode_entries(
    rows: &[store::JournalRow],
) -> std::result::Result<Vec<studio::journal::JournalEntry>, store::StoreError> {
    rows.iter().map(store::JournalRow::entry).collect()
}

/// The support view's header with the job object's SQLite size, bytes
pub(crate) const STORAGE_BYTES_HEADER: &str = "x-job-storage-bytes";
/// The support view's header with how long the object's last load from SQLite took, ms
pub(crate) const LOAD_MS_HEADER: &str = "x-job-load-ms";

/// `GET /support`: everything support needs about the job, any creator's
fn support_view(inner: &Inner) -> Result<Response> {
    let now = clock::now();
    let sql = inner.state.storage().sql();
    let journal_length = store::last_seq(&sql)?;
    // Steps that changed nothing are counted, not journaled: support sees how many, by kind.
    let skipped: serde_json::Map<String, Value> = store::skipped_counts(&sql)?
        .into_iter()
        .map(|(kind, n)| (kind.as_str().to_owned(), json!(n)))
        .collect();
    let built = inner.with_job(|job| -> std::result::Result<Value, serde_json::Error> {
        let mut view = serde_json::to_value(job.view())?;
        let specs: std::collections::HashMap<&str, &studio::plan::StageSpec> = job
            .stages()
            .iter()
            .map(|r| (r.spec.id.as_str(), &r.spec))
            .collect();
        // Each attempt with the provider its model belongs to, next to the provider's task id.
        if let Some(stages) = view["stages"].as_array_mut() {
            for stage in stages {
                if let Some(attempts) = stage["attempts"].as_array_mut() {
                    for attempt in attempts {
                        let provider = attempt["model"]
                            .as_str()
                            .and_then(|m| job.spec().registry.get(&ModelId(m.to_owned())))
                            .map(|spec| spec.provider);
                        attempt["provider"] = serde_json::to_value(provider)?;
                    }
                }
                // How the creator's Memory Graph shaped the stage: the final prompt (and
                // negative prompt, language) sent, and the Graph rows behind them.
                let shaping = stage["id"]
                    .as_str()
                    .and_then(|id| specs.get(id))
                    .map(|spec| spec.shaping());
                if let Some(shaping) = shaping {
                    stage["shaping"] = serde_json::to_value(shaping)?;
                }
                // The models support may reroute it to now (the page offers only these).
                if let Some(id) = stage["id"].as_str() {
                    let options = job.reroute_options(now, &StageId(id.to_owned()));
                    stage["reroute_options"] = serde_json::to_value(options)?;
                }
            }
        }
        let edges: Vec<Value> = job
            .stages()
            .iter()
            .flat_map(|row| {
                row.spec
                    .deps
                    .iter()
                    .map(|dep| json!({ "from": dep, "to": row.spec.id }))
            })
            .collect();
        let spec = job.spec();
        view["submitted_by"] = json!(spec.submitted_by);
        view["created_at"] = json!(spec.created_at);
        view["project_id"] = json!(spec.brief.project_id);
        view["paid_tier"] = json!(spec.paid_tier);
        view["memory_context_used"] = json!(spec.memory.is_some());
        view["edges"] = Value::Array(edges);
        view["journal_length"] = json!(journal_length);
        view["skipped_steps"] = Value::Object(skipped);
        // Index, ledger and memory writes not yet acknowledged (re-issued from the alarm).
        view["pending_writes"] = serde_json::to_value(&job.header().writes)?;
        Ok(view)
    });
    match built {
        Some(Ok(v)) => {
            // The job's footprint, for support and the scale benchmark: its SQLite bytes and
            // how long loading them took when the object last started
            let mut resp = Response::from_json(&v)?;
            let headers = resp.headers_mut();
            headers.set(STORAGE_BYTES_HEADER, &sql.database_size().to_string())?;
            if let Some(ms) = inner.load_ms() {
                headers.set(LOAD_MS_HEADER, &ms.to_string())?;
            }
            Ok(resp)
        }
        Some(Err(e)) => Response::error(format!("encoding support view: {e}"), 500),
        None => Response::error("no such job", 404),
    }
}

/// `POST /support/action`: a support action from the Worker (who, why, what)
#[derive(Deserialize)]
pub(crate) struct SupportRequest {
    pub by: String,
    pub reason: String,
    pub action: Value,
}

fn refusal(status: u16, field: Option<&str>, message: &str) -> Result<Response> {
    Response::from_json(&json!({ "field": field, "message": message }))
        .map(|r| r.with_status(status))
}

async fn support_action(inner: &Rc<Inner>, mut req: Request) -> Result<Response> {
    let body: SupportRequest = object_sql::read_json(&mut req).await?;
    let action: SupportAction = match serde_json::from_value(body.action) {
        Ok(action) => action,
        Err(e) => return refusal(400, Some("action"), &format!("unknown action: {e}")),
    };
    // Input checks that name a field (the core refuses these too, but as a conflict).
    let unknown = inner.with_job(|job| {
        if let Some(stage) = action.stage()
            && job.stage(stage).is_none()
        {
            return Some(("stage", format!("the job has no stage {stage}")));
        }
        if let SupportAction::Reroute { model, .. } = &action
            && job.spec().registry.get(model).is_none()
        {
            let version = job.spec().registry.version;
            return Some((
                "model",
                format!("{model} is not in the job's registry v{version}"),
            ));
        }
        None
    });
    match unknown {
        None => return Response::error("no such job", 404),
        Some(Some((field, message))) => return refusal(400, Some(field), &message),
        Some(None) => {}
    }
    let actor = Actor::Support {
        by: body.by.clone(),
    };
    let input = Input::Support {
        by: body.by,
        reason: body.reason,
        action,
    };
    match inner.step(clock::now(), &actor, input) {
        Ok(effects) => {
            inner.spawn(effects);
            Response::from_json(&json!({ "accepted": true }))
        }
        Err(StepError::NoJob) => Response::error("no such job", 404),
        Err(StepError::Job(JobError::UnknownStage { stage, .. })) => {
            refusal(400, Some("stage"), &format!("the job has no stage {stage}"))
        }
        Err(StepError::Job(e)) => refusal(409, None, &e.to_string()),
        Err(StepError::Store(e)) => Response::error(format!("job storage: {e}"), 500),
    }
}

/// Dispatches an internal request
pub(crate) async fn handle(inner: &Rc<Inner>, req: Request) -> Result<Response> {
    if let Err(e) = inner.ensure_loaded() {
        return Response::error(format!("job storage: {e}"), 500);
    }
    inner.resume_if_overdue();
    let path = req.path();
    match (req.method(), path.as_str()) {
        (Method::Post, "/create") => create(inner, req).await,
        (Method::Get, "/view") => view_or_wait(inner, &req).await,
        (Method::Get, "/events") => events(inner, &req),
        (Method::Post, "/callback") => callback(inner, req).await,
        (Method::Post, "/cancel") => cancel(inner, req).await,
        (Method::Post, "/slot") => slot_granted(inner, req).await,
        (Method::Get, "/journal") => journal(inner, &req),
        (Method::Get, "/support") => support_view(inner),
        (Method::Get, "/timeline") => super::timeline::timeline(inner),
        (Method::Post, "/support/action") => support_action(inner, req).await,
        _ => Response::error("unknown job route", 404),
    }
}
