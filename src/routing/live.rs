//! What every job's attempts have shown of a model lately, as routing uses it: the latency the
//! providers' gates observed (blended with the registry's prior while evidence is thin), and
//! whether the model's circuit breaker is open.
//!
//! The job receives these figures with its memory context (the shell asks the gates of its
//! registry's providers) and applies them to its own copy of the pinned registry before it
//! routes: latencies replace the priors, and a model whose breaker is open goes to the end of
//! each candidate list it is on, with the reason in the decision's notes, so new stages route
//! to the next candidate and keep it only as the last fallback.

use serde::{Deserialize, Serialize};

use crate::ids::ModelId;
use crate::routing::{Decision, Registry};

/// One model's live health
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct LiveHealth {
    /// The model
    pub model: ModelId,
    /// Median latency, submit to output, ms (blended with the prior)
    pub p50_ms: u64,
    /// 95th percentile, ms (blended with the prior)
    pub p95_ms: u64,
    /// Why new stages should not route to it now (its breaker is open), if so
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refused: Option<String>,
}

/// The registry with the observed latencies in place of the priors
pub fn with_observed_latency(mut registry: Registry, live: &[LiveHealth]) -> Registry {
    for m in &mut registry.models {
        if let Some(h) = live.iter().find(|h| h.model == m.id) {
            m.latency_p50_ms = h.p50_ms;
            m.latency_p95_ms = h.p95_ms.max(h.p50_ms);
        }
    }
    registry
}

/// Moves candidates whose breaker is open to the end of the list (in their order), noting why;
/// true when the decision changed
pub fn demote_open_breakers(decision: &mut Decision, live: &[LiveHealth]) -> bool {
    let refused = |m: &ModelId| {
        live.iter()
            .find(|h| &h.model == m)
            .and_then(|h| h.refused.clone())
    };
    let (open, healthy): (Vec<_>, Vec<_>) = decision
        .candidates
        .drain(..)
        .partition(|c| refused(&c.model).is_some());
    let changed = !open.is_empty() && !healthy.is_empty();
    for c in &open {
        if let Some(why) = refused(&c.model) {
            decision
                .notes
                .push(format!("{} moved to the end of the list: {why}", c.model));
        }
    }
    decision.candidates = healthy.into_iter().chain(open).collect();
    changed
}
