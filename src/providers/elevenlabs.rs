//! ElevenLabs text to speech and music: synchronous, the audio is the response body.
//!
//! - Submit: `POST {base}/v1/text-to-speech/{voice_id}?output_format=mp3_44100_128`,
//!   `xi-api-key`, `{text, model_id, language_code?}`
//!   (<https://elevenlabs.io/docs/api-reference/text-to-speech/convert>).
//! - `language_code` (ISO 639-1) "enforces a language for the model and text normalization";
//!   the same page says a model that does not support it answers an error, and only Turbo v2.5
//!   and Flash v2.5 do (Multilingual v2 reads the language from the text). So the audience's
//!   language is sent only to [`LANGUAGE_MODELS`], and only a language of theirs
//!   (<https://elevenlabs.io/docs/overview/models>: Multilingual v2's 29 plus `hu`, `no`, `vi`).
//! - Surprise: there is no task and no URL. A 2xx body *is* the MP3, so parsing yields
//!   [`Submitted::Body`] and the shell streams the body to R2.
//! - Over the plan's concurrency ElevenLabs answers 429 `too_many_concurrent_requests` or
//!   `system_busy`, which the shared mapping makes a rate limit.
//! - Workspace webhooks (`ElevenLabs-Signature: t=..,v0=..`) exist for other products; they are
//!   verified but concern no task of ours.
//! - In doubt (the job restarted while a submit was in flight; see `studio::job::reconcile`):
//!   ElevenLabs keeps every generation in the account's history, with its text, voice, model
//!   and time, so we search it instead of generating (and paying for) the line again:
//!   `GET {base}/v1/history?voice_id=&model_id=&date_after_unix=&page_size=1000&sort_direction=asc`
//!   answers `{history: [{history_item_id, request_id, voice_id, model_id, text, date_unix,
//!   content_type, state, source, ...}], has_more, last_history_item_id}`
//!   (<https://elevenlabs.io/docs/api-reference/history/list>). The oldest item with exactly our
//!   text, voice and model since the submit (less [`LOOKUP_SKEW_S`]) is ours; its audio is
//!   `GET {base}/v1/history/{history_item_id}/audio`
//!   (<https://elevenlabs.io/docs/api-reference/history/get-audio>), copied into R2 like any
//!   provider's output. The same line in another stage or job would be the same audio, so a
//!   match on text, voice and model is safe to adopt. A busy account with more than 1000
//!   generations of that voice and model in the window is searched on its first page only.
//! - Music (Eleven Music, a model named `music_*`, see [`is_music`]): `POST
//!   {base}/v1/music?output_format=mp3_44100_128`, `{prompt, music_length_ms, model_id,
//!   force_instrumental: true}`; the response body is the song, as for speech (official SDK
//!   elevenlabs/elevenlabs-python `src/elevenlabs/music/raw_client.py`, `compose`). A score is
//!   instrumental and may not come out shorter than the stage wants, so `music_length_ms` is the
//!   stage's length within [`MUSIC_LENGTH_MS`] (the SDK's older 10..=300 s, inside today's
//!   3..=600 s); the edit trims a longer song. The history is of speech only, so a music submit
//!   in doubt has nothing to look up and is submitted again.

use serde::Deserialize;
use serde_json::json;

use super::adapter::{
    Adapter, Callback, CallbackEvent, Delivery, LookedUp, PollOutcome, SubmitRequest, Submitted,
    VerifyContext,
};
use super::common::{
    fetch_with_auth, mentions_moderation, not_supported, url_output, webhook_secret,
};
use super::config::ProviderConfig;
use super::errors::{expect_json, http_error, never_moderation, parse_json};
use super::signature::{self, SignatureError};
use super::{HttpRequest, HttpResponse, Output, ProviderError, ProviderKind, ProviderStatus, url};
use crate::ids::ProviderRef;
use crate::time::Timestamp;

/// The ElevenLabs adapter
#[derive(Debug, Clone, Copy, Default)]
pub struct ElevenLabs;

/// The audio format we ask for
pub const OUTPUT_FORMAT: &str = "mp3_44100_128";

/// How far before our submit time a history item may be dated and still be ours (clocks differ)
pub const LOOKUP_SKEW_S: u64 = 60;

/// The largest page of `GET /v1/history`
const HISTORY_PAGE: u32 = 1000;

/// The length Eleven Music may be asked for, ms: 10 s to 5 min
pub const MUSIC_LENGTH_MS: (u64, u64) = (10_000, 300_000);

