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
//!   token authenticates them. A refused callback is retried only three times, 100 ms apart,
//!   so an outage of a second loses them all: a submit in doubt is therefore looked up, not
//!   awaited.
//! - Lookup: `GET {base}/dream-machine/v1/generations?limit=&offset=` lists generations as
//!   `{generations, count, has_more, limit, offset}`; each Generation carries the `request` it
//!   was made from, `callback_url` included (SDK `src/lumaai/types/generation_list_response.py`
//!   and `generation.py`, `api.md`: `get /generations`). Our callback path names the job, stage
//!   and attempt, so it identifies the submit; its query (token, expiry) is not compared.

use serde::Deserialize;
use serde_json::json;

use super::adapter::{
    Adapter, Callback, CallbackEvent, Delivery, LookedUp, PollOutcome, SubmitRequest, Submitted,
    VerifyContext,
};
use super::common::{
    bearer, callback_body, mentions_moderation, nullable, url_output, verify_route,
};
use super::config::ProviderConfig;
use super::errors::{expect_json, missing, never_moderation, unknown_status};
use super::signature::SignatureError;
use super::{HttpRequest, HttpResponse, ProviderError, ProviderKind, ProviderStatus, url};
use crate::ids::ProviderRef;
use crate::time::Timestamp;

/// The Luma adapter
#[derive(Debug, Clone, Copy, Default)]
pub struct Luma;

const GENERATIONS: &str = "/dream-machine/v1/generations";
/// Generations listed per lookup: a submit in doubt is looked up within minutes of being made
const LOOKUP_PAGE: u32 = 100;

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

/// `GET /generations`: the newest first
#[derive(Deserialize)]
struct GenerationList {
    generations: Vec<Listed>,
    #[serde(default)]
    has_more: bool,
}

/// A listed Generation: its own fields plus the request it was made from
#[derive(Deserialize)]
struct Listed {
    #[serde(flatten)]
    generation: Generation,
    #[serde(default, deserialize_with = "nullable")]
    request: ListedRequest,
}

#[derive(Deserialize, Default)]
struct ListedRequest {
    callback_url: Option<String>,
}

/// A callback URL without its query: `{base}/cb/luma/{job}/{stage}/{attempt}` names one submit
fn without_query(url: &str) -> &str {
    url.split_once('?').map_or(url, |(path, _)| path)
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

    fn build_lookup(
        &self,
        req: &SubmitRequest,
        _since: Timestamp,
        cfg: &ProviderConfig,
    ) -> Option<HttpRequest> {
        // Without a callback URL nothing in a listed request names our submit.
        req.callback_url.as_ref()?;
        let path = format!("{GENERATIONS}?limit={LOOKUP_PAGE}&offset=0");
        Some(bearer(
            HttpRequest::get(url::join(&cfg.base_url, &path)),
            &cfg.api_key,
        ))
    }

    fn parse_lookup(
        &self,
        req: &SubmitRequest,
        _since: Timestamp,
        resp: &HttpResponse,
        _cfg: &ProviderConfig,
    ) -> Result<LookedUp, ProviderError> {
        let list: GenerationList = expect_json(resp, never_moderation)?;
        let Some(ours) = req.callback_url.as_deref().map(without_query) else {
            return Ok(LookedUp::NotFound);
        };
        let found = list.generations.into_iter().find(|g| {
            g.request
                .callback_url
                .as_deref()
                .is_some_and(|u| without_query(u) == ours)
        });
        match found {
            Some(Listed { generation, .. }) => {
                let id = generation
                    .id
                    .clone()
                    .filter(|i| !i.is_empty())
                    .ok_or_else(|| missing("generations[].id"))?;
                Ok(LookedUp::Found {
                    provider_ref: ProviderRef(id),
                    status: status_of(generation)?,
                })
            }
            // A full page of newer generations may hide ours on the next: the search could not
            // tell, so the job asks again later rather than submitting a second task now.
            None if list.has_more => Err(ProviderError::Malformed {
                reason: format!(
                    "luma: no match among the newest {LOOKUP_PAGE} generations, and more exist"
                ),
            }),
            None => Ok(LookedUp::NotFound),
        }
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
