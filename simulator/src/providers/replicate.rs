//! Replicate predictions: Bearer, `webhook` + `webhook_events_filter`, Standard Webhooks.
//!
//! - `POST /replicate/v1/predictions` (`version`: `owner/name`, `owner/name:ver` or an id) and
//!   `POST /replicate/v1/models/{owner}/{name}/predictions` -> 201 prediction (`status: "starting"`);
//!   `Prefer: wait` holds the answer until done (at most 60 s)
//! - `GET /replicate/v1/predictions/{id}` -> `starting | processing | succeeded | failed | canceled`
//! - `POST /replicate/v1/predictions/{id}/cancel`
//! - webhooks: the prediction object for `start`, `logs` and `completed` (as filtered)
//! - `GET /replicate/files/{id}/output.{ext}` serves `output` (URLs live 1 h): a video, an image
//!   or audio by the model's name, shaped by its `input` (see [`output_shape`])

use std::time::{Duration, Instant};

use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::{Admission, Failure, Provider, Submission, admit, reject};
use crate::delivery::{Outgoing, Signer};
use crate::http::{self, SimRequest};
use crate::media::{self, MediaKind, Shape, Sound};
use crate::signing::REPLICATE_WEBHOOK_SECRET;
use crate::state::{Outcome, Phase, Sim, Task};
use crate::util;

const P: Provider = Provider::Replicate;
const DEV_KEY: &str = "sim-replicate-key";
const EVENTS: [&str; 4] = ["start", "output", "logs", "completed"];

/// Renders a failure as Replicate's problem object
pub fn error(f: &Failure) -> (StatusCode, Value) {
    let (status, title, detail) = match f {
        Failure::MissingAuth | Failure::BadAuth(_) => (
            StatusCode::UNAUTHORIZED,
            "Unauthenticated",
            "You did not pass a valid authentication token".to_string(),
        ),
        Failure::Invalid { .. } => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "Input validation failed",
            f.message(),
        ),
        Failure::NotFound(m) => (StatusCode::NOT_FOUND, "Not found", m.clone()),
        Failure::RateLimited => (
            StatusCode::TOO_MANY_REQUESTS,
            "Request was throttled",
            "Request was throttled. Your rate limit resets in ~30s.".to_string(),
        ),
        Failure::ServerError => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "Internal server error",
            f.message(),
        ),
        Failure::Timeout => (StatusCode::GATEWAY_TIMEOUT, "Gateway timeout", f.message()),
    };
    (
        status,
        json!({"title": title, "detail": detail, "status": status.as_u16()}),
    )
}

/// Routes `/replicate/...`
pub async fn handle(sim: &Sim, req: SimRequest) -> Response {
    let segs = req.segs();
    if let (&Method::GET, ["files", id, _name]) = (&req.method, segs.as_slice()) {
        return match super::output(sim, P, id) {
            Ok(t) => super::serve_output(sim, P, &t, t.media).await,
            Err(_) => http::raw(StatusCode::NOT_FOUND, "text/plain", b"Not Found".to_vec()),
        };
    }
    match req.auth("Bearer").or_else(|| req.auth("Token")) {
        None | Some("") => return reject(sim, P, &Failure::MissingAuth),
        Some(DEV_KEY) => {}
        Some(_) => return reject(sim, P, &Failure::BadAuth("invalid token".to_string())),
    }
    let missing = || Failure::NotFound("The requested resource could not be found.".to_string());
    match (&req.method, segs.as_slice()) {
        (&Method::POST, ["v1", "predictions"]) => submit(sim, &req, None).await,
        (&Method::POST, ["v1", "models", owner, name, "predictions"]) => {
            submit(sim, &req, Some(format!("{owner}/{name}"))).await
        }
        (&Method::GET, ["v1", "predictions", id]) => match super::poll(sim, P, id) {
            Ok(t) => http::json(StatusCode::OK, &prediction(sim, &t, current(&t))),
            Err(Some(r)) => r,
            Err(None) => reject(sim, P, &missing()),
        },
        (&Method::POST, ["v1", "predictions", id, "cancel"]) => match super::cancel(sim, P, id) {
            Some(t) => http::json(StatusCode::OK, &prediction(sim, &t, current(&t))),
            None => reject(sim, P, &missing()),
        },
        _ => reject(sim, P, &missing()),
    }
}

fn current(t: &Task) -> Phase {
    t.phase_at(Instant::now())
}

/// Guesses the output kind from the model name
fn media_for(model: &str) -> MediaKind {
    let m = model.to_ascii_lowercase();
    if [
        "flux",
        "sdxl",
        "image",
        "imagen",
        "ideogram",
        "recraft",
        "stable-diffusion",
    ]
    .iter()
    .any(|k| m.contains(k))
        && !m.contains("video")
    {
        MediaKind::Png
    } else if ["music", "audio", "tts", "speech", "voice"]
        .iter()
        .any(|k| m.contains(k))
    {
        MediaKind::Mp3
    } else {
        MediaKind::Video
    }
}

