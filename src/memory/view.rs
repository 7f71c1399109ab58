//! What a memory graph and its context show, and to whom.
//!
//! The creator never names or sees a model: Ra chooses them. So the answers of `GET` and
//! `PUT /v1/memory` and `POST /v1/memory/context` ([`Audience::Creator`]) leave out every model
//! id: the generation model of each past shot and of each similar shot, the per-model outcome and
//! click-through statistics (Ra's working evidence), and the embedders' names. Folded outcome
//! evidence is summed over models, so the creator still sees what their folded renders earned per
//! shot kind. Support staff ([`Audience::Support`], `/v1/support/creators/{creator}/memory`) and the
//! render jobs themselves see everything.
//!
//! The views borrow the graph and skip fields rather than copying it, so the creator's view costs
//! what the full one does.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::brief::{OutcomeTarget, ShotKind};
use crate::ids::{CreatorId, JobId, ModelId, ShotId};
use crate::memory::context::PacingEvidence;
use crate::memory::context::{CastLook, MemoryContext, RelatedRow, SimilarShots};
use crate::memory::graph::ChannelPriors;
use crate::memory::graph::GraphRow;
use crate::memory::graph::{
    AudienceSignal, FoldedFormat, FoldedOutcome, FormatDna, Look, MemoryGraph, RenderOutcome,
    RenderRow, ShotOutcome, VisualFingerprint, Voice,
};
use crate::memory::voice_cast::Casting;

/// Who reads a graph or a context
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// The creator's app: no model is named
    Creator,
    /// Support staff and the render jobs: everything
    Support,
}

impl Audience {
    /// Parses the `audience` a graph object's caller names (`creator` or `support`)
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "creator" => Some(Self::Creator),
            "support" => Some(Self::Support),
            _ => None,
        }
    }

    /// Its name, as [`Audience::parse`] reads it
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Creator => "creator",
            Self::Support => "support",
        }
    }

    /// `value` when this audience may see models
    fn model<T>(self, value: T) -> Option<T> {
        match self {
            Self::Creator => None,
            Self::Support => Some(value),
        }
    }
}

/// The graph as it is shown: the embeddings' models, not their numbers
#[derive(Debug, Serialize)]
pub struct GraphView<'a> {
    creator: &'a CreatorId,
    voices: &'a [Voice],
    looks: &'a [Look],
    fingerprint: Option<&'a VisualFingerprint>,
    formats: &'a [FormatDna],
    audience: Option<&'a AudienceSignal>,
    renders: &'a [RenderRow],
    shots: Vec<ShotView<'a>>,
    outcomes: &'a [RenderOutcome],
    shot_outcomes: &'a [ShotOutcome],
    /// Outcome evidence of renders folded out of the full rows (summed over models for the
    /// creator)
    folded: Vec<FoldedView<'a>>,
    folded_formats: &'a [FoldedFormat],
    /// What channel imports learned
    channel: Option<&'a ChannelPriors>,
    /// The rows embedded beside shot prompts, with the text each vector was made from
    row_embeddings: Vec<RowEmbeddingView<'a>>,
}

/// A past shot as it is shown
#[derive(Debug, Serialize)]
struct ShotView<'a> {
    job: &'a JobId,
    shot: &'a ShotId,
    kind: ShotKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    model: Option<&'a ModelId>,
    prompt: &'a str,
    duration_s: f64,
    hero: bool,
    cast: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    embedding_model: Option<&'a str>,
}

/// Folded outcome evidence of one (model, shot kind, target), or of one (shot kind, target)
/// over every model
#[derive(Debug, Serialize)]
struct FoldedView<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    model: Option<&'a ModelId>,
    shot_kind: ShotKind,
    target: OutcomeTarget,
    renders: u32,
    sum_of_means: f64,
}

/// A row embedding as it is shown: its row and text, not its numbers
#[derive(Debug, Serialize)]
struct RowEmbeddingView<'a> {
    row: &'a GraphRow,
    text: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    embedding_model: Option<&'a str>,
}

