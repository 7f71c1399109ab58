//! Signed, expiring URLs for artifacts in R2.
//!
//! Providers fetch keyframes (image-to-video) and the assembler fetches clips through these
//! URLs, and apps download masters and variants the same way, so the bucket never has to be
//! public. The signature is an HMAC-SHA256 over the key and the expiry.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::api::auth::constant_time_eq;
use crate::time::Timestamp;

/// Why a media URL was refused
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MediaUrlError {
    /// The expiry has passed
    #[error("media url expired")]
    Expired,
    /// The signature does not match the key and expiry
    #[error("media url signature is invalid")]
    BadSignature,
    /// The key is not one of ours (path traversal, foreign prefix)
    #[error("media key is not servable")]
    ForbiddenKey,
}

fn signature(secret: &[u8], key: &str, expires: Timestamp) -> String {
    // new_from_slice accepts any key length for HMAC, so this cannot fail; fall back to an
    // empty signature (which never verifies) rather than panicking.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
        return String::new();
    };
    mac.update(key.as_bytes());
    mac.update(b"\n");
    mac.update(expires.as_secs().to_string().as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Whether a key may be served: only render artifacts, no `..` or empty segments
pub fn servable_key(key: &str) -> bool {
    key.starts_with("renders/")
        && key
            .split('/')
            .all(|seg| !seg.is_empty() && seg != "." && seg != "..")
}

/// `{base}/v1/media/{key}?exp={secs}&sig={hex}`
pub fn signed_url(base: &str, secret: &[u8], key: &str, expires: Timestamp) -> String {
    format!(
        "{}/v1/media/{key}?exp={}&sig={}",
        base.trim_end_matches('/'),
        expires.as_secs(),
        signature(secret, key, expires)
    )
}

/// Checks a media request's key, expiry and signature
pub fn verify(
    secret: &[u8],
    key: &str,
    exp_secs: u64,
    sig: &str,
    now: Timestamp,
) -> Result<(), MediaUrlError> {
    if !servable_key(key) {
        return Err(MediaUrlError::ForbiddenKey);
    }
    let expires = Timestamp::from_secs(exp_secs);
    if now > expires {
        return Err(MediaUrlError::Expired);
    }
    let expected = signature(secret, key, expires);
    if constant_time_eq(expected.as_bytes(), sig.as_bytes()) {
        Ok(())
    } else {
        Err(MediaUrlError::BadSignature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"media-secret";

    fn parts(url: &str) -> (String, u64, String) {
        let (path, query) = url.split_once('?').unwrap_or((url, ""));
        let key = path
            .split_once("/v1/media/")
            .map(|(_, k)| k.to_owned())
            .unwrap_or_default();
        let mut exp = 0;
        let mut sig = String::new();
        for pair in query.split('&') {
            match pair.split_once('=') {
                Some(("exp", v)) => exp = v.parse().unwrap_or(0),
                Some(("sig", v)) => sig = v.to_owned(),
                _ => {}
            }
        }
        (key, exp, sig)
    }

    #[test]
    fn a_signed_url_verifies_until_it_expires() {
        let url = signed_url(
            "http://w",
            SECRET,
            "renders/j/s01.keyframe/1/out.png",
            Timestamp(10_000_000),
        );
        let (key, exp, sig) = parts(&url);
        assert_eq!(
            verify(SECRET, &key, exp, &sig, Timestamp(9_000_000)),
            Ok(())
        );
        assert_eq!(
            verify(SECRET, &key, exp, &sig, Timestamp(10_001_000)),
            Err(MediaUrlError::Expired)
        );
    }

    #[test]
    fn tampering_is_refused() {
        let url = signed_url(
            "http://w",
            SECRET,
            "renders/j/a/1/x.mp4",
            Timestamp(10_000_000),
        );
        let (key, exp, sig) = parts(&url);
        let now = Timestamp(1);
        assert_eq!(
            verify(SECRET, "renders/j/b/1/x.mp4", exp, &sig, now),
            Err(MediaUrlError::BadSignature)
        );
        assert_eq!(
            verify(SECRET, &key, exp + 1, &sig, now),
            Err(MediaUrlError::BadSignature)
        );
        assert_eq!(
            verify(b"other", &key, exp, &sig, now),
            Err(MediaUrlError::BadSignature)
        );
        assert_eq!(
            verify(SECRET, "renders/../x", exp, &sig, now),
            Err(MediaUrlError::ForbiddenKey)
        );
        assert_eq!(
            verify(SECRET, "secrets/x", exp, &sig, now),
            Err(MediaUrlError::ForbiddenKey)
        );
    }
}