/// The models that take `language_code`
pub const LANGUAGE_MODELS: [&str; 2] = ["eleven_turbo_v2_5", "eleven_flash_v2_5"];

/// The languages of [`LANGUAGE_MODELS`] (ISO 639-1)
const LANGUAGES: [&str; 32] = [
    "en", "ja", "zh", "de", "hi", "fr", "ko", "pt", "it", "es", "id", "nl", "tr", "fil", "pl",
    "sv", "bg", "ro", "ar", "cs", "el", "fi", "hr", "ms", "sk", "da", "ta", "uk", "ru", "hu", "no",
    "vi",
];

/// The `language_code` to send for `req`: its language, when its model enforces one and knows it
pub fn language_code(req: &SubmitRequest) -> Option<&str> {
    let lang = req.language.as_deref()?;
    (LANGUAGE_MODELS.contains(&req.provider_model.as_str()) && LANGUAGES.contains(&lang))
        .then_some(lang)
}

#[derive(Deserialize)]
struct History {
    history: Vec<HistoryItem>,
}

#[derive(Deserialize)]
struct HistoryItem {
    history_item_id: String,
    #[serde(default)]
    voice_id: Option<String>,
    #[serde(default)]
    model_id: Option<String>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    date_unix: Option<u64>,
    #[serde(default)]
    content_type: Option<String>,
}

/// Whether a model is Eleven Music's (`music_v1`, `music_v2`) rather than a voice's
pub fn is_music(provider_model: &str) -> bool {
    provider_model.starts_with("music_")
}

/// The music request: no voice, the song's length in ms
fn music_submit(req: &SubmitRequest, cfg: &ProviderConfig) -> HttpRequest {
    let (shortest, longest) = MUSIC_LENGTH_MS;
    // Saturating float-to-int conversion; a negative or NaN length becomes the shortest.
    let wanted = (req.duration_s.max(0.0) * 1000.0).ceil() as u64;
    let body = json!({
        "prompt": req.prompt,
        "music_length_ms": wanted.clamp(shortest, longest),
        "model_id": req.provider_model,
        "force_instrumental": true,
    });
    let path = format!("/v1/music?output_format={OUTPUT_FORMAT}");
    HttpRequest::post_json(url::join(&cfg.base_url, &path), &body)
        .with_header("xi-api-key", cfg.api_key.expose())
        .with_header("accept", "audio/mpeg")
}

/// The voice and text a submit speaks
fn voice_and_text(req: &SubmitRequest) -> Option<(&str, &str)> {
    let voice = req.voice_id.as_deref().filter(|v| !v.is_empty())?;
    Some((voice, req.text.as_deref().unwrap_or(&req.prompt)))
}

impl Adapter for ElevenLabs {
    fn kind(&self) -> ProviderKind {
        ProviderKind::ElevenLabs
    }

    fn delivery(&self) -> Delivery {
        Delivery::Sync
    }

    fn build_submit(
        &self,
        req: &SubmitRequest,
        cfg: &ProviderConfig,
        _now: Timestamp,
    ) -> Result<HttpRequest, ProviderError> {
        if is_music(&req.provider_model) {
            return Ok(music_submit(req, cfg));
        }
        let voice = req
            .voice_id
            .as_deref()
            .filter(|v| !v.is_empty())
            .ok_or_else(|| ProviderError::Rejected {
                reason: "elevenlabs needs a voice id".into(),
            })?;
        let text = req.text.as_deref().unwrap_or(&req.prompt);
        let mut body = json!({ "text": text, "model_id": req.provider_model });
        if let Some(lang) = language_code(req) {
            body["language_code"] = json!(lang);
        }
        let path = format!(
            "/v1/text-to-speech/{}?output_format={OUTPUT_FORMAT}",
            url::encode(voice)
        );
        Ok(
            HttpRequest::post_json(url::join(&cfg.base_url, &path), &body)
                .with_header("xi-api-key", cfg.api_key.expose())
                .with_header("accept", "audio/mpeg"),
        )
    }

