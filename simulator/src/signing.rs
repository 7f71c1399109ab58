//! Signatures as each provider makes them, written here independently of the core's verifiers
//! so that the two implementations check each other.
//!
//! - Standard Webhooks (OpenAI/Sora, Replicate): `v1,base64(HMAC-SHA256(secret, id.ts.body))`
//! - BFL: `sha256=hex(HMAC-SHA256(webhook_secret, body))`
//! - fal: ED25519 over `request_id\nuser_id\ntimestamp\nsha256hex(body)`, hex signature
//! - Kling: the caller's HS256 JWT is verified (iss = access key, exp not passed)

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ed25519_dalek::{Signer, SigningKey};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// The Standard Webhooks secret of Sora's project webhook (dev value from the contract)
pub const SORA_WEBHOOK_SECRET: &str = "whsec_c2ltLXNvcmEtd2ViaG9vay1zZWNyZXQtMDAwMDAwMDA=";
/// The Standard Webhooks secret of Replicate (dev value from the contract)
pub const REPLICATE_WEBHOOK_SECRET: &str = "whsec_c2ltLXJlcGxpY2F0ZS13ZWJob29rLXNlY3JldC0wMDA=";
/// The text whose SHA-256 is the seed of the simulator's fal ED25519 key pair
pub const FAL_KEY_SEED_TEXT: &str = "creatorstudio-sim-fal-ed25519";
/// The user id the simulator's fal webhooks carry
pub const FAL_USER_ID: &str = "sim-fal-user";
/// The key id of the simulator's fal key in its JWKS
pub const FAL_KEY_ID: &str = "sim-fal-ed25519-1";

/// Why a signature could not be made or a token was refused
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SignError {
    /// The Standard Webhooks secret is empty or not base64 after `whsec_`
    #[error("invalid webhook secret")]
    BadSecret,
    /// The JWT is not three base64url parts of JSON
    #[error("malformed token")]
    MalformedToken,
    /// The JWT header names another algorithm than HS256
    #[error("unsupported token algorithm")]
    Algorithm,
    /// The JWT signature does not match
    #[error("token signature mismatch")]
    Signature,
    /// The JWT `iss` is not the expected access key
    #[error("token issuer mismatch")]
    Issuer,
    /// The JWT has no `exp` or it has passed
    #[error("token expired")]
    Expired,
    /// The JWT `nbf` is in the future
    #[error("token not yet valid")]
    NotYetValid,
}

fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    // HMAC accepts keys of any length, so this cannot fail; an empty MAC would never verify.
    let Ok(mut mac) = HmacSha256::new_from_slice(key) else {
        return Vec::new();
    };
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().to_vec()
}

/// Decodes a `whsec_` secret to its key bytes
pub fn standard_webhooks_key(secret: &str) -> Result<Vec<u8>, SignError> {
    let b64 = secret.strip_prefix("whsec_").unwrap_or(secret);
    let key = STANDARD.decode(b64).map_err(|_| SignError::BadSecret)?;
    if key.is_empty() {
        return Err(SignError::BadSecret);
    }
    Ok(key)
}

/// Returns the `webhook-signature` value (`v1,<base64>`) for one Standard Webhooks message
pub fn standard_webhooks_sign(
    secret: &str,
    msg_id: &str,
    timestamp: u64,
    body: &[u8],
) -> Result<String, SignError> {
    let key = standard_webhooks_key(secret)?;
    let prefix = format!("{msg_id}.{timestamp}.");
    let mac = hmac_sha256(&key, &[prefix.as_bytes(), body]);
    Ok(format!("v1,{}", STANDARD.encode(mac)))
}

/// Returns the `X-BFL-Signature` value (`sha256=<hex>`) for a webhook body
pub fn bfl_sign(secret: &str, body: &[u8]) -> String {
    format!(
        "sha256={}",
        hex::encode(hmac_sha256(secret.as_bytes(), &[body]))
    )
}

/// Returns the simulator's fal signing key, derived from the contract's seed
pub fn fal_signing_key() -> SigningKey {
    let seed: [u8; 32] = Sha256::digest(FAL_KEY_SEED_TEXT.as_bytes()).into();
    SigningKey::from_bytes(&seed)
}

/// Returns the hex ED25519 signature of a fal webhook
pub fn fal_sign(key: &SigningKey, request_id: &str, timestamp: u64, body: &[u8]) -> String {
    let message = format!(
        "{request_id}\n{FAL_USER_ID}\n{timestamp}\n{}",
        hex::encode(Sha256::digest(body))
    );
    hex::encode(key.sign(message.as_bytes()).to_bytes())
}

