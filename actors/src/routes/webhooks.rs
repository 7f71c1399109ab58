//! `/v1/webhooks/...`: what an app needs to verify the webhooks it receives.

use serde_json::json;
use studio::api::ApiError;
use studio::providers::signature::standard::{ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER};
use worker::{Env, Request, Response};

use super::util::json_response;
use crate::auth::{authenticate, require_app};
use crate::webhook_secret;

/// `GET /v1/webhooks/secret`: the creator's `whsec_` signing secret (minted on first use)
pub(crate) async fn secret(req: &Request, env: &Env) -> Result<Response, ApiError> {
    let principal = authenticate(req, env).await?;
    let creator = require_app(&principal)?;
    let secret = webhook_secret::get_or_mint(env, &creator).await?;
    json_response(
        &json!({
            "secret": secret,
            "scheme": "standard-webhooks-v1",
            "headers": [ID_HEADER, TIMESTAMP_HEADER, SIGNATURE_HEADER],
        }),
        200,
    )
}
