//! Luma Dream Machine: Bearer, `callback_url` (Generation object on dreaming/completed/failed).
//!
//! - `POST /luma/dream-machine/v1/generations` (or `/generations/video`) -> Generation (`state: "queued"`)
//! - `GET /luma/dream-machine/v1/generations/{id}` -> `queued | dreaming | completed | failed`, `assets.video`
//! - `GET /luma/dream-machine/v1/generations?limit=&offset=` -> `{generations, count, has_more,
//!   limit, offset}`, newest first; each Generation carries its `request`, `callback_url`
//!   included (SDK `lumalabs/lumaai-python`: `api.md`, `types/generation_list_response.py`,
//!   `types/generation.py`)
//! - `GET /luma/assets/{id}/{video.mp4|thumb.png}` serves the output (the thumbnail is a still
//!   of the video's size and look)

use std::time::Instant;

use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::{Admission, Failure, Provider, Submission, admit, reject};
use crate::delivery::{Outgoing, Signer};
use crate::http::{self, SimRequest};
use crate::media::{self, MediaKind, Shape};
use crate::state::{Outcome, Phase, Sim, Task};
use crate::util;

const P: Provider = Provider::Luma;
const DEV_KEY: &str = "sim-luma-key";
/// The page size when `limit` is absent, and the largest honoured
const DEFAULT_LIMIT: usize = 10;
const MAX_LIMIT: usize = 100;

/// Renders a failure as Luma's `{"detail": ...}`
pub fn error(f: &Failure) -> (StatusCode, Value) {
    let detail = match f {
        Failure::MissingAuth => "Not authenticated".to_string(),
        Failure::BadAuth(_) => "Invalid API key".to_string(),
        Failure::RateLimited => "Too many requests".to_string(),
        Failure::ServerError => "Internal server error".to_string(),
        _ => f.message(),
    };
    (f.status(), json!({ "detail": detail }))
}

/// Routes `/luma/...`
pub async fn handle(sim: &Sim, req: SimRequest) -> Response {
    let segs = req.segs();
    if let (&Method::GET, ["assets", id, name]) = (&req.method, segs.as_slice()) {
        let kind = if name.ends_with(".png") {
            MediaKind::Png
        } else {
            MediaKind::Video
        };
        return match super::output(sim, P, id) {
            Ok(t) => super::serve_output(sim, P, &t, kind).await,
            Err(_) => http::raw(StatusCode::NOT_FOUND, "text/plain", b"Not Found".to_vec()),
        };
    }
    match req.auth("Bearer") {
        None | Some("") => return reject(sim, P, &Failure::MissingAuth),
        Some(DEV_KEY) => {}
        Some(_) => return reject(sim, P, &Failure::BadAuth("invalid key".to_string())),
    }
    match (&req.method, segs.as_slice()) {
        (&Method::POST, ["dream-machine", "v1", "generations"])
        | (&Method::POST, ["dream-machine", "v1", "generations", "video"]) => {
            submit(sim, &req).await
        }
        (&Method::GET, ["dream-machine", "v1", "generations"]) => list(sim, &req),
        (&Method::GET, ["dream-machine", "v1", "generations", id]) => match super::poll(sim, P, id)
        {
            Ok(t) => http::json(
                StatusCode::OK,
                &generation(sim, &t, t.phase_at(Instant::now())),
            ),
            Err(Some(r)) => r,
            Err(None) => reject(
                sim,
                P,
                &Failure::NotFound("Generation not found".to_string()),
            ),
        },
        _ => reject(sim, P, &Failure::NotFound("Not Found".to_string())),
    }
}

fn validate(m: &Map<String, Value>) -> Result<(String, String, f64), Failure> {
    let prompt = super::opt_str(m, "prompt")?.unwrap_or("");
    if prompt.trim().is_empty() && m.get("keyframes").is_none() {
        return Err(Failure::invalid("prompt", "prompt is required"));
    }
    let model = super::opt_str(m, "model")?.unwrap_or("ray-2").to_string();
    super::opt_enum(
        m,
        "aspect_ratio",
        &["1:1", "16:9", "9:16", "4:3", "3:4", "21:9", "9:21"],
    )?;
    super::opt_enum(m, "resolution", &["540p", "720p", "1080p", "4k"])?;
    let duration = super::opt_enum(m, "duration", &["5s", "9s", "10s"])?.unwrap_or("5s");
    if let Some(k) = m.get("keyframes") {
        for frame in ["frame0", "frame1"] {
            if let Some(f) = k.get(frame) {
                let ok = match f.get("type").and_then(Value::as_str) {
                    Some("image") => f.get("url").and_then(Value::as_str).is_some(),
                    Some("generation") => f.get("id").and_then(Value::as_str).is_some(),
                    _ => false,
                };
                if !ok {
                    return Err(Failure::invalid(
                        &format!("keyframes.{frame}"),
                        "keyframe must be {type: image, url} or {type: generation, id}",
                    ));
                }
            }
        }
    }
    let seconds = duration.trim_end_matches('s').parse().unwrap_or(5.0);
    Ok((prompt.to_string(), model, seconds))
}

