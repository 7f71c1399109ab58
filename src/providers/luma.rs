//! Luma Dream Machine (Ray 2).
//!
//! - Submit: `POST {base}/dream-machine/v1/generations`, Bearer, `{model, prompt, aspect_ratio,
//!   duration: "5s"|"9s", resolution, keyframes?: {frame0: {type: "image", url}},
//!   callback_url}` (SDK `lumalabs/lumaai-python:src/lumaai/types/generation_create_params.py`;
//!   the SDK's newer `/generations/video` takes the same body); answers a Generation.
//! - Poll: `GET {base}/dream-machine/v1/generations/{id}`: `state` is `queued`, `dreaming`,
//!   `completed` or `failed` (with `failure_reason`); the video is at `assets.video`.
//! - Surprise: the field is `state`, not `status`, and "running" is called `dreaming`.
//! - Callbacks POST the whole Generation when it is dreaming, completed or failed
//!   (<https://docs.lumalabs.ai/changelog/callbacks-and-credits-balance>); unsigned, so our URL
//!   token authenticates them.

use serde::Deserialize;
use serde_json::json;

use super::adapter::{
    Adapter, Callback, CallbackEvent, Delivery, PollOutcome, SubmitRequest, Submitted,
    VerifyContext,
};
use super::common::{
    bearer, callback_body, mentions_moderation, nullable, url_output, verify_route,
};
use super::config::ProviderConfig;
use super::errors::{expect_json, missing, unknown_status};
use super::signature::SignatureError;
use super::{HttpRequest, HttpResponse, ProviderError, ProviderKind, ProviderStatus, url};
use crate::ids::ProviderRef;
use crate::time::Timestamp;

/// The Luma adapter
#[derive(Debug, Clone, Copy, Default)]
pub struct Luma;

const GENERATIONS: &str = "/dream-machine/v1/generations";

#[derive(Deserialize)]
struct Generation {
    id: Option<String>,
    state: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    failure_reason: String,
    #[serde(default, deserialize_with = "nullable")]
    assets: Assets,
}

#[derive(Deserialize, Default)]
struct Assets {
    video: Option<String>,
}

fn status_of(generation: Generation) -> Result<ProviderStatus, ProviderError> {
    let state = generation.state.ok_or_else(|| missing("state"))?;
    Ok(match state.as_str() {
        "queued" => ProviderStatus::Queued,
        "dreaming" => ProviderStatus::Running,
        "completed" => {
            let video = generation
                .assets
                .video
                .ok_or_else(|| missing("assets.video"))?;
            ProviderStatus::Succeeded {
                outputs: vec![url_output(&video, "video/mp4", None)],
            }
        }
        "failed" if mentions_moderation(&generation.failure_reason) => ProviderStatus::Moderated {
            reason: generation.failure_reason,
        },
        "failed" => ProviderStatus::Failed {
            reason: generation.failure_reason,
            retryable: true,
        },
        other => return Err(unknown_status("luma", other)),
    })
}

impl Adapter for Luma {
    fn kind(&self) -> ProviderKind {
        ProviderKind::Luma
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
        // Ray 2 renders 5 s or 9 s.
        let duration = if req.duration_s > 5.0 { "9s" } else { "5s" };
        let mut body = json!({
            "model": req.provider_model,
            "prompt": req.prompt,
            "duration": duration,
            "resolution": "720p",
        });
        if let Some(aspect) = req.aspect {
            body["aspect_ratio"] = json!(aspect.as_str());
        }
        if let Some(image) = &req.image_url {
            body["keyframes"] = json!({ "frame0": { "type": "image", "url": image } });
        }
        if let Some(cb) = &req.callback_url {
            body["callback_url"] = json!(cb);
        }
        Ok(bearer(
            HttpRequest::post_json(url::join(&cfg.base_url, GENERATIONS), &body),
            &cfg.api_key,
        ))
    }

    fn parse_submit(
        &self,
        _req: &SubmitRequest,
        resp: &HttpResponse,
        _cfg: &ProviderConfig,
        _now: Timestamp,
    ) -> Result<Submitted, ProviderError> {
        let generation: Generation = expect_json(resp, mentions_moderation)?;
        let id = generation
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
        let path = format!("{GENERATIONS}/{}", url::encode(provider_ref.as_str()));
        Ok(bearer(
            HttpRequest::get(url::join(&cfg.base_url, &path)),
            &cfg.api_key,
        ))
    }

    fn parse_poll(
        &self,
        resp: &HttpResponse,
        _cfg: &ProviderConfig,
        _now: Timestamp,
    ) -> Result<PollOutcome, ProviderError> {
        let generation: Generation = expect_json(resp, mentions_moderation)?;
        Ok(PollOutcome::Status {
            status: status_of(generation)?,
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

    fn parse_callback(
        &self,
        req: &HttpRequest,
        _now: Timestamp,
    ) -> Result<Callback, ProviderError> {
        let generation: Generation = callback_body(req)?;
        let provider_ref = generation.id.clone().map(ProviderRef);
        let status = status_of(generation)?;
        Ok(Callback {
            provider_ref,
            delivery_id: None,
            event: CallbackEvent::Status { status },
        })
    }
}
