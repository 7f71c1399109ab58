//! Google Veo 3 on the Gemini API: a long-running operation, polled (no webhooks).
//!
//! - Submit: `POST {base}/v1beta/models/{model}:predictLongRunning`, `x-goog-api-key`, body
//!   `{instances: [{prompt, image?: {bytesBase64Encoded, mimeType}}], parameters: {aspectRatio,
//!   durationSeconds, negativePrompt?}}`; answers `{name: "models/{model}/operations/{id}"}`
//!   (<https://ai.google.dev/gemini-api/docs/video>; `negativePrompt` is the REST name of the
//!   SDKs' `GenerateVideosConfig.negative_prompt`, "what should not be included in the
//!   generated videos": <https://googleapis.github.io/java-genai/javadoc/google-genai/com.google.genai.types/-generate-videos-config/negative-prompt.html>).
//! - Poll: `GET {base}/v1beta/{name}` until `done: true`; then `error` (a google.rpc.Status) or
//!   `response.generateVideoResponse.generatedSamples[].video.uri`.
//! - Surprise: a safety-filtered result is `done: true` with no samples and
//!   `raiMediaFilteredCount`/`raiMediaFilteredReasons`: that is [`ProviderStatus::Moderated`].
//! - The keyframe must be inline: the Gemini API rejects image URLs (and `inlineData`), so
//!   [`Adapter::needs_inline_image`] is true.
//! - Downloading the `uri` needs the API key, which [`Adapter::build_output_fetch`] adds.

use serde::Deserialize;
use serde_json::json;

use super::adapter::{
    Adapter, Callback, Delivery, PollOutcome, SubmitRequest, Submitted, VerifyContext,
};
use super::common::{fetch_with_auth, not_supported, nullable, pick_duration, url_output};
use super::config::ProviderConfig;
use super::errors::{expect_json, http_error, missing};
use super::signature::SignatureError;
use super::{HttpRequest, HttpResponse, Output, ProviderError, ProviderKind, ProviderStatus, url};
use crate::ids::ProviderRef;
use crate::time::Timestamp;

/// The Veo adapter
#[derive(Debug, Clone, Copy, Default)]
pub struct Veo;

/// Lengths Veo 3 renders
const DURATIONS: [u32; 3] = [4, 6, 8];

fn is_moderation(reason: &str) -> bool {
    super::common::mentions_moderation(reason)
}

/// google.rpc codes worth retrying: DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, ABORTED, INTERNAL,
/// UNAVAILABLE
fn retryable_rpc_code(code: i64) -> bool {
    matches!(code, 4 | 8 | 10 | 13 | 14)
}

#[derive(Deserialize)]
struct Operation {
    name: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    done: bool,
    error: Option<RpcStatus>,
    response: Option<OperationResponse>,
}

