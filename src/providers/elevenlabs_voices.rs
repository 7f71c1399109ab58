//! ElevenLabs voices: the library Ra casts from, and instant voice clones.
//!
//! - Library: `GET {base}/v2/voices?page_size=100&sort=name&sort_direction=asc`, `xi-api-key`;
//!   answers `{voices: [{voice_id, name, category, labels: {accent, age, gender, descriptive,
//!   use_case, ...}, description, preview_url, ...}], has_more, total_count, next_page_token}`
//!   (<https://elevenlabs.io/docs/api-reference/voices/search>; the official SDK's
//!   `voices.search` in elevenlabs/elevenlabs-python `src/elevenlabs/voices/raw_client.py`, types
//!   `GetVoicesV2Response` and `Voice`). Labels are free-form strings keyed `accent`, `age`,
//!   `gender`, `description` or `descriptive`, `use case` or `use_case`. We read the first page
//!   only: 100 voices (more than enough to cast from; page 0 also carries the default voices).
//! - Instant voice clone: `POST {base}/v1/voices/add`, `multipart/form-data` with `name`, one
//!   `files` part per sample, optional `description` and `labels` (a JSON object as text);
//!   answers `{voice_id, requires_verification}`
//!   (<https://elevenlabs.io/docs/api-reference/voices/ivc/create>; the SDK's `voices.ivc.create`
//!   in `src/elevenlabs/voices/ivc/raw_client.py` sends the files under the field name `files`).
//!   There is no idempotency key: a repeated call makes a second clone.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::common::mentions_moderation;
use super::config::ProviderConfig;
use super::errors::{expect_json, missing};
use super::http::Method;
use super::{HttpRequest, HttpResponse, ProviderError, url};

/// How many library voices one request asks for (the API's maximum page)
pub const LIBRARY_PAGE: u32 = 100;

/// One voice of the account's library, as casting reads it
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LibraryVoice {
    /// The provider's voice id
    pub voice_id: String,
    /// Its display name (`George`)
    #[serde(default)]
    pub name: String,
    /// `premade`, `cloned`, `generated`, `professional`
    #[serde(default)]
    pub category: Option<String>,
    /// `accent`, `age`, `gender`, `description`/`descriptive`, `use case`/`use_case`, ...
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Free text
    #[serde(default)]
    pub description: Option<String>,
}

impl LibraryVoice {
    /// A label by any of its spellings (`use case`, `use_case`), lower-cased
    pub fn label(&self, names: &[&str]) -> Option<String> {
        names
            .iter()
            .find_map(|n| self.labels.get(*n))
            .map(|v| v.trim().to_ascii_lowercase())
            .filter(|v| !v.is_empty())
    }
}

/// A sample for a clone: the bytes and what they are
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloneSample {
    /// File name sent with the part (`sample-1.wav`)
    pub file_name: String,
    /// MIME type (`audio/wav`)
    pub content_type: String,
    /// The audio
    pub bytes: Vec<u8>,
}

/// What a clone answered
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClonedVoice {
    /// The new voice's id
    pub voice_id: String,
    /// Whether ElevenLabs wants the voice verified before use
    #[serde(default)]
    pub requires_verification: bool,
}

#[derive(Deserialize)]
struct Library {
    voices: Vec<RawVoice>,
}

/// A voice as the API sends it: labels may hold non-strings in other products, so they are
/// read leniently
#[derive(Deserialize)]
struct RawVoice {
    voice_id: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    category: Option<String>,
    #[serde(default)]
    labels: Option<BTreeMap<String, Value>>,
    #[serde(default)]
    description: Option<String>,
}

/// `GET /v2/voices`, the first page, sorted by name so the answer is stable
pub fn library_request(cfg: &ProviderConfig) -> HttpRequest {
    let path = format!("/v2/voices?page_size={LIBRARY_PAGE}&sort=name&sort_direction=asc");
    HttpRequest::get(url::join(&cfg.base_url, &path))
        .with_header("xi-api-key", cfg.api_key.expose())
        .with_header("accept", "application/json")
}

/// Reads the library; voices without an id are skipped
///
/// # Errors
///
/// The mapped HTTP error, or `Malformed` for a body that is not the documented shape.
pub fn parse_library(resp: &HttpResponse) -> Result<Vec<LibraryVoice>, ProviderError> {
    let library: Library = expect_json(resp, mentions_moderation)?;
    Ok(library
        .voices
        .into_iter()
        .filter_map(|v| {
            let voice_id = v.voice_id.filter(|id| !id.trim().is_empty())?;
            let labels = v
                .labels
                .unwrap_or_default()
                .into_iter()
                .filter_map(|(k, v)| v.as_str().map(|s| (k, s.to_owned())))
                .collect();
            Some(LibraryVoice {
                voice_id,
                name: v.name.unwrap_or_default(),
                category: v.category,
                labels,
                description: v.description.filter(|d| !d.trim().is_empty()),
            })
        })
        .collect())
}

