//! One video resource of a YouTube Data API v3 `videos.list` response, read field by field.
//!
//! The resource (<https://developers.google.com/youtube/v3/docs/videos#resource>; its discovery
//! document is `youtube/v3/youtube-api.json` in googleapis/google-api-go-client, schemas
//! `Video`, `VideoSnippet`, `VideoContentDetails`, `VideoStatistics`, `VideoFileDetails`):
//!
//! ```json
//! {"kind": "youtube#video", "id": "dQw4w9WgXcQ",
//!  "snippet": {"publishedAt": "2024-11-02T17:00:00Z", "title": "...", "tags": ["..."],
//!              "categoryId": "22", "defaultLanguage": "en", "defaultAudioLanguage": "en-US",
//!              "liveBroadcastContent": "none", "thumbnails": {...}, ...},
//!  "contentDetails": {"duration": "PT4M13S", "dimension": "2d", "definition": "hd", ...},
//!  "statistics": {"viewCount": "1234", "likeCount": "56", "commentCount": "7"},
//!  "fileDetails": {"videoStreams": [{"widthPixels": 1080, "heightPixels": 1920,
//!                                    "aspectRatio": 0.5625, "rotation": "none"}]}}
//! ```
//!
//! Read: `id`, `contentDetails.duration` (required), `snippet.publishedAt`,
//! `snippet.defaultAudioLanguage`, `snippet.defaultLanguage`, `snippet.liveBroadcastContent`,
//! the three counts of `statistics` (`uint64` in the discovery document, hence JSON strings),
//! and the frame of `fileDetails.videoStreams` (owner-only; its shape tells a vertical Short
//! from a wide video). Every other field is left alone whatever it holds, so a full response
//! is accepted as the API sends it and a field the API adds later breaks nothing.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::iso8601::parse_duration;
use super::read::{
    count_string, date_of, is_language, is_video_id, required_string, string, whole_number,
};
use crate::memory::error::MemoryError;
use crate::memory::json::{Obj, join, object};

/// A YouTube video id (`dQw4w9WgXcQ`)
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct VideoId(pub String);

/// The frame of a video's first stream
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Frame {
    /// Square or taller: may be a Short
    Upright,
    /// Wider than square: never a Short
    Wide,
}

/// What the import reads of one video
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Video {
    /// Its id
    pub id: VideoId,
    /// Length, seconds (`contentDetails.duration`)
    pub duration_s: f64,
    /// Upload date, `YYYY-MM-DD` as written in `snippet.publishedAt`
    pub published: Option<String>,
    /// `snippet.defaultAudioLanguage`, else `snippet.defaultLanguage`
    pub language: Option<String>,
    /// Whether it is a broadcast that is live or upcoming (it has no length yet)
    pub live: bool,
    /// The frame, when `fileDetails` says
    pub frame: Option<Frame>,
    /// `statistics.viewCount`
    pub views: Option<u64>,
    /// `statistics.likeCount` (absent when the owner hides it)
    pub likes: Option<u64>,
    /// `statistics.commentCount` (absent when comments are off)
    pub comments: Option<u64>,
}

/// Reads `items[i]`; `path` is its path in the body
pub(super) fn video(value: &Value, path: &str) -> Result<Video, MemoryError> {
    let obj = object(value, path)?;
    if string(&obj, "kind")?.is_some_and(|kind| kind != "youtube#video") {
        return Err(MemoryError::invalid(
            join(path, "kind"),
            "must be youtube#video (items of a videos.list response)",
        ));
    }
    let id = required_string(&obj, "id")?;
    if !is_video_id(id) {
        return Err(MemoryError::invalid(
            join(path, "id"),
            "must be a YouTube video id: 11 letters, digits, '-' or '_'",
        ));
    }

    let details_path = join(path, "contentDetails");
    let details = obj
        .get("contentDetails")
        .ok_or_else(|| MemoryError::invalid(&details_path, "missing required field"))?;
    let details = object(details, &details_path)?;
    let duration = required_string(&details, "duration")?;
    let duration_s = parse_duration(duration).map_err(|e| {
        MemoryError::invalid(join(&details_path, "duration"), format!("{duration:?} {e}"))
    })?;

    let snippet_path = join(path, "snippet");
    let (published, language, live) = match obj.get("snippet") {
        None => (None, None, false),
        Some(v) => snippet(&object(v, &snippet_path)?)?,
    };

    let stats_path = join(path, "statistics");
    let (views, likes, comments) = match obj.get("statistics") {
        None => (None, None, None),
        Some(v) => {
            let stats = object(v, &stats_path)?;
            (
                count_string(&stats, "viewCount")?,
                count_string(&stats, "likeCount")?,
                count_string(&stats, "commentCount")?,
            )
        }
    };

    let file_path = join(path, "fileDetails");
    let frame = match obj.get("fileDetails") {
        None => None,
        Some(v) => file_frame(&object(v, &file_path)?)?,
    };

    Ok(Video {
        id: VideoId(id.to_owned()),
        duration_s,
        published,
        language,
        live,
        frame,
        views,
        likes,
        comments,
    })
}

