//! The Worker: a thin shell around the `studio` core.
//!
//! It routes requests, resolves API keys through D1, and hosts the two Durable Object classes
//! (`RenderJob`, one per render; `MemoryGraph`, one per creator). It is the only place that reads
//! the clock, touches storage, sends HTTP or arms alarms; every decision is the core's.

#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod assembly_route;
mod auth;
mod clock;
mod config;
mod error;
mod health;
mod media_copy;
mod media_links;
mod memory_client;
mod memory_graph;
mod object_sql;
mod outbound;
mod rate_limit;
mod render_job;
mod routes;
mod side_effects;
mod tier_caps;
mod webhook_secret;

pub use memory_graph::MemoryGraph;
pub use render_job::RenderJob;

use worker::{Context, Env, Request, Response, Result, event};

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
    // Every answer, error or not, carries the request's id (`routes::serve`).
    routes::serve(req, &env).await
}
