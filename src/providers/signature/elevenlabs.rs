//! ElevenLabs webhooks: `ElevenLabs-Signature: t=<unix>,v0=<hex HMAC-SHA256(secret, "t.body")>`,
//! rejected when `t` is more than 30 minutes off (official SDK
//! `elevenlabs/elevenlabs-python:src/elevenlabs/webhooks_custom.py`, which checks only age; we
//! also refuse the far future).

use hmac::Mac;

use super::{HmacSha256, SignatureError, check_tolerance, header, hmac};
use crate::time::Timestamp;

/// The signature header
pub const SIGNATURE_HEADER: &str = "elevenlabs-signature";

/// Seconds a timestamp may be off from now
pub const TOLERANCE_SECS: u64 = 30 * 60;

fn mac_of(secret: &str, timestamp_secs: u64, body: &[u8]) -> Result<HmacSha256, SignatureError> {
    let mut mac = hmac(secret.as_bytes())?;
    mac.update(timestamp_secs.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    Ok(mac)
}

/// The header value `t=..,v0=..` for a body
pub fn sign(secret: &str, timestamp_secs: u64, body: &[u8]) -> Result<String, SignatureError> {
    let tag = mac_of(secret, timestamp_secs, body)?
        .finalize()
        .into_bytes();
    Ok(format!("t={timestamp_secs},v0={}", hex::encode(tag)))
}

/// Verifies the header against the raw body at `now`
pub fn verify(
    headers: &[(String, String)],
    body: &[u8],
    secret: &str,
    now: Timestamp,
) -> Result<(), SignatureError> {
    let value = header(headers, SIGNATURE_HEADER).ok_or(SignatureError::MissingHeader {
        name: SIGNATURE_HEADER,
    })?;
    let malformed = SignatureError::MalformedHeader {
        name: SIGNATURE_HEADER,
    };
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in value.split(',') {
        match part.trim().split_once('=') {
            Some(("t", t)) => timestamp = Some(t.parse::<u64>().map_err(|_| malformed.clone())?),
            Some(("v0", sig)) => signatures.push(sig),
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(malformed)?;
    check_tolerance(timestamp, now, TOLERANCE_SECS)?;
    let expected = mac_of(secret, timestamp, body)?;
    let matched = signatures
        .into_iter()
        .filter_map(|sig| hex::decode(sig).ok())
        .any(|sig| expected.clone().verify_slice(&sig).is_ok());
    if matched {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}
