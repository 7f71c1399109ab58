//! YouTube Analytics API v2 `reports.query` results: per-video watch figures and views by
//! country.
//!
//! A result table (<https://developers.google.com/youtube/analytics/reference/reports/query>;
//! discovery document `youtubeanalytics/v2/youtubeanalytics-api.json` in
//! googleapis/google-api-go-client, schemas `QueryResponse` and `ResultTableColumnHeader`) is
//!
//! ```json
//! {"kind": "youtubeAnalytics#resultTable",
//!  "columnHeaders": [{"name": "video", "columnType": "DIMENSION", "dataType": "STRING"},
//!                    {"name": "views", "columnType": "METRIC", "dataType": "INTEGER"},
//!                    {"name": "averageViewDuration", "columnType": "METRIC", "dataType": "INTEGER"},
//!                    {"name": "averageViewPercentage", "columnType": "METRIC", "dataType": "FLOAT"}],
//!  "rows": [["dQw4w9WgXcQ", 1234, 161, 63.4]]}
//! ```
//!
//! Columns are the request's dimensions then its metrics, in request order, and each row has
//! one cell per column in that order; `rows` is left out when there is no data. So columns are
//! found by name, wherever the request put them. The metrics
//! (<https://developers.google.com/youtube/analytics/metrics>): `averageViewDuration` is the
//! average length of playbacks in seconds, `averageViewPercentage` the average percentage of
//! the video watched (it can pass 100 when viewers replay a Short), `views` a count. The
//! dimensions (<https://developers.google.com/youtube/analytics/dimensions>): `video` is the
//! Data API's video id, `country` an ISO 3166-1 alpha-2 code.
//!
//! Two tables are read, both optional: `analytics.videos` (dimension `video`; metrics `views`,
//! `averageViewDuration`, `averageViewPercentage`, each optional) and `analytics.countries`
//! (dimension `country`, metric `views`, both required). Other columns are left alone. A column
//! named twice is read at its first position, and a video or country given twice keeps its
//! first row.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::read::{is_country, is_video_id, string, whole_number};
use super::youtube::VideoId;
use crate::memory::error::MemoryError;
use crate::memory::json::{Obj, join, object};

/// Most rows of the per-video table (one per video of the import)
pub const MAX_VIDEO_ROWS: usize = super::MAX_VIDEOS;
/// Most rows of the per-country table (there are 249 ISO 3166-1 codes)
pub const MAX_COUNTRY_ROWS: usize = 300;
/// Most column headers of a table
pub const MAX_COLUMNS: usize = 64;
/// Highest `averageViewPercentage` taken (replayed Shorts pass 100)
pub const MAX_VIEW_PERCENTAGE: f64 = 1_000.0;
/// Longest `averageViewDuration` taken, seconds (a week)
pub const MAX_VIEW_DURATION_S: f64 = 604_800.0;

/// The watch figures of one video
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct VideoMetrics {
    /// `views` in the report's period
    pub views: Option<u64>,
    /// `averageViewDuration`, seconds
    pub avg_view_duration_s: Option<f64>,
    /// `averageViewPercentage`, percent
    pub avg_view_percentage: Option<f64>,
}

/// What the reports say
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Analytics {
    /// Watch figures by video
    pub videos: BTreeMap<VideoId, VideoMetrics>,
    /// Views by country code, in report order
    pub countries: Vec<(String, u64)>,
}

/// Reads the body's `analytics` object
pub(super) fn analytics(value: &Value, path: &str) -> Result<Analytics, MemoryError> {
    let obj = object(value, path)?;
    obj.only(&["videos", "countries"])?;
    let mut out = Analytics::default();
    let videos_path = join(path, "videos");
    if let Some(v) = obj.get("videos") {
        out.videos = video_table(&Table::read(v, &videos_path, "video", &[], MAX_VIDEO_ROWS)?)?;
    }
    let countries_path = join(path, "countries");
    if let Some(v) = obj.get("countries") {
        let table = Table::read(v, &countries_path, "country", &["views"], MAX_COUNTRY_ROWS)?;
        out.countries = country_table(&table)?;
    }
    Ok(out)
}

/// A result table whose rows have been checked to have one cell per column
struct Table<'a> {
    path: &'a str,
    /// First position of each column name
    columns: BTreeMap<&'a str, usize>,
    rows: Vec<&'a [Value]>,
}

impl<'a> Table<'a> {
    fn read(
        value: &'a Value,
        path: &'a str,
        dimension: &str,
        metrics: &[&str],
        max_rows: usize,
    ) -> Result<Self, MemoryError> {
        let obj = object(value, path)?;
        if string(&obj, "kind")?.is_some_and(|kind| kind != "youtubeAnalytics#resultTable") {
            return Err(MemoryError::invalid(
                join(path, "kind"),
                "must be youtubeAnalytics#resultTable (a reports.query result)",
            ));
        }
        let columns = headers(&obj)?;
        let headers_path = join(path, "columnHeaders");
        for name in std::iter::once(&dimension).chain(metrics) {
            if !columns.names.contains_key(name) {
                return Err(MemoryError::invalid(
                    &headers_path,
                    format!("must include the `{name}` column"),
                ));
            }
        }
        let rows_path = join(path, "rows");
        let rows = match obj.get("rows") {
            None => Vec::new(),
            Some(Value::Array(rows)) if rows.len() > max_rows => {
                return Err(MemoryError::invalid(
                    rows_path,
                    format!("at most {max_rows} rows"),
                ));
            }
            Some(Value::Array(rows)) => {
                let mut out = Vec::with_capacity(rows.len());
                for (i, row) in rows.iter().enumerate() {
                    match row {
                        Value::Array(cells) if cells.len() == columns.count => out.push(&cells[..]),
                        _ => {
                            return Err(MemoryError::invalid(
                                format!("{rows_path}[{i}]"),
                                format!(
                                    "must be an array of {} cells, one per column header",
                                    columns.count
                                ),
                            ));
                        }
                    }
                }
                out
            }
            Some(_) => return Err(MemoryError::invalid(rows_path, "must be an array")),
        };
        Ok(Self {
            path,
            columns: columns.names,
            rows,
        })
    }

