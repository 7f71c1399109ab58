//! The JSON Schema of the import body for the OpenAPI document, built from the parsers' own
//! patterns and limits so the two say the same thing. Objects of Google's shapes stay open
//! (the parsers skip fields they do not read); `analytics` is ours and closed. `null` is
//! "absent" for every optional field, as the parsers read it.

use serde_json::{Value, json};

use super::MAX_VIDEOS;
use super::analytics::{
    MAX_COLUMNS, MAX_COUNTRY_ROWS, MAX_VIDEO_ROWS, MAX_VIEW_DURATION_S, MAX_VIEW_PERCENTAGE,
};
use super::iso8601::DURATION_PATTERN;
use super::read::{
    COUNT_PATTERN, COUNTRY_PATTERN, DATE_TIME_PATTERN, LANGUAGE_PATTERN, VIDEO_ID_PATTERN,
};

/// `json::ident`: 1 to 64 of `A-Z a-z 0-9 _ -`
const IDENT: &str = r"^[A-Za-z0-9_-]{1,64}(?![\s\S])";

fn nullable_pattern(pattern: &str) -> Value {
    json!({ "type": ["string", "null"], "pattern": pattern })
}

fn video() -> Value {
    let count = nullable_pattern(COUNT_PATTERN);
    let pixels = json!({ "type": ["integer", "null"], "minimum": 1, "maximum": u32::MAX });
    json!({
        "type": "object",
        "required": ["id", "contentDetails"],
        "description": "A video resource of videos.list, as the Data API sends it; fields not listed here are not read",
        "properties": {
            "kind": { "enum": ["youtube#video", null] },
            "id": { "type": "string", "pattern": VIDEO_ID_PATTERN },
            "snippet": { "type": ["object", "null"], "properties": {
                "publishedAt": nullable_pattern(DATE_TIME_PATTERN),
                "defaultLanguage": nullable_pattern(LANGUAGE_PATTERN),
                "defaultAudioLanguage": nullable_pattern(LANGUAGE_PATTERN),
                "liveBroadcastContent": { "type": ["string", "null"], "description": "`live` and `upcoming` broadcasts are skipped (no length yet)" },
            }},
            "contentDetails": { "type": "object", "required": ["duration"], "properties": {
                "duration": { "type": "string", "pattern": DURATION_PATTERN, "description": "ISO 8601 duration, e.g. PT4M13S, P1DT2H, PT1.5S (no years or months)" },
            }},
            "statistics": { "type": ["object", "null"], "properties": {
                "viewCount": count.clone(), "likeCount": count.clone(), "commentCount": count,
            }},
            "fileDetails": { "type": ["object", "null"], "properties": {
                "videoStreams": { "type": ["array", "null"], "items": {
                    "type": "object",
                    "properties": {
                        "widthPixels": pixels.clone(),
                        "heightPixels": pixels,
                        "aspectRatio": { "type": ["number", "null"], "exclusiveMinimum": 0 },
                        "rotation": { "type": ["string", "null"] },
                    }
                }},
            }},
        }
    })
}

/// A `reports.query` result that must have the columns `required`
fn table(required: &[&str], max_rows: usize, cells: &str) -> Value {
    let contains: Vec<Value> = required
        .iter()
        .map(|name| json!({ "contains": { "type": "object", "required": ["name"], "properties": { "name": { "const": name } } } }))
        .collect();
    json!({
        "type": ["object", "null"],
        "required": ["columnHeaders"],
        "description": format!("A reports.query result. Beyond this schema: every row has exactly one cell per column header, in header order; {cells}. A column named twice is read at its first position."),
        "properties": {
            "kind": { "enum": ["youtubeAnalytics#resultTable", null] },
            "columnHeaders": {
                "type": "array", "minItems": 1, "maxItems": MAX_COLUMNS,
                "items": { "type": "object", "required": ["name"], "properties": { "name": { "type": "string" } } },
                "allOf": contains,
            },
            "rows": { "type": ["array", "null"], "maxItems": max_rows, "items": { "type": "array" } },
        }
    })
}

/// The body of `POST /v1/memory/import`
pub fn request_schema() -> Value {
    let views = "a `views` cell is a whole number from 0 to 2^53 - 1";
    json!({
        "type": "object",
        "required": ["kind", "items"],
        "description": format!(
            "A YouTube Data API v3 videos.list response (its `items`: 1 to {MAX_VIDEOS} videos, pages merged into one list; a video given twice is read once), optionally with `format` (every video of this import is of that format; else each is `shorts` or `long_form` by length and frame) and `analytics` (YouTube Analytics v2 reports.query results). Fields of Google's objects that are not listed are not read. The body may be up to {} MiB.",
            super::MAX_IMPORT_BYTES / (1024 * 1024)
        ),
        "properties": {
            "kind": { "const": "youtube#videoListResponse" },
            "items": { "type": "array", "minItems": 1, "maxItems": MAX_VIDEOS, "items": video() },
            "format": { "type": ["string", "null"], "pattern": IDENT },
            "analytics": {
                "type": ["object", "null"],
                "additionalProperties": false,
                "properties": {
                    "videos": table(&["video"], MAX_VIDEO_ROWS, &format!(
                        "the `video` cell is a video id (`{VIDEO_ID_PATTERN}`), {views}, `averageViewDuration` a number from 0 to {MAX_VIEW_DURATION_S} (seconds), `averageViewPercentage` a number from 0 to {MAX_VIEW_PERCENTAGE}"
                    )),
                    "countries": table(&["country", "views"], MAX_COUNTRY_ROWS, &format!(
                        "the `country` cell is an ISO 3166-1 alpha-2 code (`{COUNTRY_PATTERN}`), {views}"
                    )),
                }
            },
        }
    })
}
