//! ElevenLabs text to speech: synchronous; the response body is the audio.
//!
//! - `POST /elevenlabs/v1/text-to-speech/{voice_id}` (and `/stream`) with `xi-api-key`
//!   -> `audio/mpeg` after the provider's latency (`output_format` `mp3_{rate}_{kbps}`, or
//!   `pcm_{rate}` raw 16-bit mono): the line spoken by espeak-ng (a tone without it)
//! - `POST /elevenlabs/v1/music` (Eleven Music) with `xi-api-key`, `{prompt, music_length_ms,
//!   model_id, force_instrumental}` -> the song as `audio/mpeg` after the provider's latency,
//!   `music_length_ms` long (3..=600 s; 30 s when absent, as the model would choose one)
//! - the voice library and instant clones: see [`super::elevenlabs_voices`]

use std::time::Instant;

use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};

use super::{Admission, Failure, Provider, Submission, admit, reject};
use crate::http::{self, SimRequest};
use crate::media::{self, MediaKind, Shape, Spec, audio};
use crate::state::{Outcome, Sim, bump};

const P: Provider = Provider::Elevenlabs;
const DEV_KEY: &str = "sim-elevenlabs-key";

/// Renders a failure as ElevenLabs' `{"detail": {status, message}}`
pub fn error(f: &Failure) -> (StatusCode, Value) {
    let (status, code, message) = match f {
        Failure::MissingAuth => (
            StatusCode::UNAUTHORIZED,
            "needs_authorization",
            "Neither authorization header nor xi-api-key received, please provide one.".to_string(),
        ),
        Failure::BadAuth(_) => (
            StatusCode::UNAUTHORIZED,
            "invalid_api_key",
            "Invalid API key".to_string(),
        ),
        Failure::Invalid { field, message } if field.is_some() => {
            return (
                StatusCode::UNPROCESSABLE_ENTITY,
                json!({"detail": [{"loc": ["body", field], "msg": message, "type": "value_error"}]}),
            );
        }
        Failure::Invalid { message, .. } => {
            (StatusCode::BAD_REQUEST, "invalid_request", message.clone())
        }
        Failure::NotFound(m) => (StatusCode::NOT_FOUND, "not_found", m.clone()),
        Failure::RateLimited => (
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_concurrent_requests",
            "Too many concurrent requests. Your plan's concurrency limit has been reached."
                .to_string(),
        ),
        Failure::ServerError => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            f.message(),
        ),
        Failure::Timeout => (StatusCode::GATEWAY_TIMEOUT, "timeout", f.message()),
    };
    (
        status,
        json!({"detail": {"status": code, "message": message}}),
    )
}

/// Routes `/elevenlabs/...`
pub async fn handle(sim: &Sim, req: SimRequest) -> Response {
    match req.header("xi-api-key") {
        None | Some("") => return reject(sim, P, &Failure::MissingAuth),
        Some(DEV_KEY) => {}
        Some(_) => return reject(sim, P, &Failure::BadAuth("invalid key".to_string())),
    }
    if let Some(r) = super::elevenlabs_voices::handle(sim, &req).await {
        return r;
    }
    let segs = req.segs();
    match (&req.method, segs.as_slice()) {
        (&Method::POST, ["v1", "text-to-speech", voice])
        | (&Method::POST, ["v1", "text-to-speech", voice, "stream"]) => tts(sim, &req, voice).await,
        (&Method::POST, ["v1", "music"]) => music(sim, &req).await,
        (&Method::GET, ["v1", "history"]) => super::elevenlabs_history::list(sim, &req),
        (&Method::GET, ["v1", "history", id]) => super::elevenlabs_history::get(sim, id),
        (&Method::GET, ["v1", "history", id, "audio"]) => {
            super::elevenlabs_history::audio(sim, id).await
        }
        _ => reject(sim, P, &Failure::NotFound("Not Found".to_string())),
    }
}

async fn tts(sim: &Sim, req: &SimRequest, voice: &str) -> Response {
    let mut m = match req.json_object() {
        Ok(m) => m,
        Err(e) => return reject(sim, P, &Failure::body(e)),
    };
    let text = match super::opt_str(&m, "text") {
        Ok(Some(t)) if !t.trim().is_empty() => t.to_string(),
        Ok(_) => return reject(sim, P, &Failure::invalid("text", "field required")),
        Err(f) => return reject(sim, P, &f),
    };
    let format = req
        .query("output_format")
        .unwrap_or("mp3_44100_128")
        .to_string();
    let parts: Vec<&str> = format.split('_').collect();
    let number = |i: usize| parts.get(i).and_then(|v| v.parse::<u32>().ok());
    let (media, rate, kbps) = match parts.first() {
        Some(&"mp3") if number(1).is_some() => (
            MediaKind::Mp3,
            number(1).unwrap_or(44_100),
            number(2).unwrap_or(128),
        ),
        Some(&"pcm") if number(1).is_some() => (MediaKind::Pcm, number(1).unwrap_or(16_000), 0),
        _ => {
            return reject(
                sim,
                P,
                &Failure::body(format!("output_format {format} is not supported")),
            );
        }
    };
    let model = super::str_field(&m, "model_id")
        .unwrap_or("eleven_multilingual_v2")
        .to_string();
    m.insert("voice_id".to_string(), json!(voice));
    let mut sub = Submission::new(&model, &text, Value::Object(m));
    sub.media = media;
    sub.shape = Shape::speech(voice, rate, kbps);
    // What a speaker takes; the rendered line has its own length (the tone fallback uses this)
    sub.seconds = (text.chars().count() as f64 / audio::CHARS_PER_SECOND).max(0.5);
    let (task, r) = match generate(
        sim,
        req,
        sub,
        media,
        "content_against_policy",
        "The text was flagged by our content moderation and cannot be converted.",
    )
    .await
    {
        Ok(done) => done,
        Err(r) => return r,
    };
    let r = http::with_header(r, "request-id", &task.id);
    let r = http::with_header(r, "history-item-id", &task.id);
    http::with_header(
        r,
        "character-cost",
        &task.prompt.chars().count().to_string(),
    )
}

