//! fal queue (Pika and other fal models): `?fal_webhook=`, ED25519-signed webhooks, JWKS.
//!
//! - `POST /fal/{model_id...}?fal_webhook=URL` -> `{request_id, status: "IN_QUEUE", status_url, response_url, cancel_url}`
//! - `GET /fal/{owner}/{app}/requests/{id}/status` -> 202 `IN_QUEUE | IN_PROGRESS`, 200 `COMPLETED`
//! - `GET /fal/{owner}/{app}/requests/{id}` -> the model output, or 422 with the model's error
//! - `PUT /fal/{owner}/{app}/requests/{id}/cancel`
//! - `GET /fal/.well-known/jwks.json`; `GET /fal/files/{id}/{name}` serves the output
//!
//! Like fal's queue, the submit accepts any JSON object; invalid model input fails the request
//! later with a 422 `detail`, delivered as a webhook with `status: "ERROR"`.

use std::time::Instant;

use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::{Admission, Failure, Provider, Submission, admit, reject};
use crate::delivery::{Outgoing, Signer};
use crate::http::{self, SimRequest};
use crate::media::{self, MediaKind, Shape, Spec};
use crate::signing;
use crate::state::{Outcome, Phase, Sim, Task};

const P: Provider = Provider::Fal;
const DEV_KEY: &str = "sim-fal-key";
const ASPECTS: [&str; 7] = ["16:9", "9:16", "1:1", "4:5", "5:4", "3:2", "2:3"];

/// Renders a failure as fal's `{"detail": ...}`
pub fn error(f: &Failure) -> (StatusCode, Value) {
    let detail = match f {
        Failure::MissingAuth => "No authentication provided".to_string(),
        Failure::BadAuth(_) => "No user found for Key ID and Secret".to_string(),
        Failure::RateLimited => "Too many requests, please retry later".to_string(),
        Failure::ServerError => "Internal server error".to_string(),
        _ => f.message(),
    };
    (f.status(), json!({ "detail": detail }))
}

/// Routes `/fal/...`
pub async fn handle(sim: &Sim, req: SimRequest) -> Response {
    let segs = req.segs();
    match (&req.method, segs.as_slice()) {
        (&Method::GET, [".well-known", "jwks.json"]) => {
            return http::json(StatusCode::OK, &signing::fal_jwks(sim.fal_key()));
        }
        (&Method::GET, ["files", id, _name]) => {
            return match super::output(sim, P, id) {
                Ok(t) => super::serve_output(sim, P, &t, t.media).await,
                Err(_) => http::raw(StatusCode::NOT_FOUND, "text/plain", b"Not Found".to_vec()),
            };
        }
        _ => {}
    }
    match req.auth("Key") {
        None | Some("") => return reject(sim, P, &Failure::MissingAuth),
        Some(DEV_KEY) => {}
        Some(_) => return reject(sim, P, &Failure::BadAuth("bad key".to_string())),
    }
    match (&req.method, segs.as_slice()) {
        (&Method::GET, [owner, app, "requests", id, "status"]) => status(sim, &req, owner, app, id),
        (&Method::GET, [owner, app, "requests", id]) => result(sim, owner, app, id),
        (&Method::PUT, [owner, app, "requests", id, "cancel"]) => cancel(sim, owner, app, id),
        (&Method::POST, [_, _, ..]) => submit(sim, &req).await,
        _ => reject(sim, P, &Failure::NotFound("Not Found".to_string())),
    }
}

fn output_kind(model_id: &str) -> MediaKind {
    if model_id.contains("video") {
        MediaKind::Video
    } else if model_id.contains("image") || model_id.contains("flux") {
        MediaKind::Png
    } else {
        MediaKind::Video
    }
}

/// fal's named image sizes
fn image_size(name: &str) -> Option<(u32, u32)> {
    Some(match name {
        "square_hd" => (1024, 1024),
        "square" => (512, 512),
        "portrait_4_3" => (768, 1024),
        "portrait_16_9" => (576, 1024),
        "landscape_4_3" => (1024, 768),
        "landscape_16_9" => (1024, 576),
        _ => return None,
    })
}

