//! MiniMax Hailuo video.
//!
//! - Submit: `POST {base}/v1/video_generation`, Bearer, `{model, prompt, duration: 6|10,
//!   resolution, first_frame_image?, callback_url?, prompt_optimizer}`; answers `{task_id,
//!   base_resp}` (<https://platform.minimax.io/docs/api-reference/video-generation-t2v>).
//! - Poll: `GET {base}/v1/query/video_generation?task_id=..`: `Preparing`, `Queueing`,
//!   `Processing`, `Success`, `Fail`.
//! - Surprise: success gives a `file_id`, not a URL; the URL comes from `GET
//!   {base}/v1/files/retrieve?file_id=..` (`file.download_url`, about 9 h): a
//!   [`PollOutcome::FollowUp`].
//! - Surprise: before any status, MiniMax POSTs `{"challenge": ".."}` to the callback URL and
//!   needs it echoed within 3 s ([`CallbackEvent::Challenge`]). Status callbacks then send
//!   `processing`/`success`/`failed`, lower-case while the docs' example says `Success`, so
//!   statuses match case-insensitively (<https://platform.minimax.io/docs/api-reference/video-generation-s2v>).
//! - Every body carries `base_resp`; codes 1026/1027 are sensitive input/output (moderation).

use serde::Deserialize;
use serde_json::{Value, json};

use super::adapter::{
    Adapter, Callback, CallbackEvent, Delivery, PollOutcome, SubmitRequest, Submitted,
    VerifyContext,
};
use super::common::{
    bearer, mentions_moderation, nullable, pick_duration, url_output, verify_route,
};
use super::config::ProviderConfig;
use super::errors::{expect_json, missing, parse_json, unknown_status};
use super::minimax::{BaseResp, is_moderation_code};
use super::signature::SignatureError;
use super::{HttpRequest, HttpResponse, ProviderError, ProviderKind, ProviderStatus, url};
use crate::ids::ProviderRef;
use crate::time::{Millis, Timestamp};

/// The Hailuo adapter
#[derive(Debug, Clone, Copy, Default)]
pub struct Hailuo;

/// Lengths Hailuo 02 renders at 768P
const DURATIONS: [u32; 2] = [6, 10];
/// Secondary sources give `download_url` about 9 h
const DOWNLOAD_TTL: Millis = Millis::from_secs(9 * 3600);

#[derive(Deserialize)]
struct Task {
    #[serde(default, deserialize_with = "nullable")]
    task_id: String,
    #[serde(default, deserialize_with = "nullable")]
    status: String,
    #[serde(default, deserialize_with = "nullable")]
    file_id: String,
    #[serde(default, deserialize_with = "nullable")]
    base_resp: BaseResp,
}

#[derive(Deserialize)]
struct Retrieved {
    file: Option<File>,
    #[serde(default, deserialize_with = "nullable")]
    base_resp: BaseResp,
}

#[derive(Deserialize)]
struct File {
    download_url: Option<String>,
}

/// Where a status leads: a status, or "fetch the file" on success
enum Step {
    Status(ProviderStatus),
    Retrieve { file_id: String },
}

fn step_of(task: Task) -> Result<Step, ProviderError> {
    let status = match task.status.to_ascii_lowercase().as_str() {
        "preparing" | "queueing" => ProviderStatus::Queued,
        "processing" => ProviderStatus::Running,
        "success" if task.file_id.is_empty() => return Err(missing("file_id")),
        "success" => {
            return Ok(Step::Retrieve {
                file_id: task.file_id,
            });
        }
        "fail" | "failed" => {
            let reason = format!(
                "minimax {}: {}",
                task.base_resp.status_code, task.base_resp.status_msg
            );
            if is_moderation_code(task.base_resp.status_code) || mentions_moderation(&reason) {
                ProviderStatus::Moderated { reason }
            } else {
                ProviderStatus::Failed {
                    reason,
                    retryable: true,
                }
            }
        }
        "" => {
            // No status at all: the call itself failed, and base_resp says why.
            task.base_resp.check()?;
            return Err(missing("status"));
        }
        _ => return Err(unknown_status("hailuo", &task.status)),
    };
    Ok(Step::Status(status))
}

