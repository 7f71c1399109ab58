//! What one creator may spend, by tier: caps on a brief's budget and shot count, and on how many
//! of their renders may be in flight at once.
//!
//! A brief is otherwise bounded only by [`crate::brief::limits`] (1,000 shots, any budget), and
//! an app key may create 60 renders a second, so without these caps a free key could commit
//! thousands of dollars of provider spend in a minute. The caps are checked when a render is
//! created, before anything is written or sent to a provider: budget and shots here
//! ([`check_brief`], 400 naming the field), renders in flight by the Worker against the D1
//! render index in the same statement that indexes the new render (`actors/src/tier_caps.rs`),
//! so concurrent creates cannot all slip under the limit (409 `too_many_renders_in_flight`).
//!
//! The creator's tier is D1 `creators.tier`; a value this table does not know gets the free
//! tier's caps (fail closed), so a typo never lifts a limit.

use crate::api::ApiError;
use crate::brief::Brief;
use crate::job::JobStatus;
use crate::time::Millis;

/// A creator's plan, from D1 `creators.tier`
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    serde::Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    /// `free`
    Free,
    /// `pro`
    Pro,
    /// `studio`
    Studio,
}

/// The caps of one tier
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TierLimits {
    /// The largest `budget_usd` a brief may ask for
    pub max_budget_usd: f64,
    /// The most shots a brief may have
    pub max_shots: usize,
    /// The most renders the creator may have in flight (not succeeded, failed or cancelled)
    pub max_in_flight: u32,
}

/// The caps of every tier, in the README's table. The free tier fits the sample brief
/// (12 shots, $40) twice over in flight; paid tiers grow by an order of magnitude each.
const FREE: TierLimits = TierLimits {
    max_budget_usd: 50.0,
    max_shots: 24,
    max_in_flight: 2,
};
const PRO: TierLimits = TierLimits {
    max_budget_usd: 500.0,
    max_shots: 200,
    max_in_flight: 20,
};
const STUDIO: TierLimits = TierLimits {
    max_budget_usd: 25_000.0,
    max_shots: crate::brief::limits::MAX_SHOTS,
    max_in_flight: 100,
};

impl Tier {
    /// Every tier, cheapest first
    pub const ALL: [Self; 3] = [Self::Free, Self::Pro, Self::Studio];

    /// The tier a D1 `creators.tier` value names; unknown or missing values are [`Tier::Free`]
    pub fn from_column(value: Option<&str>) -> Self {
        match value.map(str::trim) {
            Some("studio") => Self::Studio,
            Some("pro") => Self::Pro,
            _ => Self::Free,
        }
    }

    /// The D1 column value
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Free => "free",
            Self::Pro => "pro",
            Self::Studio => "studio",
        }
    }

    /// This tier's caps
    pub fn limits(self) -> TierLimits {
        match self {
            Self::Free => FREE,
            Self::Pro => PRO,
            Self::Studio => STUDIO,
        }
    }
}

/// The statuses of the render index that hold no slot: the job will do nothing more
pub const TERMINAL_STATUSES: [JobStatus; 3] = [
    JobStatus::Succeeded,
    JobStatus::Failed,
    JobStatus::Cancelled,
];

/// A render index row still `queued` this long after it was written never reached its job
/// object (the create failed between the index write and the object, and was not retried with
/// its Idempotency-Key): it holds no slot, so a failed create cannot lock a creator out. A job
/// that exists leaves `queued` within its first step.
pub const ORPHANED_QUEUED_AFTER: Millis = Millis::from_secs(600);

/// Why a render is refused by its creator's tier
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TierLimitError {
    /// `budget_usd` is over the tier's cap
    #[error("budget_usd {budget_usd} is over the {tier} tier's limit of ${cap} per render")]
    Budget {
        /// The tier
        tier: &'static str,
        /// What the brief asked for
        budget_usd: f64,
        /// The cap
        cap: f64,
    },
    /// More shots than the tier allows
    #[error("{shots} shots is over the {tier} tier's limit of {cap} shots per render")]
    Shots {
        /// The tier
        tier: &'static str,
        /// How many the brief has
        shots: usize,
        /// The cap
        cap: usize,
    },
    /// The creator already has as many renders in flight as the tier allows
    #[error(
        "the {tier} tier allows at most {cap} renders in flight; wait for one to finish or cancel one"
    )]
    InFlight {
        /// The tier
        tier: &'static str,
        /// The cap
        cap: u32,
    },
}

impl TierLimitError {
    /// The stable machine code
    pub fn code(&self) -> &'static str {
        match self {
            Self::Budget { .. } | Self::Shots { .. } => "over_tier_limit",
            Self::InFlight { .. } => "too_many_renders_in_flight",
        }
    }

    /// The brief field at fault, when there is one
    pub fn field(&self) -> Option<&'static str> {
        match self {
            Self::Budget { .. } => Some("budget_usd"),
            Self::Shots { .. } => Some("shots"),
            Self::InFlight { .. } => None,
        }
    }
}

impl From<TierLimitError> for ApiError {
    /// Budget and shots are a bad brief for this tier (400 naming the field); renders in flight
    /// are a state of the account the same request may pass later (409)
    fn from(e: TierLimitError) -> Self {
        match e.field() {
            Some(field) => ApiError::bad_field(e.code(), field, e.to_string()),
            None => ApiError::Conflict {
                code: e.code(),
                message: e.to_string(),
            },
        }
    }
}

