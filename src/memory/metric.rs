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
//!
//! Two more figures of a render's outcome row are read, each for its own purpose:
//!
//! - **click-through** (`clicks / views`, at most 1) measures the render's call-to-action shot
//!   (see [`crate::memory::cta`]): routing ranks models for the call-to-action shot of a brief by
//!   it instead of the target's metric. Its global prior is [`CLICK_THROUGH_PRIOR`], 1.0%:
//!   published video-ad benchmarks put click-through around one percent (MediaMind's US in-stream
//!   video benchmark, 1.03%, <https://e-strategy.com/2012/08/23/click-through-rate-benchmarks-by-ad-type-chart>;
//!   2026 platform averages from 0.42% on YouTube to 1.62% on Meta, 0.84% on TikTok,
//!   <https://videoadstop.com/video-ad-ctr-benchmarks-by-platform-2026/>). Those count clicks per
//!   impression; ours count clicks per view, which the platforms report beside views. Taking the
//!   same 1% for both is our assumption, and the shrinkage keeps it from mattering once a creator
//!   has a few renders of evidence.
//! - **watch share** (`avg_watch_s` / the render's length) measures how much of this creator's
//!   videos their audience watches; it shapes pacing notes ([`crate::memory::pacing_evidence`]),
//!   not routing.

use serde::{Deserialize, Serialize};

use crate::brief::OutcomeTarget;
use crate::memory::graph::{RenderOutcome, ShotOutcome};

/// The global prior of click-through (clicks per view) on a call-to-action shot
pub const CLICK_THROUGH_PRIOR: f64 = 0.010;

/// The number an outcome estimate is about
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Share of viewers still watching at 3 s (watch time, impressions)
    #[default]
    Retention3s,
    /// Conversions per view
    ConversionRate,
    /// Sign-ups per view
    SignupRate,
    /// Clicks per view, on call-to-action shots
    ClickThrough,
}

impl Metric {
    /// The metric that measures a target
    pub fn for_target(target: OutcomeTarget) -> Self {
        match target {
            OutcomeTarget::WatchTime | OutcomeTarget::Impressions => Self::Retention3s,
            OutcomeTarget::Conversions => Self::ConversionRate,
            OutcomeTarget::Signups => Self::SignupRate,
        }
    }

    /// Its global prior
    pub fn prior(self) -> f64 {
        match self {
            Self::Retention3s => 0.60,
            Self::ConversionRate | Self::SignupRate => 0.010,
            Self::ClickThrough => CLICK_THROUGH_PRIOR,
        }
    }

    /// Human name, for decision reasons and notes
    pub fn name(self) -> &'static str {
        match self {
            Self::Retention3s => "3s retention",
            Self::ConversionRate => "conversion rate",
            Self::SignupRate => "sign-up rate",
            Self::ClickThrough => "click-through rate",
        }
    }
}

/// The global prior for a target's metric
pub fn global_prior(target: OutcomeTarget) -> f64 {
    Metric::for_target(target).prior()
}

/// Human name of a target's metric, for decision reasons
pub fn metric_name(target: OutcomeTarget) -> &'static str {
    Metric::for_target(target).name()
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

/// A render's click-through: clicks per view, at most 1 (a viewer who clicks twice is still one
/// viewer who acted); `None` without views or clicks
pub fn click_through(render: &RenderOutcome) -> Option<f64> {
    let views = render.views.filter(|&v| v > 0)? as f64;
    let clicks = render.clicks? as f64;
    Some((clicks / views).min(1.0)).filter(|v| v.is_finite())
}

/// The share of a render its audience watched: mean watch time over its length, at most 1;
/// `None` without a watch time or a known length
pub fn watch_share(render: &RenderOutcome, duration_s: f64) -> Option<f64> {
    let watched = render.avg_watch_s.filter(|w| w.is_finite() && *w >= 0.0)?;
    if !(duration_s.is_finite() && duration_s > 0.0) {
        return None;
    }
    Some((watched / duration_s).min(1.0))
}
