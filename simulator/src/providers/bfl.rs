//! Black Forest Labs FLUX: `x-key`, `webhook_url` + `webhook_secret`, result URLs that expire.
//!
//! - `POST /bfl/v1/flux-pro-1.1` (any `/bfl/v1/flux*`) -> `{id, polling_url}`; FLUX Kontext
//!   (`/bfl/v1/flux-kontext-pro`) takes `input_image`..`input_image_4` (URL or base64) and
//!   `aspect_ratio`
//! - `GET /bfl/v1/get_result?id=` -> `Pending | Ready | Request Moderated | Content Moderated | Error | Task not found`
//! - webhook: `{id, status, result: {sample, prompt, seed}, timestamp}`, header
//!   `X-BFL-Signature: sha256=<hex HMAC-SHA256(webhook_secret, body)>`
//! - `GET /bfl/delivery/{id}/sample.{jpeg|png}`: the image for 10 minutes (scaled) after
//!   completion, then 403 `AuthenticationFailed` as BFL's blob delivery host answers

use std::time::Instant;

use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::{Admission, Failure, Provider, Submission, admit, reject};
use crate::delivery::{Outgoing, Signer};
use crate::http::{self, SimRequest};
use crate::media::{MediaKind, Shape};
use crate::state::{Outcome, Phase, Sim, Task, Unavailable};
use crate::util;

const P: Provider = Provider::Bfl;
const DEV_KEY: &str = "sim-bfl-key";
/// How long a result URL lives after completion, before scaling: 10 minutes
pub const RESULT_TTL_MS: u64 = 10 * 60 * 1000;

/// Renders a failure as BFL's FastAPI `{"detail": ...}`
pub fn error(f: &Failure) -> (StatusCode, Value) {
    match f {
        Failure::MissingAuth => (
            StatusCode::FORBIDDEN,
            json!({"detail": "Not authenticated"}),
        ),
        Failure::BadAuth(_) => (StatusCode::FORBIDDEN, json!({"detail": "Invalid API key"})),
        Failure::Invalid { message, field } => (
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({"detail": [{
                "loc": ["body", field.clone().unwrap_or_default()],
                "msg": message,
                "type": "value_error",
            }]}),
        ),
        Failure::RateLimited => (
            StatusCode::TOO_MANY_REQUESTS,
            json!({"detail": "You have exceeded your limit of concurrent active tasks. Please wait for some tasks to finish."}),
        ),
        _ => (f.status(), json!({"detail": f.message()})),
    }
}

/// Routes `/bfl/...`
pub async fn handle(sim: &Sim, req: SimRequest) -> Response {
    let segs = req.segs();
    if let (&Method::GET, ["delivery", id, _file]) = (&req.method, segs.as_slice()) {
        return delivery(sim, id).await;
    }
    match req.header("x-key") {
        None | Some("") => return reject(sim, P, &Failure::MissingAuth),
        Some(DEV_KEY) => {}
        Some(_) => return reject(sim, P, &Failure::BadAuth("invalid key".to_string())),
    }
    match (&req.method, segs.as_slice()) {
        (&Method::POST, ["v1", model]) if model.starts_with("flux") => {
            submit(sim, &req, model).await
        }
        (&Method::GET, ["v1", "get_result"]) => get_result(sim, req.query("id").unwrap_or("")),
        _ => reject(sim, P, &Failure::NotFound("Not Found".to_string())),
    }
}

/// The size of the image: `width` x `height` (FLUX 1.1 [pro]), else `aspect_ratio` (FLUX
/// ultra, about 4 megapixels, drawn at a 1440 long side), else BFL's default 1024x768
fn shape(m: &Map<String, Value>) -> Shape {
    let dim = |k: &str| m.get(k).and_then(Value::as_u64).map(|n| n as u32);
    match (dim("width"), dim("height")) {
        (Some(w), Some(h)) => Shape::image(w, h),
        (Some(w), None) => Shape::image(w, 768),
        (None, Some(h)) => Shape::image(1024, h),
        (None, None) => match m.get("aspect_ratio").and_then(Value::as_str) {
            Some(a) => Shape::image_aspect(Some(a), 1440),
            None => Shape::image(1024, 768),
        },
    }
}

/// FLUX Kontext's image inputs: the image to edit or reference, then the experimental
/// multi-reference ones
const KONTEXT_IMAGES: [&str; 4] = [
    "input_image",
    "input_image_2",
    "input_image_3",
    "input_image_4",
];

fn validate(m: &Map<String, Value>) -> Result<(String, MediaKind), Failure> {
    let prompt = super::opt_str(m, "prompt")?.unwrap_or("");
    if prompt.trim().is_empty() && m.get("image_prompt").is_none() && m.get("input_image").is_none()
    {
        return Err(Failure::invalid("prompt", "field required"));
    }
    for dim in ["width", "height"] {
        if let Some(v) = m.get(dim) {
            let ok = v
                .as_u64()
                .is_some_and(|n| (256..=1440).contains(&n) && n % 32 == 0);
            if !ok {
                return Err(Failure::invalid(
                    dim,
                    "must be a multiple of 32 between 256 and 1440",
                ));
            }
        }
    }
    if let Some(v) = m.get("safety_tolerance")
        && v.as_u64().is_none_or(|n| n > 6)
    {
        return Err(Failure::invalid(
            "safety_tolerance",
            "must be between 0 and 6",
        ));
    }
    for field in KONTEXT_IMAGES {
        if let Some(v) = m.get(field).filter(|v| !v.is_null())
            && v.as_str().is_none_or(|s| s.trim().is_empty())
        {
            return Err(Failure::invalid(
                field,
                "must be a base64 encoded image or a URL",
            ));
        }
    }
    let media = match super::opt_enum(m, "output_format", &["jpeg", "png"])? {
        Some("png") => MediaKind::Png,
        _ => MediaKind::Jpeg,
    };
    if let Some(u) = super::opt_str(m, "webhook_url")?
        && u.len() > 2083
    {
        return Err(Failure::invalid(
            "webhook_url",
            "ensure this value has at most 2083 characters",
        ));
    }
    Ok((prompt.to_string(), media))
}

