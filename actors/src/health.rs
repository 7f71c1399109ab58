//! `GET /healthz`: whether each binding answers (no auth).
//!
//! Anyone can call it, often, so it is cheap and says nothing private: one D1 `SELECT 1` and one
//! R2 head, no Durable Object call (a probe would start an object and write its storage on
//! every call), no counts, no error text (failures are logged). The object namespaces are
//! checked as bindings; an object that cannot run shows in the routes that use it.

use serde_json::{Value, json};
use studio::api::ApiError;
use worker::{Env, Response};

use crate::error::OrInternal;

/// The status of one binding; the failure's details go to the log only
fn status(binding: &str, result: worker::Result<()>) -> Value {
    match result {
        Ok(()) => json!({ "ok": true }),
        Err(e) => {
            worker::console_error!("healthz: {binding}: {e}");
            json!({ "ok": false })
        }
    }
}

fn probe_namespace(env: &Env, binding: &str) -> Value {
    status(binding, env.durable_object(binding).map(drop))
}

async fn probe_d1(env: &Env) -> Value {
    let result = async {
        env.d1("DB")?
            .prepare("SELECT 1 AS one")
            .first::<Value>(None)
            .await
            .map(drop)
    }
    .await;
    status("DB", result)
}

async fn probe_r2(env: &Env) -> Value {
    let result = async { env.bucket("MEDIA")?.head("__healthz").await.map(drop) }.await;
    status("MEDIA", result)
}

/// Probes every binding; 200 when all answer, 503 otherwise
pub(crate) async fn check(env: &Env) -> Result<Response, ApiError> {
    let bindings = json!({
        "RENDER_JOB": probe_namespace(env, "RENDER_JOB"),
        "MEMORY_GRAPH": probe_namespace(env, "MEMORY_GRAPH"),
        "DB": probe_d1(env).await,
        "MEDIA": probe_r2(env).await,
    });
    let ok = bindings
        .as_object()
        .is_some_and(|m| m.values().all(|v| v["ok"] == true));
    let status = if ok { 200 } else { 503 };
    Ok(
        Response::from_json(&json!({ "ok": ok, "bindings": bindings }))
            .or_internal("encoding health")?
            .with_status(status),
    )
}
