//! Outcome data as a routing score: the creator's statistic, shrunk toward the global prior.
//!
//! For a (model, shot kind) with `n` renders of evidence and observed mean `m`, the estimate is
//!
//! ```text
//! estimate = (n * m + K * prior) / (n + K),   K = 5
//! ```
//!
//! the posterior mean of a normal model with a prior worth `K` renders. With three renders the
//! data has 3/8 of the say, with twenty 4/5: three lucky renders nudge, they do not dominate.
//! The score maps the estimate's lift over the prior into 0..1:
//!
//! ```text
//! score = estimate / (estimate + prior)      (0.5 = no evidence or exactly the prior)
//! ```
//!
//! so retention 0.72 against a prior of 0.60 scores 0.545, and a conversion rate twice the prior
//! scores 0.667, on the same scale whatever the metric's units.
//!
//! Two refinements ([`evidence_for_stage`], what the router uses):
//!
//! - **Which metric.** The stages of the brief's call-to-action shot (`MemoryContext::cta_shot`,
//!   see `memory::cta`) are measured by click-through (clicks per view, prior 1%, see
//!   `memory::metric`), from the creator's `click_through` statistics of past call-to-action
//!   shots; every other shot by the target's metric.
//! - **Similar past shots.** The past shots the context found similar to this very shot, made by
//!   the candidate model and with an outcome for that metric, add their evidence (see
//!   [`similar_evidence`](crate::routing::similar_evidence)): `W` render-equivalents (each
//!   render's weight its best match's similarity, scaled by how alike its video is to this
//!   brief) at their weighted mean `s`, pooled with the statistic before shrinking:
//!   `estimate = (n * m + W * s + K * prior) / (n + W + K)`. A model that made shots like this
//!   one, that did well, gains; one whose similar shots did badly loses; the decision's notes
//!   say so per candidate ([`OutcomeEvidence::note`]).

use serde::{Deserialize, Serialize};

use crate::brief::{OutcomeTarget, ShotKind};
use crate::ids::ModelId;
use crate::memory::MemoryContext;
use crate::memory::metric::Metric;
use crate::routing::StageRequest;
use crate::routing::similar_evidence::{SimilarEvidence, similar_evidence};

/// Prior strength, in renders
pub const SHRINKAGE_K: f64 = 5.0;

/// The score when there is no evidence
pub const NEUTRAL: f64 = 0.5;

/// The evidence behind one candidate's outcome score
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutcomeEvidence {
    /// Renders of evidence in the creator's (model, shot kind) statistic
    pub renders: u32,
    /// Observed mean of that statistic (the similar shots' mean when there is none)
    pub mean: f64,
    /// Shrunk estimate, similar past shots pooled in
    pub estimate: f64,
    /// The prior it was shrunk toward
    pub prior: f64,
    /// The 0..1 score
    pub score: f64,
    /// What the figures measure
    #[serde(default)]
    pub metric: Metric,
    /// The evidence of past shots similar to this one that the model made, when any counted
    #[serde(default)]
    pub similar: Option<SimilarEvidence>,
}

impl OutcomeEvidence {
    /// The figures in a few words: `3s retention 0.850 over 12 render(s), shrunk to 0.767
    /// (prior 0.600)`, with the similar past shots when they counted
    pub fn summary(&self) -> String {
        format!(
            "{} {:.3} over {} render(s){}, shrunk to {:.3} (prior {:.3})",
            self.metric.name(),
            self.mean,
            self.renders,
            self.similar_part(),
            self.estimate,
            self.prior
        )
    }

    /// The decision note on one candidate's evidence, for support: `sora-2: outcome 0.850 over
    /// 12 render(s) + similar past shots 0.900 over 3 shot(s) of 2 render(s) (weight 1.21),
    /// shrunk to 0.781 toward prior 0.600 (3s retention)`
    pub fn note(&self, model: &ModelId) -> String {
        format!(
            "{model}: outcome {:.3} over {} render(s){}, shrunk to {:.3} toward prior {:.3} ({})",
            self.mean,
            self.renders,
            self.similar_part(),
            self.estimate,
            self.prior,
            self.metric.name()
        )
    }

