//! Seedance on BytePlus ModelArk: Bearer, `callback_url` (the task object on status changes).
//!
//! - `POST /seedance/api/v3/contents/generations/tasks` -> `{"id": "cgt-..."}`
//! - `GET /seedance/api/v3/contents/generations/tasks/{id}` -> `queued | running | succeeded | failed | cancelled`, `content.video_url`
//! - `DELETE` the same path cancels a queued task
//! - `GET /seedance/outputs/{id}.mp4` serves the video (URLs live 24 h)

use std::time::Instant;

use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::{Admission, Failure, Provider, Submission, admit, reject};
use crate::delivery::{Outgoing, Signer};
use crate::http::{self, SimRequest};
use crate::media::{self, Shape};
use crate::state::{Outcome, Phase, Sim, Task};

const P: Provider = Provider::Seedance;
const DEV_KEY: &str = "sim-seedance-key";

/// Renders a failure as Ark's `{"error": {code, message, param, type}}`
pub fn error(f: &Failure) -> (StatusCode, Value) {
    let (code, kind, message) = match f {
        Failure::MissingAuth | Failure::BadAuth(_) => (
            "AuthenticationError",
            "Unauthorized",
            "The API key or AK/SK in the request is missing or invalid.".to_string(),
        ),
        Failure::Invalid { .. } => ("InvalidParameter", "BadRequest", f.message()),
        Failure::NotFound(m) => ("ResourceNotFound", "NotFound", m.clone()),
        Failure::RateLimited => (
            "RateLimitExceeded.EndpointRPMExceeded",
            "TooManyRequests",
            "Your account has exceeded the rate limit. Please try again later.".to_string(),
        ),
        Failure::ServerError => (
            "InternalServiceError",
            "InternalServerError",
            "The service encountered an unexpected internal error.".to_string(),
        ),
        Failure::Timeout => ("ServiceTimeout", "GatewayTimeout", f.message()),
    };
    let param = match f {
        Failure::Invalid { field: Some(p), .. } => p.clone(),
        _ => String::new(),
    };
    (
        f.status(),
        json!({"error": {"code": code, "message": message, "param": param, "type": kind}}),
    )
}

/// Routes `/seedance/...`
pub async fn handle(sim: &Sim, req: SimRequest) -> Response {
    let segs = req.segs();
    if let (&Method::GET, ["outputs", file]) = (&req.method, segs.as_slice()) {
        let id = file.strip_suffix(".mp4").unwrap_or(file);
        return match super::output(sim, P, id) {
            Ok(t) => super::serve_output(sim, P, &t, t.media).await,
            Err(_) => http::raw(
                StatusCode::FORBIDDEN,
                "text/plain",
                b"AccessDenied".to_vec(),
            ),
        };
    }
    match req.auth("Bearer") {
        None | Some("") => return reject(sim, P, &Failure::MissingAuth),
        Some(DEV_KEY) => {}
        Some(_) => return reject(sim, P, &Failure::BadAuth("invalid key".to_string())),
    }
    let not_found = |id: &str| Failure::NotFound(format!("The specified task {id} is not found."));
    match (&req.method, segs.as_slice()) {
        (&Method::POST, ["api", "v3", "contents", "generations", "tasks"]) => {
            submit(sim, &req).await
        }
        (&Method::GET, ["api", "v3", "contents", "generations", "tasks", id]) => {
            match super::poll(sim, P, id) {
                Ok(t) => http::json(
                    StatusCode::OK,
                    &task_object(sim, &t, t.phase_at(Instant::now())),
                ),
                Err(Some(r)) => r,
                Err(None) => reject(sim, P, &not_found(id)),
            }
        }
        (&Method::DELETE, ["api", "v3", "contents", "generations", "tasks", id]) => {
            match super::cancel(sim, P, id) {
                Some(_) => http::json(StatusCode::OK, &json!({})),
                None => reject(sim, P, &not_found(id)),
            }
        }
        _ => reject(
            sim,
            P,
            &Failure::NotFound("The requested resource is not found.".to_string()),
        ),
    }
}

/// Reads `--flag value` pairs out of the text prompt (the older parameter style)
fn text_flag<'a>(text: &'a str, names: &[&str]) -> Option<&'a str> {
    let mut words = text.split_whitespace();
    while let Some(w) = words.next() {
        if names.contains(&w) {
            return words.next();
        }
    }
    None
}