/// The output's format and shape: images from `image_size` (a name or `{width, height}`) or
/// `aspect_ratio` (default `landscape_4_3`) in `output_format` (default PNG); videos from
/// `aspect_ratio` (default 16:9), `resolution` (default 720p) and `frames_per_second` (24)
fn output_shape(model_id: &str, m: &Map<String, Value>) -> (MediaKind, Shape) {
    let kind = output_kind(model_id);
    if kind == MediaKind::Video {
        let short = super::str_field(m, "resolution")
            .and_then(media::resolution)
            .unwrap_or(720);
        let fps = m
            .get("frames_per_second")
            .or_else(|| m.get("fps"))
            .and_then(super::loose_number)
            .map_or(24, |f| f.round().clamp(1.0, 60.0) as u32);
        let aspect = super::str_field(m, "aspect_ratio");
        return (kind, Shape::video_aspect(aspect, short, fps));
    }
    let kind = match super::str_field(m, "output_format") {
        Some("jpeg" | "jpg") => MediaKind::Jpeg,
        Some("webp") => MediaKind::Webp,
        _ => kind,
    };
    let named = match m.get("image_size") {
        Some(Value::String(name)) => image_size(name),
        Some(Value::Object(o)) => match (
            o.get("width").and_then(Value::as_u64),
            o.get("height").and_then(Value::as_u64),
        ) {
            (Some(w), Some(h)) => Some((w as u32, h as u32)),
            _ => None,
        },
        _ => None,
    };
    let shape = match (named, super::str_field(m, "aspect_ratio")) {
        (Some((w, h)), _) => Shape::image(w, h),
        (None, Some(aspect)) => Shape::image_aspect(Some(aspect), 1024),
        (None, None) => Shape::image(1024, 768),
    };
    (kind, shape)
}

/// Validates Pika-style input; the errors are FastAPI `detail` items
fn late_validation(model_id: &str, m: &Map<String, Value>) -> Vec<Value> {
    let mut detail = Vec::new();
    let mut bad = |loc: &str, msg: &str, kind: &str| {
        detail.push(json!({"loc": ["body", loc], "msg": msg, "type": kind}));
    };
    let is_video = output_kind(model_id) == MediaKind::Video;
    if model_id.contains("image-to-video") {
        if m.get("image_url")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
        {
            bad("image_url", "field required", "value_error.missing");
        }
    } else if m
        .get("prompt")
        .and_then(Value::as_str)
        .is_none_or(|p| p.trim().is_empty())
    {
        bad("prompt", "field required", "value_error.missing");
    }
    if is_video {
        if let Some(a) = m.get("aspect_ratio")
            && !a.as_str().is_some_and(|a| ASPECTS.contains(&a))
        {
            bad(
                "aspect_ratio",
                "unexpected value; permitted: '16:9', '9:16', '1:1', '4:5', '5:4', '3:2', '2:3'",
                "value_error.const",
            );
        }
        if let Some(r) = m.get("resolution")
            && !matches!(r.as_str(), Some("480p" | "720p" | "1080p"))
        {
            bad(
                "resolution",
                "unexpected value; permitted: '480p', '720p', '1080p'",
                "value_error.const",
            );
        }
        if let Some(d) = m.get("duration")
            && !super::loose_number(d).is_some_and(|d| d == 5.0 || d == 10.0)
        {
            bad(
                "duration",
                "unexpected value; permitted: 5, 10",
                "value_error.const",
            );
        }
    }
    detail
}

async fn submit(sim: &Sim, req: &SimRequest) -> Response {
    let model_id = req.segments.join("/");
    let app = req.segments[..2].join("/");
    let m = match req.json_object() {
        Ok(m) => m,
        Err(e) => return reject(sim, P, &Failure::body(e)),
    };
    let webhook = match super::url_field(req.query("fal_webhook"), "fal_webhook") {
        Ok(u) => u,
        Err(f) => return reject(sim, P, &f),
    };
    let detail = late_validation(&model_id, &m);
    let prompt = super::str_field(&m, "prompt").unwrap_or("").to_string();
    let seconds = m
        .get("duration")
        .and_then(super::loose_number)
        .unwrap_or(5.0);
    let (media, shape) = output_shape(&model_id, &m);
    let mut sub = Submission::new(&model_id, &prompt, Value::Object(m));
    sub.media = media;
    sub.shape = shape;
    sub.seconds = seconds;
    sub.callback_url = webhook;
    sub.aux = app;
    sub.ttl_ms = 3600 * 1000;
    if !detail.is_empty() {
        sub.outcome = Some(Outcome::Failed(Value::Array(detail).to_string()));
    }
    match admit(sim, P, req, sub).await {
        Ok(Admission::New(t) | Admission::Replay(t)) => {
            let mut body = urls(sim, &t);
            body["request_id"] = json!(t.id);
            body["gateway_request_id"] = json!(t.id);
            body["status"] = json!("IN_QUEUE");
            body["queue_position"] = json!(0);
            http::json(StatusCode::OK, &body)
        }
        Err(r) => r,
    }
}

fn urls(sim: &Sim, t: &Task) -> Value {
    let base = format!("{}/requests/{}", t.aux, t.id);
    json!({
        "status_url": sim.url(P, &format!("{base}/status")),
        "response_url": sim.url(P, &base),
        "cancel_url": sim.url(P, &format!("{base}/cancel")),
    })
}

fn find(sim: &Sim, owner: &str, app: &str, id: &str) -> Result<Task, Response> {
    match super::poll(sim, P, id) {
        Ok(t) if t.aux == format!("{owner}/{app}") => Ok(t),
        Err(Some(r)) => Err(r),
        Ok(_) | Err(None) => Err(reject(
            sim,
            P,
            &Failure::NotFound("Request not found".to_string()),
        )),
    }
}

