//! The context a render job asks its creator's memory graph for.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::brief::{OutcomeTarget, ShotKind};
use crate::ids::{JobId, ModelId, ShotId};
use crate::memory::graph::GraphRow;
use crate::memory::graph::{AudienceSignal, FormatDna, VisualFingerprint};
use crate::memory::voice_cast::Casting;

/// How much of this format's videos the creator's audience watches
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PacingEvidence {
    /// The format
    pub format: String,
    /// Renders with a reported watch time and a known length
    pub renders: u32,
    /// Their mean watch time, seconds
    pub avg_watch_s: f64,
    /// Their mean length, seconds
    pub avg_duration_s: f64,
    /// The mean share of each video watched, 0..=1
    pub avg_watch_share: f64,
}

/// Everything the planner and router take from the memory graph for one brief.
///
/// Fields default to empty so a creator with no history (or an older graph) still renders.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct MemoryContext {
    /// Provider voice id per cast id or voice name (`keeper` -> ElevenLabs voice id)
    #[serde(default)]
    pub voices: BTreeMap<String, String>,
    /// Locked look per cast id
    #[serde(default)]
    pub looks: BTreeMap<String, CastLook>,
    /// The creator's visual fingerprint (palette, grade, lens, lighting)
    #[serde(default)]
    pub fingerprint: Option<VisualFingerprint>,
    /// Format DNA for the brief's format (pacing, shot mix, hook style)
    #[serde(default)]
    pub format_dna: Option<FormatDna>,
    /// What the creator knows about their audience
    #[serde(default)]
    pub audience: Option<AudienceSignal>,
    /// This creator's outcome statistics per (model, shot kind) for the brief's target, sorted by
    /// model then shot kind
    #[serde(default)]
    pub outcomes: Vec<OutcomeStat>,
    /// For each shot of the brief, the most similar past shots, best first
    #[serde(default)]
    pub similar: Vec<SimilarShots>,
    /// The brief's call-to-action shot (the last shot of a conversions or sign-ups brief, see
    /// `memory::cta`): routing ranks models for it by [`MemoryContext::click_through`]
    #[serde(default)]
    pub cta_shot: Option<ShotId>,
    /// This creator's click-through (clicks per view) per (model, shot kind) of the
    /// call-to-action shots of past conversions and sign-ups renders, sorted by model then kind
    #[serde(default)]
    pub click_through: Vec<ClickThroughStat>,
    /// How much of this format's videos the creator's audience watches (see
    /// `memory::pacing_evidence`); `None` without reported watch times for the format
    #[serde(default)]
    pub pacing_evidence: Option<PacingEvidence>,
    /// The Graph rows (fingerprint, format DNA, audience, past renders' outcomes) whose
    /// embeddings are nearest the brief's own text, most similar first (see `memory::row_embed`)
    #[serde(default)]
    pub related_rows: Vec<RelatedRow>,
    /// How many reference images each shot's keyframe and motion send: the distinct images of
    /// the locked looks of its cast (shots with none are left out). Ra's continuity score
    /// credits the models whose requests carry them
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub shot_references: BTreeMap<ShotId, usize>,
    /// Voices Ra cast for speakers the graph had none for, recorded in the graph as it answered
    /// (only a job's context casts: see `memory::voice_cast`), and speakers left without one
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub casting: Vec<Casting>,
}

/// A creator's observed click-through for one (model, shot kind) of call-to-action shots,
/// unshrunk; `renders` counts renders (one call-to-action shot each)
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClickThroughStat {
    /// The model that made the call-to-action shots
    pub model: ModelId,
    /// Their kind
    pub shot_kind: ShotKind,
    /// Renders with clicks and views reported
    pub renders: u32,
    /// Mean click-through of those renders, 0..=1
    pub mean: f64,
}

/// A Graph row near the brief, by the cosine similarity of their embeddings
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RelatedRow {
    /// The row
    pub row: GraphRow,
    /// Its text form, as embedded
    pub text: String,
    /// Cosine similarity to the brief's text, -1..=1
    pub similarity: f64,
}

/// A character's locked look
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CastLook {
    /// Look description that overrides the brief's
    pub description: String,
    /// R2 keys of reference images
    #[serde(default)]
    pub reference_images: Vec<String>,
}

/// A creator's observed outcome for one (model, shot kind) on one target, unshrunk.
///
/// `renders` counts renders, not shots: shots of one video share its audience, so ten shots of
/// one lucky video are one piece of evidence. Routing shrinks `mean` toward the global prior.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutcomeStat {
    /// The model that made the shots
    pub model: ModelId,
    /// Their kind
    pub shot_kind: ShotKind,
    /// The target the metric measures
    pub target: OutcomeTarget,
    /// Renders with at least one observation
    pub renders: u32,
    /// Mean of the per-render means of the metric (see `memory::metric`)
    pub mean: f64,
}

/// Past shots similar to one shot of the brief
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimilarShots {
    /// The brief's shot
    pub shot: ShotId,
    /// Nearest past shots, most similar first
    pub matches: Vec<SimilarShot>,
}

/// One past shot and how close it is
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimilarShot {
    /// The render it was part of
    pub job: JobId,
    /// Its id in that render
    pub shot: ShotId,
    /// Its kind
    pub kind: ShotKind,
    /// The model that made it
    pub model: ModelId,
    /// Cosine similarity of the prompts' embeddings, -1..=1
    pub similarity: f64,
    /// Its metric for the brief's target, when outcomes were reported
    #[serde(default)]
    pub outcome: Option<f64>,
    /// Its render's click-through, when it was that render's call-to-action shot and clicks
    /// and views were reported
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub click_through: Option<f64>,
    /// Cosine similarity of its render's outcome row to the brief's text, when both have
    /// vectors of the same embedder: how alike the video it was part of is to this one
    #[serde(default)]
    pub render_similarity: Option<f64>,
}
