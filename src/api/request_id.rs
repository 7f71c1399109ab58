//! The id of one API request: Cloudflare's `cf-ray` when the edge gave one, else a fresh random
//! id. It is answered as `x-request-id` on every response and as `request_id` in every error
//! body, and every logged failure carries it, so a client's report leads to the log line.

/// Longest `cf-ray` value taken as it is (real ones are 16 hex digits and a colo code)
const MAX_RAY_CHARS: usize = 64;

/// One request's id
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(String);

impl RequestId {
    /// The id for a request whose `cf-ray` header is `cf_ray`; `random` (fresh bytes from the
    /// shell) makes the id when the header is missing or not a plain ray id (it is echoed in a
    /// header and logs, so nothing else is trusted)
    pub fn new(cf_ray: Option<&str>, random: [u8; 16]) -> Self {
        let ray = cf_ray.map(str::trim).filter(|r| {
            !r.is_empty()
                && r.len() <= MAX_RAY_CHARS
                && r.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
        match ray {
            Some(ray) => Self(ray.to_owned()),
            None => Self(format!("req_{}", hex::encode(random))),
        }
    }

    /// The id as text
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for RequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_ray_is_kept_and_anything_else_is_replaced() {
        assert_eq!(
            RequestId::new(Some("8a1b2c3d4e5f6789-SJC"), [0; 16]).as_str(),
            "8a1b2c3d4e5f6789-SJC"
        );
        let fresh = format!("req_{}", "ab".repeat(16));
        for bad in [
            None,
            Some(""),
            Some("  "),
            Some("ray\r\nset-cookie: x"),
            Some("<script>"),
        ] {
            assert_eq!(RequestId::new(bad, [0xab; 16]).as_str(), fresh, "{bad:?}");
        }
        let long = "a".repeat(MAX_RAY_CHARS + 1);
        assert_eq!(RequestId::new(Some(&long), [0xab; 16]).as_str(), fresh);
    }
}
