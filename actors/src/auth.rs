//! Resolves `Authorization: Bearer <key>` (or the support page's session) to a [`Principal`],
//! and the role checks of the routes.

use studio::api::auth::{bearer_token, key_hash};
use studio::api::support_session::session_token;
use studio::api::{ApiError, Principal, Role};
use studio::ids::CreatorId;
use worker::{Env, Request};

use crate::api_keys::{key_row, principal_of};

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
