//! `/v1/support/session`: the support page signs in with a support key once and then rides on
//! a session cookie (rules in `studio::api::support_session`, storage in `support_sessions`).

use serde::Deserialize;
use serde_json::json;
use studio::api::auth::key_hash;
use studio::api::support_session::{
    MAX_SIGN_IN_BODY, SESSION_LIFETIME, cleared_cookie, may_sign_in, session_cookie,
};
use studio::api::{ApiError, Role};
use worker::{Env, Request, Response};

use super::util::{json_response, read_body};
use crate::api_keys::{key_row, principal_of};
use crate::error::OrInternal;
use crate::support_sessions::{self, Session};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SignIn {
    key: String,
}

/// The body every session route answers with: never the key, never the cookie's token
fn described(session: &Session) -> Result<Response, ApiError> {
    let mut resp = json_response(
        &json!({
            "role": session.principal.role,
            "key_label": session.principal.key_label,
            "key_id": session.principal.key_id,
            "csrf_token": session.csrf_token,
            "expires_at": session.expires_at,
        }),
        200,
    )?;
    resp.headers_mut()
        .set("cache-control", "no-store")
        .or_internal("cache-control header")?;
    Ok(resp)
}

/// `POST /v1/support/session` with `{"key": "sk_..."}`: a support key opens a session (an
/// HttpOnly, Secure, SameSite=Strict cookie); unknown keys 401, app keys 403
pub(crate) async fn sign_in(mut req: Request, env: &Env) -> Result<Response, ApiError> {
    let bytes = read_body(&mut req, MAX_SIGN_IN_BODY).await?;
    let body: SignIn = studio::json_bytes::from_bytes(&bytes).map_err(|e| {
        ApiError::bad_field(
            "invalid_json",
            "key",
            format!("expected {{\"key\": \"...\"}}: {e}"),
        )
    })?;
    let hash = key_hash(body.key.trim());
    let row = key_row(env, &hash).await?;
    let role = Role::parse(&row.role).ok_or_else(|| {
        ApiError::Internal(format!("api_keys row has unknown role {:?}", row.role))
    })?;
    may_sign_in(role)?;
    let principal = principal_of(env, row, &hash).await?;
    let (token, session) = support_sessions::open(env, &hash, principal).await?;
    let mut resp = described(&session)?;
    resp.headers_mut()
        .set("set-cookie", &session_cookie(&token, SESSION_LIFETIME))
        .or_internal("set-cookie header")?;
    Ok(resp)
}

/// `GET /v1/support/session`: the page's session (role, label, CSRF token), or 401
pub(crate) async fn current(req: &Request, env: &Env) -> Result<Response, ApiError> {
    let session = support_sessions::session(req, env).await?;
    described(&session)
}

/// `DELETE /v1/support/session`: signs out (needs the CSRF token like every unsafe request)
pub(crate) async fn sign_out(req: &Request, env: &Env) -> Result<Response, ApiError> {
    support_sessions::session(req, env).await?;
    support_sessions::close(req, env).await?;
    let mut resp = Response::empty()
        .or_internal("empty response")?
        .with_status(204);
    resp.headers_mut()
        .set("set-cookie", &cleared_cookie())
        .or_internal("set-cookie header")?;
    Ok(resp)
}
