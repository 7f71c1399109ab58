//! Where an app's status webhooks may go.
//!
//! The Worker POSTs to `webhook_url` from inside Cloudflare's network, so the URL must not be a
//! way to reach what only we can reach (SSRF): it must be `https`, and its host must not be a
//! private, loopback, link-local, CGNAT, multicast, reserved or cloud metadata address, however
//! it is spelt. Browsers and the runtime's URL parser (WHATWG) read `http://2130706433/`,
//! `http://0x7f.1/`, `http://0177.0.0.1/` and `http://[::ffff:7f00:1]/` all as 127.0.0.1, so
//! IPv4 is parsed here the same way (decimal, hex and octal parts, one to four of them) and an
//! IPv6 literal is checked together with the IPv4 address it embeds (mapped, compatible, NAT64,
//! 6to4). Hostnames are plain ASCII letters, digits and hyphens (no percent-encoding, no
//! Unicode that IDNA could fold into digits), and names that mean "this machine" or the cloud
//! metadata service are refused by name. In dev, loopback is allowed (over http too) so a local
//! receiver can listen. A name that resolves to a private address is beyond a pure check: the
//! runtime's `fetch` from a Worker cannot reach private networks anyway.

use std::net::{Ipv4Addr, Ipv6Addr};

/// Why a webhook URL is refused (the message names the rule; the field is `webhook_url`)
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookUrlError {
    /// Not `https://` (or `http://` to loopback in dev)
    #[error("must be an https:// URL")]
    NotHttps,
    /// Credentials, backslashes, whitespace or control characters in the URL
    #[error("must not contain credentials, backslashes, spaces or control characters")]
    Malformed,
    /// No host, or a host that is neither a plain name nor an IP literal
    #[error("must name a host by a plain DNS name or an IP address")]
    BadHost,
    /// A port that is not a number from 1 to 65535
    #[error("has an invalid port")]
    BadPort,
    /// A private, loopback, link-local, CGNAT, reserved or metadata address or name
    #[error("must be a public address: {0} is not reachable from the internet")]
    NotPublic(String),
}

/// What the deployment allows
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WebhookUrlPolicy {
    /// `ENVIRONMENT=dev`: loopback receivers (also over plain http) are allowed
    pub allow_loopback: bool,
}

/// The host of a URL, as this check understands it
#[derive(Debug, Clone, PartialEq, Eq)]
enum Host {
    V4(Ipv4Addr),
    V6(Ipv6Addr),
    Name(String),
}

/// Checks a status webhook URL against the rules above
pub fn check_webhook_url(url: &str, policy: WebhookUrlPolicy) -> Result<(), WebhookUrlError> {
    if url
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || c == '\\')
    {
        return Err(WebhookUrlError::Malformed);
    }
    let (scheme, rest) = url.split_once("://").ok_or(WebhookUrlError::NotHttps)?;
    let https = match scheme.to_ascii_lowercase().as_str() {
        "https" => true,
        "http" => false,
        _ => return Err(WebhookUrlError::NotHttps),
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.contains('@') {
        return Err(WebhookUrlError::Malformed);
    }
    let host = parse_host(authority)?;
    let loopback = is_loopback(&host);
    if loopback && policy.allow_loopback {
        return Ok(());
    }
    if !https {
        return Err(WebhookUrlError::NotHttps);
    }
    match &host {
        Host::V4(ip) if !public_v4(*ip) => Err(WebhookUrlError::NotPublic(ip.to_string())),
        Host::V6(ip) if !public_v6(*ip) => Err(WebhookUrlError::NotPublic(format!("[{ip}]"))),
        Host::Name(name) if !public_name(name) => Err(WebhookUrlError::NotPublic(name.clone())),
        Host::V4(_) | Host::V6(_) | Host::Name(_) => Ok(()),
    }
}

