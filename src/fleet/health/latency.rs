//! Latency for routing: the registry's prior, moved toward what the window observed as evidence
//! accumulates. Weight of the observation is `n / (n + k)` for `n` successes and a prior worth
//! `k` of them, so no evidence gives the prior and lots gives the observation.

use serde::{Deserialize, Serialize};

use crate::routing::ModelSpec;
use crate::time::Millis;

/// A latency estimate: median and 95th percentile, submit to output
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Latency {
    /// Median
    pub p50: Millis,
    /// 95th percentile
    pub p95: Millis,
}

impl Latency {
    /// The registry's prior for a model
    pub fn prior(spec: &ModelSpec) -> Self {
        Self {
            p50: Millis(spec.latency_p50_ms),
            p95: Millis(spec.latency_p95_ms),
        }
    }
}

/// `prior` and `observed` (over `samples` successes) weighted by evidence: the observation
/// weighs `samples / (samples + prior_weight)`. Integer arithmetic rounded to the nearest ms,
/// so the result is exact and the same on every platform; when `p50 <= p95` holds for both
/// inputs it holds for the blend
pub fn blend(
    prior: Latency,
    observed: Option<Latency>,
    samples: u32,
    prior_weight: u32,
) -> Latency {
    let Some(observed) = observed.filter(|_| samples > 0) else {
        return prior;
    };
    let mix = |p: Millis, o: Millis| {
        let (n, k) = (u128::from(samples), u128::from(prior_weight));
        let total = n + k;
        let v = (u128::from(p.0) * k + u128::from(o.0) * n + total / 2) / total;
        Millis(u64::try_from(v).unwrap_or(u64::MAX))
    };
    Latency {
        p50: mix(prior.p50, observed.p50),
        p95: mix(prior.p95, observed.p95),
    }
}
