//! The provider simulator: a real HTTP server that speaks each generation provider's wire
//! format on loopback (see README.md for routes, configuration and fault semantics).
//!
//! Time is the real clock scaled by `time_scale`; randomness is a seeded hash, so fault
//! injection is repeatable. Handlers never hold the state lock across an `.await`.

#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]
// Handlers return early answers as `Err(Response)`; boxing each would only add noise.
#![allow(clippy::result_large_err)]

pub mod config;
pub mod delivery;
pub mod faults;
pub mod http;
pub mod limits;
pub mod media;
pub mod providers;
pub mod server;
pub mod signing;
pub mod state;
pub mod util;

pub use config::Settings;
pub use server::{Running, StartError, start};