/// A multipart boundary that occurs in none of the parts
fn boundary(samples: &[CloneSample]) -> String {
    let mut n: u32 = 0;
    loop {
        let b = format!("studio-voice-clone-{n:08x}");
        let clash = samples
            .iter()
            .any(|s| s.bytes.windows(b.len()).any(|w| w == b.as_bytes()));
        if !clash || n == u32::MAX {
            return b;
        }
        n += 1;
    }
}

/// Text that may go into a part header: no quotes, backslashes or line breaks
fn header_safe(s: &str) -> String {
    s.chars()
        .filter(|c| !matches!(c, '"' | '\\' | '\r' | '\n'))
        .collect()
}

/// `POST /v1/voices/add` with the samples as `files` parts
pub fn clone_request(
    cfg: &ProviderConfig,
    name: &str,
    description: &str,
    samples: &[CloneSample],
) -> HttpRequest {
    let b = boundary(samples);
    let mut body = Vec::new();
    let mut field = |name: &str, value: &str| {
        body.extend_from_slice(
            format!("--{b}\r\ncontent-disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                .as_bytes(),
        );
    };
    field("name", name);
    field("description", description);
    for s in samples {
        body.extend_from_slice(
            format!(
                "--{b}\r\ncontent-disposition: form-data; name=\"files\"; filename=\"{}\"\r\n\
                 content-type: {}\r\n\r\n",
                header_safe(&s.file_name),
                header_safe(&s.content_type)
            )
            .as_bytes(),
        );
        body.extend_from_slice(&s.bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{b}--\r\n").as_bytes());
    HttpRequest {
        method: Method::Post,
        url: url::join(&cfg.base_url, "/v1/voices/add"),
        headers: vec![
            (
                "content-type".into(),
                format!("multipart/form-data; boundary={b}"),
            ),
            ("xi-api-key".into(), cfg.api_key.expose().to_owned()),
            ("accept".into(), "application/json".into()),
        ],
        body,
    }
}

/// Reads a clone's answer
///
/// # Errors
///
/// The mapped HTTP error (a 422 for unusable samples is `Rejected`), or `Malformed` without a
/// voice id.
pub fn parse_clone(resp: &HttpResponse) -> Result<ClonedVoice, ProviderError> {
    let cloned: ClonedVoice = expect_json(resp, mentions_moderation)?;
    if cloned.voice_id.trim().is_empty() {
        return Err(missing("voice_id"));
    }
    Ok(cloned)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> ProviderConfig {
        ProviderConfig::new("http://sim/elevenlabs", "k")
    }

    #[test]
    fn the_library_is_read_leniently() {
        let body = serde_json::json!({"voices": [
            {"voice_id": "v1", "name": "George", "labels": {"gender": "male", "age": "old", "n": 3}},
            {"name": "no id"},
            {"voice_id": "v2", "labels": null, "description": " "}
        ], "has_more": false, "total_count": 3});
        let resp = HttpResponse {
            status: 200,
            headers: vec![],
            body: body.to_string().into_bytes(),
        };
        let voices = parse_library(&resp).unwrap_or_default();
        assert_eq!(voices.len(), 2);
        assert_eq!(voices[0].label(&["gender"]).as_deref(), Some("male"));
        assert!(!voices[0].labels.contains_key("n"));
        assert_eq!(voices[1].description, None);
    }

    #[test]
    fn a_clone_is_multipart_with_one_files_part_per_sample() {
        let samples = vec![
            CloneSample {
                file_name: "a.wav".into(),
                content_type: "audio/wav".into(),
                bytes: b"RIFF....WAVE".to_vec(),
            },
            CloneSample {
                file_name: "b\".mp3".into(),
                content_type: "audio/mpeg".into(),
                bytes: b"ID3...".to_vec(),
            },
        ];
        let req = clone_request(&cfg(), "demo keeper", "keeper", &samples);
        assert_eq!(req.url, "http://sim/elevenlabs/v1/voices/add");
        let ct = req.header("content-type").unwrap_or_default();
        assert!(ct.starts_with("multipart/form-data; boundary="), "{ct}");
        let text = String::from_utf8_lossy(&req.body);
        assert_eq!(text.matches("name=\"files\"").count(), 2);
        assert!(text.contains("filename=\"b.mp3\""));
        assert!(text.contains("name=\"name\"\r\n\r\ndemo keeper\r\n"));
    }
}
