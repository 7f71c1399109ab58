//! Standard Webhooks, symmetric `v1` scheme (<https://www.standardwebhooks.com>, spec in
//! `standard-webhooks/standard-webhooks:spec/standard-webhooks.md`), used by OpenAI and Replicate.
//!
//! The signed content is `{webhook-id}.{webhook-timestamp}.{raw body}`; the key is the base64
//! after `whsec_`; `webhook-signature` is a space-separated list of `v1,<base64>` so secrets can
//! rotate, and one match suffices. The spec names no tolerance; every reference library uses
//! ±300 s, and so do we.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use hmac::Mac;

use super::{HmacSha256, SignatureError, check_tolerance, header, hmac};
use crate::time::Timestamp;

/// Seconds a timestamp may be off from now, either way
pub const TOLERANCE_SECS: u64 = 5 * 60;

/// Header carrying the delivery id (stable across retries)
pub const ID_HEADER: &str = "webhook-id";
/// Header carrying Unix seconds
pub const TIMESTAMP_HEADER: &str = "webhook-timestamp";
/// Header carrying the signatures
pub const SIGNATURE_HEADER: &str = "webhook-signature";

/// A verifier and signer keyed with one `whsec_` secret
#[derive(Clone)]
pub struct StandardWebhooks {
    mac: HmacSha256,
}

impl std::fmt::Debug for StandardWebhooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StandardWebhooks(..)")
    }
}

impl StandardWebhooks {
    /// Keys a verifier with `whsec_<base64>` (the prefix is optional, padding too); an empty or
    /// undecodable secret is [`SignatureError::InvalidSecret`]
    pub fn new(secret: &str) -> Result<Self, SignatureError> {
        let b64 = secret
            .strip_prefix("whsec_")
            .unwrap_or(secret)
            .trim_end_matches('=');
        let key = STANDARD_NO_PAD
            .decode(b64)
            .map_err(|_| SignatureError::InvalidSecret)?;
        Ok(Self { mac: hmac(&key)? })
    }

    fn mac_of(&self, msg_id: &str, timestamp_secs: u64, body: &[u8]) -> HmacSha256 {
        let mut mac = self.mac.clone();
        mac.update(msg_id.as_bytes());
        mac.update(b".");
        mac.update(timestamp_secs.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        mac
    }

    /// The `v1,<base64>` signature of a message (what the `webhook-signature` header carries)
    pub fn sign(&self, msg_id: &str, timestamp_secs: u64, body: &[u8]) -> String {
        let tag = self
            .mac_of(msg_id, timestamp_secs, body)
            .finalize()
            .into_bytes();
        format!("v1,{}", STANDARD.encode(tag))
    }

    /// Verifies the three headers against the raw body at `now`
    pub fn verify(
        &self,
        headers: &[(String, String)],
        body: &[u8],
        now: Timestamp,
    ) -> Result<(), SignatureError> {
        let msg_id =
            header(headers, ID_HEADER).ok_or(SignatureError::MissingHeader { name: ID_HEADER })?;
        let timestamp = header(headers, TIMESTAMP_HEADER)
            .ok_or(SignatureError::MissingHeader {
                name: TIMESTAMP_HEADER,
            })?
            .trim()
            .parse::<u64>()
            .map_err(|_| SignatureError::MalformedHeader {
                name: TIMESTAMP_HEADER,
            })?;
        let signatures =
            header(headers, SIGNATURE_HEADER).ok_or(SignatureError::MissingHeader {
                name: SIGNATURE_HEADER,
            })?;
        check_tolerance(timestamp, now, TOLERANCE_SECS)?;

        let expected = self.mac_of(msg_id, timestamp, body);
        let matched = signatures
            .split(' ')
            .filter_map(|entry| entry.split_once(','))
            .filter(|(version, _)| *version == "v1")
            .filter_map(|(_, sig)| STANDARD.decode(sig).ok())
            .any(|sig| expected.clone().verify_slice(&sig).is_ok());
        if matched {
            Ok(())
        } else {
            Err(SignatureError::Mismatch)
        }
    }
}
