//! Shotstack's Edit API: the second assembly route, for when our own assembler fails or is down.
//!
//! - Hosts: `https://api.shotstack.io/edit/{version}`, `version` = `v1` (production) or `stage`
//!   (a sandbox whose renders are watermarked), with the same paths and one key per environment;
//!   auth is an `x-api-key` header (<https://shotstack.io/docs/api/>, the OpenAPI definition
//!   <https://github.com/shotstack/oas-api-definition> `api.oas3.yaml` `servers`,
//!   `securitySchemes.DeveloperKey`). Our base URL includes the version: the default is the `v1`
//!   host, `SHOTSTACK_BASE_URL=https://api.shotstack.io/edit/stage` selects the sandbox.
//! - Submit: `POST {base}/render` with an Edit `{timeline: {background, tracks: [{clips: [{asset,
//!   start, length, fit, position, offset}]}]}, output: {format, resolution, aspectRatio, fps,
//!   poster: {capture}}, callback}`; answers 201 `{success, message, response: {message, id}}`
//!   (oas `paths/render.yaml`, `schemas/edit.yaml`, `schemas/output.yaml`, `schemas/clip.yaml`,
//!   `schemas/responses/queuedresponse.yaml`). Tracks stack with the first one on top.
//! - Status: `GET {base}/render/{id}?data=false` (`data` would echo the whole Edit back) answers
//!   `{success, message, response: {id, owner, status, error, duration, url, poster, thumbnail}}`;
//!   status is `queued`, `fetching`, `rendering`, `saving`, `done` or `failed`; `url` and
//!   `poster` exist once done and are temporary, deleted after 24 hours (oas
//!   `paths/renderid.yaml`, `schemas/responses/renderresponsedata.yaml`).
//! - Callbacks: one POST to `callback` when the render is done or failed, `{type: "edit", action:
//!   "render", id, owner, status, url, error, completed}`; destinations (the hosting copy) send
//!   more, with `type: "serve"` (<https://shotstack.io/docs/guide/architecting-an-application/webhooks/>,
//!   <https://community.shotstack.io/t/types-of-webhook-response-payloads/248>,
//!   <https://help.shotstack.io/en/articles/9890694-understanding-webhooks>). The docs describe no
//!   signature, so our URL token authenticates them. The edit callback has no poster URL, so a
//!   `done` callback makes the job poll ([`CallbackEvent::FetchStatus`]); serve callbacks are
//!   ignored.
//! - No cancel: the Edit API has no endpoint that stops a render (the definition lists only
//!   `POST /render` and `GET /render/{id}` for renders). No idempotency key either: a resubmit
//!   is a second, billed render.
//! - Billing is per rendered minute, counted by the second, whatever the resolution
//!   (<https://help.shotstack.io/en/articles/8580225-general-faq>).
//!
//! ## What this route makes, and what it cannot
//!
//! Shotstack renders one output per render, so this route makes the **master** (MP4) and its
//! **poster** (JPEG), in that order, and nothing else: no per-platform variants and no WebVTT
//! captions, and captions are not burnt in either (the caption asset wants a subtitle file, and
//! we have only the dialogue text). The master is cut from our timeline
//! ([`crate::plan::Timeline`], serialised into [`SubmitRequest::timeline`], a signed `url` next to
//! every `key`; `docs/assembler.md`):
//!
//! - clips in edit order on one track at their `start_s` for `duration_s`, `fit: "crop"`
//!   (Shotstack's "cover and crop": its `cover` stretches), muted, as our assembler keeps only
//!   the stages' audio;
//! - dialogue lines and the voiceover as audio clips at their starts, the score on a track of its
//!   own at [`SCORE_VOLUME`]: Shotstack has volume but no sidechain ducking and no loudness
//!   normalisation, so the mix is flatter than our assembler's. Every audio clip runs to the end of
//!   the cut (audio "plays until the file ends or the clip length is reached"), so the output is
//!   exactly `duration_s` long;
//! - `output`: MP4, `aspectRatio` = the master's, 30 fps as ours, a poster captured at
//!   [`POSTER_CAPTURE_S`] (or mid-cut when shorter); `resolution` `"1080"` (1920x1080) for
//!   `quality: "hd"` and `"mobile"` (640x360) for `"preview"`: Shotstack's `sd` preset is
//!   1024x576, so `mobile` is the one that matches our 360p preview;
//! - the badge as an HTML asset on the top track, top right and below the band vertical
//!   platforms cover, for the whole cut.

