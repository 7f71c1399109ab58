//! The Worker's routing table: method and path to handler.

mod callbacks;
mod fleet;
mod media;
mod memory;
mod memory_looks;
mod memory_voices;
mod openapi;
mod renders;
mod support;
mod support_memory;
mod support_page;
mod support_session;
mod table;
mod util;
mod webhooks;

use serde_json::json;
use studio::api::{ApiError, RequestId};
use worker::{Env, Method, Request, Response, web_sys};

use crate::auth::authenticate;
use crate::error::{self, OrInternal};
use crate::health;

/// The request's id: Cloudflare's `cf-ray`, else a fresh random one
fn request_id(req: &web_sys::Request) -> RequestId {
    let ray = req.headers().get("cf-ray").ok().flatten();
    let mut random = [0u8; 16];
    if let Err(e) = getrandom::fill(&mut random) {
        // Still an id (all zeros), and the log says why it is not unique.
        worker::console_error!("random request id: {e}");
    }
    RequestId::new(ray.as_deref(), random)
}

/// The path of a URL as the runtime serialised it (normalised, still percent-encoded): from the
/// first `/` after the host to the query or fragment. workers-rs cuts it the same way.
fn path_of(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    let rest = url.get(after_scheme..).unwrap_or_default();
    // Neither the host nor the path holds a raw `?` or `#`.
    let rest = rest.split(['?', '#']).next().unwrap_or(rest);
    match rest.find('/') {
        Some(start) => rest.get(start..).unwrap_or("/"),
        None => "/",
    }
}

/// Answers one request: the handler's response, or its error as JSON, either way with
/// `x-request-id`.
///
/// A provider's callback, the busiest route, is served from the runtime's request as it came:
/// workers-rs's own request type reads the request's `cf` object on the way in, which the
/// runtime builds afresh on every read, and which was the largest single cost of a callback
/// in our Worker. Every other route takes the workers-rs request.
pub(crate) async fn serve(req: web_sys::Request, env: &Env) -> worker::Result<Response> {
    let id = request_id(&req);
    let url = req.url();
    let path = path_of(&url).to_owned();
    let segments: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    let served = match (req.method().as_str(), segments.as_slice()) {
        ("POST", ["v1", "callbacks", provider, rest @ ..]) => {
            match table::gate(&Method::Post, &segments, &path) {
                Ok(()) => callbacks::receive(req, url.clone(), env, provider, rest).await,
                Err(refused) => Err(refused),
            }
        }
        _ => handle(Request::from(req), env).await,
    };
    let response = match served {
        Ok(response) => response,
        Err(err) => {
            let mut response = error::respond(&err, &id)?;
            // A 405 names the path's methods (RFC 9110 requires `Allow`).
            if matches!(err, ApiError::MethodNotAllowed) {
                response
                    .headers_mut()
                    .set("allow", &table::allowed(&path))?;
            }
            response
        }
    };
    error::with_request_id(response, &id)
}

