//! The request a stage's submit sends: its inputs resolved to what the provider takes (signed
//! media URLs, inline keyframes, voices, the timeline), for a submit and for the lookup of a
//! submit in doubt, which must describe the same request.

use base64::Engine;
use studio::api::media;
use studio::ids::{Attempt, JobId, ProviderRef, StageId};
use studio::job::{Input, StageInputs};
use studio::plan::StageKind;
use studio::providers::signature::token::callback_url;
use studio::providers::{
    Delivery, InlineImage, ProviderError, ProviderKind, ProviderStatus, SubmitRequest, adapter,
    references,
};
use studio::time::{Millis, Timestamp};

use super::Inner;
use crate::{config, media_links};

/// How long callback URLs and provider-facing media URLs stay valid
pub(super) const URL_LIFETIME: Millis = Millis::from_secs(24 * 3600);
/// The largest keyframe sent inline (base64 in the request body, held in memory to encode):
/// Gemini's limit for inline data in one request is 20 MB
pub(super) const MAX_INLINE_IMAGE_BYTES: u64 = 20 * 1024 * 1024;
/// The type an inline keyframe is sent as when its source declared none
pub(super) const INLINE_DEFAULT_TYPE: &str = "image/png";
/// Used when the memory graph has no voice for a speaker (ElevenLabs' premade "Rachel")
const DEFAULT_VOICE_ID: &str = "21m00Tcm4TlvDq8ikWAM";

/// A provider-facing URL of an object; refused (and the submission with it) when the media key
/// is not configured
fn media_url(inner: &Inner, key: &str, now: Timestamp) -> Result<String, ProviderError> {
    let secret = config::media_key(&inner.env).map_err(|e| ProviderError::Rejected {
        reason: e.to_string(),
    })?;
    Ok(media::signed_url(
        &config::public_base(&inner.env),
        &secret,
        key,
        now.plus(URL_LIFETIME),
    ))
}

/// The keyframe at `key`, base64: the bytes the job kept when it copied them, or read from R2
async fn inline_image(inner: &Inner, key: &str) -> Result<InlineImage, ProviderError> {
    let kept = inner.inline_images.borrow_mut().take(key);
    if let Some(kept) = kept {
        return Ok(InlineImage {
            mime_type: kept.content_type,
            data_base64: base64::engine::general_purpose::STANDARD.encode(kept.bytes),
        });
    }
    let transient = |reason: String| ProviderError::Transient { reason };
    let bucket = inner
        .env
        .bucket("MEDIA")
        .map_err(|e| transient(format!("R2 binding: {e}")))?;
    let object = bucket
        .get(key)
        .execute()
        .await
        .map_err(|e| transient(format!("reading {key}: {e}")))?;
    let object = object.ok_or_else(|| transient(format!("keyframe {key} is not in R2")))?;
    if object.size() > MAX_INLINE_IMAGE_BYTES {
        // Not transient: the same keyframe will never fit; the job falls back to a model that
        // takes the image by URL.
        return Err(ProviderError::Rejected {
            reason: format!(
                "keyframe is {} bytes, over the {MAX_INLINE_IMAGE_BYTES} byte limit of an inline image",
                object.size()
            ),
        });
    }
    let mime_type = object
        .http_metadata()
        .content_type
        .unwrap_or_else(|| INLINE_DEFAULT_TYPE.into());
    let body = object
        .body()
        .ok_or_else(|| transient(format!("{key} has no body")))?;
    let bytes = body
        .bytes()
        .await
        .map_err(|e| transient(format!("reading {key}: {e}")))?;
    Ok(InlineImage {
        mime_type,
        data_base64: base64::engine::general_purpose::STANDARD.encode(bytes),
    })
}