#[derive(Deserialize)]
struct RpcStatus {
    #[serde(default, deserialize_with = "nullable")]
    code: i64,
    #[serde(default, deserialize_with = "nullable")]
    message: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OperationResponse {
    generate_video_response: Option<GenerateVideoResponse>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct GenerateVideoResponse {
    #[serde(default, deserialize_with = "nullable")]
    generated_samples: Vec<Sample>,
    #[serde(default, deserialize_with = "nullable")]
    rai_media_filtered_count: u32,
    #[serde(default, deserialize_with = "nullable")]
    rai_media_filtered_reasons: Vec<String>,
}

#[derive(Deserialize)]
struct Sample {
    video: Option<Video>,
}

#[derive(Deserialize)]
struct Video {
    uri: Option<String>,
}

#[derive(Deserialize)]
struct Created {
    name: Option<String>,
}

fn status_of(op: Operation) -> Result<ProviderStatus, ProviderError> {
    // Every operation names itself; a body without a name is not one.
    if op.name.as_deref().is_none_or(str::is_empty) {
        return Err(missing("operation name"));
    }
    if !op.done {
        return Ok(ProviderStatus::Running);
    }
    if let Some(err) = op.error {
        return Ok(if is_moderation(&err.message) {
            ProviderStatus::Moderated {
                reason: err.message,
            }
        } else {
            ProviderStatus::Failed {
                reason: format!("veo error {}: {}", err.code, err.message),
                retryable: retryable_rpc_code(err.code),
            }
        });
    }
    let resp = op
        .response
        .and_then(|r| r.generate_video_response)
        .unwrap_or_default();
    let outputs: Vec<Output> = resp
        .generated_samples
        .into_iter()
        .filter_map(|s| s.video?.uri)
        .map(|uri| url_output(&uri, "video/mp4", None))
        .collect();
    Ok(if !outputs.is_empty() {
        ProviderStatus::Succeeded { outputs }
    } else if resp.rai_media_filtered_count > 0 || !resp.rai_media_filtered_reasons.is_empty() {
        let reason = if resp.rai_media_filtered_reasons.is_empty() {
            format!(
                "{} videos filtered by safety",
                resp.rai_media_filtered_count
            )
        } else {
            resp.rai_media_filtered_reasons.join("; ")
        };
        ProviderStatus::Moderated { reason }
    } else {
        ProviderStatus::Failed {
            reason: "veo finished without a video".into(),
            retryable: true,
        }
    })
}

impl Adapter for Veo {
    fn kind(&self) -> ProviderKind {
        ProviderKind::Veo
    }

    fn delivery(&self) -> Delivery {
        Delivery::Poll
    }

    fn needs_inline_image(&self) -> bool {
        true
    }

    fn build_submit(
        &self,
        req: &SubmitRequest,
        cfg: &ProviderConfig,
        _now: Timestamp,
    ) -> Result<HttpRequest, ProviderError> {
        let mut instance = json!({ "prompt": req.prompt });
        match (&req.image_inline, &req.image_url) {
            (Some(img), _) => {
                instance["image"] =
                    json!({ "bytesBase64Encoded": img.data_base64, "mimeType": img.mime_type });
            }
            (None, Some(_)) => {
                return Err(ProviderError::Rejected {
                    reason: "veo takes the keyframe inline: set image_inline".into(),
                });
            }
            (None, None) => {}
        }
        let mut parameters =
            json!({ "durationSeconds": pick_duration(req.duration_s, &DURATIONS) });
        if let Some(aspect) = req.aspect {
            parameters["aspectRatio"] = json!(aspect.as_str());
        }
        if let Some(negative) = req.negative_prompt.as_deref().filter(|n| !n.is_empty()) {
            parameters["negativePrompt"] = json!(negative);
        }
        let body = json!({ "instances": [instance], "parameters": parameters });
        let path = format!(
            "/v1beta/models/{}:predictLongRunning",
            url::encode(&req.provider_model)
        );
        Ok(
            HttpRequest::post_json(url::join(&cfg.base_url, &path), &body)
                .with_header("x-goog-api-key", cfg.api_key.expose()),
        )
    }

    fn parse_submit(
        &self,
        _req: &SubmitRequest,
        resp: &HttpResponse,
        _cfg: &ProviderConfig,
        _now: Timestamp,
    ) -> Result<Submitted, ProviderError> {
        let created: Created = expect_json(resp, is_moderation)?;
        let name = created
            .name
            .filter(|n| !n.is_empty())
            .ok_or_else(|| missing("operation name"))?;
        Ok(Submitted::Accepted {
            provider_ref: ProviderRef(name),
        })
    }

    fn build_poll(
        &self,
        provider_ref: &ProviderRef,
        cfg: &ProviderConfig,
        _now: Timestamp,
    ) -> Result<HttpRequest, ProviderError> {
        // The operation name is a path (`models/../operations/..`): keep its slashes, but refuse
        // anything that could step outside it.
        let name = provider_ref.as_str().trim_start_matches('/');
        if name.contains("..") || name.contains(['?', '#']) {
            return Err(ProviderError::Malformed {
                reason: format!("odd operation name {name:?}"),
            });
        }
        Ok(
            HttpRequest::get(url::join(&cfg.base_url, &format!("/v1beta/{name}")))
                .with_header("x-goog-api-key", cfg.api_key.expose()),
        )
    }

    fn parse_poll(
        &self,
        resp: &HttpResponse,
        _cfg: &ProviderConfig,
        _now: Timestamp,
    ) -> Result<PollOutcome, ProviderError> {
        if !resp.is_success() {
            return Err(http_error(resp, is_moderation));
        }
        let op: Operation = super::errors::parse_json(&resp.body)?;
        Ok(PollOutcome::Status {
            status: status_of(op)?,
        })
    }

    fn verify_callback(
        &self,
        _req: &HttpRequest,
        _cfg: &ProviderConfig,
        _ctx: &VerifyContext<'_>,
    ) -> Result<(), SignatureError> {
        Err(SignatureError::Unsupported)
    }

    fn parse_callback(
        &self,
        _req: &HttpRequest,
        _now: Timestamp,
    ) -> Result<Callback, ProviderError> {
        Err(not_supported(self.kind(), "callbacks"))
    }

    fn build_output_fetch(&self, output: &Output, cfg: &ProviderConfig) -> Option<HttpRequest> {
        fetch_with_auth(output, cfg, |r| {
            r.with_header("x-goog-api-key", cfg.api_key.expose())
        })
    }
}