use serde::Deserialize;
use serde_json::{Value, json};

use super::adapter::{
    Adapter, Callback, CallbackEvent, Delivery, PollOutcome, SubmitRequest, Submitted,
    VerifyContext,
};
use super::common::{callback_body, nullable, url_output, verify_route};
use super::config::ProviderConfig;
use super::errors::{http_error, missing, never_moderation, parse_json, truncate, unknown_status};
use super::signature::SignatureError;
use super::{HttpRequest, HttpResponse, ProviderError, ProviderKind, ProviderStatus, url};
use crate::brief::AspectRatio;
use crate::ids::ProviderRef;
use crate::time::{Millis, Timestamp};

/// The Shotstack adapter
#[derive(Debug, Clone, Copy, Default)]
pub struct Shotstack;

const RENDER: &str = "/render";
/// Output and poster URLs are deleted 24 hours after the render
pub const OUTPUT_TTL: Millis = Millis::from_secs(24 * 3600);
/// The score's level under speech (Shotstack cannot duck it)
pub const SCORE_VOLUME: f64 = 0.3;
/// Where the poster frame is taken, seconds into the cut
pub const POSTER_CAPTURE_S: f64 = 1.0;
/// Our assembler's frame rate
const FPS: u32 = 30;
/// The badge's words, as our assembler burns them in
const BADGE_TEXT: &str = "Made with CreatorStudio";

fn authorize(req: HttpRequest, cfg: &ProviderConfig) -> HttpRequest {
    req.with_header("x-api-key", cfg.api_key.expose())
}

// ---- Our timeline, as much of it as this route reads ----

#[derive(Deserialize)]
struct Timeline {
    #[serde(default, deserialize_with = "nullable")]
    master: Option<AspectRatio>,
    #[serde(default, deserialize_with = "nullable")]
    badge: bool,
    #[serde(default, deserialize_with = "nullable")]
    quality: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    duration_s: f64,
    #[serde(default, deserialize_with = "nullable")]
    clips: Vec<Clip>,
    #[serde(default, deserialize_with = "nullable")]
    dialogue: Vec<Cue>,
    #[serde(default, deserialize_with = "nullable")]
    voiceover: Option<Cue>,
    #[serde(default, deserialize_with = "nullable")]
    score: Option<Cue>,
}

#[derive(Deserialize)]
struct Clip {
    #[serde(default, deserialize_with = "nullable")]
    shot: String,
    #[serde(default, deserialize_with = "nullable")]
    url: String,
    #[serde(default, deserialize_with = "nullable")]
    start_s: f64,
    #[serde(default, deserialize_with = "nullable")]
    duration_s: f64,
}

#[derive(Deserialize)]
struct Cue {
    #[serde(default, deserialize_with = "nullable")]
    stage: String,
    #[serde(default, deserialize_with = "nullable")]
    url: String,
    #[serde(default, deserialize_with = "nullable")]
    start_s: f64,
}

fn rejected(reason: impl Into<String>) -> ProviderError {
    ProviderError::Rejected {
        reason: reason.into(),
    }
}

/// Shotstack's `resolution` preset and the frame it gives at `aspect` (its presets name the 16:9
/// size; other shapes keep the short side, which is our reading of the `aspectRatio` docs)
fn resolution(quality: Option<&str>, aspect: AspectRatio) -> (&'static str, u32, u32) {
    let (preset, short) = match quality {
        Some("preview") => ("mobile", 360),
        _ => ("1080", 1080),
    };
    let long = short * 16 / 9;
    let (w, h) = match aspect {
        AspectRatio::Landscape => (long, short),
        AspectRatio::Portrait => (short, long),
        AspectRatio::Square => (short, short),
    };
    (preset, w, h)
}

