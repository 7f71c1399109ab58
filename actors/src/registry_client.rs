//! Reads of the model registry object (`ModelRegistry`), and publications to it.
//!
//! A new job pins the latest version. When the registry object cannot be reached the built-in
//! registry is used (with a log line): a render is never refused because of it.

use studio::routing::Registry;
use studio::routing::registry_doc::{Publication, RegistryVersionRecord};
use worker::{Env, Method, Request, RequestInit};

use crate::config;

/// The registry object's name (there is one)
const NAME: &str = "registry";

async fn call(
    env: &Env,
    method: Method,
    path: &str,
    body: Option<String>,
) -> worker::Result<worker::Response> {
    let stub = env
        .durable_object("MODEL_REGISTRY")?
        .id_from_name(NAME)?
        .get_stub()?;
    let mut init = RequestInit::new();
    init.with_method(method);
    if let Some(body) = body {
        init.with_body(Some(body.into()));
    }
    stub.fetch_with_request(Request::new_with_init(
        &format!("https://registry{path}"),
        &init,
    )?)
    .await
}

/// The latest version, as a new job pins it (with the dev latency scale applied)
pub(crate) async fn latest(env: &Env) -> Registry {
    let fetched = async {
        let mut resp = call(env, Method::Get, "/latest", None).await?;
        let text = resp.text().await?;
        if resp.status_code() != 200 {
            return Err(worker::Error::RustError(format!(
                "registry answered {}: {text}",
                resp.status_code()
            )));
        }
        serde_json::from_str::<Registry>(&text).map_err(worker::Error::from)
    }
    .await;
    let registry = fetched.unwrap_or_else(|e| {
        worker::console_error!("registry: {e}; using the built-in one");
        Registry::builtin()
    });
    config::scaled_for_dev(env, registry)
}

/// The history, newest first
pub(crate) async fn versions(env: &Env) -> worker::Result<Vec<RegistryVersionRecord>> {
    let mut resp = call(env, Method::Get, "/versions", None).await?;
    let text = resp.text().await?;
    serde_json::from_str(&text).map_err(worker::Error::from)
}

/// Publishes a version: the registry object's status and JSON answer (201 with the record, or
/// 400 with `code`, `field` and `message`)
pub(crate) async fn publish(
    env: &Env,
    publication: &Publication,
    by: &str,
) -> worker::Result<(u16, serde_json::Value)> {
    let body = serde_json::json!({ "publication": publication, "by": by }).to_string();
    let mut resp = call(env, Method::Post, "/publish", Some(body)).await?;
    let status = resp.status_code();
    let text = resp.text().await?;
    Ok((
        status,
        serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
    ))
}
