//! Black Forest Labs webhooks: `X-BFL-Signature: sha256=<hex HMAC-SHA256(webhook_secret, body)>`.
//!
//! Source: BFL's own skills repo (`black-forest-labs/skills:skills/bfl-api/references/
//! webhook-integration.md`), not the API reference. There is no timestamp in the MAC, so a
//! captured delivery can be replayed: our callback URL token's expiry bounds that window.

use hmac::Mac;

use super::{SignatureError, header, hmac};

/// The signature header
pub const SIGNATURE_HEADER: &str = "x-bfl-signature";

/// `sha256=<hex>` of a body
pub fn sign(secret: &str, body: &[u8]) -> Result<String, SignatureError> {
    let mut mac = hmac(secret.as_bytes())?;
    mac.update(body);
    Ok(format!(
        "sha256={}",
        hex::encode(mac.finalize().into_bytes())
    ))
}

/// Verifies the signature header against the raw body
pub fn verify(
    headers: &[(String, String)],
    body: &[u8],
    secret: &str,
) -> Result<(), SignatureError> {
    let value = header(headers, SIGNATURE_HEADER).ok_or(SignatureError::MissingHeader {
        name: SIGNATURE_HEADER,
    })?;
    let sig = value
        .trim()
        .strip_prefix("sha256=")
        .and_then(|h| hex::decode(h).ok())
        .ok_or(SignatureError::MalformedHeader {
            name: SIGNATURE_HEADER,
        })?;
    let mut mac = hmac(secret.as_bytes())?;
    mac.update(body);
    mac.verify_slice(&sig).map_err(|_| SignatureError::Mismatch)
}
