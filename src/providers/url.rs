//! The few URL operations the adapters need, without a URL crate: percent-encoding of one
//! component, reading one query parameter, and the same-origin test that decides whether a
//! provider's credentials may be sent to a URL.

/// Percent-encodes everything but RFC 3986 unreserved characters, so the result is safe as a path
/// segment or a query value (a whole callback URL inside fal's `?fal_webhook=`)
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(hex_digit(b >> 4));
            out.push(hex_digit(b & 0x0f));
        }
    }
    out
}

fn hex_digit(n: u8) -> char {
    char::from(if n < 10 { b'0' + n } else { b'A' + n - 10 })
}

/// Decodes `%XX` escapes (and `+` as a space, as forms do); `None` on a broken escape or bytes
/// that are not UTF-8
pub fn decode(s: &str) -> Option<String> {
    let mut out = Vec::with_capacity(s.len());
    let mut bytes = s.bytes();
    while let Some(b) = bytes.next() {
        match b {
            b'%' => {
                let hi = char::from(bytes.next()?).to_digit(16)?;
                let lo = char::from(bytes.next()?).to_digit(16)?;
                out.push(u8::try_from(hi * 16 + lo).ok()?);
            }
            b'+' => out.push(b' '),
            _ => out.push(b),
        }
    }
    String::from_utf8(out).ok()
}

/// The decoded value of the first query parameter `name`
pub fn query_param(url: &str, name: &str) -> Option<String> {
    let (_, query) = url.split_once('?')?;
    let query = query.split('#').next().unwrap_or_default();
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (decode(k).as_deref() == Some(name))
            .then(|| decode(v))
            .flatten()
    })
}

/// The path of an absolute URL (or the input itself when it is already a path), without query
pub fn path(url: &str) -> &str {
    let without_query = url.split(['?', '#']).next().unwrap_or_default();
    match without_query.split_once("://") {
        Some((_, rest)) => rest.find('/').and_then(|i| rest.get(i..)).unwrap_or("/"),
        None => without_query,
    }
}

/// Whether `url` lies under `base` (same scheme, host and port, and a path below it): provider
/// credentials are only ever attached to such URLs, never to a CDN or a third party
pub fn is_under(url: &str, base: &str) -> bool {
    let base = base.trim_end_matches('/');
    url.strip_prefix(base)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with(['/', '?']))
}

/// The host of an absolute URL, lower-cased, without port
pub fn host(url: &str) -> Option<String> {
    let (_, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host = authority.rsplit('@').next()?.split(':').next()?;
    Some(host.to_ascii_lowercase())
}

/// `base` (without trailing slash) followed by `path_and_query` (which starts with `/`)
pub fn join(base: &str, path_and_query: &str) -> String {
    format!("{}{path_and_query}", base.trim_end_matches('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_decode_round_trip() {
        let s = "https://x.test/v1/cb?exp=1&token=a b/ü";
        assert_eq!(decode(&encode(s)).as_deref(), Some(s));
        assert_eq!(encode("s04.keyframe"), "s04.keyframe");
        assert_eq!(decode("%zz"), None);
    }

    #[test]
    fn query_and_path() {
        let u = "https://a.test/v1/get?id=abc%2F1&x=2#f";
        assert_eq!(query_param(u, "id").as_deref(), Some("abc/1"));
        assert_eq!(query_param(u, "x").as_deref(), Some("2"));
        assert_eq!(query_param(u, "y"), None);
        assert_eq!(path(u), "/v1/get");
        assert_eq!(path("/v1/a?b"), "/v1/a");
        assert_eq!(
            host("https://u:p@API.bfl.ai:443/x").as_deref(),
            Some("api.bfl.ai")
        );
    }

    #[test]
    fn is_under_requires_a_path_boundary() {
        assert!(is_under("https://api.x.test/v1/a", "https://api.x.test"));
        assert!(is_under(
            "http://sim:8788/sora/v1/videos/1/content",
            "http://sim:8788/sora/"
        ));
        assert!(!is_under(
            "https://api.x.test.evil.com/v1",
            "https://api.x.test"
        ));
        assert!(!is_under(
            "http://sim:8788/soraX/v1",
            "http://sim:8788/sora"
        ));
    }
}
