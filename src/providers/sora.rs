//! OpenAI Sora 2 through the videos API.
//!
//! - Submit: `POST {base}/v1/videos`, Bearer, JSON `{model, prompt, seconds: "4"|"8"|"12", size,
//!   input_reference?: {image_url}}` (SDK `openai/openai-python:src/openai/types/
//!   video_create_params.py`); answers a Video object with `status: "queued"`.
//! - Poll: `GET {base}/v1/videos/{id}`: `status` is `queued`, `in_progress`, `completed` or
//!   `failed`, with `error {code, message}` and `expires_at` (Unix seconds).
//! - Surprise: there is no output URL. The MP4 comes from `GET {base}/v1/videos/{id}/content`
//!   with the API key, so the output is that URL and [`Adapter::build_output_fetch`] adds auth.
//!   Downloads live at most an hour (<https://developers.openai.com/api/docs/guides/video-generation>).
//! - Surprise: webhooks are per project, set in the dashboard, not per request. They follow
//!   Standard Webhooks and carry only the id (`{"type":"video.completed","data":{"id":..}}`),
//!   so a callback means "poll now". Other event types on the same endpoint are ignored. The
//!   callback route is `/v1/callbacks/sora` without a job: the shell finds the job by video id.
//!   A per-job URL (`/v1/callbacks/sora/{job}/{stage}/{attempt}`) must carry our token as for
//!   every other provider: the signature alone proves only that OpenAI sent the body once, and
//!   a replay of it aimed at another job's stage must not pass. Either way the id in the body is
//!   a claim: the job polls only the task it recorded for the attempt.

use serde::Deserialize;
use serde_json::json;

use super::adapter::{
    Adapter, Callback, CallbackEvent, Delivery, PollOutcome, SubmitRequest, Submitted,
    VerifyContext,
};
use super::common::{
    bearer, callback_body, fetch_with_auth, mentions_moderation, nullable, url_output,
    verify_route, webhook_secret,
};
use super::config::ProviderConfig;
use super::errors::{expect_json, missing, unknown_status};
use super::signature::SignatureError;
use super::signature::standard::{ID_HEADER, StandardWebhooks};
use super::{HttpRequest, HttpResponse, Output, ProviderError, ProviderKind, ProviderStatus, url};
use crate::brief::AspectRatio;
use crate::ids::{DeliveryId, ProviderRef};
use crate::time::{Millis, Timestamp};

/// The Sora adapter
#[derive(Debug, Clone, Copy, Default)]
pub struct Sora;

/// Where the project-level webhook (set in OpenAI's dashboard) calls
pub const PROJECT_WEBHOOK_PATH: &str = "/v1/callbacks/sora";

/// Lengths `seconds` accepts
const DURATIONS: [u32; 3] = [4, 8, 12];

/// How long a finished video stays downloadable when the response gives no `expires_at`
const DOWNLOAD_TTL: Millis = Millis::from_secs(3600);

fn is_moderation(reason: &str) -> bool {
    mentions_moderation(reason)
}

#[derive(Deserialize)]
struct Video {
    id: Option<String>,
    status: Option<String>,
    error: Option<VideoError>,
    expires_at: Option<u64>,
}

#[derive(Deserialize)]
struct VideoError {
    #[serde(default, deserialize_with = "nullable")]
    code: String,
    #[serde(default, deserialize_with = "nullable")]
    message: String,
}

#[derive(Deserialize)]
struct Event {
    id: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    data: Option<EventData>,
}

#[derive(Deserialize)]
struct EventData {
    id: Option<String>,
}

fn content_url(cfg: &ProviderConfig, id: &str) -> String {
    url::join(
        &cfg.base_url,
        &format!("/v1/videos/{}/content", url::encode(id)),
    )
}

fn status_of(
    video: Video,
    cfg: &ProviderConfig,
    now: Timestamp,
) -> Result<ProviderStatus, ProviderError> {
    let status = video.status.ok_or_else(|| missing("status"))?;
    Ok(match status.as_str() {
        "queued" => ProviderStatus::Queued,
        "in_progress" => ProviderStatus::Running,
        "completed" => {
            let id = video.id.ok_or_else(|| missing("id"))?;
            let expires_at = video
                .expires_at
                .map(Timestamp::from_secs)
                .unwrap_or_else(|| now.plus(DOWNLOAD_TTL));
            ProviderStatus::Succeeded {
                outputs: vec![url_output(
                    &content_url(cfg, &id),
                    "video/mp4",
                    Some(expires_at),
                )],
            }
        }
        "failed" => {
            let err = video.error.unwrap_or(VideoError {
                code: String::new(),
                message: String::new(),
            });
            let reason = format!("{}: {}", err.code, err.message);
            if is_moderation(&reason) {
                ProviderStatus::Moderated { reason }
            } else {
                ProviderStatus::Failed {
                    reason,
                    retryable: true,
                }
            }
        }
        other => return Err(unknown_status("sora", other)),
    })
}

