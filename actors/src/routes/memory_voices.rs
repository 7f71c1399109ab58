//! `POST /v1/memory/voices/{name}/samples`: a voice cloned from the creator's audio samples and
//! kept in their Memory Graph as `voices.{name}`.
//!
//! The body (raw audio, or `multipart/form-data` with audio files) is read as a stream under
//! [`MAX_SAMPLES_BYTES`] (413 past it) and every sample is checked to be audio by its magic
//! bytes before the provider is called (`studio::memory::voice_samples`); a bad sample is a 400
//! naming it and nothing happens. The clone is ElevenLabs' instant voice clone
//! (`studio::providers::elevenlabs_voices`); its `voice_id` is then set as the voice row, so
//! every later render's lines for `name` speak with it. The provider has no idempotency key for
//! clones: a retried upload makes another clone, and the row keeps the last one.

use serde_json::json;
use studio::api::ApiError;
use studio::memory::MemoryError;
use studio::memory::voice_samples::{MAX_SAMPLES_BYTES, VoiceCloned, parse_samples, voice_name};
use studio::providers::elevenlabs_voices::{clone_request, parse_clone};
use studio::providers::{ProviderError, ProviderKind};
use worker::{Env, Method, Request, Response};

use super::util::read_body;
use crate::auth::{authenticate, require_app};
use crate::error::OrInternal;
use crate::{config, memory_client, outbound};

/// A refusal of ours as the API's 400, naming the field
fn invalid(err: MemoryError) -> ApiError {
    match err {
        MemoryError::Invalid { field, message } => ApiError::BadRequest {
            code: "invalid_voice_samples",
            message: format!("{field}: {message}"),
            field: Some(field),
        },
        MemoryError::Malformed { message } => {
            ApiError::bad_field("invalid_voice_samples", "body", message)
        }
        MemoryError::UnknownRender { job } => ApiError::Internal(format!("unexpected {job}")),
    }
}

/// The provider's answer as the API's error: refused samples are the caller's 400, anything else
/// is ours to retry
fn provider_failed(err: ProviderError) -> ApiError {
    match err {
        ProviderError::Rejected { reason } | ProviderError::Moderated { reason } => {
            ApiError::bad_field(
                "invalid_voice_samples",
                "samples",
                format!("the samples could not be cloned: {reason}"),
            )
        }
        other => ApiError::Unavailable(format!("voice cloning is unavailable right now: {other}")),
    }
}

/// `POST /v1/memory/voices/{name}/samples`
pub(crate) async fn samples(mut req: Request, env: &Env, name: &str) -> Result<Response, ApiError> {
    let principal = authenticate(&req, env).await?;
    let creator = require_app(&principal)?;
    let name = voice_name(name).map_err(invalid)?;
    let content_type = req.headers().get("content-type").ok().flatten();
    let body = read_body(&mut req, MAX_SAMPLES_BYTES).await?;
    let samples = parse_samples(content_type.as_deref(), &body).map_err(invalid)?;
    drop(body);
    let cfg = config::provider(env, ProviderKind::ElevenLabs)
        .map_err(|e| ApiError::Unavailable(format!("voice cloning is not configured: {e}")))?;
    let http = clone_request(
        &cfg,
        &format!("{creator}-{name}"),
        &format!("voice `{name}` of creator {creator}, cloned from their samples"),
        &samples,
    );
    let resp = outbound::send(&http, outbound::CALL_TIMEOUT)
        .await
        .map_err(provider_failed)?;
    let cloned = parse_clone(&resp).map_err(provider_failed)?;
    let edit = json!({ "voices": { &name: cloned.voice_id } }).to_string();
    let mut graph = memory_client::call(
        env,
        &creator,
        Method::Put,
        "/graph?audience=creator",
        Some(edit),
    )
    .await
    .or_internal("calling the memory graph")?;
    let status = graph.status_code();
    if status != 200 {
        let text = graph.text().await.unwrap_or_default();
        return Err(match serde_json::from_str::<MemoryError>(&text) {
            Ok(err) if status == 422 => invalid(err),
            _ => ApiError::Internal(format!("memory graph answered {status}: {text}")),
        });
    }
    let answer = VoiceCloned {
        name,
        voice_id: cloned.voice_id,
        requires_verification: cloned.requires_verification,
        samples: u32::try_from(samples.len()).unwrap_or(u32::MAX),
    };
    Response::from_json(&answer)
        .map(|r| r.with_status(201))
        .or_internal("encoding the answer")
}
