//! `/v1/support/creators/{creator}/memory`: support staff read any creator's memory graph, and
//! the context it gives a brief, as a render job reads them: with every model, per-model
//! statistic and embedder named. The creator's own routes (`/v1/memory`) leave those out
//! (`studio::memory::view`).
//!
//! Reading is all: support repairs renders, not a creator's graph. A creator is known by its
//! API keys (revoked ones too); another name is a 404, so no graph object is made for it.

use studio::api::ApiError;
use studio::brief::parse_brief;
use studio::ids::CreatorId;
use worker::{Env, Method, Request, Response};

use super::memory::relay;
use super::util::{MAX_BODY, read_body};
use crate::auth::{authenticate, require_support};
use crate::error::OrInternal;
use crate::memory_client;

/// The creator named in the path, when any API key was ever issued for it
async fn known_creator(env: &Env, creator: &str) -> Result<CreatorId, ApiError> {
    let db = env.d1("DB").or_internal("D1 binding")?;
    let found: Option<serde_json::Value> = db
        .prepare("SELECT 1 AS found FROM api_keys WHERE creator_id = ?1 LIMIT 1")
        .bind(&[creator.into()])
        .or_internal("binding creator lookup")?
        .first(None)
        .await
        .or_internal("creator lookup")?;
    match found {
        Some(_) => Ok(CreatorId(creator.to_owned())),
        None => Err(ApiError::NotFound(format!("no creator {creator}"))),
    }
}

/// `GET /v1/support/creators/{creator}/memory`: the whole graph
pub(crate) async fn graph(req: &Request, env: &Env, creator: &str) -> Result<Response, ApiError> {
    let principal = authenticate(req, env).await?;
    require_support(&principal)?;
    let creator = known_creator(env, creator).await?;
    let call = memory_client::call(env, &creator, Method::Get, "/graph", None).await;
    relay(call, "invalid_request").await
}

/// `POST /v1/support/creators/{creator}/memory/context`: the context the graph gives a brief,
/// as a render of it would be planned with (nothing is cast or written)
pub(crate) async fn context(
    mut req: Request,
    env: &Env,
    creator: &str,
) -> Result<Response, ApiError> {
    let principal = authenticate(&req, env).await?;
    require_support(&principal)?;
    let body = read_body(&mut req, MAX_BODY).await?;
    let validated = parse_brief(&body).map_err(|e| ApiError::BadRequest {
        code: e.code(),
        message: e.to_string(),
        field: e.field().map(str::to_owned),
    })?;
    let creator = known_creator(env, creator).await?;
    let brief = serde_json::to_string(&validated.brief)
        .map_err(|e| ApiError::Internal(format!("encoding the brief: {e}")))?;
    let call = memory_client::call(env, &creator, Method::Post, "/context", Some(brief)).await;
    relay(call, "invalid_brief").await
}
