//! Retention of the memory graph: the newest renders are kept in full, older ones are folded
//! into aggregates that keep their outcome evidence, so the graph (and the object's memory and
//! load time) is bounded however long a creator renders.
//!
//! The rule, applied every time a render is recorded ([`crate::memory::record_render`]):
//!
//! - the newest [`MAX_FULL_RENDERS`] renders, with at most [`MAX_FULL_SHOTS`] shots between them,
//!   are kept in full (shot rows with prompts and embeddings, for similar-shot search; outcome
//!   rows);
//! - while either cap is exceeded the oldest render is folded (the newest one never is): per
//!   (model, shot kind, outcome target), its mean observation joins a [`FoldedOutcome`] (renders
//!   counted, means summed: exactly what [`crate::memory::build_context`]'s outcome statistics
//!   average over), and per format its count and cost join a [`FoldedFormat`]; then its render,
//!   shot and outcome rows are deleted;
//! - folded rows are bounded too: one per (model, shot kind, target) and at most
//!   [`MAX_FOLDED_FORMATS`] formats (later formats share the [`OTHER_FORMAT`] row).
//!
//! What a folded render loses: its shots no longer come up as similar shots, and outcomes reported
//! for it afterwards are refused like those of an unknown render (report outcomes within the
//! newest [`MAX_FULL_RENDERS`] renders). Its outcome evidence stays in the statistics.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::brief::{OutcomeTarget, ShotKind};
use crate::ids::{JobId, ModelId};
use crate::memory::edit::{RowChange, RowKey};
use crate::memory::graph::{FoldedFormat, FoldedOutcome, MemoryGraph, RenderOutcome};
use crate::memory::metric::observe;

/// Renders kept in full
pub const MAX_FULL_RENDERS: usize = 500;
/// Shots kept in full (about 1.5 KB each with a 256-number embedding: under 10 MB in memory)
pub const MAX_FULL_SHOTS: usize = 6_000;
/// Formats with their own folded row
pub const MAX_FOLDED_FORMATS: usize = 100;
/// The folded row shared by formats beyond [`MAX_FOLDED_FORMATS`]
pub const OTHER_FORMAT: &str = "(other formats)";

/// Every target, so a folded render's evidence serves briefs of any target
const TARGETS: [OutcomeTarget; 4] = [
    OutcomeTarget::WatchTime,
    OutcomeTarget::Conversions,
    OutcomeTarget::Impressions,
    OutcomeTarget::Signups,
];

/// What one compaction did
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Compacted {
    /// The renders folded, oldest first
    pub folded: Vec<JobId>,
    /// Rows to persist
    pub changes: Vec<RowChange>,
}

/// Folds the oldest renders until the graph is within its caps
pub fn compact(graph: &mut MemoryGraph) -> Compacted {
    let mut out = Compacted::default();
    while graph.renders.len() > 1
        && (graph.renders.len() > MAX_FULL_RENDERS || graph.shots.len() > MAX_FULL_SHOTS)
    {
        let Some(oldest) = oldest(graph) else { break };
        fold(graph, &oldest);
        out.changes
            .push(RowChange::Delete(RowKey::Render(oldest.0.clone())));
        out.changes
            .push(RowChange::Delete(RowKey::Outcome(oldest.0.clone())));
        out.folded.push(oldest);
    }
    if !out.folded.is_empty() {
        out.changes.push(RowChange::Upsert(RowKey::Folded));
    }
    out
}

/// The render that finished first (recording order breaks ties)
fn oldest(graph: &MemoryGraph) -> Option<JobId> {
    graph
        .renders
        .iter()
        .enumerate()
        .min_by_key(|(i, r)| (r.finished_at, *i))
        .map(|(_, r)| r.job.clone())
}

/// Moves one render's evidence into the aggregates and drops its rows
fn fold(graph: &mut MemoryGraph, job: &JobId) {
    let empty = RenderOutcome {
        job: job.clone(),
        views: None,
        avg_watch_s: None,
        retention_3s: None,
        clicks: None,
        conversions: None,
    };
    let render_outcome = graph.outcomes.iter().find(|o| &o.job == job).cloned();
    for target in TARGETS {
        // (model, kind) -> (sum, count) of this render's observations, as build_context sees it.
        let mut per_group: BTreeMap<(ModelId, ShotKind), (f64, u32)> = BTreeMap::new();
        for shot in graph.shots.iter().filter(|s| &s.job == job) {
            let shot_outcome = graph
                .shot_outcomes
                .iter()
                .find(|o| &o.job == job && o.shot == shot.shot);
            let render = match (&render_outcome, shot_outcome) {
                (Some(r), _) => r,
                (None, Some(_)) => &empty,
                (None, None) => continue,
            };
            let Some(value) = observe(target, render, shot_outcome).filter(|v| v.is_finite())
            else {
                continue;
            };
            let group = per_group
                .entry((shot.model.clone(), shot.kind))
                .or_insert((0.0, 0));
            group.0 += value;
            group.1 += 1;
        }
        for ((model, shot_kind), (sum, n)) in per_group {
            let mean = sum / f64::from(n.max(1));
            match graph
                .folded
                .iter_mut()
                .find(|f| f.model == model && f.shot_kind == shot_kind && f.target == target)
            {
                Some(f) => {
                    f.renders = f.renders.saturating_add(1);
                    f.sum_of_means += mean;
                }
                None => graph.folded.push(FoldedOutcome {
                    model,
                    shot_kind,
                    target,
                    renders: 1,
                    sum_of_means: mean,
                }),
            }
        }
    }
    if let Some(render) = graph.renders.iter().find(|r| &r.job == job) {
        let known = graph
            .folded_formats
            .iter()
            .any(|f| f.format == render.format);
        let format = if known || graph.folded_formats.len() < MAX_FOLDED_FORMATS {
            render.format.clone()
        } else {
            OTHER_FORMAT.to_owned()
        };
        let cost = render.cost_usd;
        match graph.folded_formats.iter_mut().find(|f| f.format == format) {
            Some(f) => {
                f.renders = f.renders.saturating_add(1);
                f.cost_usd += cost;
            }
            None => graph.folded_formats.push(FoldedFormat {
                format,
                renders: 1,
                cost_usd: cost,
            }),
        }
    }
    graph.renders.retain(|r| &r.job != job);
    graph.shots.retain(|s| &s.job != job);
    graph.outcomes.retain(|o| &o.job != job);
    graph.shot_outcomes.retain(|o| &o.job != job);
}
