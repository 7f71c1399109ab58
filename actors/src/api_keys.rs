//! The `api_keys` table of D1: a key's row by its hash, and the principal it makes once the
//! request is counted against the key's rate (a bearer key and a support session both end here).

use serde::Deserialize;
use studio::api::auth::{constant_time_eq, key_id};
use studio::api::{ApiError, Principal, Role};
use studio::ids::CreatorId;
use worker::Env;

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
