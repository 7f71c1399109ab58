//! Pika through fal's queue (<https://docs.fal.ai/model-endpoints/queue>).
//!
//! - Submit: `POST {base}/{model_id}?fal_webhook={our url}` with `Authorization: Key <key>` and
//!   the model input (`prompt`, `image_url`, `aspect_ratio`, `duration` 5|10, `resolution`);
//!   answers `{request_id, status_url, response_url, ...}`. Pika 2.2 also takes
//!   `negative_prompt` (text and image to video: "what to avoid"), which carries what the
//!   creator's look must not drift to (input schema at
//!   <https://fal.ai/models/fal-ai/pika/v2.2/image-to-video/api>; the v2.5 schema, with the same
//!   field: <https://fal.ai/models/fal-ai/pika/v2.5/text-to-video/llms.txt>).
//! - Surprise: status and result URLs use only `{owner}/{app}`, not the model's subpath
//!   (`fal-ai/pika/requests/{id}/status` for `fal-ai/pika/v2.2/image-to-video`), so we poll the
//!   returned `status_url` verbatim (and derive it only when absent). That URL is the task's
//!   [`ProviderRef`]; callbacks name the bare request id.
//! - Poll: `IN_QUEUE`, `IN_PROGRESS`, `COMPLETED` (202 while queued, 200 when done). On
//!   `COMPLETED` the output is at the `response_url`: a [`PollOutcome::FollowUp`], whose body is
//!   the model output `{video: {url, content_type}}`.
//! - Webhook: `{request_id, status: "OK"|"ERROR", payload, error, payload_error}`, signed with
//!   ED25519 ([`crate::providers::signature::fal`]); `payload: null` with `payload_error` means
//!   the output was too large to send, so we fetch it.

use serde::Deserialize;
use serde_json::{Value, json};

use super::adapter::{
    Adapter, Callback, CallbackEvent, Delivery, PollOutcome, SubmitRequest, Submitted,
    VerifyContext,
};
use super::common::{callback_body, mentions_moderation, nullable, pick_duration, verify_route};
use super::config::ProviderConfig;
use super::errors::{error_reason, expect_json, missing, truncate, unknown_status};
use super::signature::{self, SignatureError};
use super::{
    HttpRequest, HttpResponse, Method, Output, ProviderError, ProviderKind, ProviderStatus, url,
};
use crate::ids::{DeliveryId, ProviderRef};
use crate::time::Timestamp;

/// The fal (Pika) adapter
#[derive(Debug, Clone, Copy, Default)]
pub struct FalPika;

/// Lengths Pika renders
const DURATIONS: [u32; 2] = [5, 10];
/// fal's queue host; its JWKS lives elsewhere
const QUEUE_HOST: &str = "https://queue.fal.run";
/// fal's webhook key set
pub const JWKS_URL: &str = "https://rest.alpha.fal.ai/.well-known/jwks.json";

/// The request for fal's webhook key set: the real one for the real queue, else
/// `{base}/.well-known/jwks.json` (the simulator serves `GET /fal/.well-known/jwks.json`)
pub fn jwks_request(cfg: &ProviderConfig) -> HttpRequest {
    if cfg.base_url == QUEUE_HOST {
        HttpRequest::get(JWKS_URL)
    } else {
        HttpRequest::get(url::join(&cfg.base_url, "/.well-known/jwks.json"))
    }
}

fn authorize(req: HttpRequest, cfg: &ProviderConfig) -> HttpRequest {
    req.with_header("authorization", format!("Key {}", cfg.api_key.expose()))
}

#[derive(Deserialize)]
struct Queued {
    request_id: Option<String>,
    status_url: Option<String>,
}

#[derive(Deserialize)]
struct QueueStatus {
    status: Option<String>,
    response_url: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    error: Option<String>,
}

#[derive(Deserialize)]
struct Webhook {
    request_id: Option<String>,
    status: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    payload: Value,
    #[serde(default, deserialize_with = "nullable")]
    error: String,
    #[serde(default, deserialize_with = "nullable")]
    payload_error: String,
}

