//! API keys and roles.
//!
//! Keys are never stored: D1 holds `sha256(key)` in hex, and the Worker looks a key up by its hash
//! and then compares the hashes again in constant time, so a timing difference cannot reveal how
//! much of a guessed hash matched.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::ids::CreatorId;

/// What a key may do
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A creator's app: its own renders and memory
    App,
    /// Support staff: read every job
    Support,
    /// Support staff who may also act on jobs
    SupportAdmin,
}

impl Role {
    /// Parses the D1 column value
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "app" => Some(Self::App),
            "support" => Some(Self::Support),
            "support_admin" => Some(Self::SupportAdmin),
            _ => None,
        }
    }

    /// The D1 column value
    pub fn as_str(self) -> &'static str {
        match self {
            Self::App => "app",
            Self::Support => "support",
            Self::SupportAdmin => "support_admin",
        }
    }

    /// Whether the role may read support routes
    pub fn is_support(self) -> bool {
        matches!(self, Self::Support | Self::SupportAdmin)
    }
}

/// Who is calling, once their key is resolved
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    /// First characters of the key, for the key's owner to recognise it (not an identity: two
    /// keys can share it, as `sk_test_support` and `sk_test_support_admin` do)
    pub key_prefix: String,
    /// The key's stable identity ([`key_id`]): what journals and audit records name
    pub key_id: String,
    /// A readable name of the key (its D1 label, else its prefix)
    pub key_label: String,
    /// What they may do
    pub role: Role,
    /// The creator an app key is bound to; `None` for support keys
    pub creator: Option<CreatorId>,
}

impl Principal {
    /// How journals and audit records name the caller: the label for people, the id to tell
    /// keys apart, e.g. `dev key sk_test_support (key 233e4a0f6b5e48a8)`
    pub fn audit_name(&self) -> String {
        format!("{} (key {})", self.key_label, self.key_id)
    }
}

/// Hex digits of the hash that make a key's id (64 bits: no two keys of one deployment share it)
const KEY_ID_HEX: usize = 16;

/// A key's stable id: the first 16 hex digits of its SHA-256, as stored in D1, so it can be
/// computed from the stored hash and never reveals the key
pub fn key_id(key_hash_hex: &str) -> String {
    key_hash_hex.chars().take(KEY_ID_HEX).collect()
}

/// Hex SHA-256 of an API key, as stored in D1
pub fn key_hash(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// The part of a key that may appear in logs and journals
pub fn key_prefix(key: &str) -> String {
    key.chars().take(10).collect()
}

/// Compares two byte strings in time that depends only on their lengths
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Extracts the key from an `Authorization: Bearer <key>` header value
pub fn bearer_token(header: Option<&str>) -> Option<&str> {
    let value = header?.trim();
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_hash_is_sha256_hex() {
        assert_eq!(
            key_hash("sk_test_demo"),
            hex::encode(Sha256::digest(b"sk_test_demo")),
        );
        assert_eq!(key_hash("x").len(), 64);
    }

    #[test]
    fn bearer_parsing_is_strict() {
        assert_eq!(
            bearer_token(Some("Bearer sk_test_demo")),
            Some("sk_test_demo")
        );
        assert_eq!(bearer_token(Some("bearer  sk_x ")), Some("sk_x"));
        assert_eq!(bearer_token(Some("Basic abc")), None);
        assert_eq!(bearer_token(Some("Bearer ")), None);
        assert_eq!(bearer_token(None), None);
    }

    #[test]
    fn constant_time_eq_matches_eq() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }

    #[test]
    fn keys_with_one_prefix_have_different_ids() {
        let a = key_id(&key_hash("sk_test_support"));
        let b = key_id(&key_hash("sk_test_support_admin"));
        assert_eq!(
            key_prefix("sk_test_support"),
            key_prefix("sk_test_support_admin")
        );
        assert_ne!(a, b);
        assert_eq!(a.len(), 16);
        assert_eq!(a, "233e4a0f6b5e48a8");
        let support = Principal {
            key_prefix: key_prefix("sk_test_support"),
            key_id: a,
            key_label: "dev key sk_test_support".into(),
            role: Role::Support,
            creator: None,
        };
        assert_eq!(
            support.audit_name(),
            "dev key sk_test_support (key 233e4a0f6b5e48a8)"
        );
    }

    #[test]
    fn roles_round_trip() {
        for r in [Role::App, Role::Support, Role::SupportAdmin] {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("root"), None);
    }
}
