//! Resolves `Authorization: Bearer <key>` to a [`Principal`] through D1.

use serde::Deserialize;
use studio::api::auth::{bearer_token, constant_time_eq, key_hash, key_id, key_prefix};
use studio::api::{ApiError, Principal, Role};
use studio::ids::CreatorId;
use worker::{Env, Request};

use crate::error::OrInternal;
use crate::rate_limit;

#[derive(Deserialize)]
struct KeyRow {
    key_hash: String,
    role: String,
    creator_id: Option<String>,
    label: Option<String>,
}

/// The caller, or 401 when the key is missing, unknown or revoked, or 429 when the key is over
/// its rate
pub(crate) async fn authenticate(req: &Request, env: &Env) -> Result<Principal, ApiError> {
    let header = req.headers().get("authorization").ok().flatten();
    let key = bearer_token(header.as_deref()).ok_or_else(|| {
        ApiError::Unauthenticated("missing `Authorization: Bearer <key>` header".into())
    })?;
    let hash = key_hash(key);
    let db = env.d1("DB").or_internal("D1 binding")?;
    let row: Option<KeyRow> = db
        .prepare("SELECT key_hash, role, creator_id, label FROM api_keys WHERE key_hash = ?1 AND revoked_at IS NULL")
        .bind(&[hash.clone().into()])
        .or_internal("binding key lookup")?
        .first(None)
        .await
        .or_internal("key lookup")?;
    // The lookup is by hash; comparing again in constant time keeps a timing side channel shut
    // should the lookup ever become a prefix or range scan.
    let row = row
        .filter(|r| constant_time_eq(r.key_hash.as_bytes(), hash.as_bytes()))
        .ok_or_else(|| ApiError::Unauthenticated("unknown or revoked API key".into()))?;
    let role = Role::parse(&row.role).ok_or_else(|| {
        ApiError::Internal(format!("api_keys row has unknown role {:?}", row.role))
    })?;
    rate_limit::check(env, role, &hash).await?;
    let prefix = key_prefix(key);
    Ok(Principal {
        key_id: key_id(&hash),
        key_label: row
            .label
            .filter(|l| !l.trim().is_empty())
            .unwrap_or_else(|| prefix.clone()),
        key_prefix: prefix,
        role,
        creator: row.creator_id.map(CreatorId),
    })
}

/// 403 unless the caller is an app key; returns its creator
pub(crate) fn require_app(principal: &Principal) -> Result<CreatorId, ApiError> {
    match (principal.role, &principal.creator) {
        (Role::App, Some(creator)) => Ok(creator.clone()),
        _ => Err(ApiError::Forbidden("this route needs an app key".into())),
    }
}

/// 403 unless the caller is a support key (read or admin)
pub(crate) fn require_support(principal: &Principal) -> Result<(), ApiError> {
    if principal.role.is_support() {
        Ok(())
    } else {
        Err(ApiError::Forbidden("this route needs a support key".into()))
    }
}

/// 403 unless the caller is a support key that may act on jobs
pub(crate) fn require_support_admin(principal: &Principal) -> Result<(), ApiError> {
    match principal.role {
        Role::SupportAdmin => Ok(()),
        Role::Support => Err(ApiError::Forbidden(
            "this support key may read but not act; actions need an admin support key".into(),
        )),
        Role::App => Err(ApiError::Forbidden("this route needs a support key".into())),
    }
}
