//! Replicate predictions: a generic adapter for any model hosted there.
//!
//! - Submit: `POST {base}/v1/predictions`, Bearer, `{version: "owner/name[:version]", input,
//!   webhook, webhook_events_filter: ["completed"]}` (since 2025-08 `version` may be a model
//!   name: <https://replicate.com/changelog/2025-08-05-run-all-models-with-the-same-api-endpoint>).
//!   Inputs differ per model; we send the common `prompt` and, for image-to-video, `image`.
//! - Keyframes (an image model, e.g. `black-forest-labs/flux-1.1-pro`) get `aspect_ratio`
//!   (`16:9`, `9:16`, `1:1`; the model's default is `1:1`) and `output_format: "png"` (its
//!   default is `webp`), and never an `image`: FLUX's reference input is `image_prompt`, a
//!   Redux remix, not a first frame (<https://replicate.com/black-forest-labs/flux-1.1-pro>;
//!   the fields as a prediction sends them: <https://replicate.com/p/qkapcw5h6srgc0cjajdszq5j3c>).
//!   Its output is one image URL.
//! - Poll: `GET {base}/v1/predictions/{id}`: `starting`, `processing`, `succeeded`, `failed`,
//!   `canceled`, `aborted` (the deadline passed before it started). `output` is a URL or an
//!   array of URLs, deleted after an hour (<https://replicate.com/docs/topics/predictions/lifecycle>).
//! - Webhooks POST the prediction itself, signed with Standard Webhooks; `webhook-id` is the
//!   delivery id.

use serde::Deserialize;
use serde_json::{Value, json};

use super::adapter::{
    Adapter, Callback, CallbackEvent, Delivery, PollOutcome, SubmitRequest, Submitted,
    VerifyContext,
};
use super::common::{
    bearer, callback_body, mentions_moderation, nullable, url_output, verify_route, webhook_secret,
};
use super::config::ProviderConfig;
use super::errors::{expect_json, missing, unknown_status};
use super::signature::SignatureError;
use super::signature::standard::{ID_HEADER, StandardWebhooks};
use super::{HttpRequest, HttpResponse, Method, ProviderError, ProviderKind, ProviderStatus, url};
use crate::brief::AspectRatio;
use crate::ids::{DeliveryId, ProviderRef};
use crate::plan::StageKind;
use crate::time::{Millis, Timestamp};

/// The Replicate adapter
#[derive(Debug, Clone, Copy, Default)]
pub struct Replicate;

/// Replicate deletes API predictions' files after an hour
const OUTPUT_TTL: Millis = Millis::from_secs(3600);

#[derive(Deserialize)]
struct Prediction {
    id: Option<String>,
    status: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    output: Value,
    #[serde(default, deserialize_with = "nullable")]
    error: Value,
}

fn status_of(prediction: Prediction, now: Timestamp) -> Result<ProviderStatus, ProviderError> {
    let status = prediction.status.ok_or_else(|| missing("status"))?;
    let reason = || match &prediction.error {
        Value::String(s) => s.clone(),
        Value::Null => status.clone(),
        other => other.to_string(),
    };
    Ok(match status.as_str() {
        "starting" => ProviderStatus::Queued,
        "processing" => ProviderStatus::Running,
        "succeeded" => {
            let urls: Vec<&str> = match &prediction.output {
                Value::String(u) => vec![u.as_str()],
                Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
                _ => Vec::new(),
            };
            let outputs: Vec<_> = urls
                .into_iter()
                .filter(|u| u.starts_with("http"))
                .map(|u| url_output(u, content_type_of(u), Some(now.plus(OUTPUT_TTL))))
                .collect();
            if outputs.is_empty() {
                return Err(missing("output url"));
            }
            ProviderStatus::Succeeded { outputs }
        }
        "failed" if mentions_moderation(&reason()) => {
            ProviderStatus::Moderated { reason: reason() }
        }
        "failed" => ProviderStatus::Failed {
            reason: reason(),
            retryable: true,
        },
        "canceled" | "aborted" => ProviderStatus::Failed {
            reason: status.clone(),
            retryable: true,
        },
        other => return Err(unknown_status("replicate", other)),
    })
}

