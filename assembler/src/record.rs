//! An assembly as it is persisted, and as the wire format shows it.
//!
//! The record keeps output file names, not URLs: URLs are built from the public base when the
//! assembly is shown, so a restarted assembler on another address still answers correct URLs.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::frame::Aspect;
use crate::timeline::Submission;

/// Where an assembly is in its life
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Accepted, waiting for a slot
    Queued,
    /// Being assembled
    Running,
    /// Done: outputs ready
    Succeeded,
    /// Done: see the error
    Failed,
}

impl Status {
    /// The wire form
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
        }
    }

    /// Whether it will change no more
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Succeeded | Self::Failed)
    }
}

/// Why an assembly failed: the codes of the wire format
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureCode {
    /// An input could not be fetched (HTTP error, connection, timeout)
    InputUnavailable,
    /// An input is over the size cap
    InputTooLarge,
    /// An input is not usable media
    InputNotMedia,
    /// ffmpeg failed or ran past its deadline
    Ffmpeg,
    /// Cancelled by the client
    Cancelled,
    /// The assembler's own fault (its disk)
    Internal,
}

/// A failure as the wire shows it
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Failure {
    /// The code
    pub code: FailureCode,
    /// What happened, for a person: names the shot or stage at fault
    pub message: String,
}

impl Failure {
    /// A failure with this code and message
    pub fn new(code: FailureCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

/// One video output
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VideoFile {
    /// File name under the assembly's outputs
    pub name: String,
    /// Frame shape
    pub aspect: Aspect,
    /// Width in pixels
    pub width: u32,
    /// Height in pixels
    pub height: u32,
    /// Length in seconds
    pub duration_s: f64,
}

/// What a succeeded assembly made
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outputs {
    /// The master
    pub master: VideoFile,
    /// The variants, in the timeline's order
    pub variants: Vec<VideoFile>,
    /// The poster's file name
    pub poster: String,
    /// The captions' file name (none without any text)
    pub captions: Option<String>,
}

impl Outputs {
    /// Every file name, for serving
    pub fn names(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.master.name.as_str())
            .chain(self.variants.iter().map(|v| v.name.as_str()))
            .chain(std::iter::once(self.poster.as_str()))
            .chain(self.captions.as_deref())
    }
}

/// An assembly, persisted as `assembly.json`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// `asm_...`
    pub id: String,
    /// The submission's `Idempotency-Key`
    pub idempotency_key: Option<String>,
    /// When it was accepted, ms since the epoch
    pub created_unix_ms: u64,
    /// When it last changed
    pub updated_unix_ms: u64,
    /// What was asked
    pub submission: Submission,
    /// Where it is
    pub status: Status,
    /// Why it failed
    pub error: Option<Failure>,
    /// What it made
    pub outputs: Option<Outputs>,
    /// How many times it was started (more than one only after a restart)
    pub runs: u32,
    /// Its terminal callback is not delivered yet
    pub callback_pending: bool,
    /// Its files were removed after the retention period
    #[serde(default)]
    pub files_removed: bool,
}

/// The content type of an output, by its name
pub fn content_type(name: &str) -> &'static str {
    if name.ends_with(".mp4") {
        "video/mp4"
    } else if name.ends_with(".jpg") {
        "image/jpeg"
    } else if name.ends_with(".vtt") {
        "text/vtt"
    } else {
        "application/octet-stream"
    }
}

/// The URL of an output
pub fn file_url(public_url: &str, id: &str, name: &str) -> String {
    format!("{public_url}/v1/files/{id}/{name}")
}

/// The assembly object of the wire format
pub fn to_wire(r: &Record, public_url: &str) -> Value {
    let mut v = json!({"id": r.id, "status": r.status.as_str()});
    if r.status == Status::Failed
        && let Some(e) = &r.error
    {
        v["error"] = json!({"code": e.code, "message": e.message});
    }
    if r.status == Status::Succeeded
        && let Some(o) = &r.outputs
    {
        let url = |name: &str| file_url(public_url, &r.id, name);
        let video = |f: &VideoFile| {
            json!({
                "aspect": f.aspect,
                "url": url(&f.name),
                "content_type": content_type(&f.name),
                "width": f.width,
                "height": f.height,
                "duration_s": f.duration_s,
            })
        };
        v["outputs"] = json!({
            "master": video(&o.master),
            "variants": o.variants.iter().map(video).collect::<Vec<_>>(),
            // A still request's frame is its only file: no poster beside it.
            "poster": (o.poster != o.master.name).then(|| json!({"url": url(&o.poster), "content_type": content_type(&o.poster)})),
            "captions": o.captions.as_deref().map(|c| json!({"url": url(c), "content_type": content_type(c)})),
        });
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timeline::parse_submission;

    fn record(status: Status) -> Record {
        let submission = parse_submission(&json!({"timeline": {
            "master": "16:9", "variants": ["9:16"], "duration_s": 2,
            "clips": [{"shot": "s01", "url": "http://h/a", "duration_s": 2}]}}))
        .unwrap();
        Record {
            id: "asm_1".into(),
            idempotency_key: Some("k".into()),
            created_unix_ms: 1,
            updated_unix_ms: 1,
            submission,
            status,
            error: Some(Failure::new(
                FailureCode::InputUnavailable,
                "clip s01 could not be fetched: HTTP 404",
            )),
            outputs: Some(Outputs {
                master: VideoFile {
                    name: "master.mp4".into(),
                    aspect: Aspect::Landscape,
                    width: 1920,
                    height: 1080,
                    duration_s: 2.0,
                },
                variants: vec![VideoFile {
                    name: "variant-9x16.mp4".into(),
                    aspect: Aspect::Vertical,
                    width: 1080,
                    height: 1920,
                    duration_s: 2.0,
                }],
                poster: "poster.jpg".into(),
                captions: None,
            }),
            runs: 1,
            callback_pending: false,
            files_removed: false,
        }
    }

    #[test]
    fn shows_outputs_only_when_succeeded() {
        let ok = to_wire(&record(Status::Succeeded), "http://a:1");
        assert_eq!(ok["status"], "succeeded");
        assert!(ok.get("error").is_none());
        assert_eq!(
            ok["outputs"]["master"]["url"],
            "http://a:1/v1/files/asm_1/master.mp4"
        );
        assert_eq!(ok["outputs"]["master"]["content_type"], "video/mp4");
        assert_eq!(ok["outputs"]["master"]["width"], 1920);
        assert_eq!(ok["outputs"]["master"]["duration_s"], 2.0);
        assert_eq!(ok["outputs"]["variants"][0]["aspect"], "9:16");
        assert_eq!(ok["outputs"]["variants"][0]["height"], 1920);
        assert_eq!(ok["outputs"]["poster"]["content_type"], "image/jpeg");
        assert!(ok["outputs"]["captions"].is_null());
        let failed = to_wire(&record(Status::Failed), "http://a:1");
        assert_eq!(failed["error"]["code"], "input_unavailable");
        assert!(failed.get("outputs").is_none());
        let queued = to_wire(&record(Status::Queued), "http://a:1");
        assert_eq!(queued, json!({"id": "asm_1", "status": "queued"}));
    }

    #[test]
    fn round_trips_through_json() {
        let r = record(Status::Running);
        let back: Record = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
        assert_eq!(back, r);
        assert_eq!(
            serde_json::to_value(FailureCode::InputNotMedia).unwrap(),
            "input_not_media"
        );
    }
}
