//! Resolves `Authorization: Bearer <key>` to a [`Principal`] through D1.

use serde::Deserialize;
use studio::api::auth::{bearer_token, constant_time_eq, key_hash, key_id};
use studio::api::support_session::session_token;
use studio::api::{ApiError, Principal, Role};
use studio::ids::CreatorId;
use worker::{Env, Request};

use crate::error::OrInternal;
use crate::rate_limit;

/// A row of `api_keys`
#[derive(Deserialize)]
pub(crate) struct KeyRow {
    pub key_hash: String,
    pub key_prefix: String,
    pub role: String,
    pub creator_id: Option<String>,
    pub label: Option<String>,
}

/// The caller, or 401 when the key is missing, unknown or revoked, or 429 when the key is over
/// its rate. A bearer key wins; without one, the support page's session cookie is accepted (see
/// `support_sessions`), with the CSRF checks on requests that change something.
pub(crate) async fn authenticate(req: &Request, env: &Env) -> Result<Principal, ApiError> {
    let header = req.headers().get("authorization").ok().flatten();
    let Some(key) = bearer_token(header.as_deref()) else {
        let cookie = req.headers().get("cookie").ok().flatten();
        if session_token(cookie.as_deref()).is_some() {
            return crate::support_sessions::principal(req, env).await;
        }
        return Err(ApiError::Unauthenticated(
            "missing `Authorization: Bearer <key>` header".into(),
        ));
    };
    let hash = key_hash(key);
    let row = key_row(env, &hash).await?;
    principal_of(env, row, &hash).await
}

/// The live (not revoked) key with this hash, or 401
pub(crate) async fn key_row(env: &Env, hash: &str) -> Result<KeyRow, ApiError> {
    let db = env.d1("DB").or_internal("D1 binding")?;
    let row: Option<KeyRow> = db
        .prepare("SELECT key_hash, key_prefix, role, creator_id, label FROM api_keys WHERE key_hash = ?1 AND revoked_at IS NULL")
        .bind(&[hash.into()])
        .or_internal("binding key lookup")?
        .first(None)
        .await
        .or_internal("key lookup")?;
    // The lookup is by hash; comparing again in constant time keeps a timing side channel shut
    // should the lookup ever become a prefix or range scan.
    row.filter(|r| constant_time_eq(r.key_hash.as_bytes(), hash.as_bytes()))
        .ok_or_else(|| ApiError::Unauthenticated("unknown or revoked API key".into()))
}

/// The principal of a key's row, after counting the request against the key's rate
pub(crate) async fn principal_of(
    env: &Env,
    row: KeyRow,
    hash: &str,
) -> Result<Principal, ApiError> {
    let role = Role::parse(&row.role).ok_or_else(|| {
        ApiError::Internal(format!("api_keys row has unknown role {:?}", row.role))
    })?;
    rate_limit::check(env, role, hash).await?;
    Ok(Principal {
        key_id: key_id(hash),
        key_label: row
            .label
            .filter(|l| !l.trim().is_empty())
            .unwrap_or_else(|| row.key_prefix.clone()),
        key_prefix: row.key_prefix,
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