async fn submit(sim: &Sim, req: &SimRequest, model: &str) -> Response {
    let m = match req.json_object() {
        Ok(m) => m,
        Err(e) => return reject(sim, P, &Failure::body(e)),
    };
    let (prompt, media) = match validate(&m) {
        Ok(v) => v,
        Err(f) => return reject(sim, P, &f),
    };
    let webhook =
        match super::opt_str(&m, "webhook_url").and_then(|u| super::url_field(u, "webhook_url")) {
            Ok(u) => u,
            Err(f) => return reject(sim, P, &f),
        };
    let secret = super::str_field(&m, "webhook_secret")
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    let shape = shape(&m);
    let references = KONTEXT_IMAGES
        .iter()
        .filter(|f| m.get(**f).is_some_and(|v| !v.is_null()))
        .count();
    let mut sub = Submission::new(model, &prompt, Value::Object(m));
    sub.media = media;
    sub.shape = shape;
    sub.callback_url = webhook;
    sub.webhook_secret = secret;
    sub.ttl_ms = RESULT_TTL_MS;
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
            http::json(
                StatusCode::OK,
                &json!({
                    "id": t.id,
                    "polling_url": sim.url(P, &format!("v1/get_result?id={}", t.id)),
                }),
            )
        }
        Err(r) => r,
    }
}

fn seed(t: &Task) -> u64 {
    t.input
        .get("seed")
        .and_then(Value::as_u64)
        .unwrap_or_else(|| util::hash64(&[t.id.as_bytes()]) % 4_294_967_296)
}

fn sample_url(sim: &Sim, t: &Task) -> String {
    sim.url(P, &format!("delivery/{}/sample.{}", t.id, t.media.ext()))
}

fn get_result(sim: &Sim, id: &str) -> Response {
    let t = match super::poll(sim, P, id) {
        Ok(t) => t,
        Err(Some(r)) => return r,
        Err(None) => {
            return http::json(
                StatusCode::OK,
                &json!({"id": id, "status": "Task not found"}),
            );
        }
    };
    let now = Instant::now();
    let body = match (t.phase_at(now), &t.outcome) {
        (Phase::Queued | Phase::Running, _) => json!({
            "id": t.id, "status": "Pending", "result": Value::Null,
            "progress": (t.progress_at(now) * 100.0).round() / 100.0, "details": Value::Null,
        }),
        (Phase::Done, Outcome::Succeeded) => json!({
            "id": t.id,
            "status": "Ready",
            "result": {
                "sample": sample_url(sim, &t),
                "prompt": t.prompt,
                "seed": seed(&t),
                "start_time": t.created_unix_ms as f64 / 1000.0,
                "end_time": t.completed_unix_ms() as f64 / 1000.0,
                "duration": t.latency.as_secs_f64(),
            },
            "progress": Value::Null,
            "details": Value::Null,
        }),
        (Phase::Done, Outcome::Moderated) => json!({
            "id": t.id, "status": "Content Moderated", "result": Value::Null, "progress": Value::Null,
            "details": {"Moderation Reasons": ["Derivative Works Filter"]},
        }),
        (Phase::Done, Outcome::Failed(reason)) => json!({
            "id": t.id, "status": "Error", "result": Value::Null, "progress": Value::Null,
            "details": {"error": reason},
        }),
    };
    http::json(StatusCode::OK, &body)
}

async fn delivery(sim: &Sim, id: &str) -> Response {
    match super::output(sim, P, id) {
        Ok(t) => super::serve_output(sim, P, &t, t.media).await,
        Err(Some(Unavailable::Expired)) => http::raw(
            StatusCode::FORBIDDEN,
            "application/xml",
            format!(
                "<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>AuthenticationFailed</Code><Message>Server failed to authenticate the request. Make sure the value of Authorization header is formed correctly including the signature.\nRequestId:{id}\nTime:{}</Message><AuthenticationErrorDetail>Signed expiry time has expired</AuthenticationErrorDetail></Error>",
                util::rfc3339(util::now_unix_ms())
            )
            .into_bytes(),
        ),
        Err(_) => http::raw(
            StatusCode::NOT_FOUND,
            "application/xml",
            b"<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>BlobNotFound</Code><Message>The specified blob does not exist.</Message></Error>".to_vec(),
        ),
    }
}

/// The webhook of a finished task, signed with the request's `webhook_secret`
pub fn callback(sim: &Sim, t: &Task, phase: Phase) -> Option<Outgoing> {
    if phase != Phase::Done {
        return None;
    }
    let url = t.callback_url.as_deref()?;
    let ts = t.completed_unix_ms() / 1000;
    let body = match &t.outcome {
        Outcome::Succeeded => json!({
            "id": t.id,
            "status": "Ready",
            "result": {"sample": sample_url(sim, t), "prompt": t.prompt, "seed": seed(t)},
            "timestamp": ts,
        }),
        Outcome::Moderated => json!({
            "id": t.id,
            "status": "Content Moderated",
            "error": "Content Moderated",
            "message": "The generated image was flagged by content moderation.",
            "timestamp": ts,
        }),
        Outcome::Failed(reason) => json!({
            "id": t.id, "status": "Error", "error": "Error", "message": reason, "timestamp": ts,
        }),
    };
    Some(Outgoing::json(
        url,
        &body,
        Signer::Bfl {
            secret: t.webhook_secret.clone(),
        },
    ))
}