/// Admits a synchronous generation, renders its audio during the provider's latency and answers
/// it as the body (speech and music alike); a moderated task is ElevenLabs' 400 with `status`
async fn generate(
    sim: &Sim,
    req: &SimRequest,
    sub: Submission,
    media: MediaKind,
    status: &str,
    message: &str,
) -> Result<(crate::state::Task, Response), Response> {
    let task = match admit(sim, P, req, sub).await {
        Ok(Admission::New(t) | Admission::Replay(t)) => t,
        Err(r) => return Err(r),
    };
    let spec = Spec::for_task(&task, media);
    let remaining = task.ready_at().saturating_duration_since(Instant::now());
    let succeeded = task.outcome == Outcome::Succeeded;
    // Rendering runs during the provider's latency
    let (awake, rendered) = tokio::join!(sim.sleep(remaining), async {
        if succeeded {
            Some(super::render_output(sim, P, &spec).await)
        } else {
            None
        }
    });
    if !awake {
        return Err(reject(sim, P, &Failure::ServerError));
    }
    let ready = match rendered {
        Some(Ok(ready)) => ready,
        Some(Err(r)) => return Err(r),
        None => {
            return Err(http::json(
                StatusCode::BAD_REQUEST,
                &json!({"detail": { "status": status, "message": message }}),
            ));
        }
    };
    sim.with(|s| bump(&mut s.stats.downloads, P.as_str()));
    Ok((task, media::respond(ready, media.content_type())))
}

/// The song's length when the request gives none, seconds
const MUSIC_DEFAULT_S: f64 = 30.0;

/// The checked music request: model, prompt, length in seconds
fn music_request(m: &serde_json::Map<String, Value>) -> Result<(String, String, f64), Failure> {
    let prompt = match super::opt_str(m, "prompt")? {
        Some(p) if !p.trim().is_empty() => p.to_string(),
        _ => return Err(Failure::invalid("prompt", "field required")),
    };
    let model = match super::opt_str(m, "model_id")? {
        None => "music_v1".to_string(),
        Some(id @ ("music_v1" | "music_v2")) => id.to_string(),
        Some(other) => {
            return Err(Failure::invalid(
                "model_id",
                format!("model {other} does not support music"),
            ));
        }
    };
    let seconds = match m.get("music_length_ms") {
        None | Some(Value::Null) => MUSIC_DEFAULT_S,
        Some(v) => match v.as_u64() {
            Some(ms) if (3_000..=600_000).contains(&ms) => ms as f64 / 1000.0,
            _ => {
                return Err(Failure::invalid(
                    "music_length_ms",
                    "music_length_ms must be between 3000 and 600000",
                ));
            }
        },
    };
    Ok((model, prompt, seconds))
}

async fn music(sim: &Sim, req: &SimRequest) -> Response {
    let m = match req.json_object() {
        Ok(m) => m,
        Err(e) => return reject(sim, P, &Failure::body(e)),
    };
    let (model, prompt, seconds) = match music_request(&m) {
        Ok(v) => v,
        Err(f) => return reject(sim, P, &f),
    };
    let format = req.query("output_format").unwrap_or("mp3_44100_128");
    let parts: Vec<&str> = format.split('_').collect();
    let number = |i: usize| parts.get(i).and_then(|v| v.parse::<u32>().ok());
    let (Some(&"mp3"), Some(rate), Some(kbps)) = (parts.first(), number(1), number(2)) else {
        return reject(
            sim,
            P,
            &Failure::body(format!("output_format {format} is not supported for music")),
        );
    };
    let mut sub = Submission::new(&model, &prompt, Value::Object(m));
    sub.media = MediaKind::Mp3;
    sub.shape = Shape::music(rate, kbps, 2);
    sub.seconds = seconds;
    let (task, r) = match generate(
        sim,
        req,
        sub,
        MediaKind::Mp3,
        "bad_prompt",
        "The prompt was flagged by our content moderation.",
    )
    .await
    {
        Ok(done) => done,
        Err(r) => return r,
    };
    http::with_header(r, "song-id", &task.id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(v: Value) -> serde_json::Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn music_takes_a_prompt_a_music_model_and_a_length_eleven_music_renders() {
        let ok = music_request(&body(json!({
            "prompt": "slow strings", "music_length_ms": 42_300, "model_id": "music_v1",
            "force_instrumental": true
        })));
        assert!(
            matches!(ok, Ok((ref m, ref p, s)) if m == "music_v1" && p == "slow strings" && (s - 42.3).abs() < 1e-9)
        );
        let default = music_request(&body(json!({ "prompt": "rain" })));
        assert!(matches!(default, Ok((ref m, _, s)) if m == "music_v1" && s == MUSIC_DEFAULT_S));
        for bad in [
            json!({ "music_length_ms": 30_000 }),
            json!({ "prompt": "rain", "music_length_ms": 2_999 }),
            json!({ "prompt": "rain", "music_length_ms": 600_001 }),
            json!({ "prompt": "rain", "model_id": "eleven_multilingual_v2" }),
        ] {
            assert!(music_request(&body(bad.clone())).is_err(), "{bad}");
        }
    }
}