impl Adapter for Sora {
    fn kind(&self) -> ProviderKind {
        ProviderKind::Sora
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
        let seconds = pick_seconds(req.duration_s);
        let mut body =
            json!({ "model": req.provider_model, "prompt": req.prompt, "seconds": seconds });
        match req.aspect {
            Some(AspectRatio::Landscape) => body["size"] = json!("1280x720"),
            Some(AspectRatio::Portrait) => body["size"] = json!("720x1280"),
            Some(AspectRatio::Square) => {
                return Err(ProviderError::Rejected {
                    reason: "sora renders no square video".into(),
                });
            }
            None => {}
        }
        if let Some(image) = &req.image_url {
            body["input_reference"] = json!({ "image_url": image });
        }
        let request = HttpRequest::post_json(url::join(&cfg.base_url, "/v1/videos"), &body)
            .with_header("idempotency-key", req.idempotency_key.clone());
        Ok(bearer(request, &cfg.api_key))
    }

    fn parse_submit(
        &self,
        _req: &SubmitRequest,
        resp: &HttpResponse,
        _cfg: &ProviderConfig,
        _now: Timestamp,
    ) -> Result<Submitted, ProviderError> {
        let video: Video = expect_json(resp, is_moderation)?;
        let id = video
            .id
            .filter(|i| !i.is_empty())
            .ok_or_else(|| missing("video id"))?;
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
        let path = format!("/v1/videos/{}", url::encode(provider_ref.as_str()));
        Ok(bearer(
            HttpRequest::get(url::join(&cfg.base_url, &path)),
            &cfg.api_key,
        ))
    }

    fn parse_poll(
        &self,
        resp: &HttpResponse,
        cfg: &ProviderConfig,
        now: Timestamp,
    ) -> Result<PollOutcome, ProviderError> {
        let video: Video = expect_json(resp, is_moderation)?;
        Ok(PollOutcome::Status {
            status: status_of(video, cfg, now)?,
        })
    }

    fn verify_callback(
        &self,
        req: &HttpRequest,
        cfg: &ProviderConfig,
        ctx: &VerifyContext<'_>,
    ) -> Result<(), SignatureError> {
        // The project-level webhook has no URL of ours, so no token; any other URL is a per-job
        // one, and its token must verify as well as the signature.
        if url::path(&req.url).trim_end_matches('/') != PROJECT_WEBHOOK_PATH {
            verify_route(req, self.kind(), ctx)?;
        }
        StandardWebhooks::new(webhook_secret(cfg)?)?.verify(&req.headers, &req.body, ctx.now)
    }

    fn parse_callback(
        &self,
        req: &HttpRequest,
        _now: Timestamp,
    ) -> Result<Callback, ProviderError> {
        let event: Event = callback_body(req)?;
        let delivery_id = req
            .header(ID_HEADER)
            .map(str::to_owned)
            .or(event.id)
            .map(DeliveryId);
        let provider_ref = event.data.and_then(|d| d.id).map(ProviderRef);
        let kind = event.kind.ok_or_else(|| missing("type"))?;
        let event = match kind.as_str() {
            "video.completed" | "video.failed" if provider_ref.is_some() => {
                CallbackEvent::FetchStatus
            }
            "video.completed" | "video.failed" => return Err(missing("data.id")),
            _ => CallbackEvent::Ignore,
        };
        Ok(Callback {
            provider_ref,
            delivery_id,
            event,
        })
    }

    fn build_output_fetch(&self, output: &Output, cfg: &ProviderConfig) -> Option<HttpRequest> {
        fetch_with_auth(output, cfg, |r| bearer(r, &cfg.api_key))
    }
}

/// `seconds` is a string enum on the wire
fn pick_seconds(duration_s: f64) -> String {
    super::common::pick_duration(duration_s, &DURATIONS).to_string()
}
