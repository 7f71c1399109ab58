//! Outcome reports for a render: validated, then merged into its outcome rows.
//!
//! Body (every field but `shot_id` optional):
//!
//! ```json
//! {"views": 12000, "avg_watch_s": 31.5, "retention_3s": 0.71, "clicks": 420, "conversions": 37,
//!  "shots": [{"shot_id": "s01", "retention_3s": 0.82, "conversions": 5}]}
//! ```
//!
//! Platforms report the same video again as numbers grow, so a report *updates*: a field present
//! replaces the stored value, an absent (or `null`) field keeps it. Reporting the same numbers
//! twice changes nothing and says so.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::ids::{JobId, ShotId};
use crate::memory::edit::{RowChange, RowKey};
use crate::memory::error::MemoryError;
use crate::memory::graph::{MemoryGraph, RenderOutcome, ShotOutcome};
use crate::memory::json::{self, Obj, object, text};

/// Most per-shot entries in one report: one per shot of the largest brief
pub const MAX_SHOT_OUTCOMES: usize = crate::brief::limits::MAX_SHOTS;
/// Longest plausible mean watch time, seconds (a day)
pub const MAX_AVG_WATCH_S: f64 = 86_400.0;

/// A validated outcome report
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct OutcomeReport {
    /// Views
    pub views: Option<u64>,
    /// Mean watch time, seconds
    pub avg_watch_s: Option<f64>,
    /// Share still watching at 3 s
    pub retention_3s: Option<f64>,
    /// Clicks
    pub clicks: Option<u64>,
    /// Conversions
    pub conversions: Option<u64>,
    /// Per-shot figures
    pub shots: Vec<ShotReport>,
}

/// Per-shot figures of a report
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShotReport {
    /// The shot
    pub shot_id: ShotId,
    /// Share still watching 3 s into the shot
    pub retention_3s: Option<f64>,
    /// Conversions attributed to it
    pub conversions: Option<u64>,
}

/// What recording a report did
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum OutcomesRecorded {
    /// Figures changed; these rows were written
    Updated {
        /// Rows to persist
        changes: Vec<RowChange>,
    },
    /// The report held nothing new
    Unchanged,
}

/// Parses and validates an outcome report body
///
/// # Errors
///
/// [`MemoryError::Malformed`] when it is not JSON, [`MemoryError::Invalid`] naming the first
/// offending field otherwise (`retention_3s`, `shots[2].shot_id`).
pub fn parse_outcomes(body: &str) -> Result<OutcomeReport, MemoryError> {
    let map = json::parse_object(body)?;
    let top = Obj {
        map: &map,
        path: "",
    };
    top.only(&[
        "views",
        "avg_watch_s",
        "retention_3s",
        "clicks",
        "conversions",
        "shots",
    ])?;
    let mut report = OutcomeReport {
        views: top.count("views")?,
        avg_watch_s: top.number("avg_watch_s", 0.0, MAX_AVG_WATCH_S)?,
        retention_3s: top.number("retention_3s", 0.0, 1.0)?,
        clicks: top.count("clicks")?,
        conversions: top.count("conversions")?,
        shots: Vec::new(),
    };
    if let Some(v) = top.get("shots") {
        let serde_json::Value::Array(items) = v else {
            return Err(MemoryError::invalid("shots", "must be an array"));
        };
        if items.len() > MAX_SHOT_OUTCOMES {
            return Err(MemoryError::invalid(
                "shots",
                format!("at most {MAX_SHOT_OUTCOMES} items"),
            ));
        }
        let mut seen = BTreeSet::new();
        for (i, item) in items.iter().enumerate() {
            let path = format!("shots[{i}]");
            let obj = object(item, &path)?;
            obj.only(&["shot_id", "retention_3s", "conversions"])?;
            let id_path = format!("{path}.shot_id");
            let shot_id = obj
                .get("shot_id")
                .ok_or_else(|| MemoryError::invalid(&id_path, "missing required field"))
                .and_then(|v| text(v, &id_path, 64))?;
            if !seen.insert(shot_id.clone()) {
                return Err(MemoryError::invalid(id_path, "duplicate shot id"));
            }
            report.shots.push(ShotReport {
                shot_id: ShotId(shot_id),
                retention_3s: obj.number("retention_3s", 0.0, 1.0)?,
                conversions: obj.count("conversions")?,
            });
        }
    }
    Ok(report)
}