#[allow(clippy::too_many_arguments)]
pub(super) async fn submit_request(
    inner: &Inner,
    job: &JobId,
    stage: &StageId,
    attempt: Attempt,
    kind: StageKind,
    provider: ProviderKind,
    provider_model: String,
    idempotency_key: String,
    inputs: StageInputs,
    now: Timestamp,
) -> Result<SubmitRequest, ProviderError> {
    let adapter = adapter(provider);
    let callbacks = config::callbacks(&inner.env).map_err(|e| ProviderError::Rejected {
        reason: e.to_string(),
    })?;
    let callback = match adapter.delivery() {
        Delivery::Callback => Some(callback_url(
            &callbacks.public_base,
            provider,
            job,
            stage,
            attempt,
            now.plus(URL_LIFETIME),
            &callbacks.secret,
        )),
        Delivery::Poll | Delivery::Sync => None,
    };
    let mut req = SubmitRequest {
        job: job.clone(),
        stage: stage.clone(),
        attempt,
        provider_model,
        kind,
        prompt: String::new(),
        negative_prompt: None,
        duration_s: 0.0,
        aspect: None,
        image_url: None,
        image_inline: None,
        reference_images: Vec::new(),
        voice_id: None,
        text: None,
        language: None,
        callback_url: callback,
        idempotency_key,
        timeline: None,
    };
    match inputs {
        StageInputs::Image {
            prompt,
            negative_prompt,
            aspect,
            reference_images,
        } => {
            req.prompt = prompt;
            req.negative_prompt = negative_prompt;
            req.aspect = Some(aspect);
            req.reference_images = reference_images
                .iter()
                .map(|k| media_url(inner, k, now))
                .collect::<Result<_, _>>()?;
        }
        StageInputs::Video {
            prompt,
            negative_prompt,
            duration_s,
            aspect,
            image_key,
            reference_images,
        } => {
            req.prompt = prompt;
            req.negative_prompt = negative_prompt;
            req.duration_s = duration_s;
            req.aspect = Some(aspect);
            if adapter.needs_inline_image() {
                req.image_inline = Some(inline_image(inner, &image_key).await?);
            } else {
                req.image_url = Some(media_url(inner, &image_key, now)?);
            }
            // Signed like the keyframe, and only those the model's request will carry.
            let carried =
                references::carried(provider, &req.provider_model, kind, &reference_images);
            req.reference_images = carried
                .iter()
                .map(|k| media_url(inner, k, now))
                .collect::<Result<_, _>>()?;
        }
        StageInputs::Speech {
            text,
            voice,
            voice_id,
            language,
        } => {
            req.prompt = text.clone();
            req.text = Some(text);
            req.language = language;
            req.voice_id = Some(voice_id.unwrap_or_else(|| {
                worker::console_log!("no voice id for {voice}: using the default voice");
                DEFAULT_VOICE_ID.to_owned()
            }));
        }
        StageInputs::Music { mood, duration_s } => {
            req.prompt = mood;
            req.duration_s = duration_s;
        }
        StageInputs::Assembly { mut timeline } => {
            timeline.quality = config::assembly_quality(&inner.env);
            let mut value =
                serde_json::to_value(&timeline).map_err(|e| ProviderError::Rejected {
                    reason: e.to_string(),
                })?;
            media_links::sign_keys(&inner.env, &mut value, now, URL_LIFETIME).map_err(|e| {
                ProviderError::Rejected {
                    reason: e.to_string(),
                }
            })?;
            req.duration_s = timeline.duration_s;
            req.aspect = Some(timeline.master);
            req.timeline = Some(value);
        }
    }
    Ok(req)
}

/// A task known together with its status (a synchronous provider's answer, or a task found by
/// looking it up): accepted, then updated, as its webhook would have done
pub(super) fn accepted_with_status(
    stage: StageId,
    attempt: Attempt,
    provider_ref: ProviderRef,
    status: ProviderStatus,
) -> Vec<Input> {
    vec![
        Input::SubmitAccepted {
            stage: stage.clone(),
            attempt,
            provider_ref,
        },
        Input::ProviderUpdate {
            stage,
            attempt,
            status,
            delivery_id: None,
        },
    ]
}
