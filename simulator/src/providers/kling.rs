//! Kling: HS256 JWT auth (iss = access key), `callback_url`, `external_task_id`.
//!
//! - `POST /kling/v1/videos/{text2video|image2video}` -> `{code: 0, data: {task_id, task_status: "submitted"}}`
//! - `POST /kling/v1/videos/multi-image2video` (`kling-v1-6`, `image_list: [{image}]`, 1 to 4):
//!   the same task, polled at `/kling/v1/videos/multi-image2video/{task_id}`
//! - `GET /kling/v1/videos/{text2video|image2video}/{task_id}` -> `submitted | processing | succeed | failed`
//! - callbacks POST the task object (no signature) on `processing` and on the terminal status
//! - `GET /kling/cdn/{task_id}.mp4` serves the video

use std::time::Instant;

use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::{Admission, Failure, Provider, Submission, admit, reject};
use crate::delivery::{Outgoing, Signer};
use crate::http::{self, SimRequest};
use crate::media::Shape;
use crate::signing::{self, SignError};
use crate::state::{Outcome, Phase, Sim, Task};
use crate::util;

const P: Provider = Provider::Kling;
/// The dev access key (JWT `iss`)
pub const ACCESS_KEY: &str = "sim-kling-ak";
/// The dev secret key (JWT HS256 key)
pub const SECRET_KEY: &str = "sim-kling-sk";

/// Renders a failure as Kling's `{code, message, request_id}`
pub fn error(f: &Failure) -> (StatusCode, Value) {
    let code = match f {
        Failure::MissingAuth => 1001,
        Failure::BadAuth(m) if m.contains("expired") => 1004,
        Failure::BadAuth(m) if m.contains("not yet valid") => 1003,
        Failure::BadAuth(_) => 1002,
        Failure::Invalid { .. } => 1201,
        Failure::NotFound(_) => 1203,
        Failure::RateLimited => 1302,
        Failure::ServerError => 5000,
        Failure::Timeout => 5002,
    };
    let message = match f {
        Failure::MissingAuth => "Authorization is empty".to_string(),
        Failure::RateLimited => "The API request is too fast, please slow down".to_string(),
        Failure::ServerError => "Server internal error".to_string(),
        _ => f.message(),
    };
    (
        f.status(),
        json!({"code": code, "message": message, "request_id": request_id(&message)}),
    )
}

fn request_id(seed: &str) -> String {
    util::uuid(
        util::hash64(&[seed.as_bytes(), &util::now_unix_ms().to_le_bytes()]),
        util::now_unix_ms(),
    )
}

fn check_jwt(req: &SimRequest) -> Result<(), Failure> {
    let Some(token) = req.auth("Bearer").filter(|t| !t.is_empty()) else {
        return Err(Failure::MissingAuth);
    };
    signing::verify_kling_jwt(token, ACCESS_KEY, SECRET_KEY, util::now_unix_s()).map_err(|e| {
        Failure::BadAuth(match e {
            SignError::Expired => "Authorization token expired".to_string(),
            SignError::NotYetValid => "Authorization token not yet valid".to_string(),
            other => format!("Authorization is invalid: {other}"),
        })
    })
}

/// Routes `/kling/...`
pub async fn handle(sim: &Sim, req: SimRequest) -> Response {
    let segs = req.segs();
    if let (&Method::GET, ["cdn", file]) = (&req.method, segs.as_slice()) {
        return download(sim, file).await;
    }
    if let Err(f) = check_jwt(&req) {
        return reject(sim, P, &f);
    }
    match (&req.method, segs.as_slice()) {
        (
            &Method::POST,
            [
                "v1",
                "videos",
                kind @ ("text2video" | "image2video" | "multi-image2video"),
            ],
        ) => submit(sim, &req, kind).await,
        (
            &Method::GET,
            [
                "v1",
                "videos",
                kind @ ("text2video" | "image2video" | "multi-image2video"),
                id,
            ],
        ) => match super::poll(sim, P, id) {
            Ok(t) if t.aux == *kind => {
                let data = task_object(sim, &t, t.phase_at(Instant::now()));
                http::json(
                    StatusCode::OK,
                    &json!({"code": 0, "message": "SUCCEED", "request_id": request_id(id), "data": data}),
                )
            }
            Err(Some(r)) => r,
            Ok(_) | Err(None) => reject(sim, P, &Failure::NotFound("task not found".to_string())),
        },
        _ => reject(sim, P, &Failure::NotFound("resource not found".to_string())),
    }
}

