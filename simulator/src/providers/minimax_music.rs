//! MiniMax music: synchronous; `data.audio` is hex (default) or a URL (`output_format: "url"`).
//!
//! - `POST /minimax_music/v1/music_generation` -> `{data: {status: 2, audio}, extra_info, trace_id, base_resp}`
//! - `GET /minimax_music/files/{id}.{mp3|wav}` serves URL-mode audio (URLs live 24 h)
//!
//! The music is rendered while the request is held, in `audio_setting`'s format, sample rate and
//! bitrate. MiniMax takes no length; the simulator makes 30 s, or `duration` seconds (1..=300)
//! when the body carries that field (a simulator extension).

use std::time::Instant;

use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};
use tokio::io::AsyncReadExt;

use super::{Admission, Failure, Provider, Submission, admit, hailuo, reject};
use crate::http::{self, SimRequest};
use crate::media::{MediaError, MediaKind, Shape, Spec};
use crate::state::{Outcome, Sim, bump};

const P: Provider = Provider::MinimaxMusic;
/// The length of the music when the request does not say (MiniMax takes no length)
const SECONDS: f64 = 30.0;

/// Routes `/minimax_music/...`
pub async fn handle(sim: &Sim, req: SimRequest) -> Response {
    let segs = req.segs();
    if let (&Method::GET, ["files", file]) = (&req.method, segs.as_slice()) {
        let id = file.split('.').next().unwrap_or(file);
        return match super::output(sim, P, id) {
            Ok(t) => super::serve_output(sim, P, &t, t.media).await,
            Err(_) => http::raw(
                StatusCode::FORBIDDEN,
                "text/plain",
                b"AccessDenied".to_vec(),
            ),
        };
    }
    if let Err(f) = hailuo::check_key(&req) {
        return reject(sim, P, &f);
    }
    match (&req.method, segs.as_slice()) {
        (&Method::POST, ["v1", "music_generation"]) => generate(sim, &req).await,
        _ => reject(sim, P, &Failure::NotFound("404 page not found".to_string())),
    }
}

async fn generate(sim: &Sim, req: &SimRequest) -> Response {
    let m = match req.json_object() {
        Ok(m) => m,
        Err(e) => return reject(sim, P, &Failure::body(e)),
    };
    let checked = (|| {
        let model = match super::opt_str(&m, "model")? {
            Some(s) if !s.is_empty() => s.to_string(),
            _ => return Err(Failure::invalid("model", "model is required")),
        };
        let prompt = super::opt_str(&m, "prompt")?.unwrap_or("");
        let lyrics = super::opt_str(&m, "lyrics")?.unwrap_or("");
        let instrumental = m
            .get("is_instrumental")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        if prompt.trim().is_empty() && lyrics.trim().is_empty() {
            return Err(Failure::invalid("prompt", "prompt or lyrics is required"));
        }
        if !instrumental && lyrics.trim().is_empty() && model != "music-cover" {
            return Err(Failure::invalid(
                "lyrics",
                "lyrics is required unless is_instrumental is true",
            ));
        }
        if m.get("stream").and_then(Value::as_bool) == Some(true) {
            return Err(Failure::invalid(
                "stream",
                "stream is not supported by the simulator",
            ));
        }
        let url_mode = super::opt_enum(&m, "output_format", &["hex", "url"])? == Some("url");
        let media = match m
            .get("audio_setting")
            .and_then(|a| a.get("format"))
            .and_then(Value::as_str)
        {
            None | Some("mp3") => MediaKind::Mp3,
            Some("wav") => MediaKind::Wav,
            Some(other) => {
                return Err(Failure::invalid(
                    "audio_setting.format",
                    format!("unsupported format {other}"),
                ));
            }
        };
        let setting = |k: &str| {
            m.get("audio_setting")
                .and_then(|a| a.get(k))
                .and_then(Value::as_u64)
                .map(|n| n as u32)
        };
        let shape = Shape::music(
            setting("sample_rate").unwrap_or(44_100),
            setting("bitrate").map_or(128, |b| b / 1000),
            2,
        );
        let seconds = match m.get("duration") {
            None | Some(Value::Null) => SECONDS,
            Some(v) => match super::loose_number(v) {
                Some(d) if (1.0..=300.0).contains(&d) => d,
                _ => {
                    return Err(Failure::invalid(
                        "duration",
                        "duration must be between 1 and 300 seconds",
                    ));
                }
            },
        };
        Ok((model, prompt.to_string(), url_mode, media, shape, seconds))
    })();
    let (model, prompt, url_mode, media, shape, seconds) = match checked {
        Ok(v) => v,
        Err(f) => return reject(sim, P, &f),
    };
    let mut sub = Submission::new(&model, &prompt, Value::Object(m));
    sub.media = media;
    sub.shape = shape;
    sub.seconds = seconds;
    let task = match admit(sim, P, req, sub).await {
        Ok(Admission::New(t) | Admission::Replay(t)) => t,
        Err(r) => return r,
    };
    let spec = Spec::for_task(&task, media);
    let succeeded = task.outcome == Outcome::Succeeded;
    // Rendering runs during the provider's latency
    let (awake, rendered) = tokio::join!(
        sim.sleep(task.ready_at().saturating_duration_since(Instant::now())),
        async {
            if succeeded {
                Some(super::render_output(sim, P, &spec).await)
            } else {
                None
            }
        }
    );
    if !awake {
        return reject(sim, P, &Failure::ServerError);
    }
    let trace_id = format!(
        "{:032x}",
        u128::from(crate::util::hash64(&[task.id.as_bytes()]))
    );
    let ready = match rendered {
        Some(Ok(ready)) => ready,
        Some(Err(r)) => return r,
        None => {
            return http::json(
                StatusCode::OK,
                &json!({
                    "data": Value::Null,
                    "trace_id": trace_id,
                    "base_resp": {"status_code": 1026, "status_msg": "input new_sensitive"},
                }),
            );
        }
    };
    let size = ready.len;
    let audio = if url_mode {
        sim.url(P, &format!("files/{}.{}", task.id, media.ext()))
    } else {
        let mut file = ready.file;
        let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
        if let Err(e) = file.read_to_end(&mut bytes).await {
            let e = MediaError::Io(format!("reading {}: {e}", ready.path.display()));
            return super::media_failure(sim, P, &spec, &e);
        }
        sim.with(|s| bump(&mut s.stats.downloads, P.as_str()));
        hex::encode(&bytes)
    };
    http::json(
        StatusCode::OK,
        &json!({
            "data": {"status": 2, "audio": audio},
            "extra_info": {
                "music_duration": (task.seconds * 1000.0).round() as u64,
                "music_sample_rate": task.shape.sample_rate,
                "music_channel": task.shape.channels,
                "bitrate": task.shape.bitrate_kbps * 1000,
                "music_size": size,
            },
            "trace_id": trace_id,
            "base_resp": {"status_code": 0, "status_msg": "success"},
        }),
    )
}
