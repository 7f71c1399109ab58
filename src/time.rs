//! The only time types of the core: milliseconds since the Unix epoch, and durations in ms.
//!
//! `std::time::SystemTime::now` panics on `wasm32-unknown-unknown`, and a pure core must not read
//! a clock anyway, so every function that needs "now" takes a [`Timestamp`].

use serde::{Deserialize, Serialize};

/// A point in time: milliseconds since the Unix epoch
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(transparent)]
#[derive(schemars::JsonSchema)]
#[schemars(inline)]
pub struct Timestamp(pub u64);

/// A duration in milliseconds
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(transparent)]
#[derive(schemars::JsonSchema)]
#[schemars(inline)]
pub struct Millis(pub u64);

impl Timestamp {
    /// The time `d` after this one, saturating at the end of time
    pub fn plus(self, d: Millis) -> Self {
        Self(self.0.saturating_add(d.0))
    }

    /// How long after `earlier` this is; zero when `earlier` is later
    pub fn since(self, earlier: Self) -> Millis {
        Millis(self.0.saturating_sub(earlier.0))
    }

    /// Whole seconds since the epoch, as webhook timestamps carry them
    pub fn as_secs(self) -> u64 {
        self.0 / 1000
    }

    /// A timestamp from whole seconds since the epoch
    pub fn from_secs(secs: u64) -> Self {
        Self(secs.saturating_mul(1000))
    }
}

impl Millis {
    /// A duration of whole seconds
    pub const fn from_secs(secs: u64) -> Self {
        Self(secs.saturating_mul(1000))
    }

    /// This duration in seconds, as a float for display and pricing
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1000.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_saturates_instead_of_panicking() {
        assert_eq!(Timestamp(u64::MAX).plus(Millis(5)), Timestamp(u64::MAX));
        assert_eq!(Timestamp(3).since(Timestamp(10)), Millis(0));
        assert_eq!(Timestamp(10_500).as_secs(), 10);
        assert_eq!(Timestamp::from_secs(2), Timestamp(2000));
    }
}
