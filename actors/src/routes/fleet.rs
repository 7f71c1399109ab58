//! The fleet, for support and operators: every provider account's gate and model health
//! (`GET /v1/support/providers`), the model registry's versions (`GET /v1/support/registry`),
//! and publishing a new registry version (`POST /v1/admin/registry`, admin support keys only:
//! the same people who may repair any job may change what every new job routes to; a separate
//! ops role would add a key kind without adding a safeguard).
//!
//! With `ENVIRONMENT=dev` only, `POST /__dev/gates/{provider}/hold` takes one slot of a
//! provider's gate for a holder that then vanishes: it never renews nor releases, as a job
//! killed for good would. The end-to-end tests use it to show that the lease runs out and the
//! slot goes to a waiting job. It is outside the route table (and the OpenAPI document), like
//! the memory graph's bench seeding, and refused outside dev.

use serde_json::json;
use studio::api::ApiError;
use studio::fleet::desk::{FleetView, ProviderEntry};
use studio::providers::ProviderKind;
use studio::routing::registry_doc::{Publication, RegistryHistory};
use worker::{Env, Request, Response};

use super::util::{json_response, read_body};
use crate::auth::{authenticate, require_support, require_support_admin};
use crate::error::OrInternal;
use crate::{config, fleet_client, registry_client};

/// The largest publication accepted (a whole list of 200 models fits several times)
const MAX_PUBLICATION_BYTES: usize = 512 * 1024;

/// `GET /v1/support/providers`: limits, slots in use and by whom, waiting by creator, 429s,
/// model health and breakers, retired models, for every provider (asked at once)
pub(crate) async fn providers(req: &Request, env: &Env) -> Result<Response, ApiError> {
    let principal = authenticate(req, env).await?;
    require_support(&principal)?;
    let asks = ProviderKind::ALL
        .into_iter()
        .map(|p| async move { (p, fleet_client::view(env, p).await) });
    let answers = futures::future::join_all(asks).await;
    let providers = answers
        .into_iter()
        .map(|(provider, view)| match view {
            Ok(v) => ProviderEntry::View(Box::new(v)),
            // One gate not answering does not hide the others.
            Err(e) => ProviderEntry::Unreachable {
                provider,
                error: e.to_string(),
            },
        })
        .collect();
    json_response(&json!(FleetView { providers }), 200)
}

/// `GET /v1/support/registry`: the stored versions, newest first, each with what changed
pub(crate) async fn registry(req: &Request, env: &Env) -> Result<Response, ApiError> {
    let principal = authenticate(req, env).await?;
    require_support(&principal)?;
    let versions = registry_client::versions(env)
        .await
        .or_internal("reading the registry")?;
    let latest = registry_client::latest(env).await;
    let history = RegistryHistory {
        latest: latest.version,
        models: latest.models,
        versions,
    };
    json_response(&json!(history), 200)
}

/// `POST /v1/admin/registry`: publishes a new version, validated whole; 201 with its record,
/// 400 naming the field (nothing is published)
pub(crate) async fn publish(mut req: Request, env: &Env) -> Result<Response, ApiError> {
    let principal = authenticate(&req, env).await?;
    require_support_admin(&principal)?;
    let body = read_body(&mut req, MAX_PUBLICATION_BYTES).await?;
    let publication: Publication = studio::json_bytes::from_bytes(&body).map_err(|e| {
        ApiError::bad_field(
            "invalid_publication",
            "body",
            format!("not a publication: {e}"),
        )
    })?;
    let (status, answer) = registry_client::publish(env, &publication, &principal.audit_name())
        .await
        .or_internal("publishing to the registry")?;
    match status {
        201 => json_response(&answer, 201),
        400 => {
            let text = |k: &str| answer[k].as_str().unwrap_or_default().to_owned();
            Err(ApiError::BadRequest {
                code: registry_error_code(&text("code")),
                message: text("message"),
                field: answer["field"].as_str().map(str::to_owned),
            })
        }
        _ => Err(ApiError::Internal(format!(
            "registry object answered {status}: {answer}"
        ))),
    }
}

/// The stable code of a registry refusal (the core's `RegistryError::code`)
fn registry_error_code(code: &str) -> &'static str {
    match code {
        "unknown_model" => "unknown_model",
        "no_model_in_service" => "no_model_in_service",
        "nothing_changed" => "nothing_changed",
        "version_exhausted" => "version_exhausted",
        _ => "invalid_registry",
    }
}

/// The holder `POST /__dev/gates/{provider}/hold` takes a slot for: no job object has this
/// name's shape (`rnd_` and 32 hex digits), so a push to it finds nothing
const VANISHED_HOLDER: &str = "rnd_dev_vanished_holder";

/// `POST /__dev/gates/{provider}/hold {"holder": "a", "lease_ms": n}` (dev only, admin
/// support keys): takes a slot for a holder that never comes back; 200 with the gate's answer
pub(crate) async fn dev_hold(
    mut req: Request,
    env: &Env,
    provider: &str,
) -> Result<Response, ApiError> {
    if config::environment(env) != studio::providers::Environment::Dev {
        return Err(ApiError::NotFound("no such route".into()));
    }
    let principal = authenticate(&req, env).await?;
    require_support_admin(&principal)?;
    // The route's name (`fal`) or the fleet view's (`fal_pika`)
    let provider = ProviderKind::parse(provider)
        .or_else(|| serde_json::from_value(json!(provider)).ok())
        .ok_or_else(|| ApiError::bad_field("unknown_provider", "provider", "no such provider"))?;
    /// `holder` names the vanished holder's place (one slot per name)
    #[derive(serde::Deserialize)]
    struct Hold {
        holder: String,
        lease_ms: u64,
    }
    let body = read_body(&mut req, 4096).await?;
    let hold: Hold = studio::json_bytes::from_bytes(&body)
        .map_err(|e| ApiError::bad_field("invalid_json", "body", e.to_string()))?;
    let now = crate::clock::now();
    let call = studio::fleet::desk::AcquireCall {
        key: studio::fleet::gate::RequesterKey {
            job: VANISHED_HOLDER.into(),
            stage: format!("hold-{}", hold.holder).as_str().into(),
            attempt: studio::ids::Attempt(1),
        },
        model: "vanished-holder".into(),
        creator: "dev".into(),
        tier: studio::api::tier_limits::Tier::Studio,
        priority: studio::job::SlotPriority {
            hero: true,
            deadline: now,
        },
        lease_ms: hold.lease_ms,
    };
    let answer = fleet_client::acquire(env, provider, &call, hold.lease_ms)
        .await
        .or_internal("asking the gate")?;
    json_response(&json!({ "answer": answer }), 200)
}