/// Whether a brief fits its creator's tier (budget first, then shots)
pub fn check_brief(tier: Tier, brief: &Brief) -> Result<(), TierLimitError> {
    let limits = tier.limits();
    if brief.budget_usd > limits.max_budget_usd {
        return Err(TierLimitError::Budget {
            tier: tier.as_str(),
            budget_usd: brief.budget_usd,
            cap: limits.max_budget_usd,
        });
    }
    if brief.shots.len() > limits.max_shots {
        return Err(TierLimitError::Shots {
            tier: tier.as_str(),
            shots: brief.shots.len(),
            cap: limits.max_shots,
        });
    }
    Ok(())
}

/// The refusal for a creator at their tier's in-flight cap
pub fn in_flight_refusal(tier: Tier) -> TierLimitError {
    TierLimitError::InFlight {
        tier: tier.as_str(),
        cap: tier.limits().max_in_flight,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn brief(budget_usd: f64, shots: usize) -> Brief {
        let mut b = crate::brief::parse_brief(include_bytes!("../../examples/brief.json"))
            .unwrap()
            .brief;
        let first = b.shots[0].clone();
        b.shots = (0..shots).map(|_| first.clone()).collect();
        b.budget_usd = budget_usd;
        b
    }

    #[test]
    fn tiers_parse_from_the_column_and_unknown_ones_are_free() {
        for tier in Tier::ALL {
            assert_eq!(Tier::from_column(Some(tier.as_str())), tier);
        }
        assert_eq!(Tier::from_column(Some("enterprise")), Tier::Free);
        assert_eq!(Tier::from_column(Some("PRO")), Tier::Free);
        assert_eq!(Tier::from_column(None), Tier::Free);
    }

    #[test]
    fn caps_grow_with_the_tier() {
        for pair in Tier::ALL.windows(2) {
            let (lo, hi) = (pair[0].limits(), pair[1].limits());
            assert!(lo.max_budget_usd < hi.max_budget_usd);
            assert!(lo.max_shots < hi.max_shots);
            assert!(lo.max_in_flight < hi.max_in_flight);
        }
        assert!(Tier::Studio.limits().max_shots <= crate::brief::limits::MAX_SHOTS);
    }

    #[test]
    fn the_sample_brief_fits_every_tier() {
        let sample = brief(40.0, 12);
        for tier in Tier::ALL {
            assert_eq!(check_brief(tier, &sample), Ok(()), "{tier:?}");
        }
    }

    #[test]
    fn a_budget_over_the_cap_is_400_naming_budget_usd() {
        let err = check_brief(Tier::Free, &brief(50.01, 12)).unwrap_err();
        assert_eq!(err.field(), Some("budget_usd"));
        assert!(err.to_string().contains("$50"), "{err}");
        let api = ApiError::from(err);
        assert_eq!(api.status(), 400);
        assert_eq!(api.code(), "over_tier_limit");
        assert_eq!(api.body().error.field.as_deref(), Some("budget_usd"));
        assert_eq!(check_brief(Tier::Free, &brief(50.0, 12)), Ok(()));
        assert_eq!(check_brief(Tier::Pro, &brief(50.01, 12)), Ok(()));
        assert!(check_brief(Tier::Studio, &brief(25_000.5, 12)).is_err());
    }

    #[test]
    fn too_many_shots_is_400_naming_shots() {
        let err = check_brief(Tier::Free, &brief(10.0, 25)).unwrap_err();
        assert_eq!(
            err,
            TierLimitError::Shots {
                tier: "free",
                shots: 25,
                cap: 24
            }
        );
        assert_eq!(
            ApiError::from(err).body().error.field.as_deref(),
            Some("shots")
        );
        assert_eq!(check_brief(Tier::Free, &brief(10.0, 24)), Ok(()));
        assert!(check_brief(Tier::Pro, &brief(10.0, 201)).is_err());
        assert_eq!(check_brief(Tier::Studio, &brief(10.0, 1000)), Ok(()));
    }

    #[test]
    fn in_flight_is_a_409_with_the_limit_in_the_message() {
        let api = ApiError::from(in_flight_refusal(Tier::Free));
        assert_eq!(api.status(), 409);
        assert_eq!(api.code(), "too_many_renders_in_flight");
        assert!(api.to_string().contains("at most 2 renders"), "{api}");
        assert_eq!(api.body().error.field, None);
    }

    #[test]
    fn terminal_statuses_are_exactly_the_terminal_ones() {
        // Exhaustive on purpose: a new status must be placed on one side or the other here.
        let all = |s: JobStatus| match s {
            JobStatus::Queued
            | JobStatus::Planning
            | JobStatus::Rendering
            | JobStatus::Assembling
            | JobStatus::Paused
            | JobStatus::Succeeded
            | JobStatus::Failed
            | JobStatus::Cancelled => s,
        };
        for s in [
            JobStatus::Queued,
            JobStatus::Planning,
            JobStatus::Rendering,
            JobStatus::Assembling,
            JobStatus::Paused,
            JobStatus::Succeeded,
            JobStatus::Failed,
            JobStatus::Cancelled,
        ]
        .map(all)
        {
            assert_eq!(TERMINAL_STATUSES.contains(&s), s.is_terminal(), "{s:?}");
        }
    }
}