/// Dispatches one request; every failure comes back as an [`ApiError`]
async fn handle(req: Request, env: &Env) -> Result<Response, ApiError> {
    // The path as the runtime serialised the URL (normalised, still percent-encoded, no query),
    // which workers-rs already cut out: no second parse of the whole URL on every request.
    let raw_path = req.path();
    let path: Vec<&str> = raw_path.split('/').filter(|p| !p.is_empty()).collect();
    let method = req.method();
    // Every route is a row of `table::ROUTES`, which /openapi.json publishes and the tests check.
    table::gate(&method, &path, &raw_path)?;
    match (method.clone(), path.as_slice()) {
        (Method::Get, ["healthz"]) => health::check(env).await,
        (Method::Get, ["v1", "whoami"]) => {
            let principal = authenticate(&req, env).await?;
            Response::from_json(&json!({
                "role": principal.role,
                "creator": principal.creator,
                "key_prefix": principal.key_prefix,
                "key_id": principal.key_id,
                "key_label": principal.key_label,
            }))
            .or_internal("encoding whoami")
        }
        (Method::Post, ["v1", "renders"]) => renders::create(req, env).await,
        (Method::Get, ["v1", "renders"]) => renders::list(req, env).await,
        (Method::Get, ["v1", "renders", id]) => renders::get(&req, env, id).await,
        (Method::Post, ["v1", "renders", id, "cancel"]) => renders::cancel(&req, env, id).await,
        (Method::Get | Method::Put, ["v1", "memory"]) => memory::graph(req, env).await,
        (Method::Post, ["v1", "memory", action]) => memory::action(req, env, action).await,
        (Method::Put, ["v1", "memory", "looks", cast, "images"]) => {
            memory_looks::upload(req, env, cast).await
        }
        (Method::Post, ["v1", "memory", "voices", name, "samples"]) => {
            memory_voices::samples(req, env, name).await
        }
        (Method::Post, ["v1", "renders", id, "outcomes"]) => memory::outcomes(req, env, id).await,
        (Method::Get, ["openapi.json"]) => openapi::serve(env).await,
        (Method::Get, ["v1", "renders", id, "events"]) => renders::events(&req, env, id).await,
        (Method::Get, ["v1", "webhooks", "secret"]) => webhooks::secret(&req, env).await,
        (Method::Get, ["v1", "support", "providers"]) => fleet::providers(&req, env).await,
        (Method::Get, ["v1", "support", "registry"]) => fleet::registry(&req, env).await,
        (Method::Post, ["v1", "admin", "registry"]) => fleet::publish(req, env).await,
        (Method::Post, ["__dev", "gates", provider, "hold"]) => {
            fleet::dev_hold(req, env, provider).await
        }
        (Method::Post, ["v1", "support", "session"]) => support_session::sign_in(req, env).await,
        (Method::Get, ["v1", "support", "session"]) => support_session::current(&req, env).await,
        (Method::Delete, ["v1", "support", "session"]) => {
            support_session::sign_out(&req, env).await
        }
        (Method::Get, ["support", ..]) => support_page::serve(req, env).await,
        (Method::Get, ["v1", "support", "creators", creator, "memory"]) => {
            support_memory::graph(&req, env, creator).await
        }
        (Method::Post, ["v1", "support", "creators", creator, "memory", "context"]) => {
            support_memory::context(req, env, creator).await
        }
        (Method::Get, ["v1", "support", "renders"]) => support::search(&req, env).await,
        (Method::Get, ["v1", "support", "renders", id]) => support::get(&req, env, id).await,
        (Method::Get, ["v1", "support", "renders", id, "journal"]) => {
            support::journal(&req, env, id).await
        }
        (Method::Get, ["v1", "support", "renders", id, "timeline"]) => {
            support::timeline(&req, env, id).await
        }
        (Method::Post, ["v1", "support", "renders", id, "actions"]) => {
            support::act(req, env, id).await
        }
        (Method::Get, ["v1", "media", key @ ..]) => media::serve(&req, env, &key.join("/")).await,
        (
            _,
            ["healthz"]
            | ["v1", "whoami"]
            | ["v1", "renders"]
            | ["v1", "renders", _]
            | ["v1", "renders", _, "cancel"]
            | ["v1", "memory"]
            | ["v1", "memory", "context"]
            | ["v1", "memory", "import"]
            | ["v1", "memory", "looks", _, "images"]
            | ["v1", "memory", "voices", _, "samples"],
        ) => Err(ApiError::MethodNotAllowed),
        (_, ["v1", "callbacks", ..] | ["v1", "media", ..]) => Err(ApiError::MethodNotAllowed),
        _ => Err(ApiError::NotFound(format!("no route for {raw_path}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::path_of;

    #[test]
    fn the_path_is_cut_from_the_serialised_url() {
        assert_eq!(
            path_of("https://h.example/v1/callbacks/bfl"),
            "/v1/callbacks/bfl"
        );
        assert_eq!(
            path_of("http://127.0.0.1:8787/v1/callbacks/kling/rnd_a/s/1?t=abc&e=9#frag"),
            "/v1/callbacks/kling/rnd_a/s/1"
        );
        assert_eq!(path_of("https://h.example"), "/");
        assert_eq!(path_of("https://h.example/"), "/");
        assert_eq!(path_of("https://h.example?x=/y"), "/");
        assert_eq!(path_of("https://h.example/a%2Fb?q"), "/a%2Fb");
    }
}