    /// The cell of `column` in row `i`, with its path; `None` when the table has no such column
    fn cell(&self, i: usize, column: &str) -> Option<(&'a Value, String)> {
        let at = *self.columns.get(column)?;
        let cell = self.rows.get(i)?.get(at)?;
        Some((cell, format!("{}.rows[{i}][{at}]", self.path)))
    }
}

struct Headers<'a> {
    names: BTreeMap<&'a str, usize>,
    count: usize,
}

fn headers<'a>(obj: &Obj<'a>) -> Result<Headers<'a>, MemoryError> {
    let path = join(obj.path, "columnHeaders");
    let Some(value) = obj.get("columnHeaders") else {
        return Err(MemoryError::invalid(path, "missing required field"));
    };
    let Value::Array(items) = value else {
        return Err(MemoryError::invalid(path, "must be an array"));
    };
    if items.is_empty() || items.len() > MAX_COLUMNS {
        return Err(MemoryError::invalid(
            path,
            format!("must hold 1 to {MAX_COLUMNS} column headers"),
        ));
    }
    let mut names = BTreeMap::new();
    for (i, item) in items.iter().enumerate() {
        let item_path = format!("{path}[{i}]");
        let Value::Object(header) = item else {
            return Err(MemoryError::invalid(item_path, "must be an object"));
        };
        let name = match header.get("name") {
            Some(Value::String(name)) => name.as_str(),
            None | Some(Value::Null) => {
                return Err(MemoryError::invalid(
                    join(&item_path, "name"),
                    "missing required field",
                ));
            }
            Some(_) => {
                return Err(MemoryError::invalid(
                    join(&item_path, "name"),
                    "must be a string",
                ));
            }
        };
        names.entry(name).or_insert(i);
    }
    Ok(Headers {
        names,
        count: items.len(),
    })
}

fn video_table(table: &Table<'_>) -> Result<BTreeMap<VideoId, VideoMetrics>, MemoryError> {
    let mut out = BTreeMap::new();
    for i in 0..table.rows.len() {
        let Some((cell, path)) = table.cell(i, "video") else {
            continue;
        };
        let id = match cell.as_str() {
            Some(id) if is_video_id(id) => VideoId(id.to_owned()),
            _ => {
                return Err(MemoryError::invalid(
                    path,
                    "must be a YouTube video id: 11 letters, digits, '-' or '_'",
                ));
            }
        };
        let metrics = VideoMetrics {
            views: views(table, i)?,
            avg_view_duration_s: number(table, i, "averageViewDuration", MAX_VIEW_DURATION_S)?,
            avg_view_percentage: number(table, i, "averageViewPercentage", MAX_VIEW_PERCENTAGE)?,
        };
        out.entry(id).or_insert(metrics);
    }
    Ok(out)
}

fn country_table(table: &Table<'_>) -> Result<Vec<(String, u64)>, MemoryError> {
    let mut out: Vec<(String, u64)> = Vec::new();
    for i in 0..table.rows.len() {
        let Some((cell, path)) = table.cell(i, "country") else {
            continue;
        };
        let code = match cell.as_str() {
            Some(code) if is_country(code) => code.to_owned(),
            _ => {
                return Err(MemoryError::invalid(
                    path,
                    "must be an ISO 3166-1 alpha-2 country code like DE",
                ));
            }
        };
        let views = views(table, i)?.unwrap_or(0);
        if !out.iter().any(|(c, _)| *c == code) {
            out.push((code, views));
        }
    }
    Ok(out)
}

/// The row's `views`, when the table has the column
fn views(table: &Table<'_>, i: usize) -> Result<Option<u64>, MemoryError> {
    let Some((cell, path)) = table.cell(i, "views") else {
        return Ok(None);
    };
    whole_number(cell).map(Some).ok_or_else(|| {
        MemoryError::invalid(path, "views must be a whole number from 0 to 2^53 - 1")
    })
}

/// The row's metric `column` in `0..=max`, when the table has the column
fn number(table: &Table<'_>, i: usize, column: &str, max: f64) -> Result<Option<f64>, MemoryError> {
    let Some((cell, path)) = table.cell(i, column) else {
        return Ok(None);
    };
    match cell.as_f64() {
        Some(x) if (0.0..=max).contains(&x) => Ok(Some(x)),
        _ => Err(MemoryError::invalid(
            path,
            format!("{column} must be a number from 0 to {max}"),
        )),
    }
}