/// What a model's `input` asks for: the format, the shape and the length.
///
/// - images: `width`/`height`, else `aspect_ratio` (default 1:1) at a 1024 long side;
///   `output_format` png, jpg or webp (default PNG)
/// - videos: `aspect_ratio` (default 16:9), `resolution` (default 720p), `fps` or
///   `frames_per_second` (default 24), `duration` or `num_frames` / fps (default 5 s)
/// - audio: speech (tts, speech, voice models: `text` or `prompt`, its spoken length) or music
///   (`duration`, default 8 s), `output_format` mp3 or wav
fn output_shape(model: &str, input: &Value) -> (MediaKind, Shape, f64) {
    let num = |k: &str| input.get(k).and_then(super::loose_number);
    let text = |k: &str| input.get(k).and_then(Value::as_str);
    match media_for(model) {
        MediaKind::Video => {
            let fps = num("fps")
                .or_else(|| num("frames_per_second"))
                .map_or(24, |f| f.round().clamp(1.0, 60.0) as u32);
            let seconds = num("duration")
                .or_else(|| num("num_frames").map(|n| n / f64::from(fps)))
                .filter(|s| *s > 0.0)
                .unwrap_or(5.0);
            let short = text("resolution")
                .and_then(media::resolution)
                .unwrap_or(720);
            let shape = Shape::video_aspect(text("aspect_ratio"), short, fps);
            (MediaKind::Video, shape, seconds)
        }
        kind if kind.is_audio() => {
            let kind = match text("output_format") {
                Some("wav") => MediaKind::Wav,
                _ => MediaKind::Mp3,
            };
            let m = model.to_ascii_lowercase();
            if ["tts", "speech", "voice"].iter().any(|k| m.contains(k)) {
                let line = text("text").or_else(|| text("prompt")).unwrap_or("");
                let seconds = (line.chars().count() as f64 / 15.0).max(0.5);
                let voice = text("voice").or_else(|| text("speaker")).unwrap_or(model);
                (kind, Shape::speech(voice, 44_100, 128), seconds)
            } else {
                let seconds = num("duration").filter(|d| *d > 0.0).unwrap_or(8.0);
                (kind, Shape::music(44_100, 128, 2), seconds)
            }
        }
        kind => {
            let kind = match text("output_format") {
                Some("jpg" | "jpeg") => MediaKind::Jpeg,
                Some("webp") => MediaKind::Webp,
                Some("png") => MediaKind::Png,
                _ => kind,
            };
            let shape = match (num("width"), num("height")) {
                (Some(w), Some(h)) => Shape::image(w as u32, h as u32),
                _ => Shape::image_aspect(text("aspect_ratio"), 1024),
            };
            (kind, shape, 5.0)
        }
    }
}

fn validate(
    m: &Map<String, Value>,
    model: Option<String>,
) -> Result<(String, String, Vec<String>), Failure> {
    let (model, version) = match model {
        Some(model) => (model.clone(), model),
        None => match super::opt_str(m, "version")? {
            Some(v) if !v.is_empty() => match v.split_once(':') {
                Some((model, ver)) => (model.to_string(), ver.to_string()),
                None if v.contains('/') => (v.to_string(), v.to_string()),
                None => ("sim/unknown-model".to_string(), v.to_string()),
            },
            _ => return Err(Failure::invalid("version", "- version: Required")),
        },
    };
    if !m.get("input").is_some_and(Value::is_object) {
        return Err(Failure::invalid(
            "input",
            "- input: Invalid type. Expected: object",
        ));
    }
    let filter = match m.get("webhook_events_filter") {
        None | Some(Value::Null) => EVENTS.iter().map(ToString::to_string).collect(),
        Some(Value::Array(items)) => {
            let mut out = Vec::new();
            for i in items {
                match i.as_str() {
                    Some(e) if EVENTS.contains(&e) => out.push(e.to_string()),
                    _ => {
                        return Err(Failure::invalid(
                            "webhook_events_filter",
                            "- webhook_events_filter: must be a list of start, output, logs, completed",
                        ));
                    }
                }
            }
            out
        }
        Some(_) => {
            return Err(Failure::invalid(
                "webhook_events_filter",
                "- webhook_events_filter: must be a list",
            ));
        }
    };
    Ok((model, version, filter))
}