/// The outputs of a model result: `video`, `image`, `images[]`, `audio` objects with `url`
fn outputs_of(result: &Value) -> Vec<Output> {
    let single = ["video", "image", "audio"]
        .into_iter()
        .filter_map(|k| result.get(k));
    let many = result
        .get("images")
        .and_then(Value::as_array)
        .into_iter()
        .flatten();
    single
        .chain(many)
        .filter_map(|file| {
            let url = file.get("url")?.as_str()?;
            let content_type = file.get("content_type").and_then(Value::as_str);
            Some(Output::Url {
                url: url.to_owned(),
                content_type: content_type.map(str::to_owned),
                expires_at: None,
            })
        })
        .collect()
}

/// `error` is like `"Invalid status code: 422"`: retry on 5xx or when no code is given
fn failed(error: &str, payload: &Value) -> ProviderStatus {
    let reason = if payload.is_null() {
        truncate(error)
    } else {
        truncate(&format!(
            "{error}: {}",
            error_reason(payload.to_string().as_bytes())
        ))
    };
    if mentions_moderation(&reason) {
        return ProviderStatus::Moderated { reason };
    }
    let code = error.rsplit(' ').next().and_then(|c| c.parse::<u16>().ok());
    ProviderStatus::Failed {
        reason,
        retryable: code.is_none_or(|c| c >= 500),
    }
}

/// The task's status URL, which is its [`ProviderRef`]; the key only goes under our base
fn status_url(provider_ref: &ProviderRef, cfg: &ProviderConfig) -> Result<String, ProviderError> {
    let u = provider_ref.as_str();
    if url::is_under(u, &cfg.base_url) && u.ends_with("/status") {
        Ok(u.to_owned())
    } else {
        Err(ProviderError::Malformed {
            reason: format!("not a fal status url: {u}"),
        })
    }
}

fn owner_app(model: &str) -> String {
    model.split('/').take(2).collect::<Vec<_>>().join("/")
}

impl Adapter for FalPika {
    fn kind(&self) -> ProviderKind {
        ProviderKind::FalPika
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
        let mut body = json!({
            "prompt": req.prompt,
            "duration": pick_duration(req.duration_s, &DURATIONS),
            "resolution": "720p",
        });
        if let Some(negative) = req.negative_prompt.as_deref().filter(|n| !n.is_empty()) {
            body["negative_prompt"] = json!(negative);
        }
        match (&req.image_url, req.aspect) {
            (Some(image), _) => body["image_url"] = json!(image),
            // Image-to-video takes the frame's shape; only text-to-video has `aspect_ratio`.
            (None, Some(aspect)) => body["aspect_ratio"] = json!(aspect.as_str()),
            (None, None) => {}
        }
        let mut path = format!("/{}", req.provider_model.trim_matches('/'));
        if let Some(cb) = &req.callback_url {
            path = format!("{path}?fal_webhook={}", url::encode(cb));
        }
        Ok(authorize(
            HttpRequest::post_json(url::join(&cfg.base_url, &path), &body),
            cfg,
        ))
    }

    fn parse_submit(
        &self,
        req: &SubmitRequest,
        resp: &HttpResponse,
        cfg: &ProviderConfig,
        _now: Timestamp,
    ) -> Result<Submitted, ProviderError> {
        let queued: Queued = expect_json(resp, mentions_moderation)?;
        let id = queued
            .request_id
            .filter(|i| !i.is_empty())
            .ok_or_else(|| missing("request_id"))?;
        let status_url = queued.status_url.unwrap_or_else(|| {
            let path = format!(
                "/{}/requests/{}/status",
                owner_app(&req.provider_model),
                url::encode(&id)
            );
            url::join(&cfg.base_url, &path)
        });
        Ok(Submitted::Accepted {
            provider_ref: ProviderRef(status_url),
        })
    }

    fn build_poll(
        &self,
        provider_ref: &ProviderRef,
        cfg: &ProviderConfig,
        _now: Timestamp,
    ) -> Result<HttpRequest, ProviderError> {
        Ok(authorize(
            HttpRequest::get(status_url(provider_ref, cfg)?),
            cfg,
        ))
    }

