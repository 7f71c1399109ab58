//! Runway: Bearer + `X-Runway-Version: 2024-11-06`; no webhook, tasks are polled.
//!
//! - `POST /runway/v1/image_to_video`, `/runway/v1/text_to_video` -> `{"id"}`
//! - `GET /runway/v1/tasks/{id}` -> `PENDING | RUNNING | SUCCEEDED | FAILED | CANCELLED`, `output[]`
//! - `DELETE /runway/v1/tasks/{id}` cancels (204)
//! - `GET /runway/output/{id}.mp4` serves the video (URLs live 24 h)

use std::time::Instant;

use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::{Admission, Failure, Provider, Submission, admit, reject};
use crate::http::{self, SimRequest};
use crate::media::Shape;
use crate::state::{Outcome, Phase, Sim, Task};
use crate::util;

const P: Provider = Provider::Runway;
const DEV_KEY: &str = "sim-runway-key";
const VERSION: &str = "2024-11-06";

/// Renders a failure as Runway's `{"error": ...}`
pub fn error(f: &Failure) -> (StatusCode, Value) {
    let body = match f {
        Failure::MissingAuth | Failure::BadAuth(_) => json!({"error": "Invalid API key."}),
        Failure::Invalid { message, field } => json!({
            "error": "Validation of body failed",
            "issues": [{"path": field.iter().collect::<Vec<_>>(), "message": message}]
        }),
        Failure::NotFound(m) => json!({"error": m}),
        Failure::RateLimited => {
            json!({"error": "You have exceeded the rate limit for this organization. Try again later."})
        }
        Failure::ServerError => json!({"error": "An unexpected error occurred."}),
        Failure::Timeout => json!({"error": "Gateway timeout."}),
    };
    (f.status(), body)
}

/// Routes `/runway/...`
pub async fn handle(sim: &Sim, req: SimRequest) -> Response {
    let segs = req.segs();
    if let (&Method::GET, ["output", file]) = (&req.method, segs.as_slice()) {
        let id = file.strip_suffix(".mp4").unwrap_or(file);
        return match super::output(sim, P, id) {
            Ok(t) => super::serve_output(sim, P, &t, t.media).await,
            Err(_) => http::raw(StatusCode::FORBIDDEN, "text/plain", b"Forbidden".to_vec()),
        };
    }
    match req.auth("Bearer") {
        None | Some("") => return reject(sim, P, &Failure::MissingAuth),
        Some(DEV_KEY) => {}
        Some(_) => return reject(sim, P, &Failure::BadAuth("invalid key".to_string())),
    }
    if req.header("x-runway-version") != Some(VERSION) {
        return reject(
            sim,
            P,
            &Failure::invalid(
                "X-Runway-Version",
                format!("The X-Runway-Version header must be set to {VERSION}."),
            ),
        );
    }
    match (&req.method, segs.as_slice()) {
        (&Method::POST, ["v1", kind @ ("image_to_video" | "text_to_video")]) => {
            submit(sim, &req, kind).await
        }
        (&Method::GET, ["v1", "tasks", id]) => match super::poll(sim, P, id) {
            Ok(t) => http::json(StatusCode::OK, &task_object(sim, &t)),
            Err(Some(r)) => r,
            Err(None) => reject(sim, P, &Failure::NotFound("Task not found.".to_string())),
        },
        (&Method::DELETE, ["v1", "tasks", id]) => match super::cancel(sim, P, id) {
            Some(_) => http::empty(StatusCode::NO_CONTENT),
            None => reject(sim, P, &Failure::NotFound("Task not found.".to_string())),
        },
        _ => reject(sim, P, &Failure::NotFound("Not found.".to_string())),
    }
}

