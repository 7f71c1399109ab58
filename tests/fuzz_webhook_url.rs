//! Fuzzing the status webhook URL rules (`studio::api::webhook_url`): no input panics, nothing
//! but https passes outside dev, and every private or special IPv4 address is refused in every
//! spelling a URL parser accepts (dotted, one number, hex, octal, short forms, IPv4-mapped and
//! NAT64 IPv6), while public addresses in the same spellings pass.

#[path = "support/fuzz.rs"]
#[allow(dead_code)]
mod fuzz;

use std::net::Ipv4Addr;

use proptest::prelude::*;
use studio::api::webhook_url::{WebhookUrlError, WebhookUrlPolicy, check_webhook_url};

const PROD: WebhookUrlPolicy = WebhookUrlPolicy {
    allow_loopback: false,
};
const DEV: WebhookUrlPolicy = WebhookUrlPolicy {
    allow_loopback: true,
};

/// Blocks no webhook may reach: (first address, prefix length)
const PRIVATE: [([u8; 4], u8); 13] = [
    ([0, 0, 0, 0], 8),
    ([10, 0, 0, 0], 8),
    ([100, 64, 0, 0], 10),
    ([127, 0, 0, 0], 8),
    ([169, 254, 0, 0], 16),
    ([172, 16, 0, 0], 12),
    ([192, 0, 0, 0], 24),
    ([192, 168, 0, 0], 16),
    ([198, 18, 0, 0], 15),
    ([224, 0, 0, 0], 4),
    ([240, 0, 0, 0], 4),
    ([192, 0, 2, 0], 24),
    ([203, 0, 113, 0], 24),
];

fn private_address() -> impl Strategy<Value = Ipv4Addr> {
    (prop::sample::select(&PRIVATE[..]), any::<u32>()).prop_map(|((base, len), noise)| {
        let base = u32::from(Ipv4Addr::from(base));
        let host_bits = if len == 0 { u32::MAX } else { u32::MAX >> len };
        Ipv4Addr::from(base | (noise & host_bits))
    })
}

/// Addresses in blocks that are certainly public (no special-purpose range inside them)
fn public_address() -> impl Strategy<Value = Ipv4Addr> {
    (
        prop::sample::select(&[1u8, 8, 23, 45, 93, 104, 151, 185][..]),
        any::<[u8; 3]>(),
    )
        .prop_map(|(a, [b, c, d])| Ipv4Addr::new(a, b, c, d))
}

/// The ways a URL host can spell an IPv4 address
fn spellings(ip: Ipv4Addr) -> Vec<String> {
    let n = u32::from(ip);
    let [a, b, c, d] = ip.octets();
    let low16 = n & 0xffff;
    let low24 = n & 0x00ff_ffff;
    vec![
        ip.to_string(),
        n.to_string(),
        format!("0x{n:x}"),
        format!("0X{n:08X}"),
        format!("0{n:o}"),
        format!("0{a:o}.0{b:o}.0{c:o}.0{d:o}"),
        format!("0x{a:x}.0x{b:x}.0x{c:x}.0x{d:x}"),
        format!("{a}.{b}.{low16}"),
        format!("{a}.{low24}"),
        format!("0x{a:x}.{low24}"),
        format!("{ip}."),
        format!("[::ffff:{ip}]"),
        format!("[::ffff:{:x}:{:x}]", n >> 16, n & 0xffff),
        format!("[64:ff9b::{ip}]"),
        format!("[2002:{:x}:{:x}::1]", n >> 16, n & 0xffff),
    ]
}

proptest! {
    #![proptest_config(fuzz::config(256))]

    #[test]
    fn no_input_panics_and_only_https_passes_outside_dev(url in any::<String>()) {
        let prod = check_webhook_url(&url, PROD);
        let dev = check_webhook_url(&url, DEV);
        if prod.is_ok() {
            prop_assert!(url.to_ascii_lowercase().starts_with("https://"), "{url}");
            prop_assert!(dev.is_ok(), "dev is never stricter: {url}");
        }
    }

    #[test]
    fn url_shaped_input_never_panics(
        scheme in prop::sample::select(&["https", "http", "HTTPS", "ftp", ""][..]),
        host in "[a-zA-Z0-9.:\\[\\]%@_-]{0,40}",
        rest in "[/?#a-z0-9=&%.-]{0,20}",
    ) {
        let url = format!("{scheme}://{host}{rest}");
        let _ = check_webhook_url(&url, PROD);
        let _ = check_webhook_url(&url, DEV);
    }

    #[test]
    fn every_spelling_of_a_private_address_is_refused(
        ip in private_address(),
        path in "[a-z/]{0,12}",
    ) {
        for host in spellings(ip) {
            for scheme in ["https", "http"] {
                let url = format!("{scheme}://{host}/{path}");
                let verdict = check_webhook_url(&url, PROD);
                prop_assert!(verdict.is_err(), "{url} passed");
                if ip.is_loopback() {
                    continue;
                }
                prop_assert!(check_webhook_url(&url, DEV).is_err(), "{url} passed in dev");
                if scheme == "https" {
                    prop_assert!(
                        matches!(verdict, Err(WebhookUrlError::NotPublic(_))),
                        "{url}: {verdict:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn every_spelling_of_a_public_address_passes_over_https(
        ip in public_address(),
        port in 1u16..,
    ) {
        for host in spellings(ip) {
            let url = format!("https://{host}:{port}/hooks");
            prop_assert_eq!(check_webhook_url(&url, PROD), Ok(()), "{}", url);
            let plain = format!("http://{host}/hooks");
            let verdict = check_webhook_url(&plain, DEV);
            prop_assert_eq!(verdict, Err(WebhookUrlError::NotHttps), "{}", plain);
        }
    }
}
