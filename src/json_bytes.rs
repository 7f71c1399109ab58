//! JSON from bytes through the one deserializer the Worker already carries.
//!
//! `serde_json::from_slice` and `serde_json::from_str` are two readers, and every type parsed
//! with both is compiled twice into the wasm (the whole tree of its `Deserialize`, per reader).
//! Most of what the Worker parses arrives as text (`Response::json`, stored rows), so bytes are
//! checked as UTF-8 and parsed as text too. JSON is UTF-8 by definition (RFC 8259), so nothing
//! that `from_slice` accepted is refused.

use serde::de::{DeserializeOwned, Error as _};

/// Parses `bytes` as JSON into `T`; bytes that are not UTF-8 are a syntax error
pub fn from_bytes<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, serde_json::Error> {
    let text = std::str::from_utf8(bytes)
        .map_err(|e| serde_json::Error::custom(format!("the body is not UTF-8: {e}")))?;
    serde_json::from_str(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    #[test]
    fn text_parses_as_from_slice_would() {
        let body = br#"{"a": [1, "\u00e9", null]}"#;
        let ours: Value = from_bytes(body).unwrap();
        let theirs: Value = serde_json::from_slice(body).unwrap();
        assert_eq!(ours, theirs);
        assert_eq!(ours, json!({"a": [1, "é", null]}));
    }

    #[test]
    fn bad_input_is_an_error() {
        assert!(from_bytes::<Value>(b"{\"a\": \xff}").is_err());
        assert!(from_bytes::<Value>(b"{\"a\": ").is_err());
        assert!(from_bytes::<Value>(b"").is_err());
    }
}