fn validate(kind: &str, m: &Map<String, Value>) -> Result<(String, String, f64), Failure> {
    let model = match super::opt_str(m, "model")? {
        Some(s) if !s.is_empty() => s.to_string(),
        _ => return Err(Failure::invalid("model", "Required")),
    };
    match super::opt_str(m, "ratio")? {
        Some(r)
            if r.split_once(':')
                .is_some_and(|(w, h)| w.parse::<u32>().is_ok() && h.parse::<u32>().is_ok()) => {}
        Some(_) => return Err(Failure::invalid("ratio", "Invalid enum value")),
        None => return Err(Failure::invalid("ratio", "Required")),
    }
    let prompt = super::opt_str(m, "promptText")?.unwrap_or("");
    if prompt.chars().count() > 1000 {
        return Err(Failure::invalid(
            "promptText",
            "String must contain at most 1000 character(s)",
        ));
    }
    if kind == "text_to_video" && prompt.trim().is_empty() {
        return Err(Failure::invalid("promptText", "Required"));
    }
    if kind == "image_to_video" {
        let ok = match m.get("promptImage") {
            Some(Value::String(s)) => !s.is_empty(),
            Some(Value::Array(items)) => {
                !items.is_empty()
                    && items
                        .iter()
                        .all(|i| i.get("uri").and_then(Value::as_str).is_some())
            }
            _ => false,
        };
        if !ok {
            return Err(Failure::invalid("promptImage", "Required"));
        }
    }
    let seconds = match m.get("duration") {
        None => 5.0,
        Some(v) => match v.as_f64() {
            Some(d) if (2.0..=10.0).contains(&d) => d,
            _ => {
                return Err(Failure::invalid(
                    "duration",
                    "Number must be between 2 and 10",
                ));
            }
        },
    };
    Ok((model, prompt.to_string(), seconds))
}

async fn submit(sim: &Sim, req: &SimRequest, kind: &str) -> Response {
    let m = match req.json_object() {
        Ok(m) => m,
        Err(e) => return reject(sim, P, &Failure::body(e)),
    };
    let (model, prompt, seconds) = match validate(kind, &m) {
        Ok(v) => v,
        Err(f) => return reject(sim, P, &f),
    };
    // `ratio` is the frame in pixels (`1280:720`)
    let shape = Shape::video_aspect(super::str_field(&m, "ratio"), 720, 24);
    let mut sub = Submission::new(&model, &prompt, Value::Object(m));
    sub.seconds = seconds;
    sub.shape = shape;
    sub.aux = kind.to_string();
    sub.ttl_ms = 24 * 3600 * 1000;
    match admit(sim, P, req, sub).await {
        Ok(Admission::New(t) | Admission::Replay(t)) => {
            http::json(StatusCode::OK, &json!({"id": t.id}))
        }
        Err(r) => r,
    }
}

fn task_object(sim: &Sim, t: &Task) -> Value {
    let now = Instant::now();
    let mut obj = json!({"id": t.id, "createdAt": util::rfc3339(t.created_unix_ms)});
    let status = match (t.cancelled, t.phase_at(now), &t.outcome) {
        (true, _, _) => "CANCELLED",
        (false, Phase::Queued, _) => "PENDING",
        (false, Phase::Running, _) => {
            obj["progress"] = json!((t.progress_at(now) * 100.0).round() / 100.0);
            "RUNNING"
        }
        (false, Phase::Done, Outcome::Succeeded) => {
            obj["output"] = json!([sim.url(P, &format!("output/{}.mp4", t.id))]);
            "SUCCEEDED"
        }
        (false, Phase::Done, Outcome::Moderated) => {
            obj["failure"] = json!("Your request was flagged by our content moderation system.");
            obj["failureCode"] = json!("SAFETY.INPUT.TEXT");
            "FAILED"
        }
        (false, Phase::Done, Outcome::Failed(reason)) => {
            obj["failure"] = json!(reason);
            obj["failureCode"] = json!("INTERNAL");
            "FAILED"
        }
    };
    obj["status"] = json!(status);
    obj
}