fn validate(kind: &str, m: &Map<String, Value>) -> Result<(String, f64), Failure> {
    let prompt = super::opt_str(m, "prompt")?.unwrap_or("");
    if prompt.chars().count() > 2500 {
        return Err(Failure::invalid(
            "prompt",
            "prompt must be at most 2500 characters",
        ));
    }
    if kind == "text2video" && prompt.trim().is_empty() {
        return Err(Failure::invalid("prompt", "prompt is required"));
    }
    if kind == "multi-image2video" {
        image_list(m)?;
    }
    if kind == "image2video"
        && super::opt_str(m, "image")?.is_none_or(str::is_empty)
        && super::opt_str(m, "image_tail")?.is_none_or(str::is_empty)
    {
        return Err(Failure::invalid("image", "image is required"));
    }
    super::opt_enum(m, "mode", &["std", "pro"])?;
    super::opt_enum(m, "aspect_ratio", &["16:9", "9:16", "1:1"])?;
    super::opt_enum(m, "sound", &["on", "off"])?;
    let seconds = match m.get("duration") {
        None => 5.0,
        Some(v) => match super::loose_number(v) {
            Some(s) if s == 5.0 || s == 10.0 => s,
            _ => {
                return Err(Failure::invalid(
                    "duration",
                    "duration must be \"5\" or \"10\"",
                ));
            }
        },
    };
    Ok((prompt.to_string(), seconds))
}

/// The images of `multi-image2video`: `image_list: [{image}]`, 1 to 4 non-empty URLs or base64
/// strings, with `model_name` `kling-v1-6` (the only model Kling documents for it)
fn image_list(m: &Map<String, Value>) -> Result<usize, Failure> {
    let Some(Value::Array(list)) = m.get("image_list") else {
        return Err(Failure::invalid("image_list", "image_list is required"));
    };
    if list.is_empty() || list.len() > 4 {
        return Err(Failure::invalid(
            "image_list",
            "image_list must hold 1 to 4 images",
        ));
    }
    let ok = list.iter().all(|i| {
        i.get("image")
            .and_then(Value::as_str)
            .is_some_and(|s| !s.trim().is_empty())
    });
    if !ok {
        return Err(Failure::invalid(
            "image_list",
            "every image_list entry needs an image",
        ));
    }
    if super::str_field(m, "model_name") != Some("kling-v1-6") {
        return Err(Failure::invalid(
            "model_name",
            "multi-image to video supports kling-v1-6 only",
        ));
    }
    Ok(list.len())
}

