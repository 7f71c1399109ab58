//! The Worker: a thin shell around the `studio` core.
//!
//! It routes requests, resolves API keys through D1, and hosts the Durable Object classes
//! (`RenderJob`, one per render; `MemoryGraph`, one per creator; `ProviderGate`, one per
//! provider account; `ModelRegistry`, one). It is the only place that reads
//! the clock, touches storage, sends HTTP or arms alarms; every decision is the core's.

#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod api_keys;
mod assembly_route;
mod auth;
mod clock;
mod config;
mod error;
mod fleet_client;
mod health;
mod media_copy;
mod media_links;
mod memory_client;
mod memory_graph;
mod model_registry;
mod object_fetch;
mod object_sql;
mod outbound;
mod provider_gate;
mod rate_limit;
mod registry_client;
mod render_job;
mod routes;
mod server_timing;
mod side_effects;
mod support_sessions;
mod tier_caps;
mod webhook_secret;

pub use memory_graph::MemoryGraph;
pub use model_registry::ModelRegistry;
pub use provider_gate::ProviderGate;
pub use render_job::RenderJob;

use worker::{Context, Env, Response, Result, event, web_sys};

#[event(fetch)]
async fn fetch(req: web_sys::Request, env: Env, _ctx: Context) -> Result<Response> {
    // Every answer, error or not, carries the request's id (`routes::serve`).
    routes::serve(req, &env).await
}
