//! `GET /v1/media/{key}?exp=&sig=`: artifacts from R2 through signed, expiring URLs.

use studio::api::ApiError;
use studio::api::media::{MediaUrlError, verify};
use worker::{Env, Request, Response};

use crate::error::OrInternal;
use crate::{clock, config};

/// Streams an artifact when the URL's signature and expiry hold
pub(crate) async fn serve(req: &Request, env: &Env, key: &str) -> Result<Response, ApiError> {
    let url = req.url().or_internal("url")?;
    let mut exp = None;
    let mut sig = None;
    for (k, v) in url.query_pairs() {
        match k.as_ref() {
            "exp" => exp = v.parse::<u64>().ok(),
            "sig" => sig = Some(v.to_string()),
            _ => {}
        }
    }
    let (Some(exp), Some(sig)) = (exp, sig) else {
        return Err(ApiError::Unauthenticated(
            "media urls need exp and sig".into(),
        ));
    };
    verify(&config::media_secret(env), key, exp, &sig, clock::now()).map_err(|e| match e {
        MediaUrlError::ForbiddenKey => ApiError::NotFound(format!("no media {key}")),
        MediaUrlError::Expired | MediaUrlError::BadSignature => ApiError::Forbidden(e.to_string()),
    })?;
    let bucket = env.bucket("MEDIA").or_internal("R2")?;
    let object = bucket
        .get(key)
        .execute()
        .await
        .or_internal("reading media")?;
    let object = object.ok_or_else(|| ApiError::NotFound(format!("no media {key}")))?;
    let content_type = object
        .http_metadata()
        .content_type
        .unwrap_or_else(|| "application/octet-stream".into());
    let body = object
        .body()
        .ok_or_else(|| ApiError::NotFound(format!("no media {key}")))?;
    let bytes = body.bytes().await.or_internal("reading media body")?;
    let mut resp = Response::from_bytes(bytes).or_internal("media response")?;
    resp.headers_mut()
        .set("content-type", &content_type)
        .or_internal("content-type")?;
    resp.headers_mut()
        .set("cache-control", "private, max-age=3600")
        .or_internal("cache-control")?;
    Ok(resp)
}
