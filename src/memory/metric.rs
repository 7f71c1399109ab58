//! Which number measures a shot against an outcome target, and the global prior for it.
//!
//! | target      | per-shot observation                                   | global prior |
//! |-------------|--------------------------------------------------------|--------------|
//! | watch_time  | shot `retention_3s`, else the render's `retention_3s`   | 0.60         |
//! | impressions | same as watch_time: platforms widen reach for videos   | 0.60         |
//! |             | that hold the first seconds, so it is the best proxy   |              |
//! | conversions | shot `conversions` / render `views`, else render rate  | 0.010        |
//! | signups     | same as conversions (a sign-up is the conversion event)| 0.010        |
//!
//! The priors are industry medians for short-form video (rounded); they are where a creator with
//! no history starts and what a small sample is shrunk toward.

use crate::brief::OutcomeTarget;
use crate::memory::graph::{RenderOutcome, ShotOutcome};

/// The global prior for a target's metric
pub fn global_prior(target: OutcomeTarget) -> f64 {
    match target {
        OutcomeTarget::WatchTime | OutcomeTarget::Impressions => 0.60,
        OutcomeTarget::Conversions | OutcomeTarget::Signups => 0.010,
    }
}

/// Human name of a target's metric, for decision reasons
pub fn metric_name(target: OutcomeTarget) -> &'static str {
    match target {
        OutcomeTarget::WatchTime | OutcomeTarget::Impressions => "3s retention",
        OutcomeTarget::Conversions => "conversion rate",
        OutcomeTarget::Signups => "sign-up rate",
    }
}

/// One shot's observation for a target, from its own outcome row if any and its render's
pub fn observe(
    target: OutcomeTarget,
    render: &RenderOutcome,
    shot: Option<&ShotOutcome>,
) -> Option<f64> {
    match target {
        OutcomeTarget::WatchTime | OutcomeTarget::Impressions => {
            shot.and_then(|s| s.retention_3s).or(render.retention_3s)
        }
        OutcomeTarget::Conversions | OutcomeTarget::Signups => {
            let views = render.views.filter(|&v| v > 0)? as f64;
            let conversions = shot.and_then(|s| s.conversions).or(render.conversions)?;
            Some(conversions as f64 / views)
        }
    }
}
