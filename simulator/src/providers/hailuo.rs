//! MiniMax Hailuo video: Bearer, `callback_url` with a challenge handshake, file retrieve.
//!
//! - `POST /hailuo/v1/video_generation` -> `{task_id, base_resp}`; with `callback_url`, first
//!   POSTs `{"challenge": "..."}` there (3 s timeout) and expects it echoed, else the task fails
//! - `GET /hailuo/v1/query/video_generation?task_id=` -> `Preparing | Queueing | Processing | Success | Fail`, `file_id`
//! - `GET /hailuo/v1/files/retrieve?file_id=` -> `file.download_url`
//! - callbacks: `processing`, then `success` (with `file_id`) or `failed`
//! - `GET /hailuo/files/{file_id}.mp4` serves the video (URLs live 9 h)
//!
//! MiniMax reports errors in `base_resp` (`1004` auth, `2013` invalid params, `1002` rate limit,
//! `1026`/`1027` sensitive input/output), with HTTP 200 for auth and validation errors.

use std::time::{Duration, Instant};

use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::{Failure, Provider, Submission, create, preflight, reject};
use crate::delivery::{Outgoing, Signer};
use crate::http::{self, SimRequest};
use crate::media::{Shape, Spec};
use crate::state::{Outcome, Phase, Sim, Task};
use crate::util;

const P: Provider = Provider::Hailuo;
/// Frames per second of the videos
const FPS: u32 = 24;
/// The dev key of MiniMax (video and music)
pub const DEV_KEY: &str = "sim-minimax-key";

/// Renders a failure as MiniMax's `base_resp`
pub fn error(f: &Failure) -> (StatusCode, Value) {
    let (status, code, msg) = match f {
        Failure::MissingAuth => (
            StatusCode::OK,
            1004,
            "login fail: Please carry the API secret key in the 'Authorization' field of the request header".to_string(),
        ),
        Failure::BadAuth(_) => (StatusCode::OK, 1004, "cookie is missing, log in again".to_string()),
        Failure::Invalid { .. } => (StatusCode::OK, 2013, format!("invalid params, {}", f.message())),
        Failure::NotFound(m) => (StatusCode::NOT_FOUND, 1013, m.clone()),
        Failure::RateLimited => (StatusCode::TOO_MANY_REQUESTS, 1002, "rate limit exceeded(RPM)".to_string()),
        Failure::ServerError => (StatusCode::INTERNAL_SERVER_ERROR, 1000, "unknown error".to_string()),
        Failure::Timeout => (StatusCode::GATEWAY_TIMEOUT, 1001, "request timeout".to_string()),
    };
    (
        status,
        json!({"base_resp": {"status_code": code, "status_msg": msg}}),
    )
}

/// Checks MiniMax's Bearer key
pub fn check_key(req: &SimRequest) -> Result<(), Failure> {
    match req.auth("Bearer") {
        None | Some("") => Err(Failure::MissingAuth),
        Some(DEV_KEY) => Ok(()),
        Some(_) => Err(Failure::BadAuth("invalid key".to_string())),
    }
}

fn ok() -> Value {
    json!({"status_code": 0, "status_msg": "success"})
}

