//! The evidence of past shots similar to the one being routed, for one candidate model.
//!
//! The memory context lists, for each shot of the brief, its nearest past shots with the model
//! that made each and its outcome (`MemoryContext::similar`). For a candidate model, its own
//! matches at least [`MIN_SIMILARITY`] alike count, each weighted
//!
//! ```text
//! w = similarity * (0.5 + 0.5 * render_similarity)
//! ```
//!
//! where `render_similarity` (0..1; 0.5 when unknown) is how alike the past shot's video is to
//! this brief (their outcome-row and brief embeddings, see `memory::row_embed`): a shot from a
//! render like this one counts fully, one from an unrelated video half. Shots of one render share
//! its audience, so a render counts once: its weight is its best match's, its value the mean of
//! its matches'. The evidence is the renders' total weight `W` (in render-equivalents, at most
//! one per render) and their weighted mean, which routing pools with the creator's statistic
//! (see `routing::outcome`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::ids::{JobId, ModelId};
use crate::memory::MemoryContext;
use crate::memory::metric::Metric;

/// Past shots less alike than this (cosine of the prompts' embeddings) are not evidence
pub const MIN_SIMILARITY: f64 = 0.35;
/// The render similarity assumed when it is unknown
pub const UNKNOWN_RENDER_SIMILARITY: f64 = 0.5;

/// What similar past shots say about one model on one shot
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimilarEvidence {
    /// Similar past shots of the model with a value for the metric
    pub shots: u32,
    /// The renders they came from
    pub renders: u32,
    /// Their weight in render-equivalents (see the module doc)
    pub weight: f64,
    /// Their weighted mean value of the metric
    pub mean: f64,
}

/// The similar-shot evidence for `model` on the brief's shot `shot`, measured by `metric`
/// (click-through for a call-to-action shot, else the target's metric); `None` when none of its
/// similar past shots counts
pub fn similar_evidence(
    memory: &MemoryContext,
    shot: &str,
    model: &ModelId,
    metric: Metric,
) -> Option<SimilarEvidence> {
    let matches = &memory
        .similar
        .iter()
        .find(|s| s.shot.as_str() == shot)?
        .matches;
    // job -> (best weight, sum of values, shots)
    let mut per_render: BTreeMap<&JobId, (f64, f64, u32)> = BTreeMap::new();
    for m in matches.iter().filter(|m| &m.model == model) {
        if !(m.similarity.is_finite() && m.similarity >= MIN_SIMILARITY) {
            continue;
        }
        let value = match metric {
            Metric::ClickThrough => m.click_through,
            Metric::Retention3s | Metric::ConversionRate | Metric::SignupRate => m.outcome,
        };
        let Some(value) = value.filter(|v| v.is_finite() && *v >= 0.0) else {
            continue;
        };
        let related = m
            .render_similarity
            .filter(|r| r.is_finite())
            .unwrap_or(UNKNOWN_RENDER_SIMILARITY)
            .clamp(0.0, 1.0);
        let weight = m.similarity.min(1.0) * (0.5 + 0.5 * related);
        let r = per_render.entry(&m.job).or_insert((0.0, 0.0, 0));
        r.0 = r.0.max(weight);
        r.1 += value;
        r.2 += 1;
    }
    let (mut weight, mut weighted, mut shots) = (0.0, 0.0, 0u32);
    for (w, sum, n) in per_render.values() {
        weight += w;
        weighted += w * sum / f64::from((*n).max(1));
        shots += n;
    }
    (weight > 0.0).then(|| SimilarEvidence {
        shots,
        renders: u32::try_from(per_render.len()).unwrap_or(u32::MAX),
        weight,
        mean: weighted / weight,
    })
}
