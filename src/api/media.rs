//! Signed, expiring URLs for artifacts in R2.
//!
//! Providers fetch keyframes (image-to-video) and reference images, the assembler fetches clips
//! through these URLs, and apps download masters and variants the same way, so the bucket never
//! has to be public. The signature is an HMAC-SHA256 over the key and the expiry, keyed with a
//! [`MediaKey`], which can only be made from a secret the environment accepts (never empty,
//! never a dev value outside dev: see [`crate::api::secrets`]).
//!
//! R2 keys: render artifacts are `renders/{job}/{stage}/{attempt}/{name}`
//! ([`crate::job::artifact_key`]); what a creator brings (reference images of their memory
//! graph's looks) lives under their own prefix, `creators/{creator}/...` ([`creator_prefix`]),
//! so a key names its owner and a creator can only point at their own uploads.

use std::fmt;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::api::auth::constant_time_eq;
use crate::api::secrets::{self, SecretError};
use crate::ids::CreatorId;
use crate::providers::Environment;
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

/// The key of media URL signatures; `Debug` never prints it
#[derive(Clone, PartialEq, Eq)]
pub struct MediaKey(Vec<u8>);

impl MediaKey {
    /// The key from the setting `name`, when the environment accepts it
    /// ([`secrets::check_signing_key`]): so no URL is ever signed or verified with an empty key,
    /// nor outside dev with a public dev one
    pub fn new(env: Environment, name: &str, value: &str) -> Result<Self, SecretError> {
        secrets::check_signing_key(env, name, value)?;
        Ok(Self(value.as_bytes().to_vec()))
    }
}

impl fmt::Debug for MediaKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MediaKey(..)")
    }
}

