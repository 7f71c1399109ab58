//! Splitting the brief's budget across its stages.
//!
//! Each stage's share is proportional to `importance x reference cost`:
//!
//! - the *reference cost* is the median projected cost of the registry's models that can make
//!   the stage (right capability, duration and aspect; flags ignored, since the split does not
//!   depend on who the creator is). A six-second clip gets more than a keyframe because it costs
//!   more everywhere, not because it is more important;
//! - the *importance* is [`HERO_WEIGHT`] for hero shots, [`FILLER_WEIGHT`] for fillers (b-roll that
//!   is not a hero shot) and 1 otherwise.
//!
//! Shares sum to the budget (up to rounding); a stage no model can make, or only free models,
//! gets nothing. A non-finite or negative budget is treated as zero.

use serde::{Deserialize, Serialize};

use crate::brief::ShotKind;
use crate::ids::StageId;
use crate::routing::{Registry, StageRequest};

/// What a stage may spend (`cap_usd`, deciding eligibility) and what it was meant to spend
/// (`share_usd`, the scale of the cost score). They differ when the plan lends a stage its surplus:
/// more models become eligible, but "cheap" still means cheap against the stage's own share.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct StageBudget {
    pub cap_usd: f64,
    pub share_usd: f64,
}

/// Importance multiplier of hero shots
pub const HERO_WEIGHT: f64 = 2.0;
/// Importance multiplier of fillers
pub const FILLER_WEIGHT: f64 = 0.6;

/// How much a stage matters for the budget and the ranking
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Importance {
    /// A hero shot: more budget, quality weighs more
    Hero,
    /// A filler (non-hero b-roll): less budget
    Filler,
    /// Everything else
    Standard,
}

/// A stage's importance
pub fn importance_of(req: &StageRequest) -> Importance {
    if req.hero {
        Importance::Hero
    } else if req.shot_kind == Some(ShotKind::BRoll) {
        Importance::Filler
    } else {
        Importance::Standard
    }
}

/// A stage's importance multiplier
pub fn importance(req: &StageRequest) -> f64 {
    match importance_of(req) {
        Importance::Hero => HERO_WEIGHT,
        Importance::Filler => FILLER_WEIGHT,
        Importance::Standard => 1.0,
    }
}

/// One stage's share of the budget
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BudgetShare {
    /// The stage
    pub stage: StageId,
    /// Its share, USD
    pub usd: f64,
}

/// Each stage's share of `total_usd`, in the order of `stages`
pub fn allocate_budget(
    registry: &Registry,
    stages: &[StageRequest],
    total_usd: f64,
) -> Vec<BudgetShare> {
    let total = if total_usd.is_finite() && total_usd > 0.0 {
        total_usd
    } else {
        0.0
    };
    let weights: Vec<f64> = stages
        .iter()
        .map(|s| importance(s) * reference_cost(registry, s))
        .collect();
    let sum: f64 = weights.iter().sum();
    stages
        .iter()
        .zip(&weights)
        .map(|(s, w)| BudgetShare {
            stage: s.stage.clone(),
            usd: if sum > 0.0 { total * w / sum } else { 0.0 },
        })
        .collect()
}

/// Median projected cost among the models able to make the stage (0 when none)
pub fn reference_cost(registry: &Registry, req: &StageRequest) -> f64 {
    let mut costs: Vec<f64> = registry
        .with_capability(req.kind.capability())
        .filter(|m| m.max_duration_s <= 0.0 || req.duration_s <= m.max_duration_s)
        .filter(|m| m.aspects.is_empty() || m.aspects.contains(&req.aspect))
        .map(|m| m.cost_usd(req.duration_s, req.chars))
        .filter(|c| c.is_finite())
        .collect();
    costs.sort_by(f64::total_cmp);
    let n = costs.len();
    match (costs.get(n.saturating_sub(1) / 2), costs.get(n / 2)) {
        (Some(a), Some(b)) => (a + b) / 2.0,
        _ => 0.0,
    }
}
