//! The Worker's routing table: method and path to handler.

use serde_json::json;
use studio::api::ApiError;
use worker::{Env, Method, Request, Response};

use crate::auth::authenticate;
use crate::error::OrInternal;
use crate::health;

/// Dispatches one request; every failure comes back as an [`ApiError`]
pub(crate) async fn handle(req: Request, env: &Env) -> Result<Response, ApiError> {
    let url = req.url().or_internal("request url")?;
    let segments: Vec<String> = url
        .path_segments()
        .map(|s| s.filter(|p| !p.is_empty()).map(str::to_owned).collect())
        .unwrap_or_default();
    let path: Vec<&str> = segments.iter().map(String::as_str).collect();
    match (req.method(), path.as_slice()) {
        (Method::Get, ["healthz"]) => health::check(env).await,
        (Method::Get, ["v1", "whoami"]) => {
            let principal = authenticate(&req, env).await?;
            Response::from_json(&json!({
                "role": principal.role,
                "creator": principal.creator,
                "key_prefix": principal.key_prefix,
            }))
            .or_internal("encoding whoami")
        }
        (_, ["healthz"] | ["v1", "whoami"]) => Err(ApiError::MethodNotAllowed),
        _ => Err(ApiError::NotFound(format!("no route for {}", url.path()))),
    }
}