async fn submit(sim: &Sim, req: &SimRequest, model: Option<String>) -> Response {
    let m = match req.json_object() {
        Ok(m) => m,
        Err(e) => return reject(sim, P, &Failure::body(e)),
    };
    let (model, version, filter) = match validate(&m, model) {
        Ok(v) => v,
        Err(f) => return reject(sim, P, &f),
    };
    let webhook = match super::opt_str(&m, "webhook").and_then(|u| super::url_field(u, "webhook")) {
        Ok(u) => u,
        Err(f) => return reject(sim, P, &f),
    };
    let input = m.get("input").cloned().unwrap_or_else(|| json!({}));
    let (media, shape, seconds) = output_shape(&model, &input);
    let prompt_key = if shape.sound == Sound::Speech && media.is_audio() {
        "text"
    } else {
        "prompt"
    };
    let prompt = input
        .get(prompt_key)
        .or_else(|| input.get("prompt"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let mut body = m.clone();
    body.insert("version".to_string(), json!(version));
    let mut sub = Submission::new(&model, &prompt, Value::Object(body));
    sub.media = media;
    sub.shape = shape;
    sub.seconds = seconds;
    sub.callback_url = webhook;
    sub.aux = filter.join(",");
    sub.ttl_ms = 3600 * 1000;
    let task = match admit(sim, P, req, sub).await {
        Ok(Admission::New(t) | Admission::Replay(t)) => t,
        Err(r) => return r,
    };
    if req
        .header("prefer")
        .is_some_and(|p| p.trim_start().starts_with("wait"))
    {
        let wait = task
            .ready_at()
            .saturating_duration_since(Instant::now())
            .min(Duration::from_secs(60));
        sim.sleep(wait).await;
    }
    http::json(StatusCode::CREATED, &prediction(sim, &task, current(&task)))
}

/// The prediction object at `phase`
fn prediction(sim: &Sim, t: &Task, phase: Phase) -> Value {
    let started_ms = t.created_unix_ms + (t.completed_unix_ms() - t.created_unix_ms) / 5;
    let status = match (t.cancelled, phase, &t.outcome) {
        (true, _, _) => "canceled",
        (false, Phase::Queued, _) => "starting",
        (false, Phase::Running, _) => "processing",
        (false, Phase::Done, Outcome::Succeeded) => "succeeded",
        (false, Phase::Done, _) => "failed",
    };
    let logs = match phase {
        Phase::Queued => "",
        Phase::Running => "Generating...\n",
        Phase::Done => "Generating...\nDone.\n",
    };
    let get = sim.url(P, &format!("v1/predictions/{}", t.id));
    let done = phase == Phase::Done;
    json!({
        "id": t.id,
        "model": t.model,
        "version": t.input.get("version").cloned().unwrap_or(Value::Null),
        "input": t.input.get("input").cloned().unwrap_or_else(|| json!({})),
        "logs": logs,
        "output": if status == "succeeded" {
            json!(sim.url(P, &format!("files/{}/output.{}", t.id, t.media.ext())))
        } else {
            Value::Null
        },
        "data_removed": false,
        "error": match (status, &t.outcome) {
            ("failed", Outcome::Moderated) => json!("NSFW content detected. Try running it again, or try a different prompt."),
            ("failed", Outcome::Failed(reason)) => json!(reason),
            _ => Value::Null,
        },
        "status": status,
        "created_at": util::rfc3339(t.created_unix_ms),
        "started_at": if phase == Phase::Queued { Value::Null } else { json!(util::rfc3339(started_ms)) },
        "completed_at": if done { json!(util::rfc3339(t.completed_unix_ms())) } else { Value::Null },
        "metrics": if done { json!({"predict_time": t.latency.as_secs_f64() * 0.8, "total_time": t.latency.as_secs_f64()}) } else { json!({}) },
        "urls": {
            "cancel": format!("{get}/cancel"),
            "get": get,
            "stream": sim.url(P, &format!("v1/predictions/{}/stream", t.id)),
            "web": format!("https://replicate.com/p/{}", t.id),
        },
    })
}

/// The webhook at `phase` (`start`, `logs`, `completed`), if the filter lets it through
pub fn callback(sim: &Sim, t: &Task, phase: Phase) -> Option<Outgoing> {
    let url = t.callback_url.as_deref()?;
    let event = match phase {
        Phase::Queued => "start",
        Phase::Running => "logs",
        Phase::Done => "completed",
    };
    if !t.aux.split(',').any(|e| e == event) {
        return None;
    }
    let h = util::hash64(&[t.id.as_bytes(), phase.as_str().as_bytes()]);
    Some(Outgoing::json(
        url,
        &prediction(sim, t, phase),
        Signer::StandardWebhooks {
            secret: REPLICATE_WEBHOOK_SECRET,
            msg_id: format!("msg_{h:016x}"),
        },
    ))
}