fn validate(m: &Map<String, Value>) -> Result<(String, String, f64), Failure> {
    let model = match super::opt_str(m, "model")? {
        Some(s) if !s.is_empty() => s.to_string(),
        _ => {
            return Err(Failure::invalid(
                "model",
                "The parameter `model` must be specified.",
            ));
        }
    };
    let Some(items) = m
        .get("content")
        .and_then(Value::as_array)
        .filter(|a| !a.is_empty())
    else {
        return Err(Failure::invalid(
            "content",
            "The parameter `content` must be a non-empty array.",
        ));
    };
    let mut text = String::new();
    for (i, item) in items.iter().enumerate() {
        match item.get("type").and_then(Value::as_str) {
            Some("text") => text.push_str(item.get("text").and_then(Value::as_str).unwrap_or("")),
            Some("image_url") => {
                if item
                    .pointer("/image_url/url")
                    .and_then(Value::as_str)
                    .is_none()
                {
                    return Err(Failure::invalid(
                        &format!("content[{i}].image_url.url"),
                        "The parameter `image_url.url` must be specified.",
                    ));
                }
                if let Some(role) = item.get("role").and_then(Value::as_str)
                    && !["first_frame", "last_frame", "reference_image"].contains(&role)
                {
                    return Err(Failure::invalid(
                        &format!("content[{i}].role"),
                        format!(
                            "The parameter `role` specified in the request is not valid: {role}"
                        ),
                    ));
                }
            }
            _ => {
                return Err(Failure::invalid(
                    &format!("content[{i}].type"),
                    "The parameter `type` must be `text` or `image_url`.",
                ));
            }
        }
    }
    let seconds = m
        .get("duration")
        .and_then(super::loose_number)
        .or_else(|| text_flag(&text, &["--dur", "--duration"]).and_then(|d| d.parse().ok()))
        .unwrap_or(5.0);
    if !(2.0..=12.0).contains(&seconds) {
        return Err(Failure::invalid(
            "duration",
            "The parameter `duration` must be within [2, 12].",
        ));
    }
    Ok((model, text, seconds))
}

/// The frame and rate: `ratio` (default 16:9; `adaptive` follows the image, taken as 16:9),
/// `resolution` (default 720p) and `framespersecond` (24), from the body or the prompt's
/// `--ratio`/`--rt`, `--resolution`/`--rs` and `--framespersecond`/`--fps` flags
fn shape(m: &Map<String, Value>, text: &str) -> Shape {
    let field = |key: &str, flags: &[&str]| -> Option<String> {
        m.get(key)
            .and_then(|v| match v {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
            .or_else(|| text_flag(text, flags).map(str::to_string))
    };
    let short = field("resolution", &["--rs", "--resolution"])
        .as_deref()
        .and_then(media::resolution)
        .unwrap_or(720);
    let fps = field("framespersecond", &["--fps", "--framespersecond"])
        .and_then(|f| f.parse::<u32>().ok())
        .unwrap_or(24);
    let ratio = field("ratio", &["--ratio", "--rt"]);
    Shape::video_aspect(ratio.as_deref(), short, fps)
}

async fn submit(sim: &Sim, req: &SimRequest) -> Response {
    let m = match req.json_object() {
        Ok(m) => m,
        Err(e) => return reject(sim, P, &Failure::body(e)),
    };
    let (model, prompt, seconds) = match validate(&m) {
        Ok(v) => v,
        Err(f) => return reject(sim, P, &f),
    };
    let callback = match super::opt_str(&m, "callback_url")
        .and_then(|u| super::url_field(u, "callback_url"))
    {
        Ok(u) => u,
        Err(f) => return reject(sim, P, &f),
    };
    let shape = shape(&m, &prompt);
    let mut sub = Submission::new(&model, &prompt, Value::Object(m));
    sub.seconds = seconds;
    sub.shape = shape;
    sub.callback_url = callback;
    sub.ttl_ms = 24 * 3600 * 1000;
    match admit(sim, P, req, sub).await {
        Ok(Admission::New(t) | Admission::Replay(t)) => {
            http::json(StatusCode::OK, &json!({"id": t.id}))
        }
        Err(r) => r,
    }
}

/// The task object at `phase` (polls and callbacks)
fn task_object(sim: &Sim, t: &Task, phase: Phase) -> Value {
    let text = t.prompt.as_str();
    let field = |key: &str, flags: &[&str], default: Value| -> Value {
        t.input
            .get(key)
            .cloned()
            .or_else(|| text_flag(text, flags).map(|v| json!(v)))
            .unwrap_or(default)
    };
    let status = match (t.cancelled, phase, &t.outcome) {
        (true, _, _) => "cancelled",
        (false, Phase::Queued, _) => "queued",
        (false, Phase::Running, _) => "running",
        (false, Phase::Done, Outcome::Succeeded) => "succeeded",
        (false, Phase::Done, _) => "failed",
    };
    let updated = if phase == Phase::Done {
        t.completed_unix_ms()
    } else {
        t.created_unix_ms
    };
    let mut obj = json!({
        "id": t.id,
        "model": t.model,
        "status": status,
        "created_at": t.created_unix_ms / 1000,
        "updated_at": updated / 1000,
        "seed": crate::util::hash64(&[t.id.as_bytes()]) % 100_000,
        "resolution": field("resolution", &["--rs", "--resolution"], json!("720p")),
        "ratio": field("ratio", &["--ratio", "--rt"], json!("16:9")),
        "duration": t.seconds,
        "framespersecond": t.shape.fps,
    });
    match status {
        "succeeded" => {
            obj["content"] = json!({"video_url": sim.url(P, &format!("outputs/{}.mp4", t.id))});
            obj["usage"] = json!({"completion_tokens": 108_900, "total_tokens": 108_900});
        }
        "failed" => {
            obj["error"] = match &t.outcome {
                Outcome::Moderated => json!({
                    "code": "OutputVideoSensitiveContentDetected",
                    "message": "The request failed because the output video may contain sensitive information."
                }),
                Outcome::Failed(reason) => {
                    json!({"code": "InternalServiceError", "message": reason})
                }
                Outcome::Succeeded => Value::Null,
            };
        }
        _ => {}
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
