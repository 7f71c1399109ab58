//! The job object's internal HTTP interface, called only by the Worker (never exposed).

use std::rc::Rc;

use serde::Deserialize;
use serde_json::json;
use studio::brief::Brief;
use studio::ids::{Attempt, CreatorId, DeliveryId, JobId, ProviderRef, StageId};
use studio::job::{Created, Input};
use studio::providers::{CallbackEvent, ProviderKind};
use worker::{Method, Request, Response, Result};

use super::store;
use super::{Inner, StepError};
use crate::clock;
use crate::object_sql;
use studio::journal::Actor;

/// `POST /create`
#[derive(Deserialize)]
pub(crate) struct CreateRequest {
    pub job_id: JobId,
    pub creator: CreatorId,
    pub brief: Brief,
    pub paid_tier: bool,
    pub submitted_by: String,
    pub seed: u64,
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
    match inner.with_job(|job| serde_json::to_value(job.view())) {
        Some(Ok(v)) => Response::from_json(&v),
        Some(Err(e)) => Response::error(format!("encoding view: {e}"), 500),
        None => Response::error("no such job", 404),
    }
}

async fn create(inner: &Rc<Inner>, mut req: Request) -> Result<Response> {
    let body: CreateRequest = object_sql::read_json(&mut req).await?;
    if let Err(e) = inner.ensure_loaded() {
        return Response::error(format!("job storage: {e}"), 500);
    }
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
        registry: crate::config::registry(&inner.env),
        paid_tier: body.paid_tier,
        submitted_by: body.submitted_by.clone(),
    };
    let effects = match inner.create(
        clock::now(),
        &Actor::App {
            by: body.submitted_by,
        },
        created,
    ) {
        Ok(effects) => effects,
        Err(e) => return step_error(&e),
    };
    store::save_creation(&sql, &body.body_hash, body.idempotency_key.as_deref())?;
    inner.spawn(effects);
    view(inner).map(|r| r.with_status(201))
}

async fn callback(inner: &Rc<Inner>, mut req: Request) -> Result<Response> {
    let cb: CallbackRequest = object_sql::read_json(&mut req).await?;
    let actor = Actor::Provider {
        provider: cb.provider,
    };
    let now = clock::now();
    let input = match cb.event {
        CallbackEvent::Status { status } => Input::ProviderUpdate {
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
    let url = req.url()?;
    let mut after = 0;
    let mut limit = 100;
    for (k, v) in url.query_pairs() {
        match k.as_ref() {
            "after" => after = v.parse().unwrap_or(0),
            "limit" => limit = v.parse::<i64>().unwrap_or(100).clamp(1, 500),
            _ => {}
        }
    }
    let rows = store::journal_page(&inner.state.storage().sql(), after, limit)?;
    let entries = match rows
        .iter()
        .map(store::JournalRow::entry)
        .collect::<std::result::Result<Vec<_>, _>>()
    {
        Ok(entries) => entries,
        Err(e) => return Response::error(format!("journal: {e}"), 500),
    };
    let next_after = entries.last().map(|e| e.seq);
    Response::from_json(&json!({ "entries": entries, "next_after": next_after }))
}

/// Dispatches an internal request
pub(crate) async fn handle(inner: &Rc<Inner>, req: Request) -> Result<Response> {
    if let Err(e) = inner.ensure_loaded() {
        return Response::error(format!("job storage: {e}"), 500);
    }
    inner.resume_if_overdue();
    let path = req.path();
    match (req.method(), path.as_str()) {
        (Method::Get, "/__health") => {
            let pings = object_sql::health_ping(&inner.state.storage().sql())?;
            Response::from_json(&json!({ "ok": true, "pings": pings }))
        }
        (Method::Post, "/create") => create(inner, req).await,
        (Method::Get, "/view") => view(inner),
        (Method::Post, "/callback") => callback(inner, req).await,
        (Method::Post, "/cancel") => cancel(inner, req).await,
        (Method::Get, "/journal") => journal(inner, &req),
        _ => Response::error("unknown job route", 404),
    }
}