fn signature(secret: &MediaKey, key: &str, expires: Timestamp) -> String {
    // new_from_slice accepts any key length for HMAC, so this cannot fail; fall back to an
    // empty signature (which never verifies) rather than panicking.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&secret.0) else {
        return String::new();
    };
    mac.update(key.as_bytes());
    mac.update(b"\n");
    mac.update(expires.as_secs().to_string().as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// The longest creator key we accept, bytes
pub const MAX_CREATOR_KEY_LEN: usize = 512;

/// `creators/{creator}/`: where a creator's own media lives; `None` for a creator id that could
/// not be a single key segment (then no key is theirs)
pub fn creator_prefix(creator: &CreatorId) -> Option<String> {
    let id = creator.as_str();
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    ok.then(|| format!("creators/{id}/"))
}

/// Whether a key is a well-formed creator key: `creators/{id}/` and at least one more segment,
/// only ASCII letters, digits, `.`, `-`, `_` between the slashes, no empty, `.` or `..`
/// segment. Percent signs, backslashes, `?`, `#` and anything non-ASCII are refused outright, so
/// no decoding, normalisation or URL parsing can turn the key into another one.
fn creator_key_shape(key: &str) -> Option<&str> {
    if key.len() > MAX_CREATOR_KEY_LEN {
        return None;
    }
    let rest = key.strip_prefix("creators/")?;
    let mut segments = rest.split('/');
    let owner = segments.next()?;
    let mut count = 0;
    for seg in segments {
        let ok = !seg.is_empty()
            && seg != "."
            && seg != ".."
            && seg
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'));
        if !ok {
            return None;
        }
        count += 1;
    }
    (count > 0).then_some(owner)
}

/// Whether `key` is media of `creator`: a well-formed key under [`creator_prefix`]
pub fn creator_owns_key(creator: &CreatorId, key: &str) -> bool {
    match (creator_prefix(creator), creator_key_shape(key)) {
        (Some(prefix), Some(owner)) => key.starts_with(&prefix) && owner == creator.as_str(),
        (None, _) | (_, None) => false,
    }
}

/// Whether a key may be served: render artifacts (no `..` or empty segments) and well-formed
/// creator keys
pub fn servable_key(key: &str) -> bool {
    let artifact = key.starts_with("renders/")
        && key
            .split('/')
            .all(|seg| !seg.is_empty() && seg != "." && seg != "..");
    artifact || creator_key_shape(key).is_some_and(|owner| creator_prefix(&owner.into()).is_some())
}

/// `{base}/v1/media/{key}?exp={secs}&sig={hex}`
pub fn signed_url(base: &str, secret: &MediaKey, key: &str, expires: Timestamp) -> String {
    format!(
        "{}/v1/media/{key}?exp={}&sig={}",
        base.trim_end_matches('/'),
        expires.as_secs(),
        signature(secret, key, expires)
    )
}

/// Checks a media request's key, expiry and signature
pub fn verify(
    secret: &MediaKey,
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

    fn secret() -> MediaKey {
        MediaKey::new(Environment::Dev, "MEDIA_URL_SECRET", "media-secret").unwrap()
    }

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
            &secret(),
            "renders/j/s01.keyframe/1/out.png",
            Timestamp(10_000_000),
        );
        let (key, exp, sig) = parts(&url);
        assert_eq!(
            verify(&secret(), &key, exp, &sig, Timestamp(9_000_000)),
            Ok(())
        );
        assert_eq!(
            verify(&secret(), &key, exp, &sig, Timestamp(10_001_000)),
            Err(MediaUrlError::Expired)
        );
    }

    #[test]
    fn tampering_is_refused() {
        let url = signed_url(
            "http://w",
            &secret(),
            "renders/j/a/1/x.mp4",
            Timestamp(10_000_000),
        );
        let (key, exp, sig) = parts(&url);
        let now = Timestamp(1);
        assert_eq!(
            verify(&secret(), "renders/j/b/1/x.mp4", exp, &sig, now),
            Err(MediaUrlError::BadSignature)
        );
        assert_eq!(
            verify(&secret(), &key, exp + 1, &sig, now),
            Err(MediaUrlError::BadSignature)
        );
        assert_eq!(
            verify(
                &MediaKey::new(Environment::Dev, "K", "other").unwrap(),
                &key,
                exp,
                &sig,
                now
            ),
            Err(MediaUrlError::BadSignature)
        );
        assert_eq!(
            verify(&secret(), "renders/../x", exp, &sig, now),
            Err(MediaUrlError::ForbiddenKey)
        );
        assert_eq!(
            verify(&secret(), "secrets/x", exp, &sig, now),
            Err(MediaUrlError::ForbiddenKey)
        );
    }

    #[test]
    fn no_key_is_made_from_an_empty_or_outside_dev_a_dev_secret() {
        use crate::providers::config::DEV_CALLBACK_SECRET;
        for env in [Environment::Dev, Environment::Production] {
            assert!(matches!(
                MediaKey::new(env, "MEDIA_URL_SECRET", ""),
                Err(SecretError::Empty { .. })
            ));
        }
        assert!(matches!(
            MediaKey::new(
                Environment::Production,
                "MEDIA_URL_SECRET",
                DEV_CALLBACK_SECRET
            ),
            Err(SecretError::DevValue { .. })
        ));
        assert!(MediaKey::new(Environment::Dev, "MEDIA_URL_SECRET", DEV_CALLBACK_SECRET).is_ok());
        let real = "Zq4v8N1c7XkP0aLr3TgY6hJm2WsB9dEf";
        assert!(MediaKey::new(Environment::Production, "MEDIA_URL_SECRET", real).is_ok());
        assert_eq!(
            format!(
                "{:?}",
                MediaKey::new(Environment::Production, "M", real).unwrap()
            ),
            "MediaKey(..)"
        );
    }

    #[test]
    fn a_creator_owns_only_well_formed_keys_under_their_prefix() {
        let demo = CreatorId::from("demo");
        assert_eq!(creator_prefix(&demo).as_deref(), Some("creators/demo/"));
        assert!(creator_owns_key(&demo, "creators/demo/looks/keeper-1.png"));
        assert!(creator_owns_key(&demo, "creators/demo/x.png"));
        for foreign in [
            "creators/rival/looks/keeper.png",
            "creators/demo2/x.png",
            "creators/dem/x.png",
            "renders/rnd_1/s01.keyframe/1/out.png",
            "looks/keeper.png",
            "/creators/demo/x.png",
            "creators/demo/",
            "creators/demo",
            "creators/demo/../rival/x.png",
            "creators/demo/./x.png",
            "creators/demo//x.png",
            "creators/demo/%2e%2e/rival/x.png",
            "creators/demo/..%2frival/x.png",
            "creators/demo/a\\..\\b.png",
            "creators/demo/x.png?sig=1",
            "creators/demo/x.png#f",
            "creators/demo/caf\u{e9}.png",
            "creators/demo/x y.png",
            "Creators/demo/x.png",
        ] {
            assert!(!creator_owns_key(&demo, foreign), "{foreign}");
        }
        let long = format!("creators/demo/{}.png", "a".repeat(MAX_CREATOR_KEY_LEN));
        assert!(!creator_owns_key(&demo, &long));
        // A creator id that cannot be one segment owns nothing, not even its own prefix's keys.
        let odd = CreatorId::from("a/b");
        assert_eq!(creator_prefix(&odd), None);
        assert!(!creator_owns_key(&odd, "creators/a/b/x.png"));
    }

    #[test]
    fn creator_keys_are_servable_and_tricks_are_not() {
        assert!(servable_key("creators/demo/looks/keeper.png"));
        assert!(servable_key("renders/j/s01.keyframe/1/out.png"));
        assert!(!servable_key("creators/demo/../../secrets/x"));
        assert!(!servable_key("creators/demo/%2e%2e/x"));
        assert!(!servable_key("creators//x.png"));
        assert!(!servable_key("creators/demo"));
        assert!(!servable_key("uploads/x.png"));
    }
}
