//! Our assembler service (`assembler/` in this repository): a timeline in, a master, per-platform
//! variants, a poster and WebVTT captions out. Its wire format is ours; `docs/assembler.md` is
//! the full contract. In short:
//!
//! ```text
//! POST {base}/v1/assemblies        Bearer <ASSEMBLER_API_KEY>, Idempotency-Key: <key>
//!   {"timeline": <plan::Timeline with a signed "url" beside every "key">, "callback_url": "..."}
//! -> 202 {"id": "asm_...", "status": "queued"}
//! GET {base}/v1/assemblies/{id}    (the same object is POSTed to callback_url when it ends)
//! -> 200 {"id", "status": "queued" | "running" | "succeeded" | "failed",
//!         "error": {"code", "message"},                                        (failed)
//!         "outputs": {"master": {url, content_type}, "variants": [{aspect, url, content_type}],
//!                     "poster": {url, content_type}, "captions": {url, content_type} | null}}
//! DELETE {base}/v1/assemblies/{id} cancels (best effort)
//! ```
//!
//! The body is the planner's timeline ([`crate::plan::Timeline`], serialised into
//! [`SubmitRequest::timeline`]) under `timeline`, plus `callback_url`, so the timeline type is the
//! one source of truth for its fields. Outputs come back master first, then the variants in the
//! timeline's `variants` order, then the poster and the captions; the job names them by type. A
//! failed assembly is retryable: its inputs are already in R2. Output URLs under the assembler's
//! base get its credentials. Callbacks are unsigned; our URL token authenticates them.

use serde::Deserialize;
use serde_json::{Value, json};

use super::adapter::{
    Adapter, Callback, CallbackEvent, Delivery, PollOutcome, SubmitRequest, Submitted,
    VerifyContext,
};
use super::common::{bearer, callback_body, fetch_with_auth, nullable, url_output, verify_route};
use super::config::ProviderConfig;
use super::errors::{expect_json, missing, never_moderation, unknown_status};
use super::signature::SignatureError;
use super::{
    HttpRequest, HttpResponse, Method, Output, ProviderError, ProviderKind, ProviderStatus, url,
};
use crate::ids::ProviderRef;
use crate::time::Timestamp;

/// The assembler adapter
#[derive(Debug, Clone, Copy, Default)]
pub struct Assembler;

const ASSEMBLIES: &str = "/v1/assemblies";

#[derive(Deserialize)]
struct Assembly {
    id: Option<String>,
    status: Option<String>,
    #[serde(default)]
    error: Option<AssemblyError>,
    outputs: Option<Outputs>,
}

/// Older assemblers answered a bare string; ours answers `{code, message}`
#[derive(Deserialize)]
#[serde(untagged)]
enum AssemblyError {
    Text(String),
    Coded {
        #[serde(default, deserialize_with = "nullable")]
        code: String,
        #[serde(default, deserialize_with = "nullable")]
        message: String,
    },
}

impl AssemblyError {
    fn reason(self) -> String {
        match self {
            Self::Text(text) => text,
            Self::Coded { code, message } if message.is_empty() => code,
            Self::Coded { message, .. } => message,
        }
    }
}

#[derive(Deserialize)]
struct Outputs {
    master: File,
    #[serde(default, deserialize_with = "nullable")]
    variants: Vec<File>,
    #[serde(default)]
    poster: Option<File>,
    #[serde(default)]
    captions: Option<File>,
}

#[derive(Deserialize)]
struct File {
    url: String,
    #[serde(default, deserialize_with = "nullable")]
    content_type: String,
}

fn status_of(assembly: Assembly) -> Result<ProviderStatus, ProviderError> {
    let status = assembly.status.ok_or_else(|| missing("status"))?;
    Ok(match status.as_str() {
        "queued" => ProviderStatus::Queued,
        "running" => ProviderStatus::Running,
        "succeeded" => {
            let outputs = assembly.outputs.ok_or_else(|| missing("outputs"))?;
            let typed = |f: File, default: &str| {
                let ct = if f.content_type.is_empty() {
                    default.to_owned()
                } else {
                    f.content_type
                };
                url_output(&f.url, &ct, None)
            };
            let mut files: Vec<Output> = std::iter::once(outputs.master)
                .chain(outputs.variants)
                .map(|f| typed(f, "video/mp4"))
                .collect();
            files.extend(outputs.poster.map(|f| typed(f, "image/jpeg")));
            files.extend(outputs.captions.map(|f| typed(f, "text/vtt")));
            let outputs = files;
            ProviderStatus::Succeeded { outputs }
        }
        "failed" => ProviderStatus::Failed {
            reason: assembly
                .error
                .map(AssemblyError::reason)
                .filter(|r| !r.is_empty())
                .unwrap_or_else(|| "the assembly failed".into()),
            retryable: true,
        },
        other => return Err(unknown_status("assembler", other)),
    })
}

impl Adapter for Assembler {
    fn kind(&self) -> ProviderKind {
        ProviderKind::Assembler
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
        let timeline = match &req.timeline {
            Some(Value::Object(timeline)) => Value::Object(timeline.clone()),
            _ => {
                return Err(ProviderError::Rejected {
                    reason: "the assembler needs a timeline object".into(),
                });
            }
        };
        let body = json!({ "timeline": timeline, "callback_url": req.callback_url });
        let request = HttpRequest::post_json(url::join(&cfg.base_url, ASSEMBLIES), &body)
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
        let assembly: Assembly = expect_json(resp, never_moderation)?;
        let id = assembly
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
        let path = format!("{ASSEMBLIES}/{}", url::encode(provider_ref.as_str()));
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
        let path = format!("{ASSEMBLIES}/{}", url::encode(provider_ref.as_str()));
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
        _now: Timestamp,
    ) -> Result<PollOutcome, ProviderError> {
        let assembly: Assembly = expect_json(resp, never_moderation)?;
        Ok(PollOutcome::Status {
            status: status_of(assembly)?,
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
        let assembly: Assembly = callback_body(req)?;
        let provider_ref = assembly.id.clone().map(ProviderRef);
        let status = status_of(assembly)?;
        Ok(Callback {
            provider_ref,
            delivery_id: None,
            event: CallbackEvent::Status { status },
        })
    }

    fn build_output_fetch(&self, output: &Output, cfg: &ProviderConfig) -> Option<HttpRequest> {
        fetch_with_auth(output, cfg, |r| bearer(r, &cfg.api_key))
    }
}
