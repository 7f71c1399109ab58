//! The `MemoryGraph` Durable Object: one per creator.

use serde::Deserialize;
use serde_json::json;
use studio::job::RenderSummary;
use studio::memory::MemoryContext;
use worker::{
    DurableObject, Env, Method, Request, Response, Result, SqlStorageValue, State, durable_object,
};

use crate::{clock, object_sql};

/// Schema steps of the graph object's SQLite, applied in order once each
const SCHEMA: &[&str] = &[
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    // One row per finished render: the primary key makes a repeated delivery a no-op.
    "CREATE TABLE render (job_id TEXT PRIMARY KEY, json TEXT NOT NULL, recorded_at INTEGER NOT NULL)",
];

/// One creator's memory graph
#[durable_object]
pub struct MemoryGraph {
    state: State,
    #[allow(dead_code)]
    env: Env,
    schema: std::result::Result<(), String>,
}

impl MemoryGraph {
    fn context(&self) -> Result<Response> {
        Response::from_json(&MemoryContext::default())
    }

    async fn record_render(&self, mut req: Request) -> Result<Response> {
        let summary: RenderSummary = object_sql::read_json(&mut req).await?;
        let json = serde_json::to_string(&summary)?;
        let sql = self.state.storage().sql();
        #[derive(Deserialize)]
        struct Changed {
            n: i64,
        }
        sql.exec(
            "INSERT OR IGNORE INTO render (job_id, json, recorded_at) VALUES (?, ?, ?)",
            vec![
                SqlStorageValue::String(summary.job.0.clone()),
                SqlStorageValue::String(json),
                SqlStorageValue::Integer(clock::now().0 as i64),
            ],
        )?;
        let changed: Changed = sql.exec("SELECT changes() AS n", None)?.one()?;
        Response::from_json(&json!({ "recorded": changed.n > 0 }))
    }
}

impl DurableObject for MemoryGraph {
    fn new(state: State, env: Env) -> Self {
        let schema = object_sql::migrate(&state.storage().sql(), SCHEMA);
        Self { state, env, schema }
    }

    async fn fetch(&self, req: Request) -> Result<Response> {
        if let Err(e) = &self.schema {
            return Response::error(format!("memory storage unavailable: {e}"), 500);
        }
        match (req.method(), req.path().as_str()) {
            (Method::Get, "/__health") => {
                let pings = object_sql::health_ping(&self.state.storage().sql())?;
                Response::from_json(&json!({ "ok": true, "pings": pings }))
            }
            (Method::Post, "/context") => self.context(),
            (Method::Post, "/renders") => self.record_render(req).await,
            _ => Response::error("unknown memory route", 404),
        }
    }
}
