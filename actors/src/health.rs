//! `GET /healthz`: whether each binding answers (no auth).

use serde_json::{Value, json};
use studio::api::ApiError;
use worker::{Env, Response};

use crate::error::OrInternal;

/// The name of the object each DO namespace is probed through; no job or creator can have it
/// because job ids start with `rnd_` and creator ids are validated.
const PROBE_OBJECT: &str = "__healthz";

async fn probe_object(env: &Env, binding: &str) -> Value {
    let result = async {
        let stub = env
            .durable_object(binding)?
            .id_from_name(PROBE_OBJECT)?
            .get_stub()?;
        let mut resp = stub.fetch_with_str("https://do/__health").await?;
        resp.json::<Value>().await
    }
    .await;
    match result {
        Ok(body) => json!({ "ok": body["ok"] == true, "pings": body["pings"] }),
        Err(e) => json!({ "ok": false, "error": e.to_string() }),
    }
}

async fn probe_d1(env: &Env) -> Value {
    let result = async {
        env.d1("DB")?
            .prepare("SELECT COUNT(*) AS n FROM api_keys")
            .first::<Value>(None)
            .await
    }
    .await;
    match result {
        Ok(Some(row)) => json!({ "ok": true, "api_keys": row["n"] }),
        Ok(None) => json!({ "ok": false, "error": "no row" }),
        Err(e) => json!({ "ok": false, "error": e.to_string() }),
    }
}

async fn probe_r2(env: &Env) -> Value {
    let result = async { env.bucket("MEDIA")?.head("__healthz").await }.await;
    match result {
        Ok(_) => json!({ "ok": true }),
        Err(e) => json!({ "ok": false, "error": e.to_string() }),
    }
}

/// Probes every binding; 200 when all answer, 503 otherwise
pub(crate) async fn check(env: &Env) -> Result<Response, ApiError> {
    let bindings = json!({
        "RENDER_JOB": probe_object(env, "RENDER_JOB").await,
        "MEMORY_GRAPH": probe_object(env, "MEMORY_GRAPH").await,
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
