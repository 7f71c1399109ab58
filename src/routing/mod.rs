//! Ra's routing: picks a model for every stage from the registry by five ranked dimensions.
//!
//! Interface used by the planner and the job machine:
//! [`Registry`] describes the models, [`route_stage`] ranks the eligible models for one stage and
//! returns a [`Decision`] whose `candidates` are in preference order: the job machine submits to
//! the first and falls back down the list. [`route_plan`] routes a whole plan: it splits the
//! brief's budget with [`allocate_budget`], hands savings to the stages that matter most and
//! checks the projected wall time against the deadline.
//!
//! Everything here is pure and deterministic: the same registry, requests and context give the
//! same decisions, byte for byte (no hash-map iteration order, no clock, no randomness).
//!
//! # Eligibility
//!
//! A model is a candidate for a stage when all hold, checked in this order (the first failure is
//! the recorded exclusion reason):
//! 1. it has the stage's capability (models of other capabilities are not listed as excluded:
//!    they were never contenders);
//! 2. it can make the duration (`max_duration_s`, 0 = not applicable) and the aspect ratio
//!    (`aspects`, empty = not applicable);
//! 3. its feature flag, if any, admits the creator ([`FeatureFlag::verdict`]);
//! 4. its projected cost is at most `ctx.budget_usd`;
//! 5. a model that is in the registry for reference images (FLUX Kontext, Kling 1.6's
//!    multi-image endpoint: `providers::references::needs_references`) is left out of stages
//!    without any.
//!
//! # Scores (each 0..=1, higher is better)
//!
//! - quality: the registry's prior for the shot kind, corrected by this creator's outcome
//!   evidence for the model on that kind: `prior + (outcome - 0.5)`, less a dead zone of 0.03
//!   (the priors are editorial judgement that outcome data corrects; shrinkage and the dead
//!   zone keep one lucky render from flipping a near-tie, while two bad renders of a kind at
//!   retention 0.05, or many strong ones, move the model across quality tiers);
//! - continuity: whether the cast's look will really be kept. With reference images to send
//!   (the shot's `MemoryContext::shot_references`, for keyframes and motions): 1 when the
//!   model's request carries them, 0.5 for a motion model
//!   that cannot (it still starts from the keyframe made with them), 0 for a keyframe model that
//!   cannot (`providers::references::continuity_score`). Without them: 1 when the stage needs no
//!   continuity or the model can hold a character (`continuity` in the registry), 0 otherwise;
//! - cost: `1 - cost / budget`: what share of the stage's budget is left (so a difference of
//!   0.03 is 3% of what this stage may spend, not 3% of a price that may be cents);
//! - latency: `1 - p50 / deadline`, the same idea against the brief's deadline;
//! - outcome: this creator's shrunk statistic for the brief's target (see [`outcome`]),
//!   0.5 when there is no data; it also breaks the ties left after the four dimensions above.
//!
//! # Ranking
//!
//! See [`rank`]: leader-anchored lexicographic tiers, epsilon 0.03 (0.01 on quality for hero
//! shots), order quality, continuity, cost, latency, outcome; model id breaks exact ties.

pub mod budget;
mod builtin;
mod builtin_early;
mod builtin_v6;
pub mod feasible;
pub mod live;
pub mod outcome;
pub mod plan;
pub mod rank;
mod reason;
pub mod registry;
pub mod registry_doc;
mod route;
mod score;
pub mod similar_evidence;

pub use budget::{BudgetShare, allocate_budget, importance};
pub use feasible::{
    CheapestPlan, SplitLimits, cheapest_plan, plan_options, plan_options_for, split_limits,
};
pub use plan::{DeadlineCheck, PlanRouting, route_plan};
pub use rank::{Dimension, RankRule, rank_order};
pub use registry::{FeatureFlag, FlagVerdict, ModelSpec, Pricing, Registry, rollout_bucket};
pub use route::route_stage;

use serde::{Deserialize, Serialize};

use crate::brief::{AspectRatio, OutcomeTarget, ShotKind};
use crate::ids::{CreatorId, ModelId, ShotId, StageId};
use crate::memory::MemoryContext;
use crate::plan::StageKind;

