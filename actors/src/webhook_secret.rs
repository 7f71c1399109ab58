//! Each creator's Standard Webhooks signing secret (`whsec_` + base64 of 32 random bytes), kept
//! in D1 `creators.webhook_secret` and minted on first use: by `GET /v1/webhooks/secret` or by
//! the first webhook a job of theirs has to sign, whichever comes first.
//!
//! An empty stored value counts as none (it is minted over). What is stored is checked before it
//! is handed out or signs anything (`studio::api::secrets::check_webhook_secret`): a malformed
//! one, or outside dev one of the simulator's public secrets, makes the request fail as "not
//! configured" (503) rather than sign with a key others may know.

use base64::Engine as _;
use serde::Deserialize;
use studio::api::ApiError;
use studio::api::secrets::check_webhook_secret;
use studio::ids::CreatorId;
use worker::Env;

use crate::config;
use crate::error::OrInternal;

#[derive(Deserialize)]
struct Row {
    webhook_secret: Option<String>,
}

async fn read(env: &Env, creator: &CreatorId) -> Result<Option<Row>, ApiError> {
    env.d1("DB")
        .or_internal("D1")?
        .prepare("SELECT webhook_secret FROM creators WHERE id = ?1")
        .bind(&[creator.as_str().into()])
        .or_internal("binding secret read")?
        .first(None)
        .await
        .or_internal("reading webhook secret")
}

/// The creator's secret, minting it if they have none; concurrent first uses agree on one
/// (the write only fills an empty column, and everyone reads back what is stored)
pub(crate) async fn get_or_mint(env: &Env, creator: &CreatorId) -> Result<String, ApiError> {
    let row = read(env, creator)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no creator {creator}")))?;
    if let Some(secret) = row.webhook_secret.filter(|s| !s.is_empty()) {
        return checked(env, secret);
    }
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| ApiError::Internal(format!("random secret: {e}")))?;
    let minted = format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    );
    env.d1("DB")
        .or_internal("D1")?
        .prepare(
            "UPDATE creators SET webhook_secret = ?1 \
             WHERE id = ?2 AND (webhook_secret IS NULL OR webhook_secret = '')",
        )
        .bind(&[minted.as_str().into(), creator.as_str().into()])
        .or_internal("binding secret write")?
        .run()
        .await
        .or_internal("storing webhook secret")?;
    let stored = read(env, creator)
        .await?
        .and_then(|r| r.webhook_secret)
        .ok_or_else(|| ApiError::Internal(format!("webhook secret of {creator} not stored")))?;
    checked(env, stored)
}

/// The secret, when the environment accepts it
fn checked(env: &Env, secret: String) -> Result<String, ApiError> {
    check_webhook_secret(config::environment(env), &secret)?;
    Ok(secret)
}