/// Merges a report into the outcomes of a recorded render
///
/// # Errors
///
/// [`MemoryError::UnknownRender`] when the job was never recorded, [`MemoryError::Invalid`]
/// naming `shots[i].shot_id` when the render has no such shot; nothing is written then.
pub fn record_outcomes(
    graph: &mut MemoryGraph,
    job: &JobId,
    report: &OutcomeReport,
) -> Result<OutcomesRecorded, MemoryError> {
    if graph.render(job).is_none() {
        return Err(MemoryError::UnknownRender { job: job.clone() });
    }
    let shots: BTreeSet<&ShotId> = graph
        .shots
        .iter()
        .filter(|row| &row.job == job)
        .map(|row| &row.shot)
        .collect();
    for (i, s) in report.shots.iter().enumerate() {
        if !shots.contains(&s.shot_id) {
            return Err(MemoryError::invalid(
                format!("shots[{i}].shot_id"),
                format!("render {job} has no shot {}", s.shot_id),
            ));
        }
    }

    let mut changed = merge_render(graph, job, report);
    for s in &report.shots {
        changed |= merge_shot(graph, job, s);
    }
    Ok(if changed {
        OutcomesRecorded::Updated {
            changes: vec![RowChange::Upsert(RowKey::Outcome(job.0.clone()))],
        }
    } else {
        OutcomesRecorded::Unchanged
    })
}

fn merge_render(graph: &mut MemoryGraph, job: &JobId, r: &OutcomeReport) -> bool {
    let i = match graph.outcomes.iter().position(|o| &o.job == job) {
        Some(i) => i,
        None => {
            graph.outcomes.push(RenderOutcome {
                job: job.clone(),
                views: None,
                avg_watch_s: None,
                retention_3s: None,
                clicks: None,
                conversions: None,
            });
            graph.outcomes.len() - 1
        }
    };
    let Some(row) = graph.outcomes.get_mut(i) else {
        return false;
    };
    let before = row.clone();
    row.views = r.views.or(row.views);
    row.avg_watch_s = r.avg_watch_s.or(row.avg_watch_s);
    row.retention_3s = r.retention_3s.or(row.retention_3s);
    row.clicks = r.clicks.or(row.clicks);
    row.conversions = r.conversions.or(row.conversions);
    let changed = *row != before;
    // A report with no render-level figures on a render that had none leaves no empty row behind.
    let empty = row.views.is_none()
        && row.avg_watch_s.is_none()
        && row.retention_3s.is_none()
        && row.clicks.is_none()
        && row.conversions.is_none();
    if empty {
        graph.outcomes.retain(|o| &o.job != job);
    }
    changed
}

fn merge_shot(graph: &mut MemoryGraph, job: &JobId, s: &ShotReport) -> bool {
    if s.retention_3s.is_none() && s.conversions.is_none() {
        return false;
    }
    match graph
        .shot_outcomes
        .iter_mut()
        .find(|o| &o.job == job && o.shot == s.shot_id)
    {
        Some(row) => {
            let before = row.clone();
            row.retention_3s = s.retention_3s.or(row.retention_3s);
            row.conversions = s.conversions.or(row.conversions);
            *row != before
        }
        None => {
            graph.shot_outcomes.push(ShotOutcome {
                job: job.clone(),
                shot: s.shot_id.clone(),
                retention_3s: s.retention_3s,
                conversions: s.conversions,
            });
            true
        }
    }
}