fn status(sim: &Sim, req: &SimRequest, owner: &str, app: &str, id: &str) -> Response {
    let t = match find(sim, owner, app, id) {
        Ok(t) => t,
        Err(r) => return r,
    };
    let phase = if t.cancelled {
        Phase::Done
    } else {
        t.phase_at(Instant::now())
    };
    let mut body = urls(sim, &t);
    body["request_id"] = json!(t.id);
    let with_logs = req.query("logs") == Some("1");
    let logs = |lines: &[&str]| -> Value {
        if with_logs {
            json!(
                lines
                    .iter()
                    .map(|l| json!({"message": l, "level": "INFO", "source": "user"}))
                    .collect::<Vec<_>>()
            )
        } else {
            Value::Null
        }
    };
    let code = match phase {
        Phase::Queued => {
            body["status"] = json!("IN_QUEUE");
            body["queue_position"] = json!(0);
            StatusCode::ACCEPTED
        }
        Phase::Running => {
            body["status"] = json!("IN_PROGRESS");
            body["logs"] = logs(&["Generating..."]);
            StatusCode::ACCEPTED
        }
        Phase::Done => {
            body["status"] = json!("COMPLETED");
            body["logs"] = logs(&["Generating...", "Done."]);
            body["metrics"] = json!({"inference_time": t.latency.as_secs_f64()});
            StatusCode::OK
        }
    };
    http::json(code, &body)
}

/// The model output of a succeeded request (`file_size` once the file has been rendered)
fn model_output(sim: &Sim, t: &Task) -> Value {
    let bytes = Spec::for_task(t, t.media).cached_len();
    let name = format!("output.{}", t.media.ext());
    let url = sim.url(P, &format!("files/{}/{name}", t.id));
    if t.media.is_image() {
        json!({
            "images": [{
                "url": url,
                "content_type": t.media.content_type(),
                "width": t.shape.width,
                "height": t.shape.height,
                "file_size": bytes,
            }],
            "seed": crate::util::hash64(&[t.id.as_bytes()]) % 1_000_000,
        })
    } else {
        json!({
            "video": {"url": url, "content_type": t.media.content_type(), "file_name": name, "file_size": bytes}
        })
    }
}

/// The 422 `detail` of a failed request
fn failure_detail(t: &Task) -> Value {
    match &t.outcome {
        Outcome::Moderated => json!([{
            "loc": ["body", "prompt"],
            "msg": "The content could not be processed because it contained material flagged by a content checker.",
            "type": "content_policy_violation",
        }]),
        Outcome::Failed(reason) => serde_json::from_str::<Value>(reason)
            .unwrap_or_else(|_| json!([{"loc": ["body"], "msg": reason, "type": "value_error"}])),
        Outcome::Succeeded => json!([]),
    }
}

fn result(sim: &Sim, owner: &str, app: &str, id: &str) -> Response {
    let t = match find(sim, owner, app, id) {
        Ok(t) => t,
        Err(r) => return r,
    };
    if t.cancelled {
        return http::json(
            StatusCode::BAD_REQUEST,
            &json!({"detail": "Request was cancelled"}),
        );
    }
    if t.phase_at(Instant::now()) != Phase::Done {
        return http::json(
            StatusCode::BAD_REQUEST,
            &json!({"detail": "Request is still in progress"}),
        );
    }
    match t.outcome {
        Outcome::Succeeded => http::json(StatusCode::OK, &model_output(sim, &t)),
        _ => http::json(
            StatusCode::UNPROCESSABLE_ENTITY,
            &json!({"detail": failure_detail(&t)}),
        ),
    }
}

fn cancel(sim: &Sim, owner: &str, app: &str, id: &str) -> Response {
    let t = match find(sim, owner, app, id) {
        Ok(t) => t,
        Err(r) => return r,
    };
    if t.phase_at(Instant::now()) == Phase::Done {
        return http::json(
            StatusCode::BAD_REQUEST,
            &json!({"status": "ALREADY_COMPLETED"}),
        );
    }
    super::cancel(sim, P, id);
    http::json(
        StatusCode::ACCEPTED,
        &json!({"status": "CANCELLATION_REQUESTED"}),
    )
}

/// The webhook of a finished request, ED25519-signed
pub fn callback(sim: &Sim, t: &Task, phase: Phase) -> Option<Outgoing> {
    if phase != Phase::Done {
        return None;
    }
    let url = t.callback_url.as_deref()?;
    let body = match t.outcome {
        Outcome::Succeeded => json!({
            "request_id": t.id,
            "gateway_request_id": t.id,
            "status": "OK",
            "payload": model_output(sim, t),
        }),
        _ => json!({
            "request_id": t.id,
            "gateway_request_id": t.id,
            "status": "ERROR",
            "error": "Invalid status code: 422",
            "payload": {"detail": failure_detail(t)},
        }),
    };
    Some(Outgoing::json(
        url,
        &body,
        Signer::Fal {
            request_id: t.id.clone(),
        },
    ))
}