/// Splits `host[:port]` or `[v6][:port]` and reads the host
fn parse_host(authority: &str) -> Result<Host, WebhookUrlError> {
    let (host, port) = if let Some(bracketed) = authority.strip_prefix('[') {
        let (v6, after) = bracketed.split_once(']').ok_or(WebhookUrlError::BadHost)?;
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':').ok_or(WebhookUrlError::BadHost)?),
        };
        // Zone ids (`%25eth0`) only mean something on this machine's links.
        let ip = v6
            .parse::<Ipv6Addr>()
            .map_err(|_| WebhookUrlError::BadHost)?;
        (Host::V6(ip), port)
    } else {
        let (name, port) = match authority.split_once(':') {
            Some((name, port)) => (name, Some(port)),
            None => (authority, None),
        };
        (parse_name_or_v4(name)?, port)
    };
    if let Some(port) = port {
        // An empty port means the scheme's default, as in `https://host:/`.
        if !port.is_empty()
            && (port.len() > 5
                || !port.bytes().all(|b| b.is_ascii_digit())
                || !port.parse::<u32>().is_ok_and(|p| (1..=65535).contains(&p)))
        {
            return Err(WebhookUrlError::BadPort);
        }
    }
    Ok(host)
}

/// A host that is not bracketed: an IPv4 address in any form WHATWG accepts, or a DNS name
fn parse_name_or_v4(host: &str) -> Result<Host, WebhookUrlError> {
    let lower = host.to_ascii_lowercase();
    let trimmed = lower.strip_suffix('.').unwrap_or(&lower);
    if trimmed.is_empty() {
        return Err(WebhookUrlError::BadHost);
    }
    let labels: Vec<&str> = trimmed.split('.').collect();
    // WHATWG: a host whose last label is a number is an IPv4 address, or invalid.
    if labels.last().is_some_and(|l| looks_numeric(l)) {
        return parse_v4(&labels)
            .map(Host::V4)
            .ok_or(WebhookUrlError::BadHost);
    }
    let plain = labels.iter().all(|l| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    });
    if plain && trimmed.len() <= 253 {
        Ok(Host::Name(trimmed.to_owned()))
    } else {
        Err(WebhookUrlError::BadHost)
    }
}

/// Whether a label is a number in WHATWG's sense (decimal digits, or `0x` and hex digits)
fn looks_numeric(label: &str) -> bool {
    if let Some(hex) = label.strip_prefix("0x") {
        return hex.bytes().all(|b| b.is_ascii_hexdigit());
    }
    !label.is_empty() && label.bytes().all(|b| b.is_ascii_digit())
}

/// One part of an IPv4 address: `0x` hex, leading-zero octal, or decimal
fn v4_part(part: &str) -> Option<u64> {
    if part.is_empty() {
        return None;
    }
    let (digits, radix) = if let Some(hex) = part.strip_prefix("0x") {
        (hex, 16)
    } else if part.len() > 1 && part.starts_with('0') {
        (part.get(1..)?, 8)
    } else {
        (part, 10)
    };
    if digits.is_empty() {
        // `0x` alone is zero in WHATWG's parser.
        return Some(0);
    }
    // Longer than any valid part: refuse instead of overflowing.
    if digits.len() > 32 {
        return None;
    }
    u64::from_str_radix(digits, radix).ok()
}

/// WHATWG's IPv4 parser: one to four parts, all but the last at most 255, the last filling the
/// remaining bytes
fn parse_v4(labels: &[&str]) -> Option<Ipv4Addr> {
    if labels.is_empty() || labels.len() > 4 {
        return None;
    }
    let parts: Vec<u64> = labels.iter().map(|l| v4_part(l)).collect::<Option<_>>()?;
    let (last, head) = parts.split_last()?;
    if head.iter().any(|p| *p > 255) {
        return None;
    }
    let rest_bits = 8 * (4 - head.len() as u32);
    if *last >= 1u64 << rest_bits {
        return None;
    }
    let mut value: u64 = *last;
    for (i, p) in head.iter().enumerate() {
        value |= p << (8 * (3 - i as u32));
    }
    u32::try_from(value).ok().map(Ipv4Addr::from)
}

fn is_loopback(host: &Host) -> bool {
    match host {
        Host::V4(ip) => ip.is_loopback(),
        Host::V6(ip) => ip.is_loopback() || embedded_v4(*ip).is_some_and(|v4| v4.is_loopback()),
        Host::Name(name) => name == "localhost" || name.ends_with(".localhost"),
    }
}

