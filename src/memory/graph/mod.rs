//! The memory graph of one creator, as rows.
//!
//! Each `Vec` is one SQLite table of the creator's `MemoryGraph` Durable Object, each struct one
//! row, and the doc of each names its primary key. Nothing here is nested more than a row can
//! hold as columns plus a JSON or blob column (`shot_mix`, `palette`, `embedding`), so the
//! Durable Object can write only the rows an operation touched: every operation returns what
//! it changed.

mod channel;
mod row;

pub use channel::{ChannelPriors, FormatPrior};
pub use row::{GraphRow, RowEmbedding};

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::brief::{Energy, OutcomeTarget, Platform, ShotKind};
use crate::ids::{CreatorId, JobId, ModelId, ShotId};
use crate::time::Timestamp;

/// One creator's graph
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemoryGraph {
    /// Whose graph (the Durable Object's name)
    pub creator: CreatorId,
    /// Voice locks, by name
    #[serde(default)]
    pub voices: Vec<Voice>,
    /// Cast look locks, by cast id
    #[serde(default)]
    pub looks: Vec<Look>,
    /// The visual fingerprint (a single row)
    #[serde(default)]
    pub fingerprint: Option<VisualFingerprint>,
    /// Format DNA, by format name
    #[serde(default)]
    pub formats: Vec<FormatDna>,
    /// Audience signal (a single row)
    #[serde(default)]
    pub audience: Option<AudienceSignal>,
    /// Finished renders, by job id
    #[serde(default)]
    pub renders: Vec<RenderRow>,
    /// Their shots, by (job id, shot id)
    #[serde(default)]
    pub shots: Vec<ShotRow>,
    /// Reported outcomes, by job id
    #[serde(default)]
    pub outcomes: Vec<RenderOutcome>,
    /// Reported per-shot outcomes, by (job id, shot id)
    #[serde(default)]
    pub shot_outcomes: Vec<ShotOutcome>,
    /// Outcome evidence of renders folded out of the full rows (see `compact`), by
    /// (model, shot kind, target)
    #[serde(default)]
    pub folded: Vec<FoldedOutcome>,
    /// Counts and costs of folded renders, by format
    #[serde(default)]
    pub folded_formats: Vec<FoldedFormat>,
    /// What channel imports learned (`memory::import`): outcome priors per format, language
    #[serde(default)]
    pub channel: Option<ChannelPriors>,
    /// Embeddings of the fingerprint, format DNA, audience and outcome rows, by row (see
    /// `memory::row_embed`; refreshed after every change)
    #[serde(default)]
    pub row_embeddings: Vec<RowEmbedding>,
}

impl MemoryGraph {
    /// An empty graph for a creator
    pub fn new(creator: CreatorId) -> Self {
        Self {
            creator,
            voices: Vec::new(),
            looks: Vec::new(),
            fingerprint: None,
            formats: Vec::new(),
            audience: None,
            renders: Vec::new(),
            shots: Vec::new(),
            outcomes: Vec::new(),
            shot_outcomes: Vec::new(),
            folded: Vec::new(),
            folded_formats: Vec::new(),
            channel: None,
            row_embeddings: Vec::new(),
        }
    }

    /// A render by job id
    pub fn render(&self, job: &JobId) -> Option<&RenderRow> {
        self.renders.iter().find(|r| &r.job == job)
    }
}

/// A voice lock: primary key `name`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Voice {
    /// Voice name or cast id (`narrator`, `keeper`)
    pub name: String,
    /// The provider's voice id
    pub voice_id: String,
}

/// A cast look lock: primary key `cast_id`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Look {
    /// Cast id, as briefs use it
    pub cast_id: String,
    /// Look description that overrides the brief's
    pub description: String,
    /// R2 keys of reference images
    #[serde(default)]
    pub reference_images: Vec<String>,
}

/// The creator's visual fingerprint
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct VisualFingerprint {
    /// Palette as `#rrggbb` colours
    #[serde(default)]
    pub palette: Vec<String>,
    /// Colour grade (`teal-orange`, `bleach bypass`)
    #[serde(default)]
    pub grade: Option<String>,
    /// Lens look (`35mm anamorphic`)
    #[serde(default)]
    pub lens: Option<String>,
    /// Lighting (`low-key, practicals`)
    #[serde(default)]
    pub lighting: Option<String>,
}

