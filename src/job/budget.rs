//! Money as integer micro-dollars, so sums do not depend on the order they were added in.
//!
//! The budget rule: a job never commits spend beyond its budget. Before a stage is submitted,
//! `committed + this stage's projected cost + the cheapest projected cost of every stage not yet
//! holding a reservation (the outstanding floor, less this stage's own)` must fit the budget; if
//! the preferred model does not fit, the next candidate that does is used; if none does, the
//! stage fails before anything is spent on it. A reservation is released when the provider says
//! the attempt failed (failed work is not billed), and kept when we gave up waiting (timeout) or
//! could not copy an output we were billed for.

use std::fmt;

use serde::{Deserialize, Serialize};

/// An amount of US dollars in millionths
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
#[derive(schemars::JsonSchema)]
#[schemars(inline)]
pub struct Micros(pub u64);

impl Micros {
    /// Nothing
    pub const ZERO: Self = Self(0);

    /// Rounds dollars to micro-dollars; negative and non-finite amounts become zero
    pub fn from_usd(usd: f64) -> Self {
        if usd.is_finite() && usd > 0.0 {
            // `as` saturates at u64::MAX, which no budget reaches
            Self((usd * 1_000_000.0).round() as u64)
        } else {
            Self::ZERO
        }
    }

    /// The amount in dollars, for views and cost records
    pub fn usd(self) -> f64 {
        self.0 as f64 / 1_000_000.0
    }

    /// Sum, saturating
    pub fn plus(self, other: Self) -> Self {
        Self(self.0.saturating_add(other.0))
    }

    /// Difference, saturating at zero
    pub fn minus(self, other: Self) -> Self {
        Self(self.0.saturating_sub(other.0))
    }
}

impl fmt::Display for Micros {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "${:.2}", self.usd())
    }
}

/// Whether `cost` may be committed for a stage whose own floor is `own_floor`
pub fn fits(
    budget: Micros,
    committed: Micros,
    outstanding_floor: Micros,
    own_floor: Micros,
    cost: Micros,
) -> bool {
    committed
        .plus(cost)
        .plus(outstanding_floor.minus(own_floor))
        <= budget
}

/// What is left for one stage: the budget less commitments and the other stages' floors
pub fn available(
    budget: Micros,
    committed: Micros,
    outstanding_floor: Micros,
    own_floor: Micros,
) -> Micros {
    budget
        .minus(committed)
        .minus(outstanding_floor.minus(own_floor))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_is_exact_and_never_negative() {
        assert_eq!(
            Micros::from_usd(0.1).plus(Micros::from_usd(0.2)),
            Micros::from_usd(0.3)
        );
        assert_eq!(Micros::from_usd(-1.0), Micros::ZERO);
        assert_eq!(Micros::from_usd(f64::NAN), Micros::ZERO);
        assert_eq!(Micros(5).minus(Micros(9)), Micros::ZERO);
        assert_eq!(Micros::from_usd(40.0).to_string(), "$40.00");
    }

    #[test]
    fn a_cost_fits_when_the_other_stages_floors_still_fit() {
        let b = Micros(100);
        // committed 50, other stages need at least 30 (floor 40 includes our own 10)
        assert!(fits(b, Micros(50), Micros(40), Micros(10), Micros(20)));
        assert!(!fits(b, Micros(50), Micros(40), Micros(10), Micros(21)));
        assert_eq!(available(b, Micros(50), Micros(40), Micros(10)), Micros(20));
    }
}
