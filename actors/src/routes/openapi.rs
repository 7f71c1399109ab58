//! `GET /openapi.json`: the OpenAPI 3.1 description of every route (no auth).
//!
//! The document is `openapi.json`, derived from the core's types and compiled in. It is served with `x-routes`, the Worker's
//! own route table (`routes::table`), so a test can check both ways that the document and the
//! dispatcher agree; the e2e test also validates real responses against its schemas.

use serde_json::Value;
use studio::api::ApiError;
use worker::{Env, Response};

use super::openapi_document::DOCUMENT;
use super::table::ROUTES;
use super::util::json_response;
use crate::config;

/// Serves the document, with this deployment's base URL as its server
pub(crate) fn serve(env: &Env) -> Result<Response, ApiError> {
    let mut doc: Value = serde_json::from_str(DOCUMENT)
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
