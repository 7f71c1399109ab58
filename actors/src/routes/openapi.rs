//! `GET /openapi.json`: the OpenAPI 3.1 description of every route (no auth).
//!
//! The document is `actors/assets/openapi.json`, generated from the core's types by
//! `studio::api::openapi` and checked in (the test `openapi_document` fails when the file is not
//! what the types derive; regenerate it with `UPDATE_OPENAPI=1 cargo test -p studio --test
//! openapi_document`). It is a static asset rather than a string compiled into the Worker:
//! 236 KB the wasm no longer carries (30 KB gzipped), read only by those who ask for it. It is
//! served with this deployment's base URL as its server and `x-routes`, the Worker's own route
//! table (`routes::table`), so a test can check both ways that the document and the dispatcher
//! agree; the e2e test also validates real responses against its schemas.

use serde_json::Value;
use studio::api::ApiError;
use worker::{Env, Response};

use super::table::ROUTES;
use super::util::json_response;
use crate::config;
use crate::error::OrInternal;

/// Where the document is among the static assets (the host is not looked at)
const ASSET_URL: &str = "https://assets.invalid/openapi.json";

/// Serves the document, with this deployment's base URL as its server
pub(crate) async fn serve(env: &Env) -> Result<Response, ApiError> {
    let assets = env.assets("ASSETS").or_internal("ASSETS binding")?;
    let mut asset = assets
        .fetch(ASSET_URL, None)
        .await
        .or_internal("static assets")?;
    if asset.status_code() != 200 {
        return Err(ApiError::Internal(format!(
            "the OpenAPI document is not among the static assets ({})",
            asset.status_code()
        )));
    }
    let mut doc: Value = asset
        .json()
        .await
        .map_err(|e| ApiError::Internal(format!("the OpenAPI document: {e}")))?;
    let base = config::public_base(env);
    if !base.is_empty() {
        doc["servers"] = serde_json::json!([{ "url": base }]);
    }
    doc["x-routes"] = ROUTES
        .iter()
        .map(|r| Value::String(format!("{} {}", r.method, r.path)))
        .collect();
    let mut resp = json_response(&doc, 200)?;
    let _ = resp.headers_mut().set("access-control-allow-origin", "*");
    Ok(resp)
}