    fn similar_part(&self) -> String {
        self.similar
            .as_ref()
            .map(|s| {
                format!(
                    " + similar past shots {:.3} over {} shot(s) of {} render(s) (weight {:.2})",
                    s.mean, s.shots, s.renders, s.weight
                )
            })
            .unwrap_or_default()
    }
}

/// `(n * mean + K * prior) / (n + K)`
pub fn shrink(renders: u32, mean: f64, prior: f64) -> f64 {
    shrink_weighted(f64::from(renders), mean, prior)
}

/// [`shrink`] with a fractional amount of evidence (similar past shots count by similarity)
pub fn shrink_weighted(weight: f64, mean: f64, prior: f64) -> f64 {
    let n = weight.max(0.0);
    (n * mean + SHRINKAGE_K * prior) / (n + SHRINKAGE_K)
}

/// `estimate / (estimate + prior)`, 0.5 when both are zero
pub fn lift_score(estimate: f64, prior: f64) -> f64 {
    let denom = estimate + prior;
    if denom > 0.0 && denom.is_finite() {
        (estimate / denom).clamp(0.0, 1.0)
    } else {
        NEUTRAL
    }
}

/// The creator's evidence for a model on a shot kind, if the memory context has any for the target
pub fn evidence(
    memory: &MemoryContext,
    target: OutcomeTarget,
    model: &ModelId,
    kind: ShotKind,
) -> Option<OutcomeEvidence> {
    let metric = Metric::for_target(target);
    pooled(metric, target_stat(memory, target, model, kind), None)
}

/// The evidence for a model on one stage (see the module doc): click-through on the brief's
/// call-to-action shot, the target's metric elsewhere, with the similar past shots the model
/// made pooled in; `None` for stages of no shot, or with no evidence at all
pub fn evidence_for_stage(
    memory: &MemoryContext,
    target: OutcomeTarget,
    model: &ModelId,
    req: &StageRequest,
) -> Option<OutcomeEvidence> {
    let kind = req.shot_kind?;
    let shot = req
        .shot
        .as_ref()
        .map(|s| s.as_str())
        .or_else(|| req.stage.as_str().split('.').next());
    let cta = shot.is_some_and(|s| memory.cta_shot.as_ref().is_some_and(|c| c.as_str() == s));
    let (metric, stat) = if cta {
        let stat = memory
            .click_through
            .iter()
            .find(|s| s.shot_kind == kind && &s.model == model && s.renders > 0)
            .map(|s| (s.renders, s.mean));
        (Metric::ClickThrough, stat)
    } else {
        (
            Metric::for_target(target),
            target_stat(memory, target, model, kind),
        )
    };
    let similar = shot.and_then(|s| similar_evidence(memory, s, model, metric));
    pooled(metric, stat, similar)
}

/// The creator's (renders, mean) for the target on a (model, kind)
fn target_stat(
    memory: &MemoryContext,
    target: OutcomeTarget,
    model: &ModelId,
    kind: ShotKind,
) -> Option<(u32, f64)> {
    memory
        .outcomes
        .iter()
        .find(|s| s.target == target && s.shot_kind == kind && &s.model == model && s.renders > 0)
        .map(|s| (s.renders, s.mean))
}

/// The statistic and the similar shots' evidence pooled, then shrunk toward the metric's prior
fn pooled(
    metric: Metric,
    stat: Option<(u32, f64)>,
    similar: Option<SimilarEvidence>,
) -> Option<OutcomeEvidence> {
    let usable = |mean: f64| mean.is_finite() && mean >= 0.0;
    let stat = stat.filter(|(_, mean)| usable(*mean));
    let similar = similar.filter(|s| usable(s.mean) && s.weight.is_finite() && s.weight > 0.0);
    let (renders, stat_mean) = stat.unwrap_or((0, 0.0));
    let (weight, similar_mean) = similar.as_ref().map_or((0.0, 0.0), |s| (s.weight, s.mean));
    let n = f64::from(renders) + weight;
    if n <= 0.0 {
        return None;
    }
    let mean_all = (f64::from(renders) * stat_mean + weight * similar_mean) / n;
    let prior = metric.prior();
    let estimate = shrink_weighted(n, mean_all, prior);
    Some(OutcomeEvidence {
        renders,
        mean: if stat.is_some() {
            stat_mean
        } else {
            similar_mean
        },
        estimate,
        prior,
        score: lift_score(estimate, prior),
        metric,
        similar,
    })
}
