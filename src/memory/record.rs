//! Writing a finished render into the graph, exactly once per job.
//!
//! The job machine emits the memory write as an effect, and effects are re-issued after a crash,
//! so the same render may arrive twice: the job id is the idempotency key. A second recording of
//! a job changes nothing (even if its body differs: the first write wins, as a finished render
//! does not change).

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::brief::{OutcomeTarget, ShotKind};
use crate::ids::{JobId, ModelId, ShotId};
use crate::memory::compact::compact;
use crate::memory::edit::{RowChange, RowKey};
use crate::memory::embed::Embedder;
use crate::memory::error::MemoryError;
use crate::memory::graph::{Embedding, MemoryGraph, RenderRow, ShotRow};
use crate::time::Timestamp;

/// A finished render as the job machine reports it
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FinishedRender {
    /// The job
    pub job: JobId,
    /// The brief's format
    pub format: String,
    /// The brief's target
    pub outcome_target: OutcomeTarget,
    /// What it cost, USD
    pub cost_usd: f64,
    /// When it finished
    pub finished_at: Timestamp,
    /// Its shots, in edit order
    pub shots: Vec<FinishedShot>,
}

impl FinishedRender {
    /// The texts [`record_render`] will embed: a shell whose embedder is remote (Workers AI)
    /// embeds these first and passes them in a [`crate::memory::Precomputed`]
    pub fn prompts(&self) -> Vec<&str> {
        self.shots.iter().map(|s| s.prompt.as_str()).collect()
    }
}

/// One shot of a finished render
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FinishedShot {
    /// The shot's id in its brief
    pub shot: ShotId,
    /// Its kind
    pub kind: ShotKind,
    /// The model that made its motion
    pub model: ModelId,
    /// Its prompt
    pub prompt: String,
    /// Length, seconds
    pub duration_s: f64,
    /// Whether it was a hero shot
    #[serde(default)]
    pub hero: bool,
    /// Cast ids in the shot
    #[serde(default)]
    pub cast: Vec<String>,
}

/// What recording a render did
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum RenderRecorded {
    /// The render is new; these rows were written
    Recorded {
        /// Shots written
        shots: usize,
        /// Rows to persist
        changes: Vec<RowChange>,
    },
    /// The job was recorded before; nothing changed
    AlreadyRecorded,
}

/// Records a finished render and its shots (with their prompts' embeddings)
///
/// # Errors
///
/// [`MemoryError::Invalid`] for an empty job id, duplicate shot ids, or a cost or duration that
/// is negative or not finite; nothing is written then.
pub fn record_render(
    graph: &mut MemoryGraph,
    render: &FinishedRender,
    embedder: &dyn Embedder,
) -> Result<RenderRecorded, MemoryError> {
    if graph.render(&render.job).is_some() {
        return Ok(RenderRecorded::AlreadyRecorded);
    }
    validate(render)?;
    graph.renders.push(RenderRow {
        job: render.job.clone(),
        format: render.format.clone(),
        outcome_target: render.outcome_target,
        cost_usd: render.cost_usd,
        finished_at: render.finished_at,
    });
    graph.shots.extend(render.shots.iter().map(|s| ShotRow {
        job: render.job.clone(),
        shot: s.shot.clone(),
        kind: s.kind,
        model: s.model.clone(),
        prompt: s.prompt.clone(),
        duration_s: s.duration_s,
        hero: s.hero,
        cast: s.cast.clone(),
        embedding: embedder.embed(&s.prompt).map(|vector| Embedding {
            model: embedder.id().to_owned(),
            vector,
        }),
    }));
    // Retention: the oldest renders beyond the caps are folded into aggregates (see `compact`).
    let mut changes = vec![RowChange::Upsert(RowKey::Render(render.job.0.clone()))];
    changes.extend(compact(graph).changes);
    Ok(RenderRecorded::Recorded {
        shots: render.shots.len(),
        changes,
    })
}

fn validate(render: &FinishedRender) -> Result<(), MemoryError> {
    if render.job.as_str().trim().is_empty() {
        return Err(MemoryError::invalid("job", "must not be empty"));
    }
    if !(render.cost_usd.is_finite() && render.cost_usd >= 0.0) {
        return Err(MemoryError::invalid(
            "cost_usd",
            "must be a non-negative number",
        ));
    }
    let mut seen = BTreeSet::new();
    for (i, shot) in render.shots.iter().enumerate() {
        if !seen.insert(&shot.shot) {
            return Err(MemoryError::invalid(
                format!("shots[{i}].shot"),
                "duplicate shot id",
            ));
        }
        if !(shot.duration_s.is_finite() && shot.duration_s >= 0.0) {
            return Err(MemoryError::invalid(
                format!("shots[{i}].duration_s"),
                "must be a non-negative number",
            ));
        }
    }
    Ok(())
}
