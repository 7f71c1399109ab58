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

use serde::{Deserialize, Serialize};

use crate::brief::{OutcomeTarget, ShotKind};
use crate::ids::ModelId;
use crate::memory::MemoryContext;
use crate::memory::metric::global_prior;

/// Prior strength, in renders
pub const SHRINKAGE_K: f64 = 5.0;

/// The score when there is no evidence
pub const NEUTRAL: f64 = 0.5;

/// The evidence behind one candidate's outcome score
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutcomeEvidence {
    /// Renders of evidence
    pub renders: u32,
    /// Observed mean
    pub mean: f64,
    /// Shrunk estimate
    pub estimate: f64,
    /// The prior it was shrunk toward
    pub prior: f64,
    /// The 0..1 score
    pub score: f64,
}

/// `(n * mean + K * prior) / (n + K)`
pub fn shrink(renders: u32, mean: f64, prior: f64) -> f64 {
    let n = f64::from(renders);
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
    let stat = memory.outcomes.iter().find(|s| {
        s.target == target && s.shot_kind == kind && &s.model == model && s.renders > 0
    })?;
    if !stat.mean.is_finite() || stat.mean < 0.0 {
        return None;
    }
    let prior = global_prior(target);
    let estimate = shrink(stat.renders, stat.mean, prior);
    Some(OutcomeEvidence {
        renders: stat.renders,
        mean: stat.mean,
        estimate,
        prior,
        score: lift_score(estimate, prior),
    })
}
