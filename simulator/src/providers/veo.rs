//! Google Veo through the Gemini API: a long-running operation, polled; no webhook.
//!
//! - `POST /veo/v1beta/models/{model}:predictLongRunning` -> `{"name": "models/{model}/operations/{id}"}`
//! - `GET /veo/v1beta/models/{model}/operations/{id}` -> `{"name"}` while running (`done` omitted,
//!   as Google's JSON omits false), then `done: true` with
//!   `response.generateVideoResponse.generatedSamples[0].video.uri`, or the RAI-filtered shape
//! - `GET /veo/v1beta/files/{id}:download?alt=media` -> MP4 (needs the key: header or `?key=`)

use std::time::Instant;

use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};

use super::{Admission, Failure, Provider, Submission, admit, loose_number, reject};
use crate::http::{self, SimRequest};
use crate::media::{self, Shape};
use crate::state::{Outcome, Phase, Sim, Task, Unavailable};

const P: Provider = Provider::Veo;
const DEV_KEY: &str = "sim-veo-key";

/// Renders a failure as a google.rpc.Status
pub fn error(f: &Failure) -> (StatusCode, Value) {
    let (status, code, text, message) = match f {
        Failure::MissingAuth => (
            StatusCode::FORBIDDEN,
            403,
            "PERMISSION_DENIED",
            "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.".to_string(),
        ),
        Failure::BadAuth(_) => (
            StatusCode::BAD_REQUEST,
            400,
            "INVALID_ARGUMENT",
            "API key not valid. Please pass a valid API key.".to_string(),
        ),
        Failure::Invalid { .. } => (StatusCode::BAD_REQUEST, 400, "INVALID_ARGUMENT", f.message()),
        Failure::NotFound(m) => (StatusCode::NOT_FOUND, 404, "NOT_FOUND", m.clone()),
        Failure::RateLimited => (
            StatusCode::TOO_MANY_REQUESTS,
            429,
            "RESOURCE_EXHAUSTED",
            "Resource has been exhausted (e.g. check quota).".to_string(),
        ),
        Failure::ServerError => (
            StatusCode::INTERNAL_SERVER_ERROR,
            500,
            "INTERNAL",
            "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting".to_string(),
        ),
        Failure::Timeout => (
            StatusCode::GATEWAY_TIMEOUT,
            504,
            "DEADLINE_EXCEEDED",
            "The request timed out. Please try again.".to_string(),
        ),
    };
    let mut err = json!({"code": code, "message": message, "status": text});
    if matches!(f, Failure::BadAuth(_)) {
        err["details"] = json!([{
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            "reason": "API_KEY_INVALID",
            "domain": "googleapis.com",
            "metadata": {"service": "generativelanguage.googleapis.com"}
        }]);
    }
    (status, json!({ "error": err }))
}

fn check_key(req: &SimRequest) -> Result<(), Failure> {
    match req.header("x-goog-api-key").or_else(|| req.query("key")) {
        None | Some("") => Err(Failure::MissingAuth),
        Some(DEV_KEY) => Ok(()),
        Some(_) => Err(Failure::BadAuth("API key not valid".to_string())),
    }
}

/// Routes `/veo/...`
pub async fn handle(sim: &Sim, req: SimRequest) -> Response {
    if let Err(f) = check_key(&req) {
        return reject(sim, P, &f);
    }
    let segs = req.segs();
    match (&req.method, segs.as_slice()) {
        (&Method::POST, ["v1beta", "models", model_op]) => match model_op.split_once(':') {
            Some((model, "predictLongRunning")) => submit(sim, &req, model).await,
            _ => reject(sim, P, &not_found(&req)),
        },
        (&Method::GET, ["v1beta", "models", model, "operations", id]) => poll(sim, &req, model, id),
        (&Method::GET, ["v1beta", "files", file]) => match file.strip_suffix(":download") {
            Some(id) => download(sim, id).await,
            None => reject(sim, P, &not_found(&req)),
        },
        _ => reject(sim, P, &not_found(&req)),
    }
}

fn not_found(req: &SimRequest) -> Failure {
    Failure::NotFound(format!(
        "Requested entity was not found: /{}",
        req.segments.join("/")
    ))
}

