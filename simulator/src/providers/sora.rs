//! OpenAI Sora 2 videos API: JSON or multipart submit, polling, content download, and the
//! project-level Standard Webhooks `video.completed` / `video.failed` events.
//!
//! - `POST /sora/v1/videos` -> video object (`status: "queued"`)
//! - `GET /sora/v1/videos/{id}` -> `queued | in_progress | completed | failed`
//! - `GET /sora/v1/videos/{id}/content` -> MP4 (auth required; expires 1 h after completion)

use std::time::Instant;

use axum::http::{Method, StatusCode};
use axum::response::Response;
use bytes::Bytes;
use serde_json::{Map, Value, json};

use super::{Admission, Failure, Provider, Submission, admit, reject};
use crate::delivery::{Outgoing, Signer};
use crate::http::{self, SimRequest};
use crate::media::{MediaKind, Shape};
use crate::signing::SORA_WEBHOOK_SECRET;
use crate::state::{Outcome, Phase, Sim, Task, Unavailable};
use crate::util;

const P: Provider = Provider::Sora;
const DEV_KEY: &str = "sim-sora-key";
const SECONDS: [&str; 5] = ["4", "8", "12", "16", "20"];
const SIZES: [&str; 6] = [
    "720x1280",
    "1280x720",
    "1024x1792",
    "1792x1024",
    "1080x1920",
    "1920x1080",
];

/// Renders a failure as an OpenAI error object
pub fn error(f: &Failure) -> (StatusCode, Value) {
    let (kind, code, param): (&str, Value, Value) = match f {
        Failure::MissingAuth | Failure::BadAuth(_) => (
            "invalid_request_error",
            if *f == Failure::MissingAuth {
                Value::Null
            } else {
                json!("invalid_api_key")
            },
            Value::Null,
        ),
        Failure::Invalid { field, .. } => (
            "invalid_request_error",
            json!("invalid_value"),
            field.clone().map_or(Value::Null, Value::String),
        ),
        Failure::NotFound(_) => ("invalid_request_error", json!("not_found"), Value::Null),
        Failure::RateLimited => ("requests", json!("rate_limit_exceeded"), Value::Null),
        Failure::ServerError | Failure::Timeout => ("server_error", Value::Null, Value::Null),
    };
    let message = match f {
        Failure::MissingAuth => "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).".to_string(),
        Failure::BadAuth(_) => "Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.".to_string(),
        Failure::RateLimited => "Rate limit reached for requests. Please try again later.".to_string(),
        Failure::ServerError => "The server had an error while processing your request. Sorry about that!".to_string(),
        _ => f.message(),
    };
    (
        f.status(),
        json!({"error": {"message": message, "type": kind, "param": param, "code": code}}),
    )
}

/// Routes `/sora/...`
pub async fn handle(sim: &Sim, req: SimRequest) -> Response {
    match req.auth("Bearer") {
        None | Some("") => return reject(sim, P, &Failure::MissingAuth),
        Some(DEV_KEY) => {}
        Some(_) => return reject(sim, P, &Failure::BadAuth("invalid key".to_string())),
    }
    let segs = req.segs();
    match (&req.method, segs.as_slice()) {
        (&Method::POST, ["v1", "videos"]) => submit(sim, &req).await,
        (&Method::GET, ["v1", "videos", id]) => match super::poll(sim, P, id) {
            Ok(t) => http::json(
                StatusCode::OK,
                &video(&t, t.phase_at(Instant::now()), Instant::now()),
            ),
            Err(Some(r)) => r,
            Err(None) => reject(sim, P, &missing(id)),
        },
        (&Method::GET, ["v1", "videos", id, "content"]) => content(sim, &req, id).await,
        _ => reject(
            sim,
            P,
            &Failure::NotFound(format!(
                "Invalid URL ({} /v1/{})",
                req.method,
                req.segments
                    .iter()
                    .skip(1)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join("/")
            )),
        ),
    }
}

fn missing(id: &str) -> Failure {
    Failure::NotFound(format!("Video with id '{id}' not found."))
}

async fn fields(req: &SimRequest) -> Result<Map<String, Value>, Failure> {
    let ct = req.header("content-type").unwrap_or("");
    if !ct.starts_with("multipart/form-data") {
        return req.json_object().map_err(Failure::body);
    }
    let boundary = multer::parse_boundary(ct).map_err(|e| Failure::body(e.to_string()))?;
    let body = req.body.clone();
    let stream = futures_util::stream::once(async move { Ok::<Bytes, std::io::Error>(body) });
    let mut mp = multer::Multipart::new(stream, boundary);
    let mut out = Map::new();
    loop {
        let field = match mp.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => return Err(Failure::body(format!("invalid multipart body: {e}"))),
        };
        let name = field.name().unwrap_or("").to_string();
        let file_name = field.file_name().map(str::to_string);
        let content_type = field.content_type().map(ToString::to_string);
        let data = field
            .bytes()
            .await
            .map_err(|e| Failure::body(format!("invalid multipart body: {e}")))?;
        let value = match file_name {
            Some(file) => {
                json!({"file_name": file, "content_type": content_type, "bytes": data.len()})
            }
            None => Value::String(String::from_utf8_lossy(&data).into_owned()),
        };
        out.insert(name, value);
    }
    Ok(out)
}

