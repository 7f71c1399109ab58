//! The end-to-end harness: starts the real local stack on free loopback ports, gives tests a
//! client, and always stops what it started.
//!
//! A [`Stack`] is wrangler dev (workerd running the Worker with SQLite Durable Objects, local D1
//! and local R2) plus the provider simulator, each in its own process group. Dropping the stack
//! stops both; a watchdog process also stops them if the test process itself dies, so a failing
//! or killed test never leaves a server behind.

pub mod bench_env;
pub mod chaos;
pub mod client;
pub mod fault_run;
pub mod fleet_run;
pub mod keyframe_target;
pub mod load_fleet;
pub mod media;
pub mod render;
pub mod schedule;
pub mod schema;
pub mod shared;
pub mod sse;
pub mod stack;
pub mod stage_timing;
pub mod stats;
pub mod webhook;

pub use client::Client;
pub use shared::{shared_stack, shared_stack_with};
pub use stack::{BareKind, BareObject, Stack, StackOptions, WorkerRuntime};
