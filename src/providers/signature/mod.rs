//! Authenticity of incoming callbacks: the providers' signature schemes and our own URL token
//! for providers that sign nothing.
//!
//! | scheme | providers | module |
//! |---|---|---|
//! | Standard Webhooks v1 (HMAC-SHA256 over `id.timestamp.body`, ±5 min) | Sora, Replicate | [`standard`] |
//! | `X-BFL-Signature: sha256=<hex>` (HMAC-SHA256 over the body) | BFL | [`bfl`] |
//! | ED25519 over `request_id\nuser_id\ntimestamp\nsha256hex(body)`, JWKS keys, ±5 min | fal | [`fal`] |
//! | `ElevenLabs-Signature: t=..,v0=<hex>` (HMAC-SHA256 over `t.body`, 30 min) | ElevenLabs | [`elevenlabs`] |
//! | our HMAC token in the callback URL, with expiry | Kling, Luma, Seedance, Hailuo, assembler (and every per-request URL) | [`token`] |
//!
//! Every comparison of a MAC is constant-time (`Mac::verify_slice`). Replays of one delivery are
//! the job machine's business; the adapters hand it the delivery id.

pub mod bfl;
pub mod elevenlabs;
pub mod fal;
pub mod standard;
pub mod token;

pub use fal::Jwks;
pub use token::{
    CallbackRoute, callback_token, callback_url, parse_callback_url, verify_callback_token,
};

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::time::Timestamp;

/// HMAC-SHA256
pub(crate) type HmacSha256 = Hmac<Sha256>;

/// Why a callback is not accepted as authentic; the route answers 401 and logs the variant
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// A header the scheme requires is absent
    #[error("missing header {name}")]
    MissingHeader {
        /// Header name
        name: &'static str,
    },
    /// A header is present but not in the scheme's format
    #[error("malformed header {name}")]
    MalformedHeader {
        /// Header name
        name: &'static str,
    },
    /// No secret is configured to verify with (fail closed)
    #[error("no webhook secret configured")]
    MissingSecret,
    /// The configured secret is empty or not valid base64 (`whsec_...`)
    #[error("invalid webhook secret")]
    InvalidSecret,
    /// fal's key set was not supplied
    #[error("no fal key set supplied")]
    MissingKeySet,
    /// The key set holds no usable Ed25519 key
    #[error("invalid key set: {reason}")]
    InvalidKeySet {
        /// What was wrong
        reason: String,
    },
    /// The signed timestamp is too old or too far in the future
    #[error("timestamp {timestamp} outside tolerance at {now}")]
    StaleTimestamp {
        /// The signed timestamp, seconds
        timestamp: u64,
        /// Now, seconds
        now: u64,
    },
    /// No signature matches
    #[error("signature mismatch")]
    Mismatch,
    /// Our callback token's expiry has passed
    #[error("callback token expired")]
    Expired,
    /// The URL is not one of our callback URLs, or lacks its token
    #[error("not a callback url: {reason}")]
    BadCallbackUrl {
        /// What was wrong
        reason: String,
    },
    /// The callback URL names another provider than the adapter verifying it
    #[error("callback url is for another provider")]
    WrongProvider,
    /// This provider never calls back (poll-only or synchronous)
    #[error("provider sends no callbacks")]
    Unsupported,
}

/// Rejects `timestamp_secs` more than `tolerance_secs` away from `now`, either way
pub(crate) fn check_tolerance(
    timestamp_secs: u64,
    now: Timestamp,
    tolerance_secs: u64,
) -> Result<(), SignatureError> {
    let now_secs = now.as_secs();
    if now_secs.abs_diff(timestamp_secs) > tolerance_secs {
        Err(SignatureError::StaleTimestamp {
            timestamp: timestamp_secs,
            now: now_secs,
        })
    } else {
        Ok(())
    }
}

/// A keyed HMAC-SHA256; HMAC takes keys of any length, so this only fails on an empty key
pub(crate) fn hmac(key: &[u8]) -> Result<HmacSha256, SignatureError> {
    if key.is_empty() {
        return Err(SignatureError::InvalidSecret);
    }
    HmacSha256::new_from_slice(key).map_err(|_| SignatureError::InvalidSecret)
}

/// The first value of a header, case-insensitively
pub(crate) fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}