async fn submit(sim: &Sim, req: &SimRequest) -> Response {
    let m = match fields(req).await {
        Ok(m) => m,
        Err(f) => return reject(sim, P, &f),
    };
    let checked = (|| {
        let prompt = match super::opt_str(&m, "prompt")? {
            Some(p) if !p.trim().is_empty() => p,
            _ => {
                return Err(Failure::invalid(
                    "prompt",
                    "Missing required parameter: 'prompt'.",
                ));
            }
        };
        let model = super::opt_enum(&m, "model", &["sora-2", "sora-2-pro"])?.unwrap_or("sora-2");
        let seconds = super::opt_enum(&m, "seconds", &SECONDS)?.unwrap_or("4");
        super::opt_enum(&m, "size", &SIZES)?;
        if let Some(r) = m.get("input_reference") {
            let ok = r.get("file_name").is_some()
                || r.get("image_url").and_then(Value::as_str).is_some()
                || r.get("file_id").and_then(Value::as_str).is_some();
            if !ok {
                return Err(Failure::invalid(
                    "input_reference",
                    "input_reference must be a file, or an object with image_url or file_id",
                ));
            }
        }
        Ok((
            prompt.to_string(),
            model.to_string(),
            seconds.parse::<f64>().unwrap_or(4.0),
        ))
    })();
    let (prompt, model, seconds) = match checked {
        Ok(v) => v,
        Err(f) => return reject(sim, P, &f),
    };
    // `size` is the frame in pixels (default 720x1280)
    let size = super::str_field(&m, "size").unwrap_or("720x1280");
    let shape = Shape::video_aspect(Some(size), 720, 24);
    let mut sub = Submission::new(&model, &prompt, Value::Object(m));
    sub.seconds = seconds;
    sub.media = MediaKind::Video;
    sub.shape = shape;
    sub.ttl_ms = 3600 * 1000;
    match admit(sim, P, req, sub).await {
        Ok(Admission::New(t) | Admission::Replay(t)) => {
            let now = Instant::now();
            http::json(StatusCode::OK, &video(&t, t.phase_at(now), now))
        }
        Err(r) => r,
    }
}

/// The Video object at `phase`
fn video(t: &Task, phase: Phase, now: Instant) -> Value {
    let size = t
        .input
        .get("size")
        .and_then(Value::as_str)
        .unwrap_or("720x1280");
    let seconds = t
        .input
        .get("seconds")
        .and_then(Value::as_str)
        .unwrap_or("4");
    let (status, progress) = match (phase, &t.outcome) {
        (Phase::Queued, _) => ("queued", 0),
        (Phase::Running, _) => ("in_progress", (t.progress_at(now) * 100.0) as u64),
        (Phase::Done, Outcome::Succeeded) => ("completed", 100),
        (Phase::Done, _) => ("failed", 100),
    };
    let done = phase == Phase::Done;
    let error = match (&t.outcome, done) {
        (Outcome::Moderated, true) => json!({
            "code": "moderation_blocked",
            "message": "Your request was blocked by our moderation system."
        }),
        (Outcome::Failed(reason), true) => json!({"code": "generation_failed", "message": reason}),
        _ => Value::Null,
    };
    let succeeded = done && t.outcome == Outcome::Succeeded;
    json!({
        "id": t.id,
        "object": "video",
        "created_at": t.created_unix_ms / 1000,
        "status": status,
        "model": t.model,
        "progress": progress,
        "prompt": t.prompt,
        "seconds": seconds,
        "size": size,
        "completed_at": if done { json!(t.completed_unix_ms() / 1000) } else { Value::Null },
        "expires_at": if succeeded { json!(t.expires_unix_ms() / 1000) } else { Value::Null },
        "error": error,
        "remixed_from_video_id": Value::Null,
    })
}

async fn content(sim: &Sim, req: &SimRequest, id: &str) -> Response {
    let variant = req.query("variant").unwrap_or("video");
    let kind = match variant {
        "video" => MediaKind::Video,
        "thumbnail" | "spritesheet" => MediaKind::Png,
        other => {
            return reject(
                sim,
                P,
                &Failure::invalid("variant", format!("Invalid variant '{other}'.")),
            );
        }
    };
    match super::output(sim, P, id) {
        Ok(t) => super::serve_output(sim, P, &t, kind).await,
        Err(None) => reject(sim, P, &missing(id)),
        Err(Some(Unavailable::NotReady)) => reject(
            sim,
            P,
            &Failure::body(format!(
                "Video '{id}' is not ready; its content cannot be downloaded yet."
            )),
        ),
        Err(Some(Unavailable::Expired)) => reject(
            sim,
            P,
            &Failure::NotFound(format!("The content of video '{id}' has expired.")),
        ),
    }
}

/// The project webhook event of a finished video
pub fn callback(sim: &Sim, t: &Task, phase: Phase) -> Option<Outgoing> {
    if phase != Phase::Done {
        return None;
    }
    let url = sim.config().sora_webhook_url?;
    let h = util::hash64(&[t.id.as_bytes(), b"event"]);
    let kind = if t.outcome == Outcome::Succeeded {
        "video.completed"
    } else {
        "video.failed"
    };
    let body = json!({
        "id": format!("evt_{h:016x}"),
        "object": "event",
        "created_at": util::now_unix_s(),
        "type": kind,
        "data": {"id": t.id},
    });
    Some(Outgoing::json(
        &url,
        &body,
        Signer::StandardWebhooks {
            secret: SORA_WEBHOOK_SECRET,
            msg_id: format!("wh_{h:016x}"),
        },
    ))
}