/// A keyframe's input: the prompt, the frame's shape as a preset ratio, a PNG (what every
/// motion model takes as its first frame)
fn keyframe_input(req: &SubmitRequest) -> Value {
    let aspect = req.aspect.unwrap_or(AspectRatio::Landscape);
    json!({
        "prompt": req.prompt,
        "aspect_ratio": aspect.as_str(),
        "output_format": "png",
    })
}

/// Replicate serves no content type with `output`; guess from the file name
fn content_type_of(u: &str) -> &'static str {
    let path = url::path(u).to_ascii_lowercase();
    match path.rsplit('.').next() {
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("webp") => "image/webp",
        Some("mp3") => "audio/mpeg",
        Some("wav") => "audio/wav",
        _ => "video/mp4",
    }
}

impl Adapter for Replicate {
    fn kind(&self) -> ProviderKind {
        ProviderKind::Replicate
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
        let input = match req.kind {
            StageKind::Keyframe => keyframe_input(req),
            StageKind::Motion
            | StageKind::Frame
            | StageKind::Dialogue
            | StageKind::Voiceover
            | StageKind::Score
            | StageKind::Assembly => {
                let mut input = json!({ "prompt": req.prompt });
                if let Some(image) = &req.image_url {
                    input["image"] = json!(image);
                }
                input
            }
        };
        let mut body = json!({ "version": req.provider_model, "input": input });
        if let Some(cb) = &req.callback_url {
            body["webhook"] = json!(cb);
            body["webhook_events_filter"] = json!(["completed"]);
        }
        let url = url::join(&cfg.base_url, "/v1/predictions");
        Ok(bearer(HttpRequest::post_json(url, &body), &cfg.api_key))
    }

    fn parse_submit(
        &self,
        _req: &SubmitRequest,
        resp: &HttpResponse,
        _cfg: &ProviderConfig,
        _now: Timestamp,
    ) -> Result<Submitted, ProviderError> {
        let prediction: Prediction = expect_json(resp, mentions_moderation)?;
        let id = prediction
            .id
            .filter(|i| !i.is_empty())
            .ok_or_else(|| missing("id"))?;
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
        let path = format!("/v1/predictions/{}", url::encode(provider_ref.as_str()));
        Ok(bearer(
            HttpRequest::get(url::join(&cfg.base_url, &path)),
            &cfg.api_key,
        ))
    }

    fn build_cancel(
        &self,
        provider_ref: &ProviderRef,
        cfg: &ProviderConfig,
        _now: Timestamp,
    ) -> Option<HttpRequest> {
        // `urls.cancel`: `POST /v1/predictions/{id}/cancel`.
        let path = format!(
            "/v1/predictions/{}/cancel",
            url::encode(provider_ref.as_str())
        );
        let request = HttpRequest {
            method: Method::Post,
            ..HttpRequest::get(url::join(&cfg.base_url, &path))
        };
        Some(bearer(request, &cfg.api_key))
    }

    fn parse_poll(
        &self,
        resp: &HttpResponse,
        _cfg: &ProviderConfig,
        now: Timestamp,
    ) -> Result<PollOutcome, ProviderError> {
        let prediction: Prediction = expect_json(resp, mentions_moderation)?;
        Ok(PollOutcome::Status {
            status: status_of(prediction, now)?,
        })
    }

    fn verify_callback(
        &self,
        req: &HttpRequest,
        cfg: &ProviderConfig,
        ctx: &VerifyContext<'_>,
    ) -> Result<(), SignatureError> {
        verify_route(req, self.kind(), ctx)?;
        StandardWebhooks::new(webhook_secret(cfg)?)?.verify(&req.headers, &req.body, ctx.now)
    }

    fn parse_callback(&self, req: &HttpRequest, now: Timestamp) -> Result<Callback, ProviderError> {
        let prediction: Prediction = callback_body(req)?;
        let provider_ref = prediction.id.clone().map(ProviderRef);
        let delivery_id = req.header(ID_HEADER).map(|id| DeliveryId(id.to_owned()));
        let status = status_of(prediction, now)?;
        Ok(Callback {
            provider_ref,
            delivery_id,
            event: CallbackEvent::Status { status },
        })
    }
}
