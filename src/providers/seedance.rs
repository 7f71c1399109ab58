//! Seedance on BytePlus ModelArk (content generation tasks).
//!
//! - Submit: `POST {base}/api/v3/contents/generations/tasks`, Bearer, `{model, content: [{type:
//!   "text", text}, {type: "image_url", image_url: {url}, role: "first_frame"}], callback_url}`
//!   (SDK `byteplus-sdk/byteplus-python-sdk-v2:byteplussdkarkruntime/resources/
//!   content_generation/tasks.py`); answers `{id: "cgt-..."}`.
//! - Surprise: Seedance 1.x takes its parameters as flags inside the prompt text
//!   (`--ratio 16:9 --duration 5`); image-to-video uses `--ratio adaptive` to keep the frame.
//! - Poll: `GET {base}/api/v3/contents/generations/tasks/{id}`: `queued`, `running`,
//!   `succeeded`, `failed`, `cancelled`, `expired`; video at `content.video_url` (about 24 h);
//!   errors in `error {code, message}`, where `*SensitiveContentDetected` codes are moderation.
//! - Callbacks POST the same body as the poll on every status change (Volcengine Ark docs:
//!   "回调请求内容结构与查询任务API的返回体一致"); unsigned, so our URL token authenticates them.

use serde::Deserialize;
use serde_json::json;

use super::adapter::{
    Adapter, Callback, CallbackEvent, Delivery, PollOutcome, SubmitRequest, Submitted,
    VerifyContext,
};
use super::common::{
    bearer, callback_body, mentions_moderation, nullable, pick_duration, url_output, verify_route,
};
use super::config::ProviderConfig;
use super::errors::{expect_json, missing, unknown_status};
use super::signature::SignatureError;
use super::{HttpRequest, HttpResponse, Method, ProviderError, ProviderKind, ProviderStatus, url};
use crate::ids::ProviderRef;
use crate::time::{Millis, Timestamp};

/// The Seedance adapter
#[derive(Debug, Clone, Copy, Default)]
pub struct Seedance;

const TASKS: &str = "/api/v3/contents/generations/tasks";
/// Lengths Seedance 1.0 pro renders
const DURATIONS: [u32; 2] = [5, 10];
/// Implementers report about 24 h for `video_url`
const OUTPUT_TTL: Millis = Millis::from_secs(24 * 3600);

#[derive(Deserialize)]
struct Task {
    id: Option<String>,
    status: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    content: Content,
    #[serde(default, deserialize_with = "nullable")]
    error: TaskError,
}

#[derive(Deserialize, Default)]
struct Content {
    video_url: Option<String>,
}

#[derive(Deserialize, Default)]
struct TaskError {
    #[serde(default, deserialize_with = "nullable")]
    code: String,
    #[serde(default, deserialize_with = "nullable")]
    message: String,
}

fn status_of(task: Task, now: Timestamp) -> Result<ProviderStatus, ProviderError> {
    let status = task.status.ok_or_else(|| missing("status"))?;
    let reason = || format!("{}: {}", task.error.code, task.error.message);
    Ok(match status.as_str() {
        "queued" => ProviderStatus::Queued,
        "running" => ProviderStatus::Running,
        "succeeded" => {
            let video = task
                .content
                .video_url
                .as_deref()
                .ok_or_else(|| missing("content.video_url"))?;
            ProviderStatus::Succeeded {
                outputs: vec![url_output(video, "video/mp4", Some(now.plus(OUTPUT_TTL)))],
            }
        }
        "failed"
            if task.error.code.contains("Sensitive")
                || mentions_moderation(&task.error.message) =>
        {
            ProviderStatus::Moderated { reason: reason() }
        }
        "failed" => ProviderStatus::Failed {
            reason: reason(),
            retryable: true,
        },
        "cancelled" => ProviderStatus::Failed {
            reason: "cancelled".into(),
            retryable: true,
        },
        // Sat queued past `execution_expires_after`: the provider was too busy, try again.
        "expired" => ProviderStatus::Failed {
            reason: "expired in queue".into(),
            retryable: true,
        },
        other => return Err(unknown_status("seedance", other)),
    })
}

impl Adapter for Seedance {
    fn kind(&self) -> ProviderKind {
        ProviderKind::Seedance
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
        let ratio = match (&req.image_url, req.aspect) {
            (Some(_), _) => "adaptive",
            (None, Some(aspect)) => aspect.as_str(),
            (None, None) => "16:9",
        };
        let duration = pick_duration(req.duration_s, &DURATIONS);
        let text = format!("{} --ratio {ratio} --duration {duration}", req.prompt);
        let mut content = vec![json!({ "type": "text", "text": text })];
        if let Some(image) = &req.image_url {
            content.push(json!({ "type": "image_url", "image_url": { "url": image }, "role": "first_frame" }));
        }
        let mut body = json!({ "model": req.provider_model, "content": content });
        if let Some(cb) = &req.callback_url {
            body["callback_url"] = json!(cb);
        }
        Ok(bearer(
            HttpRequest::post_json(url::join(&cfg.base_url, TASKS), &body),
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
        let task: Task = expect_json(resp, mentions_moderation)?;
        let id = task
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
        let path = format!("{TASKS}/{}", url::encode(provider_ref.as_str()));
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
        // `DELETE` cancels a queued task (a running one cannot be stopped).
        let path = format!("{TASKS}/{}", url::encode(provider_ref.as_str()));
        let request = HttpRequest {
            method: Method::Delete,
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
        let task: Task = expect_json(resp, mentions_moderation)?;
        Ok(PollOutcome::Status {
            status: status_of(task, now)?,
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
        let task: Task = callback_body(req)?;
        let provider_ref = task.id.clone().map(ProviderRef);
        let status = status_of(task, now)?;
        Ok(Callback {
            provider_ref,
            delivery_id: None,
            event: CallbackEvent::Status { status },
        })
    }
}
