//! The Channel Analyzer import: a creator's YouTube history builds the first Memory Graph on
//! signup (`POST /v1/memory/import`).
//!
//! The body is what the creator's app already has from Google, unchanged:
//!
//! - a YouTube Data API v3 `videos.list` response (`part=snippet,contentDetails,statistics`,
//!   optionally `fileDetails` for the owner), pages merged into one `items` list
//!   (<https://developers.google.com/youtube/v3/docs/videos/list>; the resource is described in
//!   [`youtube`]);
//! - optionally `analytics`: YouTube Analytics API v2 `reports.query` results, `videos`
//!   (`dimensions=video&metrics=views,averageViewDuration,averageViewPercentage`) and
//!   `countries` (`dimensions=country&metrics=views`) (see [`analytics`]);
//! - optionally `format`: the creator's format name for every video of this import (a series
//!   imported on its own); without it each video is `shorts` or `long_form`.
//!
//! ```json
//! {"kind": "youtube#videoListResponse", "items": [{"id": "dQw4w9WgXcQ",
//!   "snippet": {"publishedAt": "2024-11-02T17:00:00Z", "defaultAudioLanguage": "en"},
//!   "contentDetails": {"duration": "PT4M13S"}, "statistics": {"viewCount": "1234"}}],
//!  "analytics": {"countries": {"columnHeaders": [{"name": "country"}, {"name": "views"}],
//!                              "rows": [["US", 800], ["DE", 200]]}}}
//! ```
//!
//! The pure pipeline, deterministic for a given body:
//!
//! | step | function | what |
//! |---|---|---|
//! | parse | [`parse_history`] | every field read is checked; a refusal names its path (`items[3].contentDetails.duration`); at most [`MAX_VIDEOS`] videos, counted before the rest is parsed |
//! | learn | [`analyze`] | each video's format ([`youtube`] frame and length: YouTube's Shorts rule), per format the mean length, views, engagement, Analytics watch figures and an **assumed** pacing ([`analyze::ASSUMED_PACING`]: YouTube reports no cuts); the audience's platform, regions and language |
//! | merge | [`apply_import`] | format DNA and audience rows the creator did not set by hand, and the `channel` priors; never overwrites a hand-set value ([`merge`] has the rule) |
//!
//! The Worker runs the first two (the body can be megabytes; the graph object gets the small
//! [`ChannelImport`]), the creator's `MemoryGraph` object the third. Importing the same history
//! again changes nothing (`"changed": false`).

pub mod analytics;
pub mod analyze;
pub mod history;
pub mod iso8601;
pub mod merge;
mod read;
pub mod schema;
pub mod youtube;

pub use analyze::{ChannelImport, Skipped, analyze};
pub use history::{ChannelHistory, parse_history};
pub use iso8601::{Iso8601Error, parse_duration};
pub use merge::{ImportApplied, Kept, apply_import};

use crate::memory::error::MemoryError;

/// Most videos one import reads
pub const MAX_VIDEOS: usize = 5_000;
/// Largest import body the API reads, bytes: 5,000 videos of a full `videos.list` response
/// with descriptions are about this much; ask only for the parts read (`fields=`) to send less
pub const MAX_IMPORT_BYTES: usize = 8 * 1024 * 1024;

/// Parses an import body and learns from it
///
/// # Errors
///
/// As [`parse_history`].
pub fn parse_import(body: &str) -> Result<ChannelImport, MemoryError> {
    parse_history(body).map(|history| analyze(&history))
}