/// The badge clip: an HTML box at the top right, sized to the frame, lowered out of the top 10%
/// that vertical platforms cover with their own UI
fn badge_clip(width: u32, height: u32, length: f64) -> Value {
    let short = width.min(height);
    let scale = |px: u32| (px * short).div_ceil(1080);
    let css = format!(
        "p {{ font-family: 'Open Sans'; font-size: {}px; color: #ffffff; text-align: right; }}",
        scale(28)
    );
    json!({
        "asset": {
            "type": "html",
            "html": format!("<p>{BADGE_TEXT}</p>"),
            "css": css,
            "width": scale(440),
            "height": scale(60),
            "background": "#66000000",
        },
        "start": 0.0,
        "length": length,
        "position": "topRight",
        "offset": { "x": -0.02, "y": -0.1 },
    })
}

/// An audio clip from `start` to the end of the cut; `None` when it would start after the end
fn audio_clip(src: &str, start: f64, cut: f64, volume: f64) -> Option<Value> {
    let start = start.max(0.0);
    (cut > start).then(|| {
        json!({
            "asset": { "type": "audio", "src": src, "volume": volume },
            "start": start,
            "length": cut - start,
        })
    })
}

/// The Edit for a timeline (see the module docs)
fn edit(
    timeline: &Timeline,
    fallback_aspect: Option<AspectRatio>,
    callback: Option<&str>,
) -> Result<Value, ProviderError> {
    let aspect = timeline
        .master
        .or(fallback_aspect)
        .unwrap_or(AspectRatio::Landscape);
    let clips_end = timeline
        .clips
        .iter()
        .map(|c| c.start_s + c.duration_s)
        .fold(0.0, f64::max);
    let cut = if timeline.duration_s > 0.0 {
        timeline.duration_s
    } else {
        clips_end
    };
    let mut video = Vec::with_capacity(timeline.clips.len());
    for (i, c) in timeline.clips.iter().enumerate() {
        if c.url.is_empty() {
            return Err(rejected(format!(
                "clip {} ({}) has no url: Shotstack fetches every source by URL",
                i, c.shot
            )));
        }
        let placed = c.duration_s > 0.0 && c.start_s >= 0.0;
        if !placed {
            return Err(rejected(format!(
                "clip {} ({}) must start at or after 0 and last more than 0 s",
                i, c.shot
            )));
        }
        video.push(json!({
            "asset": { "type": "video", "src": c.url, "volume": 0.0 },
            "start": c.start_s,
            "length": c.duration_s,
            "fit": "crop",
        }));
    }
    let cue_src = |cue: &Cue| -> Result<(), ProviderError> {
        if cue.url.is_empty() {
            Err(rejected(format!(
                "{} has no url: Shotstack fetches every source by URL",
                cue.stage
            )))
        } else {
            Ok(())
        }
    };
    let mut speech = Vec::new();
    for cue in timeline.dialogue.iter().chain(&timeline.voiceover) {
        cue_src(cue)?;
        speech.extend(audio_clip(&cue.url, cue.start_s, cut, 1.0));
    }
    let (preset, width, height) = resolution(timeline.quality.as_deref(), aspect);
    let mut tracks = Vec::new();
    if timeline.badge {
        tracks.push(json!({ "clips": [badge_clip(width, height, cut)] }));
    }
    tracks.push(json!({ "clips": video }));
    if !speech.is_empty() {
        tracks.push(json!({ "clips": speech }));
    }
    if let Some(score) = &timeline.score {
        cue_src(score)?;
        if let Some(clip) = audio_clip(&score.url, score.start_s, cut, SCORE_VOLUME) {
            tracks.push(json!({ "clips": [clip] }));
        }
    }
    let mut body = json!({
        "timeline": { "background": "#000000", "tracks": tracks },
        "output": {
            "format": "mp4",
            "resolution": preset,
            "aspectRatio": aspect.as_str(),
            "fps": FPS,
            "poster": { "capture": POSTER_CAPTURE_S.min(cut / 2.0) },
        },
    });
    if let Some(cb) = callback {
        body["callback"] = json!(cb);
    }
    Ok(body)
}

