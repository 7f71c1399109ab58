//! Small helpers the adapters share: auth headers, duration rounding, outputs, callback routes.

use serde::Deserialize as _;
use serde::de::DeserializeOwned;

use super::adapter::VerifyContext;
use super::config::{ProviderConfig, Secret};
use super::errors::parse_json;
use super::signature::{CallbackRoute, SignatureError, parse_callback_url};
use super::{HttpRequest, Output, ProviderError, ProviderKind, url};
use crate::time::Timestamp;

/// Adds `Authorization: Bearer <key>`
pub(crate) fn bearer(req: HttpRequest, key: &Secret) -> HttpRequest {
    req.with_header("authorization", format!("Bearer {}", key.expose()))
}

/// The smallest allowed length that covers `duration_s` (the edit trims), or the longest when
/// none does; `allowed` is sorted ascending
pub(crate) fn pick_duration(duration_s: f64, allowed: &[u32]) -> u32 {
    allowed
        .iter()
        .copied()
        .find(|&d| f64::from(d) + 1e-9 >= duration_s)
        .or_else(|| allowed.last().copied())
        .unwrap_or(0)
}

/// An output to download
pub(crate) fn url_output(url: &str, content_type: &str, expires_at: Option<Timestamp>) -> Output {
    Output::Url {
        url: url.to_owned(),
        content_type: Some(content_type.to_owned()),
        expires_at,
    }
}

/// Parses a callback body
pub(crate) fn callback_body<T: DeserializeOwned>(req: &HttpRequest) -> Result<T, ProviderError> {
    parse_json(&req.body)
}

/// Verifies that `req` came to our callback URL for `kind`, with a valid, unexpired token
pub(crate) fn verify_route(
    req: &HttpRequest,
    kind: ProviderKind,
    ctx: &VerifyContext<'_>,
) -> Result<CallbackRoute, SignatureError> {
    let route = parse_callback_url(&req.url)?;
    if route.provider != kind {
        return Err(SignatureError::WrongProvider);
    }
    route.verify(ctx.callback_secret, ctx.now)?;
    Ok(route)
}

/// The provider's webhook secret, failing closed when none is configured
pub(crate) fn webhook_secret(cfg: &ProviderConfig) -> Result<&str, SignatureError> {
    cfg.webhook_secret
        .as_ref()
        .map(Secret::expose)
        .ok_or(SignatureError::MissingSecret)
}

/// The error of a poll or callback on a provider that has none
pub(crate) fn not_supported(kind: ProviderKind, what: &str) -> ProviderError {
    ProviderError::Rejected {
        reason: format!("{kind} has no {what}"),
    }
}

/// A GET of an output, with `auth` applied only when the URL lies under the provider's base
/// (credentials never go to a CDN or anyone else)
pub(crate) fn fetch_with_auth(
    output: &Output,
    cfg: &ProviderConfig,
    auth: impl FnOnce(HttpRequest) -> HttpRequest,
) -> Option<HttpRequest> {
    match output {
        Output::Url { url, .. } if url::is_under(url, &cfg.base_url) => {
            Some(auth(HttpRequest::get(url.clone())))
        }
        Output::Url { url, .. } => Some(HttpRequest::get(url.clone())),
        Output::Stored { .. } => None,
    }
}

/// Words providers use for content refusals in free-text failure reasons; used only where a
/// provider has no machine-readable code for it
pub(crate) fn mentions_moderation(text: &str) -> bool {
    let t = text.to_ascii_lowercase();
    [
        "moderat",
        "safety",
        "content policy",
        "nsfw",
        "sensitive",
        "risk control",
        "not allowed",
    ]
    .iter()
    .any(|w| t.contains(w))
}

/// For `#[serde(default, deserialize_with = "nullable")]`: providers send `null` where they
/// mean "none yet", and a plain `#[serde(default)]` refuses `null`
pub(crate) fn nullable<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}
