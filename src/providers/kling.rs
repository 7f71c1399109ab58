//! Kling AI video (Kuaishou).
//!
//! - Auth: a JWT, HS256, signed with the secret key: header `{"alg":"HS256","typ":"JWT"}`,
//!   claims `{iss: access key, iat: now, nbf: now - 5, exp: now + 1800}`, sent as
//!   `Authorization: Bearer <jwt>` (Kling's "API authorization" page; <https://tryagi.github.io/KlingAI/guides/authentication>).
//!   It is minted from `now` for every request, so a token never outlives its call.
//! - Kling 1.6 (`kling-v1-6`) also renders from several images: `POST /v1/videos/multi-image2video`
//!   with `image_list: [{image}]` (up to 4), used when a cast member's look has reference
//!   images (see [`references`]); its tasks are polled at `/v1/videos/multi-image2video/{id}`.
//! - Submit: `POST {base}/v1/videos/text2video` or `/v1/videos/image2video` with `model_name`,
//!   `prompt`, `mode`, `duration` (a string, `"5"` or `"10"`), `aspect_ratio` (text only),
//!   `image` (image only), `callback_url`, `external_task_id` (our idempotency key).
//! - `negative_prompt` (both endpoints, at most 2,500 characters) carries what the creator's look
//!   must not drift to (Kling API "Text to Video" / "Image to Video" request body,
//!   <https://app.klingai.com/global/dev/document-api/apiReference/model/textToVideo>).
//! - Surprise: every answer is an envelope `{code, message, request_id, data}`; `code != 0` is an
//!   error even on HTTP 200, and the poll path depends on the submit endpoint, so the task's
//!   [`ProviderRef`] is `{text2video|image2video}/{task_id}` (callbacks name the bare id).
//! - Status: `submitted`, `processing`, `succeed`, `failed`; output at
//!   `data.task_result.videos[].url`, kept 30 days.
//! - Callbacks POST the task object itself (no envelope) on every status change
//!   (Kling "Callback Protocol"); unsigned, so our URL token authenticates them.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::Mac;
use serde::Deserialize;
use serde_json::{Value, json};

use super::adapter::{
    Adapter, Callback, CallbackEvent, Delivery, PollOutcome, SubmitRequest, Submitted,
    VerifyContext,
};
use super::common::{mentions_moderation, nullable, pick_duration, url_output, verify_route};
use super::config::ProviderConfig;
use super::errors::{error_reason, http_error, missing, parse_json, unknown_status};
use super::signature::SignatureError;
use super::{
    HttpRequest, HttpResponse, ProviderError, ProviderKind, ProviderStatus, references, url,
};
use crate::ids::ProviderRef;
use crate::time::{Millis, Timestamp};

/// The Kling adapter
#[derive(Debug, Clone, Copy, Default)]
pub struct Kling;

/// Lengths Kling renders
const DURATIONS: [u32; 2] = [5, 10];
/// JWT lifetime, as Kling's examples use
const JWT_TTL_SECS: u64 = 1800;
/// Clock-skew allowance before `iat`
const JWT_NBF_SKEW_SECS: u64 = 5;
/// Kling keeps outputs 30 days
const OUTPUT_TTL: Millis = Millis::from_secs(30 * 24 * 3600);

/// Mints the HS256 JWT for one request at `now`
pub fn jwt(access_key: &str, secret_key: &str, now: Timestamp) -> Result<String, ProviderError> {
    let iat = now.as_secs();
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let claims = json!({
        "iss": access_key,
        "iat": iat,
        "nbf": iat.saturating_sub(JWT_NBF_SKEW_SECS),
        "exp": iat.saturating_add(JWT_TTL_SECS),
    });
    let claims = URL_SAFE_NO_PAD.encode(claims.to_string());
    let signing_input = format!("{header}.{claims}");
    let mut mac = super::signature::HmacSha256::new_from_slice(secret_key.as_bytes())
        .map_err(|_| ProviderError::Unauthorized)?;
    mac.update(signing_input.as_bytes());
    Ok(format!(
        "{signing_input}.{}",
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    ))
}

fn authorize(
    req: HttpRequest,
    cfg: &ProviderConfig,
    now: Timestamp,
) -> Result<HttpRequest, ProviderError> {
    // Without a secret key no request can succeed: that is a credentials problem.
    let secret = cfg.secret_key.as_ref().ok_or(ProviderError::Unauthorized)?;
    let token = jwt(cfg.api_key.expose(), secret.expose(), now)?;
    Ok(req.with_header("authorization", format!("Bearer {token}")))
}

