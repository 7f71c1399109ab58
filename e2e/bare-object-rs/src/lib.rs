//! Bench-only Worker: the bare SQLite Durable Object of `e2e/bare-object/worker.js`, written in
//! Rust with workers-rs the plain way (its request and response types, its stub call).
//!
//! `bench_bare_object` measures our callbacks against both: the JavaScript one is the platform's
//! floor, this one the floor of any Worker built with our toolchain (workers-rs and
//! wasm-bindgen, the same versions and release profile as the production Worker). The gap
//! between the two is what the toolchain's glue costs a Worker hop and an object hop, before any
//! code of ours runs. Not production: nothing in wrangler.toml or the Worker bundle refers to it.

use worker::{
    Context, DurableObject, Env, Request, Response, Result, State, durable_object, event,
};

/// One table, one INSERT per request, as the JavaScript object does
#[durable_object]
pub struct BareObject {
    state: State,
}

impl DurableObject for BareObject {
    fn new(state: State, _env: Env) -> Self {
        // Synchronous and idempotent: the table exists before the first request is served. A
        // failure shows as the INSERT's error on every request, which the bench counts.
        let _ = state.storage().sql().exec(
            "CREATE TABLE IF NOT EXISTS hits (id INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT NOT NULL)",
            None,
        );
        Self { state }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let body = req.text().await?;
        self.state
            .storage()
            .sql()
            .exec("INSERT INTO hits (body) VALUES (?)", vec![body.into()])?;
        Response::ok("ok")
    }
}

/// Every request but two goes to ONE named object, as every callback of a job reaches its object
#[event(fetch)]
async fn fetch(mut req: Request, env: Env, _ctx: Context) -> Result<Response> {
    match req.path().as_str() {
        "/healthz" => Response::ok("ok"),
        // The toolchain's floor without the object: the bench's decomposition row.
        "/worker-only" => {
            req.bytes().await?;
            Response::ok("ok")
        }
        _ => {
            let stub = env.durable_object("BARE")?.get_by_name("one")?;
            stub.fetch_with_request(req).await
        }
    }
}