// ---- Shotstack's answers ----

/// `{success, message, response}`; `response` is the data, or an error message on failure
#[derive(Deserialize)]
struct Envelope {
    #[serde(default, deserialize_with = "nullable")]
    success: Option<bool>,
    #[serde(default, deserialize_with = "nullable")]
    message: String,
    response: Option<Value>,
}

#[derive(Deserialize)]
struct Queued {
    id: Option<String>,
}

#[derive(Deserialize)]
struct Render {
    status: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    error: String,
    #[serde(default, deserialize_with = "nullable")]
    url: String,
    #[serde(default, deserialize_with = "nullable")]
    poster: String,
}

/// The callback body (`type: "edit"` for renders, `"serve"` for hosting copies)
#[derive(Deserialize)]
struct Hook {
    #[serde(rename = "type", default, deserialize_with = "nullable")]
    kind: String,
    id: Option<String>,
    status: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    url: String,
    #[serde(default, deserialize_with = "nullable")]
    poster: String,
    #[serde(default, deserialize_with = "nullable")]
    error: String,
}

/// The detail of an error envelope: `response` when it is a message, else `response.error` (or
/// its first validation detail), else `message`. The docs give only `message` ("`Created`, `Bad
/// Request` or an error message") and `response` ("`QueuedResponseData` or an error message");
/// the validation shape is our reading of what the API answers, so every step is optional.
fn detail(body: &[u8]) -> Option<String> {
    let v: Value = crate::json_bytes::from_bytes(body).ok()?;
    [
        "/response",
        "/response/error",
        "/response/error/details/0/message",
        "/response/error/message",
        "/message",
    ]
    .iter()
    .filter_map(|p| v.pointer(p).and_then(Value::as_str))
    .find(|s| !s.is_empty())
    .map(truncate)
}

/// The error of a non-2xx answer, with Shotstack's own words where it gives them
fn failure(resp: &HttpResponse) -> ProviderError {
    let err = http_error(resp, never_moderation);
    match (err, detail(&resp.body)) {
        (ProviderError::Rejected { .. }, Some(d)) => rejected(format!("http {}: {d}", resp.status)),
        (ProviderError::Transient { .. }, Some(d)) => ProviderError::Transient {
            reason: format!("http {}: {d}", resp.status),
        },
        (err, _) => err,
    }
}

/// The `response` of a successful envelope as `T`
fn data<T: serde::de::DeserializeOwned>(resp: &HttpResponse) -> Result<T, ProviderError> {
    if !resp.is_success() {
        return Err(failure(resp));
    }
    let envelope: Envelope = parse_json(&resp.body)?;
    if envelope.success == Some(false) {
        let d = detail(&resp.body).unwrap_or(envelope.message);
        return Err(rejected(d));
    }
    let response = envelope.response.ok_or_else(|| missing("response"))?;
    serde_json::from_value(response).map_err(|e| ProviderError::Malformed {
        reason: format!("unexpected response ({e})"),
    })
}

fn status_of(render: Render, now: Timestamp) -> Result<ProviderStatus, ProviderError> {
    let status = render.status.ok_or_else(|| missing("status"))?;
    Ok(match status.as_str() {
        "queued" => ProviderStatus::Queued,
        "fetching" | "rendering" | "saving" => ProviderStatus::Running,
        "done" => {
            if render.url.is_empty() {
                return Err(missing("url"));
            }
            let expires = Some(now.plus(OUTPUT_TTL));
            let mut outputs = vec![url_output(&render.url, "video/mp4", expires)];
            if !render.poster.is_empty() {
                outputs.push(url_output(&render.poster, "image/jpeg", expires));
            }
            ProviderStatus::Succeeded { outputs }
        }
        // Mostly sources that could not be fetched or read: the next attempt signs fresh URLs.
        "failed" => ProviderStatus::Failed {
            reason: if render.error.is_empty() {
                "render failed".into()
            } else {
                truncate(&render.error)
            },
            retryable: true,
        },
        other => return Err(unknown_status("shotstack", other)),
    })
}

