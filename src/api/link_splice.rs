//! Adds a signed link next to every artifact key of a JSON text, without building a value tree.
//!
//! A polled view arrives from the job object as text. Parsing it into a `serde_json::Value`,
//! walking it and encoding it again cost the Worker more than the signing itself under fleet load
//! (the view of a 24-shot render is tens of kilobytes, polled several times a second). The text is
//! scanned once instead: after each `"key":"…"` (and `master_key`, `poster_key`, `captions_key`)
//! whose value the caller links, `,"url":"…"` (`master_url`, …) is inserted in the same object.
//! Everything else is copied byte for byte.

/// Each key field and the field its link goes in
pub const LINKED_FIELDS: [(&str, &str); 4] = [
    ("key", "url"),
    ("master_key", "master_url"),
    ("poster_key", "poster_url"),
    ("captions_key", "captions_url"),
];

/// Why a text could not be scanned (it was not the JSON the object encodes)
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum SpliceError {
    /// A string did not end before the text did
    #[error("unterminated string at byte {0}")]
    Unterminated(usize),
}

/// A string token: its bytes between the quotes, and where the token (quotes included) ends
struct StringToken<'a> {
    raw: &'a str,
    end: usize,
}

/// Reads the string token that opens at `start` (a `"`)
fn string_at(json: &str, start: usize) -> Result<StringToken<'_>, SpliceError> {
    let bytes = json.as_bytes();
    let mut i = start + 1;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'\\' => i += 2,
            b'"' => {
                let raw = json.get(start + 1..i).unwrap_or_default();
                return Ok(StringToken { raw, end: i + 1 });
            }
            _ => i += 1,
        }
    }
    Err(SpliceError::Unterminated(start))
}

fn skip_space(bytes: &[u8], mut i: usize) -> usize {
    while bytes.get(i).is_some_and(u8::is_ascii_whitespace) {
        i += 1;
    }
    i
}

/// The link field for a key field's name, when it is one
fn link_field(name: &str) -> Option<&'static str> {
    LINKED_FIELDS
        .iter()
        .find(|(key, _)| *key == name)
        .map(|(_, url)| *url)
}

/// The string a token holds: borrowed when it has no escapes, decoded when it has
fn unescaped(raw: &str) -> Option<std::borrow::Cow<'_, str>> {
    if raw.contains('\\') {
        serde_json::from_str::<String>(&format!("\"{raw}\""))
            .ok()
            .map(std::borrow::Cow::Owned)
    } else {
        Some(std::borrow::Cow::Borrowed(raw))
    }
}

/// `json` with `,"url":"<link>"` after each key field whose string value `link` answers for.
/// The object must not already hold the link field (the views the job object encodes do not).
pub fn splice_links(
    json: &str,
    mut link: impl FnMut(&str) -> Option<String>,
) -> Result<String, SpliceError> {
    let bytes = json.as_bytes();
    let mut out = String::with_capacity(json.len() + json.len() / 4);
    let mut copied = 0;
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b != b'"' {
            i += 1;
            continue;
        }
        let name = string_at(json, i)?;
        i = name.end;
        let colon = skip_space(bytes, i);
        // Only a field name is followed by a colon; a value string is followed by `,`, `}`, `]`.
        if bytes.get(colon) != Some(&b':') {
            continue;
        }
        let Some(url_field) = link_field(name.raw) else {
            continue;
        };
        let value_at = skip_space(bytes, colon + 1);
        if bytes.get(value_at) != Some(&b'"') {
            continue;
        }
        let value = string_at(json, value_at)?;
        i = value.end;
        let Some(url) = unescaped(value.raw).and_then(|key| link(&key)) else {
            continue;
        };
        out.push_str(json.get(copied..value.end).unwrap_or_default());
        copied = value.end;
        out.push_str(",\"");
        out.push_str(url_field);
        out.push_str("\":");
        // A URL is plain ASCII, but it is encoded as any string would be.
        out.push_str(&serde_json::Value::String(url).to_string());
    }
    out.push_str(json.get(copied..).unwrap_or_default());
    Ok(out)
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn link(key: &str) -> Option<String> {
        key.starts_with("renders/")
            .then(|| format!("https://x/v1/media/{key}?sig=1"))
    }

    /// What the tree walk it replaces did: the link field set in every object with a linked key
    fn by_tree(value: &mut Value) {
        match value {
            Value::Object(map) => {
                for (field, url_field) in LINKED_FIELDS {
                    if let Some(Value::String(key)) = map.get(field).cloned()
                        && let Some(url) = link(&key)
                    {
                        map.insert(url_field.into(), Value::String(url));
                    }
                }
                map.values_mut().for_each(by_tree);
            }
            Value::Array(items) => items.iter_mut().for_each(by_tree),
            _ => {}
        }
    }

    fn agrees(value: Value) {
        let text = value.to_string();
        let spliced: Value = serde_json::from_str(&splice_links(&text, link).unwrap()).unwrap();
        let mut expected = value;
        by_tree(&mut expected);
        assert_eq!(spliced, expected, "from {text}");
    }

    #[test]
    fn a_view_gets_the_same_links_as_the_tree_walk_gave() {
        agrees(json!({
            "id": "r1",
            "master_key": "renders/r1/master.mp4",
            "poster_key": "renders/r1/poster.jpg",
            "captions_key": null,
            "stages": [
                {"id": "s1", "output": {"key": "renders/r1/s1.png", "bytes": 3}},
                {"id": "s2", "output": null, "note": "key"},
                {"id": "s3", "output": {"bytes": 3, "key": "renders/r1/s3.mp4"}}
            ],
            "variants": [{"platform": "tiktok", "key": "renders/r1/v.mp4"}]
        }));
    }

    #[test]
    fn text_that_looks_like_a_field_inside_a_string_is_left_alone() {
        agrees(json!({
            "prompt": "a \"key\":\"renders/evil\" and \\\"key\\\": \"renders/x\"",
            "key\"": "renders/not-this-one",
            "stages": [{"key": "renders/a\"b", "k": "\\"}]
        }));
    }

    #[test]
    fn keys_the_caller_does_not_link_and_non_string_keys_are_copied_as_they_are() {
        agrees(json!({"key": "elsewhere/x", "a": {"key": 3}, "b": {"key": ["renders/x"]}}));
        let text = r#"{"key":"other"}"#;
        assert_eq!(splice_links(text, link).unwrap(), text);
    }

    #[test]
    fn spaced_text_is_spliced_too() {
        let text = "{ \"key\" : \"renders/a\" , \"n\": 1 }";
        let out: Value = serde_json::from_str(&splice_links(text, link).unwrap()).unwrap();
        assert_eq!(out["url"], "https://x/v1/media/renders/a?sig=1");
    }

    #[test]
    fn an_unterminated_string_is_refused() {
        assert_eq!(
            splice_links(r#"{"key":"renders/a"#, link),
            Err(SpliceError::Unterminated(7))
        );
    }
}
