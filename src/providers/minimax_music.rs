//! MiniMax music: synchronous.
//!
//! - Submit: `POST {base}/v1/music_generation`, Bearer, `{model, prompt, lyrics |
//!   is_instrumental, audio_setting, output_format: "url"}`; answers `{data: {status, audio},
//!   extra_info, base_resp}` (official MCP server `MiniMax-AI/MiniMax-MCP:minimax_mcp/server.py`).
//! - Surprise: `data.status` is a number, `1` partial and `2` complete, and `data.audio` is hex
//!   bytes unless we ask for `output_format: "url"`, which we always do.
//! - A non-zero `base_resp.status_code` is an error even on HTTP 200.
//! - In doubt (the job restarted while a submit was in flight; see `studio::job::reconcile`):
//!   the generation is the synchronous answer, with no task id, no query endpoint and no
//!   history to search, and no idempotency key is taken, so the job can only submit again; a
//!   second song may be made and billed (the README's "Submits in doubt").

use serde::Deserialize;
use serde_json::json;

use super::adapter::{
    Adapter, Callback, Delivery, PollOutcome, SubmitRequest, Submitted, VerifyContext,
};
use super::common::{bearer, mentions_moderation, not_supported, nullable, url_output};
use super::config::ProviderConfig;
use super::errors::{expect_json, missing};
use super::minimax::BaseResp;
use super::signature::SignatureError;
use super::{HttpRequest, HttpResponse, ProviderError, ProviderKind, ProviderStatus, url};
use crate::ids::ProviderRef;
use crate::time::Timestamp;

/// The MiniMax music adapter
#[derive(Debug, Clone, Copy, Default)]
pub struct MinimaxMusic;

#[derive(Deserialize)]
struct Generated {
    data: Option<Data>,
    trace_id: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    base_resp: BaseResp,
}

#[derive(Deserialize)]
struct Data {
    status: Option<i64>,
    audio: Option<String>,
}

impl Adapter for MinimaxMusic {
    fn kind(&self) -> ProviderKind {
        ProviderKind::MinimaxMusic
    }

    fn delivery(&self) -> Delivery {
        Delivery::Sync
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
            "audio_setting": { "sample_rate": 44100, "bitrate": 256000, "format": "mp3" },
            "output_format": "url",
        });
        match &req.text {
            Some(lyrics) => body["lyrics"] = json!(lyrics),
            None => body["is_instrumental"] = json!(true),
        }
        let url = url::join(&cfg.base_url, "/v1/music_generation");
        Ok(bearer(HttpRequest::post_json(url, &body), &cfg.api_key))
    }

    fn parse_submit(
        &self,
        req: &SubmitRequest,
        resp: &HttpResponse,
        _cfg: &ProviderConfig,
        _now: Timestamp,
    ) -> Result<Submitted, ProviderError> {
        let generated: Generated = expect_json(resp, mentions_moderation)?;
        generated.base_resp.check()?;
        let data = generated.data.ok_or_else(|| missing("data"))?;
        match data.status {
            Some(2) => {}
            Some(1) => {
                return Err(ProviderError::Malformed {
                    reason: "music still partial in a synchronous answer".into(),
                });
            }
            other => {
                return Err(ProviderError::Malformed {
                    reason: format!("unknown minimax music status {other:?}"),
                });
            }
        }
        let audio = data.audio.ok_or_else(|| missing("data.audio"))?;
        if !audio.starts_with("http") {
            return Err(ProviderError::Malformed {
                reason: "expected an audio url, got inline audio".into(),
            });
        }
        let status = ProviderStatus::Succeeded {
            outputs: vec![url_output(&audio, "audio/mpeg", None)],
        };
        let id = generated
            .trace_id
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| req.idempotency_key.clone());
        Ok(Submitted::Finished {
            provider_ref: ProviderRef(id),
            status,
        })
    }

    fn build_poll(
        &self,
        _provider_ref: &ProviderRef,
        _cfg: &ProviderConfig,
        _now: Timestamp,
    ) -> Result<HttpRequest, ProviderError> {
        Err(not_supported(self.kind(), "task to poll"))
    }

    fn parse_poll(
        &self,
        _resp: &HttpResponse,
        _cfg: &ProviderConfig,
        _now: Timestamp,
    ) -> Result<PollOutcome, ProviderError> {
        Err(not_supported(self.kind(), "task to poll"))
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
