//! The JSON Schema patterns of a brief's text fields, each the exact rule its validator enforces
//! (`validate.rs`), so that `/openapi.json` is never looser (nor stricter) than the server.
//!
//! Patterns are written in the subset ECMA-262, Python's `re` and Rust's `regex`/`fancy-regex`
//! read alike: the document's readers include generated clients and property-based testers.
//! End of input is `(?![\s\S])`, not `$`, because in Python `$` also matches before a final
//! newline, which the validators refuse.

/// The characters `str::trim` removes (Unicode `White_Space`), as a class body
macro_rules! white_space {
    () => {
        r"\t\n\x0B\x0C\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000"
    };
}

/// Not blank: at least one character `str::trim` keeps (`non_blank`)
pub const NON_BLANK: &str = concat!("[^", white_space!(), "]");

/// An id: letters, digits, `_` and `-` only, at least one (`safe_id`)
pub const SAFE_ID: &str = r"^[A-Za-z0-9_-]+(?![\s\S])";

/// An https URL to a public DNS name (`api::webhook_url::check_webhook_url`): lowercase
/// `https://`, a name of two or more labels whose last starts with a letter (so never an IPv4
/// address in any spelling), not a local-only suffix (`.localhost`, `.internal`, `.local`,
/// `.localdomain`, `.home.arpa`), an optional port from 1 to 65535, then no whitespace, control
/// characters or backslashes. Stricter than the server in two ways the document cannot be
/// looser than: IP literals (public ones are accepted) and upper case in the host; loopback over
/// http is accepted only by a dev deployment
pub const WEBHOOK_URL: &str = concat!(
    r"^https://",
    r"(?![^/?#]*\.(?:localhost|internal|local|localdomain|home\.arpa)\.?(?:[:/?#]|(?![\s\S])))",
    r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?\.?",
    r"(?::(?:[1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]))?",
    r"(?:[/?#][^\\\x00-\x1F\x7F-\x9F",
    white_space!(),
    r"]*)?(?![\s\S])"
);
