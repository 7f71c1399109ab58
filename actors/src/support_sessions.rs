//! The support page's sessions in D1 (`support_sessions`); the rules (cookie, CSRF, lifetime)
//! are the core's `studio::api::support_session`.

use serde::Deserialize;
use studio::api::auth::key_hash;
use studio::api::support_session::{
    CSRF_HEADER, SESSION_LIFETIME, TOKEN_BYTES, check_csrf, is_live, is_unsafe, session_token,
};
use studio::api::{ApiError, Principal};
use studio::time::Timestamp;
use wasm_bindgen::JsValue;
use worker::{Env, Request};

use crate::api_keys::{KeyRow, principal_of};
use crate::clock;
use crate::error::OrInternal;

/// A live session and the key behind it
#[derive(Deserialize)]
struct SessionRow {
    csrf_token: String,
    expires_at: f64,
    key_hash: String,
    key_prefix: String,
    role: String,
    creator_id: Option<String>,
    label: Option<String>,
}

/// What the page learns of its session
pub(crate) struct Session {
    pub principal: Principal,
    pub csrf_token: String,
    pub expires_at: Timestamp,
}

fn random_hex() -> Result<String, ApiError> {
    let mut bytes = [0u8; TOKEN_BYTES];
    getrandom::fill(&mut bytes).map_err(|e| ApiError::Internal(format!("random token: {e}")))?;
    Ok(hex::encode(bytes))
}

/// The session of the request's cookie, with the CSRF checks when the request changes
/// something; 401 when there is none or it expired, 403 when a check fails
pub(crate) async fn session(req: &Request, env: &Env) -> Result<Session, ApiError> {
    let cookie = req.headers().get("cookie").ok().flatten();
    let token = session_token(cookie.as_deref())
        .ok_or_else(|| ApiError::Unauthenticated("not signed in".into()))?;
    let row: Option<SessionRow> = env
        .d1("DB")
        .or_internal("D1 binding")?
        .prepare(
            "SELECT s.csrf_token, s.expires_at, k.key_hash, k.key_prefix, k.role, k.creator_id, k.label \
             FROM support_sessions s JOIN api_keys k ON k.key_hash = s.key_hash \
             WHERE s.token_hash = ?1 AND k.revoked_at IS NULL",
        )
        .bind(&[key_hash(token).into()])
        .or_internal("binding session lookup")?
        .first(None)
        .await
        .or_internal("session lookup")?;
    let expired = || ApiError::Unauthenticated("the session expired or was signed out".into());
    let row = row.ok_or_else(expired)?;
    let expires_at = Timestamp(row.expires_at as u64);
    if !is_live(clock::now(), expires_at) {
        return Err(expired());
    }
    if is_unsafe(req.method().as_ref()) {
        let header = req.headers().get(CSRF_HEADER).ok().flatten();
        let origin = req.headers().get("origin").ok().flatten();
        let url = req.url().or_internal("request URL")?;
        let own = url.origin().ascii_serialization();
        check_csrf(&row.csrf_token, header.as_deref(), origin.as_deref(), &own)?;
    }
    let key = KeyRow {
        key_hash: row.key_hash.clone(),
        key_prefix: row.key_prefix,
        role: row.role,
        creator_id: row.creator_id,
        label: row.label,
    };
    let principal = principal_of(env, key, &row.key_hash).await?;
    Ok(Session {
        principal,
        csrf_token: row.csrf_token,
        expires_at,
    })
}

/// The caller of a cookie-borne request (see [`session`])
pub(crate) async fn principal(req: &Request, env: &Env) -> Result<Principal, ApiError> {
    session(req, env).await.map(|s| s.principal)
}

/// Opens a session for a support key (already checked); returns the cookie's token and the
/// session. Expired sessions are swept on the way, so the table holds about an hour of them.
pub(crate) async fn open(
    env: &Env,
    key_hash_hex: &str,
    principal: Principal,
) -> Result<(String, Session), ApiError> {
    let token = random_hex()?;
    let csrf_token = random_hex()?;
    let now = clock::now();
    let expires_at = Timestamp(now.0 + SESSION_LIFETIME.0);
    let db = env.d1("DB").or_internal("D1 binding")?;
    db.prepare("DELETE FROM support_sessions WHERE expires_at <= ?1")
        .bind(&[JsValue::from_f64(now.0 as f64)])
        .or_internal("binding session sweep")?
        .run()
        .await
        .or_internal("sweeping sessions")?;
    db.prepare(
        "INSERT INTO support_sessions (token_hash, key_hash, csrf_token, created_at, expires_at) \
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )
    .bind(&[
        key_hash(&token).into(),
        key_hash_hex.into(),
        csrf_token.as_str().into(),
        JsValue::from_f64(now.0 as f64),
        JsValue::from_f64(expires_at.0 as f64),
    ])
    .or_internal("binding session")?
    .run()
    .await
    .or_internal("storing session")?;
    Ok((
        token,
        Session {
            principal,
            csrf_token,
            expires_at,
        },
    ))
}

/// Ends the request's session (its row goes; the cookie is cleared by the caller)
pub(crate) async fn close(req: &Request, env: &Env) -> Result<(), ApiError> {
    let cookie = req.headers().get("cookie").ok().flatten();
    let Some(token) = session_token(cookie.as_deref()) else {
        return Ok(());
    };
    env.d1("DB")
        .or_internal("D1 binding")?
        .prepare("DELETE FROM support_sessions WHERE token_hash = ?1")
        .bind(&[key_hash(token).into()])
        .or_internal("binding session delete")?
        .run()
        .await
        .or_internal("deleting session")?;
    Ok(())
}
