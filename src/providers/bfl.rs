//! Black Forest Labs FLUX 1.1 \[pro\] (keyframes).
//!
//! - Submit: `POST {base}/v1/{model}` (`flux-pro-1.1`), `x-key`, `{prompt, width, height,
//!   output_format, webhook_url, webhook_secret}`; answers `{id, polling_url}`
//!   (<https://docs.bfl.ml/api-reference/models/generate-an-image-with-flux-11-[pro]>).
//! - FLUX.1 Kontext \[pro\] (`flux-kontext-pro`) is the same task API with the cast's reference
//!   images as `input_image`..`input_image_4` and `aspect_ratio` in place of width and height
//!   (<https://docs.bfl.ml/api-reference/models/edit-or-create-an-image-with-flux-kontext-pro>).
//! - Surprise: poll the returned `polling_url` verbatim; it may be on a regional host
//!   (`api.us1.bfl.ai`) that alone knows the task. So the task's [`ProviderRef`] is that URL
//!   (the bare id when BFL gives none); callbacks name the bare id.
//! - Status: `Task not found`, `Pending`, `Request Moderated`, `Content Moderated`, `Ready`,
//!   `Error` (<https://docs.bfl.ai/api_integration/errors>); the image is at `result.sample`.
//! - Surprise: result URLs expire 10 minutes after they are served, so `expires_at` is set from
//!   `now` and the shell must copy at once.
//! - Webhooks carry `{id, status, result | error}` signed `X-BFL-Signature: sha256=<hex>` with
//!   the secret we sent. We only ask for a webhook when a secret is configured, since an
//!   unverifiable one would be refused anyway; the task is then polled.

use serde::Deserialize;
use serde_json::json;

use super::adapter::{
    Adapter, Callback, CallbackEvent, Delivery, PollOutcome, SubmitRequest, Submitted,
    VerifyContext,
};
use super::common::{
    callback_body, mentions_moderation, nullable, url_output, verify_route, webhook_secret,
};
use super::config::ProviderConfig;
use super::errors::{expect_json, missing, unknown_status};
use super::signature::{self, SignatureError};
use super::{
    HttpRequest, HttpResponse, ProviderError, ProviderKind, ProviderStatus, references, url,
};
use crate::brief::AspectRatio;
use crate::ids::ProviderRef;
use crate::time::{Millis, Timestamp};

/// The BFL adapter
#[derive(Debug, Clone, Copy, Default)]
pub struct Bfl;

/// How long a result URL lives
pub const RESULT_TTL: Millis = Millis::from_secs(10 * 60);

/// Width and height: multiples of 32 within 256..=1440, and exactly the frame's ratio
fn size(aspect: Option<AspectRatio>) -> (u32, u32) {
    match aspect {
        Some(AspectRatio::Landscape) | None => (1024, 576),
        Some(AspectRatio::Portrait) => (576, 1024),
        Some(AspectRatio::Square) => (1024, 1024),
    }
}

/// FLUX Kontext takes the cast's reference images as `input_image`, `input_image_2` ..
/// `input_image_4` (URLs) and the frame as `aspect_ratio` rather than width and height
/// (<https://docs.bfl.ml/api-reference/models/edit-or-create-an-image-with-flux-kontext-pro>);
/// FLUX 1.1 \[pro\] has no reference field (see [`references`])
fn kontext_fields(req: &SubmitRequest, body: &mut serde_json::Value) {
    if !references::is_kontext(&req.provider_model) {
        return;
    }
    if let Some(obj) = body.as_object_mut() {
        obj.remove("width");
        obj.remove("height");
    }
    body["aspect_ratio"] = json!(req.aspect.unwrap_or(AspectRatio::Landscape).as_str());
    let refs = references::carried(
        ProviderKind::Bfl,
        &req.provider_model,
        req.kind,
        &req.reference_images,
    );
    for (i, url) in refs.iter().enumerate() {
        let field = match i {
            0 => "input_image".to_owned(),
            n => format!("input_image_{}", n + 1),
        };
        body[field] = json!(url);
    }
}

fn authorize(req: HttpRequest, cfg: &ProviderConfig) -> HttpRequest {
    req.with_header("x-key", cfg.api_key.expose())
}

/// Whether our key may go to a polling URL: under our base, or a BFL host
fn is_bfl_url(u: &str, cfg: &ProviderConfig) -> bool {
    url::is_under(u, &cfg.base_url)
        || (u.starts_with("https://")
            && url::host(u).is_some_and(|h| {
                ["bfl.ai", "bfl.ml"]
                    .iter()
                    .any(|d| h == *d || h.ends_with(&format!(".{d}")))
            }))
}