/// Whether an IPv4 address is on the public internet (none of the special-purpose blocks of
/// RFC 6890 and its successors that a receiver could legitimately sit behind)
fn public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    let private = a == 0                                // "this network"
        || a == 10                                      // private
        || (a == 100 && (64..128).contains(&b))         // CGNAT (Alibaba's metadata is here)
        || a == 127                                     // loopback
        || (a == 169 && b == 254)                       // link-local, cloud metadata
        || (a == 172 && (16..32).contains(&b))          // private
        || (a == 192 && b == 0 && c == 0)               // IETF protocol assignments
        || (a == 192 && b == 0 && c == 2)               // documentation
        || (a == 192 && b == 88 && c == 99)             // 6to4 relay anycast
        || (a == 192 && b == 168)                       // private
        || (a == 198 && (18..20).contains(&b))          // benchmarking
        || (a == 198 && b == 51 && c == 100)            // documentation
        || (a == 203 && b == 0 && c == 113)             // documentation
        || a >= 224; // multicast, reserved, broadcast
    !private
}

/// The IPv4 address an IPv6 address carries, where it routes to that IPv4 address
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let low = Ipv4Addr::new(
        (s[6] >> 8) as u8,
        (s[6] & 0xff) as u8,
        (s[7] >> 8) as u8,
        (s[7] & 0xff) as u8,
    );
    match s {
        // ::ffff:a.b.c.d (mapped) and ::a.b.c.d (compatible, deprecated)
        [0, 0, 0, 0, 0, 0xffff, _, _] | [0, 0, 0, 0, 0, 0, _, _] => Some(low),
        // 64:ff9b::a.b.c.d (NAT64) and 64:ff9b:1::/48 (local NAT64)
        [0x64, 0xff9b, 0, 0, 0, 0, _, _] => Some(low),
        // 2002:aabb:ccdd::/48 (6to4)
        [0x2002, hi, lo, ..] => Some(Ipv4Addr::new(
            (hi >> 8) as u8,
            (hi & 0xff) as u8,
            (lo >> 8) as u8,
            (lo & 0xff) as u8,
        )),
        _ => None,
    }
}

/// Whether an IPv6 address is on the public internet
fn public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = embedded_v4(ip) {
        return public_v4(v4);
    }
    let s = ip.segments();
    let special = ip.is_unspecified()
        || ip.is_loopback()
        || (s[0] & 0xfe00) == 0xfc00          // unique local (fd00:ec2::254 is AWS metadata)
        || (s[0] & 0xffc0) == 0xfe80          // link-local
        || (s[0] & 0xffc0) == 0xfec0          // site-local (deprecated)
        || (s[0] & 0xff00) == 0xff00          // multicast
        || (s[0] == 0x64 && s[1] == 0xff9b)   // local NAT64 (64:ff9b:1::/48)
        || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
        || (s[0] == 0x2001 && s[1] < 0x0200)  // IETF protocol assignments, incl. Teredo
        || s[0] == 0x0100; // discard-only
    !special && (s[0] & 0xe000) == 0x2000 // only global unicast (2000::/3) is routed
}