/// Maps Kling's business codes (Kling "Error Codes" page)
fn code_error(code: i64, message: &str) -> ProviderError {
    let reason = format!("kling {code}: {message}");
    match code {
        // 1000..1004: authentication failed, empty, invalid, not yet valid, expired
        1000..=1004 => ProviderError::Unauthorized,
        // 1301: content security policy
        1301 => ProviderError::Moderated { reason },
        // 1302: requests too fast; 1303: "parallel task over resource pack limit"
        1302 | 1303 => ProviderError::RateLimited { retry_after: None },
        // 5000..5002: server error, unavailable, timeout
        5000..=5099 => ProviderError::Transient { reason },
        // 1100..1103 account and resource pack, 1200..1203 parameters, 1300/1304 policy, IP
        _ => ProviderError::Rejected { reason },
    }
}

#[derive(Deserialize)]
struct Envelope {
    code: Option<i64>,
    #[serde(default, deserialize_with = "nullable")]
    message: String,
    data: Option<Value>,
}

#[derive(Deserialize)]
struct Task {
    task_id: Option<String>,
    task_status: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    task_status_msg: String,
    task_result: Option<TaskResult>,
}

#[derive(Deserialize, Default)]
struct TaskResult {
    #[serde(default, deserialize_with = "nullable")]
    videos: Vec<Media>,
    #[serde(default, deserialize_with = "nullable")]
    images: Vec<Media>,
}

#[derive(Deserialize)]
struct Media {
    url: Option<String>,
}

/// The `data` of an enveloped answer, or the business error it carries
fn open_envelope(resp: &HttpResponse) -> Result<Task, ProviderError> {
    let envelope: Envelope = match parse_json(&resp.body) {
        Ok(e) => e,
        Err(e) if resp.is_success() => return Err(e),
        Err(_) => return Err(http_error(resp, mentions_moderation)),
    };
    match envelope.code {
        Some(0) if resp.is_success() => {}
        Some(code) if code != 0 => return Err(code_error(code, &envelope.message)),
        _ if !resp.is_success() => return Err(http_error(resp, mentions_moderation)),
        _ => return Err(missing("code")),
    }
    serde_json::from_value(envelope.data.ok_or_else(|| missing("data"))?).map_err(|e| {
        ProviderError::Malformed {
            reason: format!("kling data: {e}"),
        }
    })
}

fn status_of(task: Task, now: Timestamp) -> Result<ProviderStatus, ProviderError> {
    let status = task.task_status.ok_or_else(|| missing("task_status"))?;
    Ok(match status.as_str() {
        "submitted" => ProviderStatus::Queued,
        "processing" => ProviderStatus::Running,
        "succeed" => {
            let result = task.task_result.unwrap_or_default();
            let outputs: Vec<_> = result
                .videos
                .iter()
                .map(|v| (v, "video/mp4"))
                .chain(result.images.iter().map(|i| (i, "image/png")))
                .filter_map(|(m, ct)| {
                    Some(url_output(
                        m.url.as_deref()?,
                        ct,
                        Some(now.plus(OUTPUT_TTL)),
                    ))
                })
                .collect();
            if outputs.is_empty() {
                return Err(missing("task_result.videos[].url"));
            }
            ProviderStatus::Succeeded { outputs }
        }
        "failed" if mentions_moderation(&task.task_status_msg) => ProviderStatus::Moderated {
            reason: task.task_status_msg,
        },
        "failed" => ProviderStatus::Failed {
            reason: task.task_status_msg,
            retryable: true,
        },
        other => return Err(unknown_status("kling", other)),
    })
}

impl Adapter for Kling {
    fn kind(&self) -> ProviderKind {
        ProviderKind::Kling
    }

    fn delivery(&self) -> Delivery {
        Delivery::Callback
    }