type SnippetFields = (Option<String>, Option<String>, bool);

fn snippet(obj: &Obj<'_>) -> Result<SnippetFields, MemoryError> {
    let published = match string(obj, "publishedAt")? {
        None => None,
        Some(s) => Some(
            date_of(s)
                .ok_or_else(|| {
                    MemoryError::invalid(
                        join(obj.path, "publishedAt"),
                        "must be an RFC 3339 date-time like 2024-10-15T08:30:00Z",
                    )
                })?
                .to_owned(),
        ),
    };
    let mut language = None;
    // The audio's language says what the audience hears; the metadata's is the fallback.
    for key in ["defaultLanguage", "defaultAudioLanguage"] {
        if let Some(tag) = string(obj, key)? {
            if !is_language(tag) {
                return Err(MemoryError::invalid(
                    join(obj.path, key),
                    "must be a BCP-47 language tag like en or en-US",
                ));
            }
            language = Some(tag.to_owned());
        }
    }
    // `none` and `completed` have their final length; the other values have none yet.
    let live = matches!(
        string(obj, "liveBroadcastContent")?,
        Some("live" | "upcoming")
    );
    Ok((published, language, live))
}

/// The frame of the first video stream, after the rotation YouTube applies for display
fn file_frame(obj: &Obj<'_>) -> Result<Option<Frame>, MemoryError> {
    let streams_path = join(obj.path, "videoStreams");
    let Some(streams) = obj.get("videoStreams") else {
        return Ok(None);
    };
    let Value::Array(streams) = streams else {
        return Err(MemoryError::invalid(streams_path, "must be an array"));
    };
    let mut frames = Vec::with_capacity(streams.len());
    for (i, stream) in streams.iter().enumerate() {
        let path = format!("{streams_path}[{i}]");
        frames.push(stream_frame(&object(stream, &path)?)?);
    }
    Ok(frames.into_iter().next().flatten())
}

fn stream_frame(obj: &Obj<'_>) -> Result<Option<Frame>, MemoryError> {
    let pixels = |key: &str| -> Result<Option<u64>, MemoryError> {
        match obj.get(key) {
            None => Ok(None),
            Some(v) => match whole_number(v) {
                Some(n) if (1..=u64::from(u32::MAX)).contains(&n) => Ok(Some(n)),
                _ => Err(MemoryError::invalid(
                    join(obj.path, key),
                    "must be a whole number of pixels from 1 to 4294967295",
                )),
            },
        }
    };
    let width = pixels("widthPixels")?;
    let height = pixels("heightPixels")?;
    let aspect = match obj.get("aspectRatio") {
        None => None,
        Some(v) => match v.as_f64() {
            Some(x) if x > 0.0 => Some(x),
            _ => {
                return Err(MemoryError::invalid(
                    join(obj.path, "aspectRatio"),
                    "must be a number above 0 (width / height)",
                ));
            }
        },
    };
    // A quarter turn swaps the displayed width and height.
    let turned = matches!(
        string(obj, "rotation")?,
        Some("clockwise" | "counterClockwise")
    );
    let upright = match (aspect, width, height) {
        (Some(ratio), _, _) => ratio <= 1.0,
        (None, Some(w), Some(h)) if turned => h <= w,
        (None, Some(w), Some(h)) => w <= h,
        _ => return Ok(None),
    };
    Ok(Some(if upright { Frame::Upright } else { Frame::Wide }))
}