/// Routes `/hailuo/...`
pub async fn handle(sim: &Sim, req: SimRequest) -> Response {
    let segs = req.segs();
    if let (&Method::GET, ["files", file]) = (&req.method, segs.as_slice()) {
        let file_id = file.strip_suffix(".mp4").unwrap_or(file);
        let found = by_file_id(sim, file_id).map(|t| super::output(sim, P, &t.id));
        return match found {
            Some(Ok(t)) => super::serve_output(sim, P, &t, t.media).await,
            _ => http::raw(
                StatusCode::FORBIDDEN,
                "text/plain",
                b"AccessDenied".to_vec(),
            ),
        };
    }
    if let Err(f) = check_key(&req) {
        return reject(sim, P, &f);
    }
    match (&req.method, segs.as_slice()) {
        (&Method::POST, ["v1", "video_generation"]) => submit(sim, &req).await,
        (&Method::GET, ["v1", "query", "video_generation"]) => {
            let id = req.query("task_id").unwrap_or("");
            match super::poll(sim, P, id) {
                Ok(t) => http::json(StatusCode::OK, &query_object(&t, Instant::now())),
                Err(Some(r)) => r,
                Err(None) => reject(sim, P, &Failure::invalid("task_id", "task not found")),
            }
        }
        (&Method::GET, ["v1", "files", "retrieve"]) => {
            retrieve(sim, req.query("file_id").unwrap_or("")).await
        }
        _ => reject(sim, P, &Failure::NotFound("404 page not found".to_string())),
    }
}

fn validate(m: &Map<String, Value>) -> Result<(String, String, f64), Failure> {
    let model = match super::opt_str(m, "model")? {
        Some(s) if !s.is_empty() => s.to_string(),
        _ => return Err(Failure::invalid("model", "model is required")),
    };
    let prompt = super::opt_str(m, "prompt")?.unwrap_or("");
    if prompt.chars().count() > 2000 {
        return Err(Failure::invalid("prompt", "prompt exceeds 2000 characters"));
    }
    let has_image = m.get("first_frame_image").is_some() || m.get("subject_reference").is_some();
    if prompt.trim().is_empty() && !has_image {
        return Err(Failure::invalid("prompt", "prompt is required"));
    }
    super::opt_enum(m, "resolution", &["512P", "720P", "768P", "1080P"])?;
    let seconds = match m.get("duration") {
        None => 6.0,
        Some(v) => match v.as_f64() {
            Some(d) if d == 6.0 || d == 10.0 => d,
            _ => return Err(Failure::invalid("duration", "duration must be 6 or 10")),
        },
    };
    Ok((model, prompt.to_string(), seconds))
}

/// POSTs the challenge to `url`; returns whether it came back echoed within 3 s
async fn challenge(sim: &Sim, url: &str) -> bool {
    let token = format!("{:016x}", sim.next_u64());
    sim.with(|s| s.stats.challenges += 1);
    let sent = sim
        .client()
        .post(url)
        .timeout(Duration::from_secs(3))
        .json(&json!({ "challenge": token }))
        .send()
        .await;
    let echoed = match sent {
        Ok(resp) if resp.status().is_success() => resp
            .json::<Value>()
            .await
            .ok()
            .and_then(|v| {
                v.get("challenge")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            })
            .is_some_and(|c| c == token),
        Ok(_) | Err(_) => false,
    };
    if !echoed {
        eprintln!("sim: hailuo challenge to {url} was not echoed; the task fails");
        sim.with(|s| s.stats.challenges_failed += 1);
    }
    echoed
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
    let (w, h) = dimensions(&m);
    let mut sub = Submission::new(&model, &prompt, Value::Object(m));
    sub.seconds = seconds;
    sub.shape = Shape::video(w, h, FPS);
    sub.callback_url = callback;
    sub.ttl_ms = 9 * 3600 * 1000;
    let cleared = match preflight(sim, P, req, &sub).await {
        Err(r) => return r,
        Ok(Err(replayed)) => return created(&replayed),
        Ok(Ok(c)) => c,
    };
    if let Some(url) = sub.callback_url.clone()
        && !challenge(sim, &url).await
    {
        sub.outcome = Some(Outcome::Failed(
            "callback url verification failed".to_string(),
        ));
        sub.callback_url = None;
    }
    created(&create(sim, P, &cleared, &sub))
}

fn created(t: &Task) -> Response {
    http::json(StatusCode::OK, &json!({"task_id": t.id, "base_resp": ok()}))
}

fn file_id(t: &Task) -> String {
    util::numeric_id(util::hash64(&[t.id.as_bytes(), b"file"]), 15)
}

