//! The headers of the support page (`/support/`, static assets served through the Worker).
//!
//! The page shows any creator's renders and acts on them, so it is locked down: scripts, styles
//! and connections from its own origin only (no inline script or style, no `eval`), media only
//! from the Worker's signed media URLs, no framing, no referrer, no caching of the shell.

/// `Content-Security-Policy` of every page asset
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self' data: blob:; media-src 'self'; connect-src 'self'; \
     form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Every security header the page's responses carry
pub const SECURITY_HEADERS: &[(&str, &str)] = &[
    ("content-security-policy", CONTENT_SECURITY_POLICY),
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("referrer-policy", "no-referrer"),
    ("cross-origin-opener-policy", "same-origin"),
    (
        "permissions-policy",
        "camera=(), microphone=(), geolocation=()",
    ),
    // Small files; revalidated on every load so a deploy is seen at once.
    ("cache-control", "no-cache"),
];