#[derive(Deserialize)]
struct Created {
    id: Option<String>,
    polling_url: Option<String>,
}

#[derive(Deserialize)]
struct GetResult {
    id: Option<String>,
    status: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    result: Sample,
    #[serde(default, deserialize_with = "nullable")]
    error: String,
    #[serde(default, deserialize_with = "nullable")]
    message: String,
}

#[derive(Deserialize, Default)]
struct Sample {
    sample: Option<String>,
}

fn status_of(result: GetResult, now: Timestamp) -> Result<ProviderStatus, ProviderError> {
    let status = result.status.ok_or_else(|| missing("status"))?;
    let reason = || {
        format!("{status}: {} {}", result.error, result.message)
            .trim()
            .to_owned()
    };
    Ok(match status.as_str() {
        "Pending" => ProviderStatus::Running,
        "Ready" => {
            let sample = result
                .result
                .sample
                .as_deref()
                .ok_or_else(|| missing("result.sample"))?;
            ProviderStatus::Succeeded {
                outputs: vec![url_output(sample, "image/png", Some(now.plus(RESULT_TTL)))],
            }
        }
        "Request Moderated" | "Content Moderated" => ProviderStatus::Moderated { reason: reason() },
        // Regional mismatch or an expired task: a new submit may well work.
        "Task not found" | "Error" => ProviderStatus::Failed {
            reason: reason(),
            retryable: true,
        },
        other => return Err(unknown_status("bfl", other)),
    })
}

impl Adapter for Bfl {
    fn kind(&self) -> ProviderKind {
        ProviderKind::Bfl
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
        let (width, height) = size(req.aspect);
        let mut body = json!({
            "prompt": req.prompt,
            "width": width,
            "height": height,
            "output_format": "png",
            "prompt_upsampling": false,
        });
        if let (Some(cb), Some(secret)) = (&req.callback_url, &cfg.webhook_secret) {
            body["webhook_url"] = json!(cb);
            body["webhook_secret"] = json!(secret.expose());
        }
        kontext_fields(req, &mut body);
        let path = format!("/v1/{}", url::encode(&req.provider_model));
        Ok(authorize(
            HttpRequest::post_json(url::join(&cfg.base_url, &path), &body),
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
        let created: Created = expect_json(resp, mentions_moderation)?;
        let id = created
            .id
            .filter(|i| !i.is_empty())
            .ok_or_else(|| missing("id"))?;
        // The polling URL is the task's address (it may be regional); the id is its fallback.
        let provider_ref = created.polling_url.filter(|u| !u.is_empty()).unwrap_or(id);
        Ok(Submitted::Accepted {
            provider_ref: ProviderRef(provider_ref),
        })
    }

    fn build_poll(
        &self,
        provider_ref: &ProviderRef,
        cfg: &ProviderConfig,
        _now: Timestamp,
    ) -> Result<HttpRequest, ProviderError> {
        let r = provider_ref.as_str();
        let url = match r.starts_with("http") {
            true if is_bfl_url(r, cfg) => r.to_owned(),
            true => {
                return Err(ProviderError::Malformed {
                    reason: format!("polling url outside bfl: {r}"),
                });
            }
            false => url::join(
                &cfg.base_url,
                &format!("/v1/get_result?id={}", url::encode(provider_ref.as_str())),
            ),
        };
        Ok(authorize(HttpRequest::get(url), cfg))
    }

    fn parse_poll(
        &self,
        resp: &HttpResponse,
        _cfg: &ProviderConfig,
        now: Timestamp,
    ) -> Result<PollOutcome, ProviderError> {
        let result: GetResult = expect_json(resp, mentions_moderation)?;
        Ok(PollOutcome::Status {
            status: status_of(result, now)?,
        })
    }

    fn verify_callback(
        &self,
        req: &HttpRequest,
        cfg: &ProviderConfig,
        ctx: &VerifyContext<'_>,
    ) -> Result<(), SignatureError> {
        verify_route(req, self.kind(), ctx)?;
        signature::bfl::verify(&req.headers, &req.body, webhook_secret(cfg)?)
    }

    fn parse_callback(&self, req: &HttpRequest, now: Timestamp) -> Result<Callback, ProviderError> {
        let result: GetResult = callback_body(req)?;
        let provider_ref = result.id.clone().map(ProviderRef);
        let status = status_of(result, now)?;
        Ok(Callback {
            provider_ref,
            delivery_id: None,
            event: CallbackEvent::Status { status },
        })
    }
}