/// How a creator's videos of one format are cut: primary key `format`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FormatDna {
    /// Format name, matched against the brief's `format`
    pub format: String,
    /// Pacing
    pub pacing: FormatPacing,
    /// Share of shots per kind, summing to 1
    #[serde(default)]
    pub shot_mix: BTreeMap<ShotKind, f64>,
    /// How the first seconds grab (`cold open on a question`)
    #[serde(default)]
    pub hook_style: Option<String>,
}

/// The pacing part of format DNA
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FormatPacing {
    /// Mean shot length, seconds
    pub avg_shot_s: f64,
    /// Edit energy
    pub energy: Energy,
}

/// What the creator knows about their audience
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct AudienceSignal {
    /// Where most of the audience watches
    #[serde(default)]
    pub primary_platform: Option<Platform>,
    /// Regions, as the creator names them
    #[serde(default)]
    pub regions: Vec<String>,
    /// Interests the audience responds to
    #[serde(default)]
    pub interests: Vec<String>,
}

/// A finished render: primary key `job`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RenderRow {
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
}

/// A shot of a finished render: primary key (`job`, `shot`)
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShotRow {
    /// The render
    pub job: JobId,
    /// The shot's id in its brief
    pub shot: ShotId,
    /// Its kind
    pub kind: ShotKind,
    /// The model that made the motion (or the still, for image-only shots)
    pub model: ModelId,
    /// The prompt it was made from
    pub prompt: String,
    /// Length, seconds
    pub duration_s: f64,
    /// Whether it was a hero shot
    #[serde(default)]
    pub hero: bool,
    /// Cast ids in the shot
    #[serde(default)]
    pub cast: Vec<String>,
    /// The prompt's embedding (a blob column), absent when the embedder had none
    #[serde(default)]
    pub embedding: Option<Embedding>,
}

/// A unit-length vector and the embedder that made it: vectors of different embedders are never
/// compared
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Embedding {
    /// The embedder's id (`local-ngram-256`, `@cf/baai/bge-small-en-v1.5`)
    pub model: String,
    /// The vector, L2-normalised
    pub vector: Vec<f32>,
}

/// Outcomes reported for a render: primary key `job`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RenderOutcome {
    /// The render
    pub job: JobId,
    /// Views
    #[serde(default)]
    pub views: Option<u64>,
    /// Mean watch time, seconds
    #[serde(default)]
    pub avg_watch_s: Option<f64>,
    /// Share of viewers still watching at 3 s, 0..=1
    #[serde(default)]
    pub retention_3s: Option<f64>,
    /// Clicks
    #[serde(default)]
    pub clicks: Option<u64>,
    /// Conversions
    #[serde(default)]
    pub conversions: Option<u64>,
}

/// Outcomes reported for one shot of a render: primary key (`job`, `shot`)
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShotOutcome {
    /// The render
    pub job: JobId,
    /// The shot
    pub shot: ShotId,
    /// Share of viewers who stayed through the first 3 s of the shot, 0..=1
    #[serde(default)]
    pub retention_3s: Option<f64>,
    /// Conversions attributed to the shot
    #[serde(default)]
    pub conversions: Option<u64>,
}

/// The outcome evidence of folded renders for one (model, shot kind, target): primary key
/// (`model`, `shot_kind`, `target`)
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FoldedOutcome {
    /// The model that made the shots
    pub model: ModelId,
    /// Their kind
    pub shot_kind: ShotKind,
    /// The target the observations measure
    pub target: OutcomeTarget,
    /// Folded renders with at least one observation for this group
    pub renders: u32,
    /// The sum over those renders of each render's mean observation
    pub sum_of_means: f64,
}

/// Folded renders of one format: primary key `format`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FoldedFormat {
    /// The brief's format (or the shared row for formats beyond the cap)
    pub format: String,
    /// Renders folded
    pub renders: u32,
    /// What they cost, USD
    pub cost_usd: f64,
}
