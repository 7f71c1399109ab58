//! ElevenLabs text to speech: synchronous, the audio is the response body.
//!
//! - Submit: `POST {base}/v1/text-to-speech/{voice_id}?output_format=mp3_44100_128`,
//!   `xi-api-key`, `{text, model_id}`
//!   (<https://elevenlabs.io/docs/api-reference/text-to-speech/convert>).
//! - Surprise: there is no task and no URL. A 2xx body *is* the MP3, so parsing yields
//!   [`Submitted::Body`] and the shell streams the body to R2.
//! - Over the plan's concurrency ElevenLabs answers 429 `too_many_concurrent_requests` or
//!   `system_busy`, which the shared mapping makes a rate limit.
//! - Workspace webhooks (`ElevenLabs-Signature: t=..,v0=..`) exist for other products; they are
//!   verified but concern no task of ours.

use serde_json::json;

use super::adapter::{
    Adapter, Callback, CallbackEvent, Delivery, PollOutcome, SubmitRequest, Submitted,
    VerifyContext,
};
use super::common::{mentions_moderation, not_supported, webhook_secret};
use super::config::ProviderConfig;
use super::errors::{http_error, parse_json};
use super::signature::{self, SignatureError};
use super::{HttpRequest, HttpResponse, ProviderError, ProviderKind, url};
use crate::ids::ProviderRef;
use crate::time::Timestamp;

/// The ElevenLabs adapter
#[derive(Debug, Clone, Copy, Default)]
pub struct ElevenLabs;

/// The audio format we ask for
pub const OUTPUT_FORMAT: &str = "mp3_44100_128";

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
        let voice = req
            .voice_id
            .as_deref()
            .filter(|v| !v.is_empty())
            .ok_or_else(|| ProviderError::Rejected {
                reason: "elevenlabs needs a voice id".into(),
            })?;
        let text = req.text.as_deref().unwrap_or(&req.prompt);
        let body = json!({ "text": text, "model_id": req.provider_model });
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
