//! The ranking rule: five dimensions, each deciding only among near-ties of the ones above it.
//!
//! # The rule (leader-anchored lexicographic tiers)
//!
//! Given candidates and an order of dimensions `d1..d5` (by default quality, continuity, cost,
//! latency, outcome), [`rank_order`] produces the preference order as follows:
//!
//! 1. On dimension `d1`, find the best score `b` among the candidates. The *top tier* is every
//!    candidate scoring at least `b - eps(d1)`.
//! 2. Rank the top tier by the same rule on `d2..d5`; those come first.
//! 3. Rank the candidates left over by the same rule on `d1..d5` again (they form their own tiers
//!    under their own leader); they come after.
//! 4. When the dimensions run out, exact ties are broken by model id, ascending.
//!
//! `eps` is [`TIE_EPSILON`] (0.03) on every dimension, except quality on hero shots, which uses
//! [`HERO_QUALITY_EPSILON`] (0.01): a hero shot only trades quality away for a much smaller
//! difference, which is how "hero shots weigh quality more" is expressed without weights.
//! [`FLOAT_SLACK`] is added to every band so that `0.95 - 0.92` counts as exactly 0.03.
//!
//! Why tiers anchored at the leader rather than a comparator "equal within eps, else compare":
//! closeness within a band is not transitive (0.90 ~ 0.92 ~ 0.94 but not 0.90 ~ 0.94), so such a
//! comparator is not a total order and `sort_by` may order inconsistently (or panic on recent
//! Rust). Tiers are computed, not compared, so the result is one well-defined sequence.
//!
//! Example (non-hero action shot, no cast): veo-3 quality 0.92, sora-2 0.90, hailuo 0.85. The top
//! quality tier is {veo-3, sora-2} (0.90 >= 0.92 - 0.03); both score 1 on continuity; on cost
//! sora-2 (0.10 $/s) leaves more of the budget than veo-3 (0.40 $/s), so sora-2 is first, veo-3
//! second, then hailuo-02 leads the remaining tiers.

use serde::{Deserialize, Serialize};

use crate::ids::ModelId;
use crate::routing::{Scores, StageRequest};

/// Width of the near-tie band on every dimension
pub const TIE_EPSILON: f64 = 0.03;
/// Width of the near-tie band on quality for hero shots
pub const HERO_QUALITY_EPSILON: f64 = 0.01;
/// Absorbs floating-point error at the band's edge
pub const FLOAT_SLACK: f64 = 1e-9;

/// One of the five ranked dimensions
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dimension {
    /// Visual (or audio) quality prior
    Quality,
    /// Narrative continuity support
    Continuity,
    /// Share of the stage budget left
    Cost,
    /// Share of the deadline left
    Latency,
    /// The creator's outcome data
    Outcome,
}

impl Dimension {
    /// The dimensions in their default rank order
    pub const DEFAULT_ORDER: [Self; 5] = [
        Self::Quality,
        Self::Continuity,
        Self::Cost,
        Self::Latency,
        Self::Outcome,
    ];

    /// Lowercase name for reasons and logs
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Quality => "quality",
            Self::Continuity => "continuity",
            Self::Cost => "cost",
            Self::Latency => "latency",
            Self::Outcome => "outcome",
        }
    }
}

/// The order of dimensions and the tie bands used for one stage
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RankRule {
    /// Dimensions, most important first
    pub order: [Dimension; 5],
    /// Tie band on quality
    pub quality_epsilon: f64,
    /// Tie band on the other dimensions
    pub epsilon: f64,
}

impl Default for RankRule {
    fn default() -> Self {
        Self {
            order: Dimension::DEFAULT_ORDER,
            quality_epsilon: TIE_EPSILON,
            epsilon: TIE_EPSILON,
        }
    }
}

impl RankRule {
    /// The rule for a stage: hero shots use the narrower quality band
    pub fn for_stage(req: &StageRequest) -> Self {
        let quality_epsilon = if req.hero {
            HERO_QUALITY_EPSILON
        } else {
            TIE_EPSILON
        };
        Self {
            quality_epsilon,
            ..Self::default()
        }
    }

    /// The same rule with latency ranked above cost: used when the plan would miss its deadline,
    /// so among near-ties on quality and continuity the faster model wins
    pub fn latency_first(self) -> Self {
        let order = self.order.map(|d| match d {
            Dimension::Cost => Dimension::Latency,
            Dimension::Latency => Dimension::Cost,
            other => other,
        });
        Self { order, ..self }
    }

    /// The tie band on a dimension
    pub fn epsilon(&self, dim: Dimension) -> f64 {
        match dim {
            Dimension::Quality => self.quality_epsilon,
            Dimension::Continuity | Dimension::Cost | Dimension::Latency | Dimension::Outcome => {
                self.epsilon
            }
        }
    }

    /// Whether `score` is within the band of `best` on `dim`
    pub fn near(&self, dim: Dimension, best: f64, score: f64) -> bool {
        best - score <= self.epsilon(dim) + FLOAT_SLACK
    }
}

/// Indices into `items` in preference order, by the rule in the module doc
pub fn rank_order(items: &[(&ModelId, &Scores)], rule: &RankRule) -> Vec<usize> {
    let mut out = Vec::with_capacity(items.len());
    rank_group(items, (0..items.len()).collect(), 0, rule, &mut out);
    out
}

fn rank_group(
    items: &[(&ModelId, &Scores)],
    group: Vec<usize>,
    level: usize,
    rule: &RankRule,
    out: &mut Vec<usize>,
) {
    let Some(&dim) = rule.order.get(level) else {
        let mut group = group;
        group.sort_by(|&a, &b| model_of(items, a).cmp(&model_of(items, b)));
        out.extend(group);
        return;
    };
    if group.len() <= 1 {
        out.extend(group);
        return;
    }
    let mut remaining = group;
    // Each round moves the leader (and its near-ties) out, so this ends after at most len rounds.
    while let Some(best) = remaining
        .iter()
        .map(|&i| score_of(items, i, dim))
        .max_by(|a, b| a.total_cmp(b))
    {
        let (tier, rest): (Vec<usize>, Vec<usize>) = remaining
            .into_iter()
            .partition(|&i| rule.near(dim, best, score_of(items, i, dim)));
        rank_group(items, tier, level + 1, rule, out);
        remaining = rest;
    }
}

fn score_of(items: &[(&ModelId, &Scores)], i: usize, dim: Dimension) -> f64 {
    // NaN would sort above everything under total_cmp; a score we cannot read ranks last instead.
    items
        .get(i)
        .map(|(_, s)| s.get(dim))
        .filter(|v| !v.is_nan())
        .unwrap_or(f64::NEG_INFINITY)
}

fn model_of<'a>(items: &[(&'a ModelId, &Scores)], i: usize) -> Option<&'a ModelId> {
    items.get(i).map(|(m, _)| *m)
}

/// The dimension on which the first-ranked item left `runner_up` behind: the first level at which
/// `runner_up` falls out of the top tier that the winner stays in. `None` when they share every
/// tier and the model id decided.
pub fn deciding_dimension(
    items: &[(&ModelId, &Scores)],
    runner_up: usize,
    rule: &RankRule,
) -> Option<Dimension> {
    let mut group: Vec<usize> = (0..items.len()).collect();
    for dim in rule.order {
        let best = group
            .iter()
            .map(|&i| score_of(items, i, dim))
            .max_by(|a, b| a.total_cmp(b))?;
        group.retain(|&i| rule.near(dim, best, score_of(items, i, dim)));
        if !group.contains(&runner_up) {
            return Some(dim);
        }
    }
    None
}
