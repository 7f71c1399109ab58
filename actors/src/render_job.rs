//! The `RenderJob` Durable Object: one per render.

use serde_json::json;
use worker::{DurableObject, Env, Request, Response, Result, State, durable_object};

use crate::object_sql;

/// Schema steps of the job object's SQLite, applied in order once each
const SCHEMA: &[&str] = &[
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
];

/// One render job
#[durable_object]
pub struct RenderJob {
    state: State,
    #[allow(dead_code)]
    env: Env,
    schema: std::result::Result<(), String>,
}

impl DurableObject for RenderJob {
    fn new(state: State, env: Env) -> Self {
        let schema = object_sql::migrate(&state.storage().sql(), SCHEMA);
        Self { state, env, schema }
    }

    async fn fetch(&self, req: Request) -> Result<Response> {
        if let Err(e) = &self.schema {
            return Response::error(format!("job storage unavailable: {e}"), 500);
        }
        let path = req.path();
        match path.as_str() {
            "/__health" => {
                let pings = object_sql::health_ping(&self.state.storage().sql())?;
                Response::from_json(&json!({ "ok": true, "pings": pings }))
            }
            _ => Response::error("unknown job route", 404),
        }
    }
}
