//! Sessions of the support page (`/support`): a support key is exchanged once for a short-lived
//! session cookie, so the key never lives in the page.
//!
//! - The cookie is `HttpOnly` (scripts cannot read it), `Secure`, `SameSite=Strict` (a cross-site
//!   request does not carry it) and `Path=/`; D1 keeps only the SHA-256 of its token, so a read of
//!   the table cannot be replayed as a session.
//! - Every request that changes something and rides on the cookie must also carry the session's
//!   CSRF token in `X-CSRF-Token` (which a cross-site form cannot set) and, when the browser sends
//!   one, an `Origin` equal to the Worker's own. `SameSite=Strict` alone would do in today's
//!   browsers; the token covers older ones and same-site subdomains.
//! - A session dies with its key: lookups join the key's row and refuse a revoked key.
//! - A bearer key always wins over a cookie, so API clients are unaffected.

use crate::api::auth::constant_time_eq;
use crate::api::{ApiError, Role};
use crate::time::{Millis, Timestamp};

/// The cookie's name
pub const SESSION_COOKIE: &str = "cs_support";
/// The header that carries the CSRF token on unsafe requests
pub const CSRF_HEADER: &str = "x-csrf-token";
/// How long a session lasts: a working hour, then the key is asked for again
pub const SESSION_LIFETIME: Millis = Millis::from_secs(3600);
/// Random bytes in a session token and in a CSRF token (256 bits each)
pub const TOKEN_BYTES: usize = 32;
/// Largest sign-in body read: `{"key": "..."}` with room for a long key
pub const MAX_SIGN_IN_BODY: usize = 1024;

/// `Set-Cookie` for a new session of `lifetime`
pub fn session_cookie(token: &str, lifetime: Millis) -> String {
    format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age={}",
        lifetime.0 / 1000
    )
}

/// `Set-Cookie` that removes the session cookie (sign-out)
pub fn cleared_cookie() -> String {
    format!("{SESSION_COOKIE}=; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=0")
}

/// The session token in a `Cookie` header, if any (the first of our name that is not empty)
pub fn session_token(cookie_header: Option<&str>) -> Option<&str> {
    cookie_header?
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, value)| *name == SESSION_COOKIE && !value.is_empty())
        .map(|(_, value)| value)
        // Tokens are hex; anything else is not ours and is not looked up.
        .filter(|v| v.len() == TOKEN_BYTES * 2 && v.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Who may sign in: support keys only. An app key (a creator's) gets 403: the page shows every
/// creator's renders
pub fn may_sign_in(role: Role) -> Result<(), ApiError> {
    match role {
        Role::Support | Role::SupportAdmin => Ok(()),
        Role::App => Err(ApiError::Forbidden(
            "app keys cannot sign in to the support page; use a support key".into(),
        )),
    }
}

/// Whether a request method changes something (and so needs the CSRF checks)
pub fn is_unsafe(method: &str) -> bool {
    !matches!(method, "GET" | "HEAD" | "OPTIONS")
}

/// The checks of a cookie-borne unsafe request: the session's CSRF token in the header, and an
/// `Origin` (when sent) equal to the request URL's own
pub fn check_csrf(
    expected: &str,
    header: Option<&str>,
    origin: Option<&str>,
    own_origin: &str,
) -> Result<(), ApiError> {
    let token = header.map(str::trim).unwrap_or("");
    if token.is_empty() || !constant_time_eq(token.as_bytes(), expected.as_bytes()) {
        return Err(ApiError::Forbidden(
            "missing or wrong X-CSRF-Token: a signed-in page sends its session's token".into(),
        ));
    }
    match origin {
        Some(o) if o != own_origin => Err(ApiError::Forbidden(format!(
            "cross-origin request from {o} refused"
        ))),
        Some(_) | None => Ok(()),
    }
}

/// Whether a session that expires at `expires_at` is still valid at `now`
pub fn is_live(now: Timestamp, expires_at: Timestamp) -> bool {
    now < expires_at
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

    #[test]
    fn the_cookie_is_http_only_secure_and_strict() {
        let c = session_cookie(TOKEN, SESSION_LIFETIME);
        for part in [
            "HttpOnly",
            "Secure",
            "SameSite=Strict",
            "Path=/",
            "Max-Age=3600",
        ] {
            assert!(c.contains(part), "{c} lacks {part}");
        }
        assert!(cleared_cookie().contains("Max-Age=0"));
    }

    #[test]
    fn the_token_is_found_among_other_cookies_and_nothing_else_passes() {
        let header = format!("theme=dark; {SESSION_COOKIE}={TOKEN}; x=1");
        assert_eq!(session_token(Some(&header)), Some(TOKEN));
        assert_eq!(session_token(Some("cs_support=")), None);
        assert_eq!(session_token(Some("cs_support=short")), None);
        assert_eq!(session_token(Some("other=00112233")), None);
        let not_hex = format!("{SESSION_COOKIE}={}", "z".repeat(64));
        assert_eq!(session_token(Some(&not_hex)), None);
        assert_eq!(session_token(None), None);
    }

    #[test]
    fn app_keys_cannot_sign_in() {
        assert!(may_sign_in(Role::Support).is_ok());
        assert!(may_sign_in(Role::SupportAdmin).is_ok());
        assert!(matches!(
            may_sign_in(Role::App),
            Err(ApiError::Forbidden(_))
        ));
    }

    #[test]
    fn unsafe_requests_need_the_token_and_the_own_origin() {
        let own = "https://render.example.com";
        assert!(check_csrf("abc", Some("abc"), Some(own), own).is_ok());
        assert!(check_csrf("abc", Some("abc"), None, own).is_ok());
        assert!(check_csrf("abc", None, Some(own), own).is_err());
        assert!(check_csrf("abc", Some("abd"), Some(own), own).is_err());
        assert!(check_csrf("abc", Some(""), Some(own), own).is_err());
        assert!(check_csrf("abc", Some("abc"), Some("https://evil.example"), own).is_err());
        assert!(is_unsafe("POST") && is_unsafe("DELETE") && !is_unsafe("GET"));
    }

    #[test]
    fn sessions_expire() {
        assert!(is_live(Timestamp(1), Timestamp(2)));
        assert!(!is_live(Timestamp(2), Timestamp(2)));
    }
}