    fn build_submit(
        &self,
        req: &SubmitRequest,
        cfg: &ProviderConfig,
        now: Timestamp,
    ) -> Result<HttpRequest, ProviderError> {
        let mut body = json!({
            "model_name": req.provider_model,
            "prompt": req.prompt,
            "mode": "std",
            "duration": pick_duration(req.duration_s, &DURATIONS).to_string(),
            "external_task_id": req.idempotency_key,
        });
        if let Some(negative) = req.negative_prompt.as_deref().filter(|n| !n.is_empty()) {
            body["negative_prompt"] = json!(negative);
        }
        match &req.image_url {
            Some(image) => body["image"] = json!(image),
            None => {
                if let Some(aspect) = req.aspect {
                    body["aspect_ratio"] = json!(aspect.as_str());
                }
            }
        }
        if let Some(cb) = &req.callback_url {
            body["callback_url"] = json!(cb);
        }
        multi_image_fields(req, &mut body);
        let url = url::join(&cfg.base_url, &format!("/v1/videos/{}", endpoint(req)));
        authorize(HttpRequest::post_json(url, &body), cfg, now)
    }

    fn parse_submit(
        &self,
        req: &SubmitRequest,
        resp: &HttpResponse,
        _cfg: &ProviderConfig,
        _now: Timestamp,
    ) -> Result<Submitted, ProviderError> {
        let task = open_envelope(resp)?;
        let id = task
            .task_id
            .filter(|i| !i.is_empty())
            .ok_or_else(|| missing("data.task_id"))?;
        Ok(Submitted::Accepted {
            provider_ref: ProviderRef(format!("{}/{id}", endpoint(req))),
        })
    }

    fn build_poll(
        &self,
        provider_ref: &ProviderRef,
        cfg: &ProviderConfig,
        now: Timestamp,
    ) -> Result<HttpRequest, ProviderError> {
        // `{endpoint}/{task_id}`; a bare id is a text-to-video task.
        let (endpoint, id) = match provider_ref.as_str().split_once('/') {
            Some((e @ ("text2video" | "image2video" | "multi-image2video"), id)) => (e, id),
            Some(_) => {
                return Err(ProviderError::Malformed {
                    reason: format!("odd kling task ref {provider_ref}"),
                });
            }
            None => ("text2video", provider_ref.as_str()),
        };
        let path = format!("/v1/videos/{endpoint}/{}", url::encode(id));
        authorize(HttpRequest::get(url::join(&cfg.base_url, &path)), cfg, now)
    }

    fn parse_poll(
        &self,
        resp: &HttpResponse,
        _cfg: &ProviderConfig,
        now: Timestamp,
    ) -> Result<PollOutcome, ProviderError> {
        Ok(PollOutcome::Status {
            status: status_of(open_envelope(resp)?, now)?,
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
        // The documented callback is the bare task; accept an enveloped one too.
        let mut body: Value = parse_json(&req.body)?;
        if let Some(data) = body.get_mut("data").filter(|d| d.is_object()) {
            body = data.take();
        }
        let task: Task = serde_json::from_value(body).map_err(|e| ProviderError::Malformed {
            reason: format!("kling callback: {e}: {}", error_reason(&req.body)),
        })?;
        let provider_ref = task.task_id.clone().map(ProviderRef);
        let status = status_of(task, now)?;
        Ok(Callback {
            provider_ref,
            delivery_id: None,
            event: CallbackEvent::Status { status },
        })
    }
}

fn endpoint(req: &SubmitRequest) -> &'static str {
    match &req.image_url {
        Some(_) if !multi_image_refs(req).is_empty() => "multi-image2video",
        Some(_) => "image2video",
        None => "text2video",
    }
}

/// The cast's reference images this request carries (Kling 1.6's `multi-image2video` only)
fn multi_image_refs(req: &SubmitRequest) -> &[String] {
    references::carried(
        ProviderKind::Kling,
        &req.provider_model,
        req.kind,
        &req.reference_images,
    )
}

/// Kling 1.6 renders a cast member's references through `multi-image2video`: `image_list`
/// (`[{image}]`, up to 4 URLs) in place of `image`, with `aspect_ratio` (Kling API "Multi-Image
/// to Video"). That endpoint has no first frame, so the keyframe leads the list: the scene it
/// set is the first reference, the look's images follow
fn multi_image_fields(req: &SubmitRequest, body: &mut Value) {
    let refs = multi_image_refs(req);
    let Some(keyframe) = req.image_url.as_ref().filter(|_| !refs.is_empty()) else {
        return;
    };
    if let Some(obj) = body.as_object_mut() {
        obj.remove("image");
    }
    let list: Vec<Value> = std::iter::once(keyframe)
        .chain(refs)
        .map(|u| json!({ "image": u }))
        .collect();
    body["image_list"] = Value::Array(list);
    if let Some(aspect) = req.aspect {
        body["aspect_ratio"] = json!(aspect.as_str());
    }
}