impl<'a> GraphView<'a> {
    /// The graph `g` as `audience` sees it
    pub fn of(g: &'a MemoryGraph, audience: Audience) -> Self {
        Self {
            creator: &g.creator,
            voices: &g.voices,
            looks: &g.looks,
            fingerprint: g.fingerprint.as_ref(),
            formats: &g.formats,
            audience: g.audience.as_ref(),
            renders: &g.renders,
            shots: g
                .shots
                .iter()
                .map(|s| ShotView {
                    job: &s.job,
                    shot: &s.shot,
                    kind: s.kind,
                    model: audience.model(&s.model),
                    prompt: &s.prompt,
                    duration_s: s.duration_s,
                    hero: s.hero,
                    cast: &s.cast,
                    embedding_model: s
                        .embedding
                        .as_ref()
                        .and_then(|e| audience.model(e.model.as_str())),
                })
                .collect(),
            outcomes: &g.outcomes,
            shot_outcomes: &g.shot_outcomes,
            folded: folded(&g.folded, audience),
            folded_formats: &g.folded_formats,
            channel: g.channel.as_ref(),
            row_embeddings: g
                .row_embeddings
                .iter()
                .map(|e| RowEmbeddingView {
                    row: &e.row,
                    text: &e.text,
                    embedding_model: audience.model(e.embedding.model.as_str()),
                })
                .collect(),
        }
    }
}

/// Folded evidence per model for support; per (shot kind, target), summed over models, for the
/// creator. `sum_of_means` sums per-render means, so sums over models stay sums of such means
fn folded(rows: &[FoldedOutcome], audience: Audience) -> Vec<FoldedView<'_>> {
    match audience {
        Audience::Support => rows
            .iter()
            .map(|f| FoldedView {
                model: Some(&f.model),
                shot_kind: f.shot_kind,
                target: f.target,
                renders: f.renders,
                sum_of_means: f.sum_of_means,
            })
            .collect(),
        Audience::Creator => {
            // A handful of (kind, target) pairs: a list in first-seen order is enough.
            let mut sums: Vec<FoldedView<'_>> = Vec::new();
            for f in rows {
                match sums
                    .iter_mut()
                    .find(|s| s.shot_kind == f.shot_kind && s.target == f.target)
                {
                    Some(sum) => {
                        sum.renders = sum.renders.saturating_add(f.renders);
                        sum.sum_of_means += f.sum_of_means;
                    }
                    None => sums.push(FoldedView {
                        model: None,
                        shot_kind: f.shot_kind,
                        target: f.target,
                        renders: f.renders,
                        sum_of_means: f.sum_of_means,
                    }),
                }
            }
            sums
        }
    }
}

/// A brief's memory context as the creator sees it: what shapes the render (voices, looks,
/// fingerprint, format DNA, audience, similar past shots, pacing evidence, related rows), without
/// the models, and without Ra's per-model statistics
#[derive(Debug, Serialize)]
pub struct CreatorContext<'a> {
    voices: &'a BTreeMap<String, String>,
    looks: &'a BTreeMap<String, CastLook>,
    fingerprint: Option<&'a VisualFingerprint>,
    format_dna: Option<&'a FormatDna>,
    audience: Option<&'a AudienceSignal>,
    similar: Vec<CreatorSimilarShots<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cta_shot: Option<&'a ShotId>,
    pacing_evidence: Option<&'a PacingEvidence>,
    related_rows: &'a [RelatedRow],
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    shot_references: &'a BTreeMap<ShotId, usize>,
    #[serde(skip_serializing_if = "<[Casting]>::is_empty")]
    casting: &'a [Casting],
}

/// A brief's shot and its nearest past shots, without their models
#[derive(Debug, Serialize)]
struct CreatorSimilarShots<'a> {
    shot: &'a ShotId,
    matches: Vec<CreatorSimilarShot<'a>>,
}

/// A similar past shot, without its model
#[derive(Debug, Serialize)]
struct CreatorSimilarShot<'a> {
    job: &'a JobId,
    shot: &'a ShotId,
    kind: ShotKind,
    similarity: f64,
    outcome: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    click_through: Option<f64>,
    render_similarity: Option<f64>,
}

impl<'a> CreatorContext<'a> {
    /// What the creator sees of `c`
    pub fn of(c: &'a MemoryContext) -> Self {
        Self {
            voices: &c.voices,
            looks: &c.looks,
            fingerprint: c.fingerprint.as_ref(),
            format_dna: c.format_dna.as_ref(),
            audience: c.audience.as_ref(),
            similar: c.similar.iter().map(CreatorSimilarShots::of).collect(),
            cta_shot: c.cta_shot.as_ref(),
            pacing_evidence: c.pacing_evidence.as_ref(),
            related_rows: &c.related_rows,
            shot_references: &c.shot_references,
            casting: &c.casting,
        }
    }
}

impl<'a> CreatorSimilarShots<'a> {
    fn of(s: &'a SimilarShots) -> Self {
        Self {
            shot: &s.shot,
            matches: s
                .matches
                .iter()
                .map(|m| CreatorSimilarShot {
                    job: &m.job,
                    shot: &m.shot,
                    kind: m.kind,
                    similarity: m.similarity,
                    outcome: m.outcome,
                    click_through: m.click_through,
                    render_similarity: m.render_similarity,
                })
                .collect(),
        }
    }
}
