//! `GET /support/...`: the support page, static files from the `ASSETS` binding (Workers static
//! assets, `actors/assets`), served through the Worker so every response carries the page's
//! security headers (`studio::api::support_page`). The page itself calls the support API with
//! its session cookie.

use studio::api::ApiError;
use studio::api::support_page::SECURITY_HEADERS;
use worker::{Env, Headers, Request, Response};

use crate::error::OrInternal;

/// Response headers of an asset passed through as they are
const PASSED: &[&str] = &["content-type", "etag", "last-modified"];

pub(crate) async fn serve(req: Request, env: &Env) -> Result<Response, ApiError> {
    let url = req.url().or_internal("request url")?;
    // `/support` has no trailing slash: the page's relative URLs need one.
    if url.path() == "/support" {
        let mut to = url.clone();
        to.set_path("/support/");
        return Response::redirect_with_status(to, 308).or_internal("redirect");
    }
    let assets = env.assets("ASSETS").or_internal("ASSETS binding")?;
    let mut asset = assets
        .fetch_request(req)
        .await
        .or_internal("static assets")?;
    let status = asset.status_code();
    let headers = Headers::new();
    for name in PASSED {
        if let Some(value) = asset.headers().get(name).ok().flatten() {
            headers.set(name, &value).or_internal("asset header")?;
        }
    }
    // The assets' redirects (`index.html` to `/`) keep their target.
    if let Some(location) = asset.headers().get("location").ok().flatten() {
        headers
            .set("location", &location)
            .or_internal("location header")?;
    }
    for (name, value) in SECURITY_HEADERS {
        headers.set(name, value).or_internal("security header")?;
    }
    // Page files are tens of kilobytes; passing the bytes lets the headers be our own.
    let bytes = asset.bytes().await.or_internal("reading asset")?;
    Ok(Response::from_bytes(bytes)
        .or_internal("asset response")?
        .with_status(status)
        .with_headers(headers))
}