/// Returns the JWKS document that publishes the fal verifying key
pub fn fal_jwks(key: &SigningKey) -> serde_json::Value {
    serde_json::json!({
        "keys": [{
            "kty": "OKP",
            "crv": "Ed25519",
            "alg": "EdDSA",
            "use": "sig",
            "kid": FAL_KEY_ID,
            "x": URL_SAFE_NO_PAD.encode(key.verifying_key().to_bytes()),
        }]
    })
}

/// Verifies a Kling HS256 JWT: signature with `secret`, `iss == access_key`, `exp > now`, `nbf <= now`
pub fn verify_kling_jwt(
    token: &str,
    access_key: &str,
    secret: &str,
    now_s: u64,
) -> Result<(), SignError> {
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(SignError::MalformedToken);
    };
    let decode_json = |part: &str| -> Result<serde_json::Value, SignError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(part.trim_end_matches('='))
            .map_err(|_| SignError::MalformedToken)?;
        serde_json::from_slice(&bytes).map_err(|_| SignError::MalformedToken)
    };
    let header = decode_json(h)?;
    if header.get("alg").and_then(|a| a.as_str()) != Some("HS256") {
        return Err(SignError::Algorithm);
    }
    let sig = URL_SAFE_NO_PAD
        .decode(s.trim_end_matches('='))
        .map_err(|_| SignError::MalformedToken)?;
    let mut mac =
        HmacSha256::new_from_slice(secret.as_bytes()).map_err(|_| SignError::Signature)?;
    mac.update(h.as_bytes());
    mac.update(b".");
    mac.update(p.as_bytes());
    mac.verify_slice(&sig).map_err(|_| SignError::Signature)?;
    let claims = decode_json(p)?;
    if claims.get("iss").and_then(|i| i.as_str()) != Some(access_key) {
        return Err(SignError::Issuer);
    }
    match claims.get("exp").and_then(serde_json::Value::as_u64) {
        Some(exp) if exp > now_s => {}
        _ => return Err(SignError::Expired),
    }
    if let Some(nbf) = claims.get("nbf").and_then(serde_json::Value::as_u64) {
        // A few seconds of skew, as JWT libraries allow
        if nbf > now_s + 5 {
            return Err(SignError::NotYetValid);
        }
    }
    Ok(())
}

/// Mints an HS256 JWT (used by tests and by the README's examples)
pub fn mint_hs256_jwt(claims: &serde_json::Value, secret: &str) -> String {
    let h = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let p = URL_SAFE_NO_PAD.encode(claims.to_string());
    let signing_input = format!("{h}.{p}");
    let sig = hmac_sha256(secret.as_bytes(), &[signing_input.as_bytes()]);
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(sig))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_webhooks_vectors() {
        let a = standard_webhooks_sign(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1_614_265_330,
            br#"{"test": 2432232314}"#,
        );
        assert_eq!(
            a.as_deref(),
            Ok("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
        );
        let b = standard_webhooks_sign(
            "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
            "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk",
            1_649_367_553,
            br#"{"email":"test@example.com","username":"test_user"}"#,
        );
        assert_eq!(
            b.as_deref(),
            Ok("v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=")
        );
        assert_eq!(
            standard_webhooks_sign("whsec_", "m", 1, b"{}"),
            Err(SignError::BadSecret)
        );
    }

    #[test]
    fn dev_secrets_decode() {
        assert_eq!(
            standard_webhooks_key(SORA_WEBHOOK_SECRET).ok().as_deref(),
            Some(&b"sim-sora-webhook-secret-00000000"[..])
        );
        assert!(standard_webhooks_key(REPLICATE_WEBHOOK_SECRET).is_ok());
    }

    #[test]
    fn kling_jwt_round_trip() {
        let now = 1_700_000_000;
        let ok = mint_hs256_jwt(
            &serde_json::json!({"iss": "ak", "exp": now + 1800, "nbf": now - 5}),
            "sk",
        );
        assert_eq!(verify_kling_jwt(&ok, "ak", "sk", now), Ok(()));
        assert_eq!(
            verify_kling_jwt(&ok, "ak", "other", now),
            Err(SignError::Signature)
        );
        assert_eq!(
            verify_kling_jwt(&ok, "bk", "sk", now),
            Err(SignError::Issuer)
        );
        assert_eq!(
            verify_kling_jwt(&ok, "ak", "sk", now + 1800),
            Err(SignError::Expired)
        );
        assert_eq!(
            verify_kling_jwt("a.b", "ak", "sk", now),
            Err(SignError::MalformedToken)
        );
    }
}