async fn submit(sim: &Sim, req: &SimRequest) -> Response {
    let m = match req.json_object() {
        Ok(m) => m,
        Err(e) => return reject(sim, P, &Failure::body(e)),
    };
    let (prompt, model, seconds) = match validate(&m) {
        Ok(v) => v,
        Err(f) => return reject(sim, P, &f),
    };
    let callback = match super::opt_str(&m, "callback_url")
        .and_then(|u| super::url_field(u, "callback_url"))
    {
        Ok(u) => u,
        Err(f) => return reject(sim, P, &f),
    };
    let short = super::str_field(&m, "resolution")
        .and_then(media::resolution)
        .unwrap_or(720);
    let shape = Shape::video_aspect(super::str_field(&m, "aspect_ratio"), short, 24);
    let mut sub = Submission::new(&model, &prompt, Value::Object(m));
    sub.seconds = seconds;
    sub.shape = shape;
    sub.callback_url = callback;
    sub.ttl_ms = 30 * 24 * 3600 * 1000;
    match admit(sim, P, req, sub).await {
        Ok(Admission::New(t) | Admission::Replay(t)) => http::json(
            StatusCode::CREATED,
            &generation(sim, &t, t.phase_at(Instant::now())),
        ),
        Err(r) => r,
    }
}

/// A page of the account's generations, newest first
fn list(sim: &Sim, req: &SimRequest) -> Response {
    let number = |name: &str, default: usize| match req.query(name) {
        None | Some("") => Ok(default),
        Some(v) => v.parse::<usize>().map_err(|_| {
            reject(
                sim,
                P,
                &Failure::invalid(name, format!("{name} must be a whole number")),
            )
        }),
    };
    let (limit, offset) = match (number("limit", DEFAULT_LIMIT), number("offset", 0)) {
        (Ok(l), Ok(o)) => (l.clamp(1, MAX_LIMIT), o),
        (Err(r), _) | (_, Err(r)) => return r,
    };
    let mut tasks: Vec<Task> = sim.with(|s| {
        s.tasks
            .values()
            .filter(|t| t.provider == P)
            .cloned()
            .collect()
    });
    tasks.sort_by(|a, b| {
        b.created_unix_ms
            .cmp(&a.created_unix_ms)
            .then_with(|| b.id.cmp(&a.id))
    });
    let now = Instant::now();
    let page: Vec<Value> = tasks
        .iter()
        .skip(offset)
        .take(limit)
        .map(|t| generation(sim, t, t.phase_at(now)))
        .collect();
    http::json(
        StatusCode::OK,
        &json!({
            "count": page.len(),
            "has_more": tasks.len() > offset.saturating_add(limit),
            "limit": limit,
            "offset": offset,
            "generations": page,
        }),
    )
}

/// The Generation object at `phase`
fn generation(sim: &Sim, t: &Task, phase: Phase) -> Value {
    let (state, failure, assets) = match (phase, &t.outcome) {
        (Phase::Queued, _) => ("queued", Value::Null, Value::Null),
        (Phase::Running, _) => ("dreaming", Value::Null, Value::Null),
        (Phase::Done, Outcome::Succeeded) => (
            "completed",
            Value::Null,
            json!({
                "video": sim.url(P, &format!("assets/{}/video.mp4", t.id)),
                "image": sim.url(P, &format!("assets/{}/thumb.png", t.id)),
                "progress_video": Value::Null,
            }),
        ),
        (Phase::Done, Outcome::Moderated) => (
            "failed",
            json!("400: prompt not allowed because advanced moderation failed"),
            Value::Null,
        ),
        (Phase::Done, Outcome::Failed(reason)) => ("failed", json!(reason), Value::Null),
    };
    // The request as made, `callback_url` included, as the SDK's `Generation.request` has it
    let request = t.input.clone();
    json!({
        "id": t.id,
        "generation_type": "video",
        "state": state,
        "failure_reason": failure,
        "created_at": util::rfc3339(t.created_unix_ms),
        "assets": assets,
        "model": t.model,
        "request": request,
    })
}

/// The callback: the Generation object, unsigned, to `callback_url`
pub fn callback(sim: &Sim, t: &Task, phase: Phase) -> Option<Outgoing> {
    let url = t.callback_url.as_deref()?;
    Some(Outgoing::json(
        url,
        &generation(sim, t, phase),
        Signer::None,
    ))
}