    fn build_cancel(
        &self,
        provider_ref: &ProviderRef,
        cfg: &ProviderConfig,
        _now: Timestamp,
    ) -> Option<HttpRequest> {
        // `PUT .../requests/{id}/cancel`, next to the status URL.
        let status = status_url(provider_ref, cfg).ok()?;
        let cancel = format!("{}/cancel", status.strip_suffix("/status")?);
        let request = HttpRequest {
            method: Method::Put,
            ..HttpRequest::get(cancel)
        };
        Some(authorize(request, cfg))
    }

    fn parse_poll(
        &self,
        resp: &HttpResponse,
        cfg: &ProviderConfig,
        _now: Timestamp,
    ) -> Result<PollOutcome, ProviderError> {
        let status: QueueStatus = expect_json(resp, mentions_moderation)?;
        let state = status.status.ok_or_else(|| missing("status"))?;
        let status = match state.as_str() {
            "IN_QUEUE" => ProviderStatus::Queued,
            "IN_PROGRESS" => ProviderStatus::Running,
            "COMPLETED" => {
                if let Some(error) = status.error.filter(|e| !e.is_empty()) {
                    return Ok(PollOutcome::Status {
                        status: failed(&error, &Value::Null),
                    });
                }
                let result = status.response_url.ok_or_else(|| missing("response_url"))?;
                if !url::is_under(&result, &cfg.base_url) {
                    return Err(ProviderError::Malformed {
                        reason: format!("result url outside fal: {result}"),
                    });
                }
                return Ok(PollOutcome::FollowUp {
                    request: authorize(HttpRequest::get(result), cfg),
                });
            }
            other => return Err(unknown_status("fal", other)),
        };
        Ok(PollOutcome::Status { status })
    }

    fn parse_follow_up(
        &self,
        resp: &HttpResponse,
        _now: Timestamp,
    ) -> Result<ProviderStatus, ProviderError> {
        let result: Value = expect_json(resp, mentions_moderation)?;
        let outputs = outputs_of(&result);
        if outputs.is_empty() {
            return Err(missing("video.url in fal result"));
        }
        Ok(ProviderStatus::Succeeded { outputs })
    }

    fn verify_callback(
        &self,
        req: &HttpRequest,
        _cfg: &ProviderConfig,
        ctx: &VerifyContext<'_>,
    ) -> Result<(), SignatureError> {
        verify_route(req, self.kind(), ctx)?;
        let jwks = ctx.fal_jwks.ok_or(SignatureError::MissingKeySet)?;
        signature::fal::verify(&req.headers, &req.body, jwks, ctx.now)
    }

    fn parse_callback(
        &self,
        req: &HttpRequest,
        _now: Timestamp,
    ) -> Result<Callback, ProviderError> {
        let hook: Webhook = callback_body(req)?;
        let request_id = req
            .header(signature::fal::REQUEST_ID_HEADER)
            .map(str::to_owned)
            .or(hook.request_id);
        // fal gives no delivery id; request id and signing time name one delivery.
        let delivery_id = match (&request_id, req.header(signature::fal::TIMESTAMP_HEADER)) {
            (Some(id), Some(ts)) => Some(DeliveryId(format!("{id}:{}", ts.trim()))),
            _ => None,
        };
        let state = hook.status.ok_or_else(|| missing("status"))?;
        let event = match state.as_str() {
            "OK" if hook.payload.is_null() => CallbackEvent::FetchStatus,
            "OK" => {
                let outputs = outputs_of(&hook.payload);
                if outputs.is_empty() {
                    return Err(missing(&format!(
                        "payload video.url ({})",
                        hook.payload_error
                    )));
                }
                CallbackEvent::Status {
                    status: ProviderStatus::Succeeded { outputs },
                }
            }
            "ERROR" => CallbackEvent::Status {
                status: failed(&hook.error, &hook.payload),
            },
            other => return Err(unknown_status("fal webhook", other)),
        };
        Ok(Callback {
            provider_ref: request_id.map(ProviderRef),
            delivery_id,
            event,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owner_app_drops_the_subpath() {
        assert_eq!(owner_app("fal-ai/pika/v2.2/image-to-video"), "fal-ai/pika");
    }
}