    fn parse_submit(
        &self,
        req: &SubmitRequest,
        resp: &HttpResponse,
        _cfg: &ProviderConfig,
        _now: Timestamp,
    ) -> Result<Submitted, ProviderError> {
        if !resp.is_success() {
            return Err(http_error(resp, mentions_moderation));
        }
        let content_type = resp
            .header("content-type")
            .unwrap_or("audio/mpeg")
            .to_owned();
        if !content_type.starts_with("audio/")
            && !content_type.starts_with("application/octet-stream")
        {
            return Err(ProviderError::Malformed {
                reason: format!("expected audio, got {content_type}"),
            });
        }
        if resp.body.is_empty() {
            return Err(ProviderError::Malformed {
                reason: "empty audio body".into(),
            });
        }
        // ElevenLabs names each generation in `request-id`.
        let id = resp.header("request-id").unwrap_or(&req.idempotency_key);
        Ok(Submitted::Body {
            provider_ref: ProviderRef(id.to_owned()),
            content_type,
        })
    }

    fn build_poll(
        &self,
        _provider_ref: &ProviderRef,
        _cfg: &ProviderConfig,
        _now: Timestamp,
    ) -> Result<HttpRequest, ProviderError> {
        Err(not_supported(self.kind(), "task to poll"))
    }

    fn parse_poll(
        &self,
        _resp: &HttpResponse,
        _cfg: &ProviderConfig,
        _now: Timestamp,
    ) -> Result<PollOutcome, ProviderError> {
        Err(not_supported(self.kind(), "task to poll"))
    }

    fn build_lookup(
        &self,
        req: &SubmitRequest,
        since: Timestamp,
        cfg: &ProviderConfig,
    ) -> Option<HttpRequest> {
        if is_music(&req.provider_model) {
            return None;
        }
        let (voice, _) = voice_and_text(req)?;
        let after = (since.0 / 1000).saturating_sub(LOOKUP_SKEW_S);
        let path = format!(
            "/v1/history?voice_id={}&model_id={}&date_after_unix={after}&page_size={HISTORY_PAGE}&sort_direction=asc",
            url::encode(voice),
            url::encode(&req.provider_model)
        );
        Some(
            HttpRequest::get(url::join(&cfg.base_url, &path))
                .with_header("xi-api-key", cfg.api_key.expose()),
        )
    }

    fn parse_lookup(
        &self,
        req: &SubmitRequest,
        since: Timestamp,
        resp: &HttpResponse,
        cfg: &ProviderConfig,
    ) -> Result<LookedUp, ProviderError> {
        let history: History = expect_json(resp, never_moderation)?;
        let Some((voice, text)) = voice_and_text(req) else {
            return Ok(LookedUp::NotFound);
        };
        let after = (since.0 / 1000).saturating_sub(LOOKUP_SKEW_S);
        // Filtered again here: the list's filters are a convenience, the match is ours.
        let ours = history
            .history
            .into_iter()
            .filter(|h| {
                h.text.as_deref() == Some(text)
                    && h.voice_id.as_deref() == Some(voice)
                    && h.model_id
                        .as_deref()
                        .is_none_or(|m| m == req.provider_model)
                    && h.date_unix.is_some_and(|d| d >= after)
            })
            .min_by_key(|h| h.date_unix);
        let Some(item) = ours else {
            return Ok(LookedUp::NotFound);
        };
        let audio = format!("/v1/history/{}/audio", url::encode(&item.history_item_id));
        let content_type = item.content_type.as_deref().unwrap_or("audio/mpeg");
        Ok(LookedUp::Found {
            provider_ref: ProviderRef(item.history_item_id),
            status: ProviderStatus::Succeeded {
                outputs: vec![url_output(
                    &url::join(&cfg.base_url, &audio),
                    content_type,
                    None,
                )],
            },
        })
    }

    fn build_output_fetch(&self, output: &Output, cfg: &ProviderConfig) -> Option<HttpRequest> {
        // Only a history item's audio is ever fetched (a submit's body is stored at once).
        fetch_with_auth(output, cfg, |r| {
            r.with_header("xi-api-key", cfg.api_key.expose())
        })
    }

    fn verify_callback(
        &self,
        req: &HttpRequest,
        cfg: &ProviderConfig,
        ctx: &VerifyContext<'_>,
    ) -> Result<(), SignatureError> {
        signature::elevenlabs::verify(&req.headers, &req.body, webhook_secret(cfg)?, ctx.now)
    }

    fn parse_callback(
        &self,
        req: &HttpRequest,
        _now: Timestamp,
    ) -> Result<Callback, ProviderError> {
        // `{type, event_timestamp, data}`: an event, but about nothing we render.
        let event: serde_json::Value = parse_json(&req.body)?;
        if !event.get("type").is_some_and(serde_json::Value::is_string) {
            return Err(super::errors::missing("type"));
        }
        Ok(Callback {
            provider_ref: None,
            delivery_id: None,
            event: CallbackEvent::Ignore,
        })
    }
}