/// Names that mean this machine, the local network, or a cloud metadata service
fn public_name(name: &str) -> bool {
    const EXACT: [&str; 4] = [
        "localhost",
        "metadata",
        "metadata.google.internal",
        "instance-data",
    ];
    const SUFFIXES: [&str; 5] = [
        ".localhost",
        ".internal",
        ".local",
        ".localdomain",
        ".home.arpa",
    ];
    // A single label never resolves publicly (it is a search-domain name on the local network).
    name.contains('.') && !EXACT.contains(&name) && !SUFFIXES.iter().any(|s| name.ends_with(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROD: WebhookUrlPolicy = WebhookUrlPolicy {
        allow_loopback: false,
    };
    const DEV: WebhookUrlPolicy = WebhookUrlPolicy {
        allow_loopback: true,
    };

    #[test]
    fn ipv4_spellings_resolve_like_a_browser() {
        let v4 = |h: &str| parse_name_or_v4(h);
        let lo = Ok(Host::V4(Ipv4Addr::new(127, 0, 0, 1)));
        for spelling in [
            "127.0.0.1",
            "2130706433",
            "0x7f000001",
            "0x7f.1",
            "0177.0.0.1",
            "127.1",
            "127.0.1",
            "0x7F.0.0.1",
            "127.0.0.1.",
            "017700000001",
        ] {
            assert_eq!(v4(spelling), lo, "{spelling}");
        }
        assert_eq!(v4("256.0.0.1"), Err(WebhookUrlError::BadHost));
        assert_eq!(v4("1.2.3.4.5"), Err(WebhookUrlError::BadHost));
        assert_eq!(v4("08.0.0.1"), Err(WebhookUrlError::BadHost));
        assert_eq!(v4("example.123"), Err(WebhookUrlError::BadHost));
        assert_eq!(
            v4("hooks.example.com"),
            Ok(Host::Name("hooks.example.com".into()))
        );
    }

    #[test]
    fn only_public_https_passes_outside_dev() {
        assert_eq!(
            check_webhook_url("https://hooks.example.com/r?x=1", PROD),
            Ok(())
        );
        assert_eq!(
            check_webhook_url("https://93.184.215.14:8443/", PROD),
            Ok(())
        );
        assert_eq!(
            check_webhook_url("https://[2606:4700::1111]/", PROD),
            Ok(())
        );
        assert_eq!(
            check_webhook_url("http://hooks.example.com/", PROD),
            Err(WebhookUrlError::NotHttps)
        );
        for url in [
            "https://127.0.0.1/",
            "https://localhost/",
            "https://LOCALHOST./",
            "https://10.1.2.3/",
            "https://100.64.0.1/",
            "https://100.100.100.200/",
            "https://169.254.169.254/latest/meta-data",
            "https://172.31.255.255/",
            "https://192.168.1.1/",
            "https://0.0.0.0/",
            "https://2852039166/",
            "https://0xa9fea9fe/",
            "https://0251.0376.0251.0376/",
            "https://[::1]/",
            "https://[::ffff:127.0.0.1]/",
            "https://[::ffff:a9fe:a9fe]/",
            "https://[fd00:ec2::254]/",
            "https://[fe80::1]/",
            "https://[64:ff9b::a9fe:a9fe]/",
            "https://[2002:a9fe:a9fe::1]/",
            "https://metadata.google.internal/computeMetadata/v1/",
            "https://intranet/",
        ] {
            assert!(
                matches!(
                    check_webhook_url(url, PROD),
                    Err(WebhookUrlError::NotPublic(_))
                ),
                "{url}: {:?}",
                check_webhook_url(url, PROD)
            );
        }
    }

    #[test]
    fn tricks_with_credentials_and_odd_characters_are_refused() {
        for url in [
            "https://hooks.example.com@127.0.0.1/",
            "https://user:pw@hooks.example.com/",
            "https://hooks.example.com\\@127.0.0.1/",
            "https://hooks.example.com /",
            "https://127%2E0.0.1/",
            "https://ｌｏｃａｌｈｏｓｔ/",
            "https://[::1%25eth0]/",
            "https://hooks.example.com:99999/",
            "https://hooks.example.com:8o/",
            "ftp://hooks.example.com/",
            "hooks.example.com",
            "https:///path",
        ] {
            assert!(check_webhook_url(url, PROD).is_err(), "{url}");
        }
    }

    #[test]
    fn dev_allows_loopback_and_nothing_else_private() {
        assert_eq!(check_webhook_url("http://127.0.0.1:9000/hook", DEV), Ok(()));
        assert_eq!(check_webhook_url("http://localhost:9000/hook", DEV), Ok(()));
        assert_eq!(check_webhook_url("http://[::1]:9000/hook", DEV), Ok(()));
        assert_eq!(
            check_webhook_url("http://hooks.example.com/", DEV),
            Err(WebhookUrlError::NotHttps)
        );
        assert!(check_webhook_url("https://169.254.169.254/", DEV).is_err());
        assert!(check_webhook_url("http://10.0.0.1/", DEV).is_err());
        assert!(check_webhook_url("http://127.0.0.1/", PROD).is_err());
    }
}
