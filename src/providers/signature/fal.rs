//! fal webhooks: ED25519 over `{request_id}\n{user_id}\n{timestamp}\n{hex(sha256(body))}`,
//! signature hex in `X-Fal-Webhook-Signature`, verified against any key of fal's JWKS
//! (<https://docs.fal.ai/model-apis/model-endpoints/webhooks>, "Verifying Your Webhook"; the
//! real set is at `https://rest.alpha.fal.ai/.well-known/jwks.json`). Timestamps more than
//! ±300 s off are refused. The shell fetches and caches the JWKS (up to 24 h) and passes it in.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::{Signature, Signer as _, SigningKey, Verifier as _, VerifyingKey};
use serde::Deserialize;
use sha2::{Digest as _, Sha256};

use super::{SignatureError, check_tolerance, header};
use crate::time::Timestamp;

/// Seconds a timestamp may be off from now
pub const TOLERANCE_SECS: u64 = 5 * 60;

/// The request id header (also in the body)
pub const REQUEST_ID_HEADER: &str = "x-fal-webhook-request-id";
/// The user id header
pub const USER_ID_HEADER: &str = "x-fal-webhook-user-id";
/// The Unix seconds header
pub const TIMESTAMP_HEADER: &str = "x-fal-webhook-timestamp";
/// The hex signature header
pub const SIGNATURE_HEADER: &str = "x-fal-webhook-signature";

/// fal's public keys
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Jwks {
    keys: Vec<VerifyingKey>,
}

#[derive(Deserialize)]
struct JwksJson {
    keys: Vec<JwkJson>,
}

#[derive(Deserialize)]
struct JwkJson {
    #[serde(default)]
    kty: Option<String>,
    #[serde(default)]
    crv: Option<String>,
    #[serde(default)]
    x: Option<String>,
}

impl Jwks {
    /// Parses `{"keys":[{"kty":"OKP","crv":"Ed25519","x":"<base64url>"}]}`; `x` may be padded
    /// (one report says the live set pads it). Keys of other types are skipped; a set without a
    /// usable key is an error, so verification can never pass vacuously.
    pub fn from_json(body: &[u8]) -> Result<Self, SignatureError> {
        let parsed: JwksJson =
            crate::json_bytes::from_bytes(body).map_err(|e| SignatureError::InvalidKeySet {
                reason: e.to_string(),
            })?;
        let keys: Vec<VerifyingKey> = parsed
            .keys
            .into_iter()
            .filter(|k| k.kty.as_deref().is_none_or(|t| t == "OKP"))
            .filter(|k| k.crv.as_deref().is_none_or(|c| c == "Ed25519"))
            .filter_map(|k| {
                let raw = URL_SAFE_NO_PAD.decode(k.x?.trim_end_matches('=')).ok()?;
                VerifyingKey::from_bytes(&raw.try_into().ok()?).ok()
            })
            .collect();
        if keys.is_empty() {
            return Err(SignatureError::InvalidKeySet {
                reason: "no ed25519 key".into(),
            });
        }
        Ok(Self { keys })
    }

    /// A set of the given keys
    pub fn from_keys(keys: Vec<VerifyingKey>) -> Self {
        Self { keys }
    }

    /// The JWKS JSON of these keys (what the simulator serves)
    pub fn to_json(&self) -> serde_json::Value {
        let keys: Vec<_> = self
            .keys
            .iter()
            .map(|k| {
                serde_json::json!({
                    "kty": "OKP", "crv": "Ed25519", "x": URL_SAFE_NO_PAD.encode(k.as_bytes()),
                })
            })
            .collect();
        serde_json::json!({ "keys": keys })
    }
}

/// The signed message
pub fn message(request_id: &str, user_id: &str, timestamp: &str, body: &[u8]) -> String {
    let digest = hex::encode(Sha256::digest(body));
    format!("{request_id}\n{user_id}\n{timestamp}\n{digest}")
}

/// The hex signature fal would send
pub fn sign(
    key: &SigningKey,
    request_id: &str,
    user_id: &str,
    timestamp_secs: u64,
    body: &[u8],
) -> String {
    let msg = message(request_id, user_id, &timestamp_secs.to_string(), body);
    hex::encode(key.sign(msg.as_bytes()).to_bytes())
}

/// Verifies the four headers against the raw body at `now`
pub fn verify(
    headers: &[(String, String)],
    body: &[u8],
    jwks: &Jwks,
    now: Timestamp,
) -> Result<(), SignatureError> {
    let get =
        |name: &'static str| header(headers, name).ok_or(SignatureError::MissingHeader { name });
    let request_id = get(REQUEST_ID_HEADER)?;
    let user_id = get(USER_ID_HEADER)?;
    let timestamp = get(TIMESTAMP_HEADER)?.trim();
    let signature = get(SIGNATURE_HEADER)?;
    let secs = timestamp
        .parse::<u64>()
        .map_err(|_| SignatureError::MalformedHeader {
            name: TIMESTAMP_HEADER,
        })?;
    check_tolerance(secs, now, TOLERANCE_SECS)?;
    let signature = hex::decode(signature.trim())
        .ok()
        .and_then(|raw| <[u8; 64]>::try_from(raw).ok())
        .map(|raw| Signature::from_bytes(&raw))
        .ok_or(SignatureError::MalformedHeader {
            name: SIGNATURE_HEADER,
        })?;
    let msg = message(request_id, user_id, timestamp, body);
    if jwks
        .keys
        .iter()
        .any(|k| k.verify(msg.as_bytes(), &signature).is_ok())
    {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}
