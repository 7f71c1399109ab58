//! The sans-IO core of the CreatorStudio render orchestrator.
//!
//! Nothing in this crate reads a clock, draws a random number, touches storage or the network.
//! Time (`now`), seeds and ids are arguments; effects come back as data for the shell
//! (`actors/`, the Cloudflare Worker) to perform after it has persisted the state change:
//!
//! ```text
//! input -> job.handle(now, input) -> persist state + journal (one synchronous step)
//!       -> arm the alarm at job.next_deadline() -> perform effects -> their results are inputs
//! ```
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod api;
pub mod brief;
pub mod fleet;
pub mod ids;
pub mod job;
pub mod journal;
pub mod json_bytes;
pub mod memory;
pub mod plan;
pub mod providers;
pub mod routing;
pub mod time;