fn validate(model: &str, body: &Value) -> Result<(String, f64), Failure> {
    if !model.starts_with("veo-") {
        return Err(Failure::NotFound(format!(
            "models/{model} is not found for API version v1beta, or is not supported for predictLongRunning."
        )));
    }
    let Some(instance) = body
        .get("instances")
        .and_then(Value::as_array)
        .and_then(|a| a.first())
    else {
        return Err(Failure::invalid(
            "instances",
            "* instances: must contain one instance",
        ));
    };
    let prompt = instance.get("prompt").and_then(Value::as_str).unwrap_or("");
    if let Some(image) = instance.get("image") {
        if image.get("inlineData").is_some() {
            return Err(Failure::invalid(
                "instances[0].image",
                "`inlineData` isn't supported by this model.",
            ));
        }
        if image
            .get("bytesBase64Encoded")
            .and_then(Value::as_str)
            .is_none()
            || image.get("mimeType").and_then(Value::as_str).is_none()
        {
            return Err(Failure::invalid(
                "instances[0].image",
                "image must carry bytesBase64Encoded and mimeType",
            ));
        }
    } else if prompt.trim().is_empty() {
        return Err(Failure::invalid(
            "instances[0].prompt",
            "prompt must not be empty",
        ));
    }
    let params = body.get("parameters").cloned().unwrap_or(Value::Null);
    if let Some(ar) = params.get("aspectRatio")
        && !matches!(ar.as_str(), Some("16:9" | "9:16"))
    {
        return Err(Failure::invalid(
            "parameters.aspectRatio",
            "aspectRatio must be 16:9 or 9:16",
        ));
    }
    if let Some(res) = params.get("resolution")
        && !matches!(res.as_str(), Some("720p" | "1080p"))
    {
        return Err(Failure::invalid(
            "parameters.resolution",
            "resolution must be 720p or 1080p",
        ));
    }
    let seconds = match params.get("durationSeconds") {
        None => 8.0,
        Some(v) => match loose_number(v) {
            Some(s) if [4.0, 5.0, 6.0, 8.0].contains(&s) => s,
            _ => {
                return Err(Failure::invalid(
                    "parameters.durationSeconds",
                    "durationSeconds must be 4, 6 or 8",
                ));
            }
        },
    };
    Ok((prompt.to_string(), seconds))
}

async fn submit(sim: &Sim, req: &SimRequest, model: &str) -> Response {
    let body = match req.json() {
        Ok(b) => b,
        Err(m) => return reject(sim, P, &Failure::body(m)),
    };
    let (prompt, seconds) = match validate(model, &body) {
        Ok(v) => v,
        Err(f) => return reject(sim, P, &f),
    };
    let params = body.get("parameters");
    let param = |k: &str| params.and_then(|p| p.get(k)).and_then(Value::as_str);
    let short = param("resolution")
        .and_then(media::resolution)
        .unwrap_or(720);
    let shape = Shape::video_aspect(param("aspectRatio"), short, 24);
    let mut sub = Submission::new(model, &prompt, body);
    sub.seconds = seconds;
    sub.shape = shape;
    sub.ttl_ms = 2 * 24 * 3600 * 1000;
    match admit(sim, P, req, sub).await {
        Ok(Admission::New(t) | Admission::Replay(t)) => {
            http::json(StatusCode::OK, &json!({ "name": operation_name(&t) }))
        }
        Err(r) => r,
    }
}

fn operation_name(t: &Task) -> String {
    format!("models/{}/operations/{}", t.model, t.id)
}

fn poll(sim: &Sim, req: &SimRequest, model: &str, id: &str) -> Response {
    let task = match super::poll(sim, P, id) {
        Ok(t) if t.model == model => t,
        Ok(_) | Err(None) => return reject(sim, P, &not_found(req)),
        Err(Some(r)) => return r,
    };
    let name = operation_name(&task);
    if task.phase_at(Instant::now()) != Phase::Done {
        return http::json(StatusCode::OK, &json!({ "name": name }));
    }
    let video_response = match &task.outcome {
        Outcome::Succeeded => json!({
            "generatedSamples": [{
                "video": { "uri": sim.url(P, &format!("v1beta/files/{}:download?alt=media", task.id)) }
            }]
        }),
        Outcome::Moderated => json!({
            "raiMediaFilteredCount": 1,
            "raiMediaFilteredReasons": [
                "We encountered an issue with the audio for your prompt. You have not been charged for this request."
            ]
        }),
        Outcome::Failed(reason) => {
            return http::json(
                StatusCode::OK,
                &json!({"name": name, "done": true, "error": {"code": 13, "message": reason}}),
            );
        }
    };
    http::json(
        StatusCode::OK,
        &json!({
            "name": name,
            "done": true,
            "response": {
                "@type": "type.googleapis.com/google.ai.generativelanguage.v1beta.PredictLongRunningResponse",
                "generateVideoResponse": video_response
            }
        }),
    )
}

async fn download(sim: &Sim, id: &str) -> Response {
    match super::output(sim, P, id) {
        Ok(t) => super::serve_output(sim, P, &t, t.media).await,
        Err(Some(Unavailable::NotReady)) => reject(
            sim,
            P,
            &Failure::body("File is not in an ACTIVE state and usage is not allowed."),
        ),
        Err(Some(Unavailable::Expired) | None) => reject(
            sim,
            P,
            &Failure::NotFound(format!("File files/{id} does not exist or has expired.")),
        ),
    }
}
