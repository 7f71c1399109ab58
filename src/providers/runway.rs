//! Runway tasks, polled (Runway has no generation webhooks).
//!
//! - Auth: Bearer plus `X-Runway-Version: 2024-11-06` on every call (SDK
//!   `runwayml/sdk-python:src/runwayml/_client.py`).
//! - Submit: `POST {base}/v1/image_to_video` (`promptImage`) or `/v1/text_to_video`, with
//!   `model`, `promptText`, `ratio` in pixels (`1280:720`) and `duration`; answers `{id}`.
//! - Poll: `GET {base}/v1/tasks/{id}`: `PENDING`, `THROTTLED`, `RUNNING`, `SUCCEEDED`,
//!   `FAILED`, `CANCELLED`; `output` is an array of URLs that expire in 24–48 h
//!   (<https://docs.dev.runwayml.com/assets/outputs>).
//! - Surprise: `THROTTLED` is Runway queueing tasks over the org's concurrency for us, so it is
//!   [`ProviderStatus::Queued`], not a rate limit. Failures carry a dotted `failureCode`:
//!   `SAFETY.*` is moderation, `INTERNAL*` is worth retrying.

use serde::Deserialize;
use serde_json::json;

use super::adapter::{
    Adapter, Callback, Delivery, PollOutcome, SubmitRequest, Submitted, VerifyContext,
};
use super::common::{
    bearer, mentions_moderation, not_supported, nullable, pick_duration, url_output,
};
use super::config::ProviderConfig;
use super::errors::{expect_json, missing, unknown_status};
use super::signature::SignatureError;
use super::{HttpRequest, HttpResponse, Method, ProviderError, ProviderKind, ProviderStatus, url};
use crate::brief::AspectRatio;
use crate::ids::ProviderRef;
use crate::time::{Millis, Timestamp};

/// The Runway adapter
#[derive(Debug, Clone, Copy, Default)]
pub struct Runway;

/// The API version header value
pub const API_VERSION: &str = "2024-11-06";
/// Lengths Gen-4 renders
const DURATIONS: [u32; 2] = [5, 10];
/// The short end of Runway's "24-48 hours"
const OUTPUT_TTL: Millis = Millis::from_secs(24 * 3600);

fn authorize(req: HttpRequest, cfg: &ProviderConfig) -> HttpRequest {
    bearer(req, &cfg.api_key).with_header("x-runway-version", API_VERSION)
}

fn ratio(aspect: AspectRatio) -> &'static str {
    match aspect {
        AspectRatio::Landscape => "1280:720",
        AspectRatio::Portrait => "720:1280",
        AspectRatio::Square => "960:960",
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Task {
    id: Option<String>,
    status: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    output: Vec<String>,
    #[serde(default, deserialize_with = "nullable")]
    failure: String,
    #[serde(default, deserialize_with = "nullable")]
    failure_code: String,
}

fn status_of(task: Task, now: Timestamp) -> Result<ProviderStatus, ProviderError> {
    let status = task.status.ok_or_else(|| missing("status"))?;
    let reason = || format!("{}: {}", task.failure_code, task.failure);
    Ok(match status.as_str() {
        "PENDING" | "THROTTLED" => ProviderStatus::Queued,
        "RUNNING" => ProviderStatus::Running,
        "SUCCEEDED" if task.output.is_empty() => return Err(missing("output")),
        "SUCCEEDED" => ProviderStatus::Succeeded {
            outputs: task
                .output
                .iter()
                .map(|u| url_output(u, "video/mp4", Some(now.plus(OUTPUT_TTL))))
                .collect(),
        },
        "FAILED" if task.failure_code.starts_with("SAFETY") => {
            ProviderStatus::Moderated { reason: reason() }
        }
        "FAILED" => ProviderStatus::Failed {
            reason: reason(),
            retryable: task.failure_code.is_empty() || task.failure_code.starts_with("INTERNAL"),
        },
        "CANCELLED" => ProviderStatus::Failed {
            reason: "cancelled".into(),
            retryable: true,
        },
        other => return Err(unknown_status("runway", other)),
    })
}

impl Adapter for Runway {
    fn kind(&self) -> ProviderKind {
        ProviderKind::Runway
    }

    fn delivery(&self) -> Delivery {
        Delivery::Poll
    }

    fn build_submit(
        &self,
        req: &SubmitRequest,
        cfg: &ProviderConfig,
        _now: Timestamp,
    ) -> Result<HttpRequest, ProviderError> {
        let mut body = json!({
            "model": req.provider_model,
            "promptText": req.prompt,
            "duration": pick_duration(req.duration_s, &DURATIONS),
        });
        if let Some(aspect) = req.aspect {
            body["ratio"] = json!(ratio(aspect));
        }
        let path = match &req.image_url {
            Some(image) => {
                body["promptImage"] = json!(image);
                "/v1/image_to_video"
            }
            None => "/v1/text_to_video",
        };
        Ok(authorize(
            HttpRequest::post_json(url::join(&cfg.base_url, path), &body),
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
        let path = format!("/v1/tasks/{}", url::encode(provider_ref.as_str()));
        Ok(authorize(
            HttpRequest::get(url::join(&cfg.base_url, &path)),
            cfg,
        ))
    }

    fn build_cancel(
        &self,
        provider_ref: &ProviderRef,
        cfg: &ProviderConfig,
        _now: Timestamp,
    ) -> Option<HttpRequest> {
        // `DELETE /v1/tasks/{id}` cancels a running task (SDK `api.md`).
        let path = format!("/v1/tasks/{}", url::encode(provider_ref.as_str()));
        let request = HttpRequest {
            method: Method::Delete,
            ..HttpRequest::get(url::join(&cfg.base_url, &path))
        };
        Some(authorize(request, cfg))
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
}