/// What the router needs to know about one stage
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageRequest {
    /// The stage
    pub stage: StageId,
    /// Its kind (implies the capability)
    pub kind: StageKind,
    /// The shot kind, for shot stages
    pub shot_kind: Option<ShotKind>,
    /// Hero shots get more budget and weigh quality more
    pub hero: bool,
    /// Output length in seconds (0 for images)
    pub duration_s: f64,
    /// Frame shape
    pub aspect: AspectRatio,
    /// Whether the stage shows a cast member whose look must stay consistent
    pub needs_continuity: bool,
    /// The shot this stage belongs to (groups keyframe and motion for the critical path); when
    /// absent, the part of the stage id before the first `.` is used
    #[serde(default)]
    pub shot: Option<ShotId>,
    /// Characters of input text, for speech stages priced per 1,000 characters
    #[serde(default)]
    pub chars: usize,
}

/// Job-wide facts the router weighs
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoutingContext {
    /// Whose render (feature-flag rollouts and outcome data are per creator)
    pub creator: CreatorId,
    /// What the creator optimises for
    pub outcome_target: OutcomeTarget,
    /// Budget still available for this stage, USD
    pub budget_usd: f64,
    /// Seconds left until the brief's deadline
    pub deadline_s: f64,
    /// Memory graph context (outcome statistics, locks)
    pub memory: MemoryContext,
}

/// Scores of one candidate on the five dimensions, each in 0..=1 (higher is better)
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Scores {
    /// Visual (or audio) quality prior for this stage and shot kind
    pub quality: f64,
    /// Narrative continuity support: with the cast's reference images to send, 1 when the
    /// model's request carries them, 0.5 for a motion model that cannot (its keyframe was made
    /// with them), 0 for a keyframe model that cannot; without, 1 when the stage needs none or
    /// the model can hold a character, 0 otherwise
    pub continuity: f64,
    /// Share of the stage's budget share left after this model's cost: `1 - cost / share`
    pub cost: f64,
    /// Share of the deadline left after this model's p50: `1 - p50 / deadline`
    pub latency: f64,
    /// This creator's outcome data for the target, shrunk toward the prior (0.5: no data; see
    /// [`outcome`])
    pub outcome: f64,
}

/// One model considered for a stage
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Candidate {
    /// The model
    pub model: ModelId,
    /// Its scores
    pub scores: Scores,
    /// Projected cost of this stage on this model, USD
    pub cost_usd: f64,
    /// Projected p50 latency, ms
    pub latency_ms: u64,
}

/// The routing decision for one stage, recorded on the job for support to read
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Decision {
    /// The stage
    pub stage: StageId,
    /// Eligible models, best first; the job falls back down this list
    pub candidates: Vec<Candidate>,
    /// Models left out and why (cannot do the stage, over budget, flag off)
    pub excluded: Vec<(ModelId, String)>,
    /// One line a support person can read
    pub reason: String,
    /// The registry version the decision was made with (a job pins it)
    #[serde(default)]
    pub registry_version: u32,
    /// The budget this stage was routed within (its share, plus any surplus the plan lent it), USD
    #[serde(default)]
    pub budget_usd: f64,
    /// Further facts for support: feature flags that let a candidate in, outcome data used
    #[serde(default)]
    pub notes: Vec<String>,
    /// Why, as Ra tells the Director: the same choice in plain words, naming no model, provider
    /// or flag (empty on decisions recorded before it existed)
    #[serde(default)]
    pub said: String,
}

impl Decision {
    /// The chosen model: the first candidate
    pub fn chosen(&self) -> Option<&Candidate> {
        self.candidates.first()
    }
}

impl Scores {
    /// The score on one dimension
    pub fn get(&self, dim: Dimension) -> f64 {
        match dim {
            Dimension::Quality => self.quality,
            Dimension::Continuity => self.continuity,
            Dimension::Cost => self.cost,
            Dimension::Latency => self.latency,
            Dimension::Outcome => self.outcome,
        }
    }
}

/// Why no decision could be made
#[derive(Debug, Clone, PartialEq, thiserror::Error, Serialize, Deserialize)]
pub enum RoutingError {
    /// No model in the registry can run this stage within the constraints
    #[error("no model can run stage {stage}: {why}")]
    NoModel {
        /// The stage
        stage: StageId,
        /// A readable summary of the exclusions
        why: String,
    },
}