impl Adapter for Hailuo {
    fn kind(&self) -> ProviderKind {
        ProviderKind::Hailuo
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
            "model": req.provider_model,
            "prompt": req.prompt,
            "duration": pick_duration(req.duration_s, &DURATIONS),
            "resolution": "768P",
            "prompt_optimizer": true,
        });
        if let Some(image) = &req.image_url {
            body["first_frame_image"] = json!(image);
        }
        if let Some(cb) = &req.callback_url {
            body["callback_url"] = json!(cb);
        }
        let url = url::join(&cfg.base_url, "/v1/video_generation");
        Ok(bearer(HttpRequest::post_json(url, &body), &cfg.api_key))
    }

    fn parse_submit(
        &self,
        _req: &SubmitRequest,
        resp: &HttpResponse,
        _cfg: &ProviderConfig,
        _now: Timestamp,
    ) -> Result<Submitted, ProviderError> {
        let task: Task = expect_json(resp, mentions_moderation)?;
        task.base_resp.check()?;
        if task.task_id.is_empty() {
            return Err(missing("task_id"));
        }
        Ok(Submitted::Accepted {
            provider_ref: ProviderRef(task.task_id),
        })
    }

    fn build_poll(
        &self,
        provider_ref: &ProviderRef,
        cfg: &ProviderConfig,
        _now: Timestamp,
    ) -> Result<HttpRequest, ProviderError> {
        let path = format!(
            "/v1/query/video_generation?task_id={}",
            url::encode(provider_ref.as_str())
        );
        Ok(bearer(
            HttpRequest::get(url::join(&cfg.base_url, &path)),
            &cfg.api_key,
        ))
    }

    fn parse_poll(
        &self,
        resp: &HttpResponse,
        cfg: &ProviderConfig,
        _now: Timestamp,
    ) -> Result<PollOutcome, ProviderError> {
        let task: Task = expect_json(resp, mentions_moderation)?;
        Ok(match step_of(task)? {
            Step::Status(status) => PollOutcome::Status { status },
            Step::Retrieve { file_id } => {
                let path = format!("/v1/files/retrieve?file_id={}", url::encode(&file_id));
                let request = bearer(
                    HttpRequest::get(url::join(&cfg.base_url, &path)),
                    &cfg.api_key,
                );
                PollOutcome::FollowUp { request }
            }
        })
    }

    fn parse_follow_up(
        &self,
        resp: &HttpResponse,
        now: Timestamp,
    ) -> Result<ProviderStatus, ProviderError> {
        let retrieved: Retrieved = expect_json(resp, mentions_moderation)?;
        retrieved.base_resp.check()?;
        let url = retrieved
            .file
            .and_then(|f| f.download_url)
            .ok_or_else(|| missing("file.download_url"))?;
        Ok(ProviderStatus::Succeeded {
            outputs: vec![url_output(&url, "video/mp4", Some(now.plus(DOWNLOAD_TTL)))],
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
        let body: Value = parse_json(&req.body)?;
        if let Some(challenge) = body.get("challenge") {
            let response = HttpResponse {
                status: 200,
                headers: vec![("content-type".into(), "application/json".into())],
                body: json!({ "challenge": challenge }).to_string().into_bytes(),
            };
            return Ok(Callback {
                provider_ref: None,
                delivery_id: None,
                event: CallbackEvent::Challenge { response },
            });
        }
        let task: Task = serde_json::from_value(body).map_err(|e| ProviderError::Malformed {
            reason: format!("hailuo callback: {e}"),
        })?;
        let provider_ref = Some(task.task_id.clone())
            .filter(|t| !t.is_empty())
            .map(ProviderRef);
        let event = match step_of(task)? {
            Step::Status(status) => CallbackEvent::Status { status },
            // The download URL needs the file retrieve, which the poll path does.
            Step::Retrieve { .. } => CallbackEvent::FetchStatus,
        };
        Ok(Callback {
            provider_ref,
            delivery_id: None,
            event,
        })
    }
}
