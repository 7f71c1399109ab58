//! The Worker's routing table: method and path to handler.

mod callbacks;
mod media;
mod memory;
mod openapi;
mod openapi_document;
mod renders;
mod support;
mod table;
mod util;
mod webhooks;

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
    let method = req.method();
    // Every route is a row of `table::ROUTES`, which /openapi.json publishes and the tests check.
    table::gate(&method, &path, url.path())?;
    match (method.clone(), path.as_slice()) {
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
        (Method::Post, ["v1", "renders"]) => renders::create(req, env).await,
        (Method::Get, ["v1", "renders"]) => renders::list(req, env).await,
        (Method::Get, ["v1", "renders", id]) => renders::get(&req, env, id).await,
        (Method::Post, ["v1", "renders", id, "cancel"]) => renders::cancel(&req, env, id).await,
        (Method::Get | Method::Put, ["v1", "memory"]) => memory::graph(req, env).await,
        (Method::Post, ["v1", "memory", action]) => memory::action(req, env, action).await,
        (Method::Post, ["v1", "renders", id, "outcomes"]) => memory::outcomes(req, env, id).await,
        (Method::Get, ["openapi.json"]) => openapi::serve(env),
        (Method::Get, ["v1", "renders", id, "events"]) => renders::events(&req, env, id).await,
        (Method::Get, ["v1", "webhooks", "secret"]) => webhooks::secret(&req, env).await,
        (Method::Get, ["v1", "support", "renders"]) => support::search(&req, env).await,
        (Method::Get, ["v1", "support", "renders", id]) => support::get(&req, env, id).await,
        (Method::Get, ["v1", "support", "renders", id, "journal"]) => {
            support::journal(&req, env, id).await
        }
        (Method::Post, ["v1", "support", "renders", id, "actions"]) => {
            support::act(req, env, id).await
        }
        (Method::Post, ["v1", "callbacks", provider, rest @ ..]) => {
            callbacks::receive(req, env, provider, rest).await
        }
        (Method::Get, ["v1", "media", key @ ..]) => media::serve(&req, env, &key.join("/")).await,
        (
            _,
            ["healthz"]
            | ["v1", "whoami"]
            | ["v1", "renders"]
            | ["v1", "renders", _]
            | ["v1", "renders", _, "cancel"],
        ) => Err(ApiError::MethodNotAllowed),
        (_, ["v1", "callbacks", ..] | ["v1", "media", ..]) => Err(ApiError::MethodNotAllowed),
        _ => Err(ApiError::NotFound(format!("no route for {}", url.path()))),
    }
}
