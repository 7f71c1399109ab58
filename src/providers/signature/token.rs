//! Our own callback URLs, for providers that sign nothing (Kling, Luma, Seedance, Hailuo, the
//! assembler) and as a second factor for every per-request webhook URL:
//!
//! ```text
//! {public_base}/v1/callbacks/{provider}/{job}/{stage}/{attempt}?exp={unix s}&token={token}
//! token = base64url(HMAC-SHA256(CALLBACK_SECRET,
//!                               "v2\n{provider}\n{job}\n{stage}\n{attempt}\n{exp}"))
//! ```
//!
//! The token binds the URL to one provider and one attempt of one stage and expires, so a leaked
//! URL is good for nothing else and not forever; the path gives the route everything it needs to
//! find the job. Binding the provider matters because the route picks the adapter (and so the
//! signature scheme) from the provider segment: a leaked fal or BFL URL rewritten to
//! `/v1/callbacks/kling/...` would otherwise pass with the token alone, skipping the provider's
//! own signature. Ids never contain a newline (they are path segments) and provider names are
//! fixed words, so the signed message is unambiguous. (`v1` tokens, which did not name the
//! provider, no longer verify.)

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::Mac;

use super::{HmacSha256, SignatureError, hmac};
use crate::ids::{Attempt, JobId, StageId};
use crate::providers::ProviderKind;
use crate::providers::config::Secret;
use crate::providers::url;
use crate::time::{Millis, Timestamp};

/// The route prefix
pub const CALLBACK_PATH: &str = "/v1/callbacks/";

/// A token lifetime that outlasts generation and the providers' webhook retries (fal retries for
/// 2 h, Standard Webhooks senders for a day)
pub const DEFAULT_TOKEN_TTL: Millis = Millis::from_secs(48 * 3600);

fn mac_of(
    secret: &Secret,
    provider: ProviderKind,
    job: &JobId,
    stage: &StageId,
    attempt: Attempt,
    expires_at: Timestamp,
) -> Result<HmacSha256, SignatureError> {
    let mut mac = hmac(secret.expose().as_bytes())?;
    let msg = format!(
        "v2\n{provider}\n{job}\n{stage}\n{attempt}\n{}",
        expires_at.as_secs()
    );
    mac.update(msg.as_bytes());
    Ok(mac)
}

/// The URL-safe token of one attempt's callback URL for `provider`; `expires_at` counts in whole
/// seconds. An empty secret yields an empty token, which never verifies.
pub fn callback_token(
    secret: &Secret,
    provider: ProviderKind,
    job: &JobId,
    stage: &StageId,
    attempt: Attempt,
    expires_at: Timestamp,
) -> String {
    mac_of(secret, provider, job, stage, attempt, expires_at)
        .map(|mac| URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
        .unwrap_or_default()
}

/// Checks a token in constant time (for the provider the URL names), then its expiry against
/// `now`
#[allow(clippy::too_many_arguments)]
pub fn verify_callback_token(
    secret: &Secret,
    provider: ProviderKind,
    job: &JobId,
    stage: &StageId,
    attempt: Attempt,
    expires_at: Timestamp,
    token: &str,
    now: Timestamp,
) -> Result<(), SignatureError> {
    let given = URL_SAFE_NO_PAD
        .decode(token)
        .map_err(|_| SignatureError::Mismatch)?;
    mac_of(secret, provider, job, stage, attempt, expires_at)?
        .verify_slice(&given)
        .map_err(|_| SignatureError::Mismatch)?;
    if now > Timestamp::from_secs(expires_at.as_secs()) {
        return Err(SignatureError::Expired);
    }
    Ok(())
}

/// Our callback URL for one attempt
pub fn callback_url(
    public_base: &str,
    provider: ProviderKind,
    job: &JobId,
    stage: &StageId,
    attempt: Attempt,
    expires_at: Timestamp,
    secret: &Secret,
) -> String {
    let token = callback_token(secret, provider, job, stage, attempt, expires_at);
    format!(
        "{}{CALLBACK_PATH}{}/{}/{}/{attempt}?exp={}&token={token}",
        public_base.trim_end_matches('/'),
        provider.as_str(),
        url::encode(job.as_str()),
        url::encode(stage.as_str()),
        expires_at.as_secs(),
    )
}

/// What a callback URL names
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallbackRoute {
    /// The provider segment
    pub provider: ProviderKind,
    /// The job, whose Durable Object takes the callback
    pub job: JobId,
    /// The stage
    pub stage: StageId,
    /// The attempt, which fences stale callbacks
    pub attempt: Attempt,
    /// When the token expires (whole seconds)
    pub expires_at: Timestamp,
    /// The token
    pub token: String,
}

impl CallbackRoute {
    /// Verifies the route's token at `now`; the token must have been minted for the route's
    /// provider
    pub fn verify(&self, secret: &Secret, now: Timestamp) -> Result<(), SignatureError> {
        let Self {
            provider,
            job,
            stage,
            attempt,
            expires_at,
            token,
        } = self;
        verify_callback_token(
            secret,
            *provider,
            job,
            stage,
            *attempt,
            *expires_at,
            token,
            now,
        )
    }
}

fn bad(reason: &str) -> SignatureError {
    SignatureError::BadCallbackUrl {
        reason: reason.to_owned(),
    }
}

/// Parses a callback URL (absolute, or path and query) back into its route; does not verify
pub fn parse_callback_url(callback_url: &str) -> Result<CallbackRoute, SignatureError> {
    let path = url::path(callback_url);
    let rest = path
        .strip_prefix(CALLBACK_PATH)
        .ok_or_else(|| bad("path is not /v1/callbacks/"))?;
    let segments: Vec<&str> = rest.trim_end_matches('/').split('/').collect();
    let [provider, job, stage, attempt] = segments.as_slice() else {
        return Err(bad(
            "expected /v1/callbacks/{provider}/{job}/{stage}/{attempt}",
        ));
    };
    let provider = ProviderKind::parse(provider).ok_or_else(|| bad("unknown provider"))?;
    let job = url::decode(job)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| bad("bad job"))?;
    let stage = url::decode(stage)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| bad("bad stage"))?;
    let attempt = attempt.parse::<u32>().map_err(|_| bad("bad attempt"))?;
    let exp = url::query_param(callback_url, "exp")
        .and_then(|e| e.parse::<u64>().ok())
        .ok_or_else(|| bad("missing exp"))?;
    let token = url::query_param(callback_url, "token").ok_or_else(|| bad("missing token"))?;
    Ok(CallbackRoute {
        provider,
        job: JobId(job),
        stage: StageId(stage),
        attempt: Attempt(attempt),
        expires_at: Timestamp::from_secs(exp),
        token,
    })
}