async fn submit(sim: &Sim, req: &SimRequest, kind: &str) -> Response {
    let m = match req.json_object() {
        Ok(m) => m,
        Err(e) => return reject(sim, P, &Failure::body(e)),
    };
    let (prompt, seconds) = match validate(kind, &m) {
        Ok(v) => v,
        Err(f) => return reject(sim, P, &f),
    };
    let callback_url = match super::opt_str(&m, "callback_url")
        .and_then(|u| super::url_field(u, "callback_url"))
    {
        Ok(u) => u,
        Err(f) => return reject(sim, P, &f),
    };
    let external = match super::opt_str(&m, "external_task_id") {
        Ok(e) => e.filter(|e| !e.is_empty()).map(str::to_string),
        Err(f) => return reject(sim, P, &f),
    };
    let model = super::str_field(&m, "model_name")
        .unwrap_or("kling-v1")
        .to_string();
    // `std` renders 720p, `pro` 1080p; the frame follows `aspect_ratio` (default 16:9)
    let short = if super::str_field(&m, "mode") == Some("pro") {
        1080
    } else {
        720
    };
    let shape = Shape::video_aspect(super::str_field(&m, "aspect_ratio"), short, 24);
    // Every image of the list after the first (the scene) is a reference of the cast.
    let references = image_list(&m).map_or(0, |n| n.saturating_sub(1));
    let mut sub = Submission::new(&model, &prompt, Value::Object(m));
    sub.seconds = seconds;
    sub.shape = shape;
    sub.callback_url = callback_url;
    sub.provider_key = external;
    sub.aux = kind.to_string();
    sub.ttl_ms = 30 * 24 * 3600 * 1000;
    match admit(sim, P, req, sub).await {
        Ok(Admission::New(t) | Admission::Replay(t)) => {
            if references > 0 {
                sim.with(|s| {
                    *s.stats
                        .reference_images
                        .entry(P.as_str().to_string())
                        .or_insert(0) += references as u64;
                });
            }
            let data = json!({
                "task_id": t.id,
                "task_status": status(&t, t.phase_at(Instant::now())),
                "task_info": task_info(&t),
                "created_at": t.created_unix_ms,
                "updated_at": t.created_unix_ms,
            });
            http::json(
                StatusCode::OK,
                &json!({"code": 0, "message": "SUCCEED", "request_id": request_id(&t.id), "data": data}),
            )
        }
        Err(r) => r,
    }
}

fn status(t: &Task, phase: Phase) -> &'static str {
    match (phase, &t.outcome) {
        (Phase::Queued, _) => "submitted",
        (Phase::Running, _) => "processing",
        (Phase::Done, Outcome::Succeeded) => "succeed",
        (Phase::Done, _) => "failed",
    }
}

fn task_info(t: &Task) -> Value {
    match t.input.get("external_task_id").and_then(Value::as_str) {
        Some(e) => json!({"external_task_id": e}),
        None => json!({}),
    }
}

/// The task object of polls (`data`) and callbacks
fn task_object(sim: &Sim, t: &Task, phase: Phase) -> Value {
    let status = status(t, phase);
    let msg = match (phase, &t.outcome) {
        (Phase::Done, Outcome::Moderated) => "Failure to pass the risk control system".to_string(),
        (Phase::Done, Outcome::Failed(r)) => r.clone(),
        _ => String::new(),
    };
    let updated = match phase {
        Phase::Queued => t.created_unix_ms,
        Phase::Running => t.created_unix_ms + (t.completed_unix_ms() - t.created_unix_ms) / 5,
        Phase::Done => t.completed_unix_ms(),
    };
    let mut obj = json!({
        "task_id": t.id,
        "task_status": status,
        "task_status_msg": msg,
        "task_info": task_info(t),
        "created_at": t.created_unix_ms,
        "updated_at": updated,
    });
    if status == "succeed" {
        obj["final_unit_deduction"] = json!(if t.seconds > 5.0 { "2" } else { "1" });
        obj["task_result"] = json!({
            "videos": [{
                "id": format!("{}1", t.id),
                "url": sim.url(P, &format!("cdn/{}.mp4", t.id)),
                "duration": format!("{}", t.seconds),
            }]
        });
    }
    obj
}

/// The callback: the task object, unsigned, to `callback_url`
pub fn callback(sim: &Sim, t: &Task, phase: Phase) -> Option<Outgoing> {
    let url = t.callback_url.as_deref()?;
    Some(Outgoing::json(
        url,
        &task_object(sim, t, phase),
        Signer::None,
    ))
}

async fn download(sim: &Sim, file: &str) -> Response {
    let id = file.strip_suffix(".mp4").unwrap_or(file);
    match super::output(sim, P, id) {
        Ok(t) => super::serve_output(sim, P, &t, t.media).await,
        Err(_) => http::raw(StatusCode::NOT_FOUND, "text/plain", b"Not Found".to_vec()),
    }
}