fn by_file_id(sim: &Sim, file_id_wanted: &str) -> Option<Task> {
    sim.with(|s| {
        s.tasks
            .values()
            .find(|t| t.provider == P && file_id(t) == file_id_wanted)
            .cloned()
    })
}

/// The nominal frame of `resolution` (MiniMax's 768P default is 1366x768)
fn dimensions(m: &Map<String, Value>) -> (u32, u32) {
    match m.get("resolution").and_then(Value::as_str) {
        Some("1080P") => (1920, 1080),
        Some("720P") => (1280, 720),
        Some("512P") => (912, 512),
        _ => (1366, 768),
    }
}

fn failure_resp(t: &Task) -> Value {
    match &t.outcome {
        Outcome::Moderated => json!({"status_code": 1027, "status_msg": "output new_sensitive"}),
        Outcome::Failed(reason) => json!({"status_code": 1000, "status_msg": reason}),
        Outcome::Succeeded => ok(),
    }
}

fn query_object(t: &Task, now: Instant) -> Value {
    let (w, h) = (t.shape.width, t.shape.height);
    let status = match (t.phase_at(now), &t.outcome) {
        (Phase::Queued, _) if t.progress_at(now) < 0.1 => "Preparing",
        (Phase::Queued, _) => "Queueing",
        (Phase::Running, _) => "Processing",
        (Phase::Done, Outcome::Succeeded) => "Success",
        (Phase::Done, _) => "Fail",
    };
    let (file, base) = match status {
        "Success" => (file_id(t), ok()),
        "Fail" => (String::new(), failure_resp(t)),
        _ => (String::new(), ok()),
    };
    json!({
        "task_id": t.id,
        "status": status,
        "file_id": file,
        "video_width": if status == "Success" { w } else { 0 },
        "video_height": if status == "Success" { h } else { 0 },
        "base_resp": base,
    })
}

/// The file object; renders the video first, so that `bytes` is its real size
async fn retrieve(sim: &Sim, file_id_wanted: &str) -> Response {
    sim.with(|s| crate::state::bump(&mut s.stats.polls, P.as_str()));
    let Some(t) = by_file_id(sim, file_id_wanted) else {
        return reject(sim, P, &Failure::invalid("file_id", "file not found"));
    };
    if t.phase_at(Instant::now()) != Phase::Done || t.outcome != Outcome::Succeeded {
        return reject(sim, P, &Failure::invalid("file_id", "file not found"));
    }
    let spec = Spec::for_task(&t, t.media);
    let bytes = match super::render_output(sim, P, &spec).await {
        Ok(ready) => ready.len,
        Err(r) => return r,
    };
    http::json(
        StatusCode::OK,
        &json!({
            "file": {
                "file_id": file_id_wanted,
                "bytes": bytes,
                "created_at": t.completed_unix_ms() / 1000,
                "filename": "output.mp4",
                "purpose": "video_generation",
                "download_url": sim.url(P, &format!("files/{file_id_wanted}.mp4")),
            },
            "base_resp": ok(),
        }),
    )
}

/// The callback: `processing`, then `success` or `failed`, unsigned
pub fn callback(_sim: &Sim, t: &Task, phase: Phase) -> Option<Outgoing> {
    let url = t.callback_url.as_deref()?;
    let body = match (phase, &t.outcome) {
        (Phase::Queued | Phase::Running, _) => {
            json!({"task_id": t.id, "status": "processing", "base_resp": ok()})
        }
        (Phase::Done, Outcome::Succeeded) => {
            json!({"task_id": t.id, "status": "success", "file_id": file_id(t), "base_resp": ok()})
        }
        (Phase::Done, _) => {
            json!({"task_id": t.id, "status": "failed", "base_resp": failure_resp(t)})
        }
    };
    Some(Outgoing::json(url, &body, Signer::None))
}
