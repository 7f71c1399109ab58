//! The context a render job asks its creator's memory graph for.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::brief::{OutcomeTarget, ShotKind};
use crate::ids::{JobId, ModelId, ShotId};
use crate::memory::graph::{AudienceSignal, FormatDna, VisualFingerprint};

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
}
