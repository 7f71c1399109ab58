//! Signed media links for answers that are read again and again (a render's view, polled while
//! it runs): each link's expiry is rounded up to a whole window, so an artifact's link is the
//! same on every read within the window. It is signed once per window and isolate rather than
//! once per read (a poll of a 24-shot render signed about fifty links, a twentieth of the
//! runtime's CPU under fifty renders), and a client can cache the media by its URL.

use std::collections::HashMap;

use crate::api::media::{MediaKey, signed_url};
use crate::time::{Millis, Timestamp};

/// Expiries are whole multiples of this: a link lives between its lifetime and its lifetime plus
/// this window
pub const LINK_WINDOW: Millis = Millis::from_secs(600);

/// Links remembered at most; past it the memory starts again (a window's worth of a busy
/// isolate's artifacts fits)
pub const MAX_REMEMBERED: usize = 20_000;

/// The expiry of a link that must stay valid for at least `lifetime` from `now`: `now +
/// lifetime` rounded up to the next whole [`LINK_WINDOW`]
pub fn window_expiry(now: Timestamp, lifetime: Millis) -> Timestamp {
    let window = LINK_WINDOW.0;
    let at_least = now.plus(lifetime).0;
    Timestamp(at_least.div_ceil(window).saturating_mul(window))
}

/// Signs links under one base URL and key, remembering each link for its window
pub struct LinkSigner {
    base: String,
    secret: MediaKey,
    /// (expiry in seconds, key) -> the signed URL
    urls: HashMap<(u64, String), String>,
}

impl LinkSigner {
    /// A signer for links under `base` with `secret`
    pub fn new(base: String, secret: MediaKey) -> Self {
        Self {
            base,
            secret,
            urls: HashMap::new(),
        }
    }

    /// Whether this signer signs under `base` with `secret` (so an isolate keeps one per
    /// configuration)
    pub fn signs_for(&self, base: &str, secret: &MediaKey) -> bool {
        self.base == base && &self.secret == secret
    }

    /// The signed URL of `key`, valid for at least `lifetime` from `now`
    pub fn url(&mut self, key: &str, now: Timestamp, lifetime: Millis) -> String {
        let expires = window_expiry(now, lifetime);
        let slot = (expires.as_secs(), key.to_owned());
        if let Some(url) = self.urls.get(&slot) {
            return url.clone();
        }
        if self.urls.len() >= MAX_REMEMBERED {
            self.urls.clear();
        }
        let url = signed_url(&self.base, &self.secret, key, expires);
        self.urls.insert(slot, url.clone());
        url
    }

    /// How many links are remembered
    pub fn remembered(&self) -> usize {
        self.urls.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::media::verify;
    use crate::providers::Environment;

    fn secret(value: &str) -> MediaKey {
        MediaKey::new(Environment::Dev, "MEDIA_URL_SECRET", value).unwrap()
    }

    fn query(url: &str, name: &str) -> String {
        let (_, query) = url.split_once('?').unwrap();
        query
            .split('&')
            .find_map(|p| p.strip_prefix(&format!("{name}=")))
            .unwrap()
            .to_owned()
    }

    const KEY: &str = "renders/rnd_1/shot_01_keyframe/1/out.png";
    const HOUR: Millis = Millis::from_secs(3600);

    #[test]
    fn expiry_is_at_least_the_lifetime_and_at_most_one_window_more() {
        for now in [0, 1, 599_999, 600_000, 600_001, 1_796_095_237_658] {
            let now = Timestamp(now);
            let exp = window_expiry(now, HOUR);
            assert!(exp.0 >= now.0 + HOUR.0, "{now:?}");
            assert!(exp.0 < now.0 + HOUR.0 + LINK_WINDOW.0, "{now:?}");
            assert_eq!(exp.0 % LINK_WINDOW.0, 0);
        }
    }

    #[test]
    fn a_link_is_the_same_within_a_window_and_new_after_it() {
        let mut signer = LinkSigner::new("https://studio.test".into(), secret("media-secret"));
        // Just past a whole window: every read in the next 600 s gets the same expiry.
        let start = Timestamp(1_796_095_200_001);
        let first = signer.url(KEY, start, HOUR);
        assert_eq!(signer.url(KEY, start.plus(Millis(599_999)), HOUR), first);
        let next = signer.url(KEY, start.plus(LINK_WINDOW), HOUR);
        assert_ne!(next, first);
        assert_eq!(signer.remembered(), 2);
    }

    #[test]
    fn a_remembered_link_verifies_until_its_expiry() {
        let key = secret("media-secret");
        let mut signer = LinkSigner::new("https://studio.test/".into(), key.clone());
        let now = Timestamp(1_796_095_237_658);
        let url = signer.url(KEY, now, HOUR);
        assert!(url.starts_with(&format!("https://studio.test/v1/media/{KEY}?")));
        let exp: u64 = query(&url, "exp").parse().unwrap();
        let sig = query(&url, "sig");
        assert_eq!(verify(&key, KEY, exp, &sig, now.plus(HOUR)), Ok(()));
        let after = Timestamp::from_secs(exp + 1);
        assert!(verify(&key, KEY, exp, &sig, after).is_err());
        assert!(verify(&secret("another-secret"), KEY, exp, &sig, now).is_err());
    }

    #[test]
    fn memory_is_bounded() {
        let mut signer = LinkSigner::new("https://studio.test".into(), secret("media-secret"));
        let now = Timestamp(1_796_095_200_000);
        for n in 0..MAX_REMEMBERED + 10 {
            signer.url(&format!("renders/rnd_1/s{n}/1/out.png"), now, HOUR);
        }
        assert!(signer.remembered() <= MAX_REMEMBERED);
        assert!(signer.remembered() >= 10);
    }

    #[test]
    fn a_signer_knows_its_configuration() {
        let signer = LinkSigner::new("https://a.test".into(), secret("media-secret"));
        assert!(signer.signs_for("https://a.test", &secret("media-secret")));
        assert!(!signer.signs_for("https://b.test", &secret("media-secret")));
        assert!(!signer.signs_for("https://a.test", &secret("other-secret")));
    }
}