impl Adapter for Shotstack {
    fn kind(&self) -> ProviderKind {
        ProviderKind::Shotstack
    }

    fn delivery(&self) -> Delivery {
        Delivery::Callback
    }

    fn build_submit(
        &self,
        req: &SubmitRequest,
        cfg: &ProviderConfig,
        _now: Timestamp,
    ) -> Result<HttpRequest, ProviderError> {
        let timeline: Timeline = match &req.timeline {
            Some(v @ Value::Object(_)) => serde_json::from_value(v.clone())
                .map_err(|e| rejected(format!("the timeline cannot be read: {e}")))?,
            _ => return Err(rejected("shotstack needs a timeline object")),
        };
        let body = edit(&timeline, req.aspect, req.callback_url.as_deref())?;
        Ok(authorize(
            HttpRequest::post_json(url::join(&cfg.base_url, RENDER), &body),
            cfg,
        ))
    }

    fn parse_submit(
        &self,
        _req: &SubmitRequest,
        resp: &HttpResponse,
        _cfg: &ProviderConfig,
        _now: Timestamp,
    ) -> Result<Submitted, ProviderError> {
        let queued: Queued = data(resp)?;
        let id = queued
            .id
            .filter(|i| !i.is_empty())
            .ok_or_else(|| missing("response.id"))?;
        Ok(Submitted::Accepted {
            provider_ref: ProviderRef(id),
        })
    }

    fn build_poll(
        &self,
        provider_ref: &ProviderRef,
        cfg: &ProviderConfig,
        _now: Timestamp,
    ) -> Result<HttpRequest, ProviderError> {
        let path = format!("{RENDER}/{}?data=false", url::encode(provider_ref.as_str()));
        Ok(authorize(
            HttpRequest::get(url::join(&cfg.base_url, &path)),
            cfg,
        ))
    }

    fn parse_poll(
        &self,
        resp: &HttpResponse,
        _cfg: &ProviderConfig,
        now: Timestamp,
    ) -> Result<PollOutcome, ProviderError> {
        let render: Render = data(resp)?;
        Ok(PollOutcome::Status {
            status: status_of(render, now)?,
        })
    }

    fn verify_callback(
        &self,
        req: &HttpRequest,
        _cfg: &ProviderConfig,
        ctx: &VerifyContext<'_>,
    ) -> Result<(), SignatureError> {
        verify_route(req, self.kind(), ctx).map(drop)
    }

    fn parse_callback(&self, req: &HttpRequest, now: Timestamp) -> Result<Callback, ProviderError> {
        let hook: Hook = callback_body(req)?;
        let provider_ref = hook.id.clone().filter(|i| !i.is_empty()).map(ProviderRef);
        if hook.kind == "serve" {
            return Ok(Callback {
                provider_ref,
                delivery_id: None,
                event: CallbackEvent::Ignore,
            });
        }
        let status = hook.status.clone().ok_or_else(|| missing("status"))?;
        let event = match status.as_str() {
            // The edit callback names the video but not the poster: read both from a poll, unless
            // this delivery carries both.
            "done" if hook.url.is_empty() || hook.poster.is_empty() => CallbackEvent::FetchStatus,
            _ => CallbackEvent::Status {
                status: status_of(
                    Render {
                        status: Some(status),
                        error: hook.error,
                        url: hook.url,
                        poster: hook.poster,
                    },
                    now,
                )?,
            },
        };
        Ok(Callback {
            provider_ref,
            delivery_id: None,
            event,
        })
    }
}
