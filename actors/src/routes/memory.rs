//! `/v1/memory` and `/v1/renders/{id}/outcomes`: a creator's own memory graph (app keys only).
//! The graph and the context are asked for as the creator sees them, without a model named
//! (support staff read them whole: `support_memory`).
//!
//! The creator is always the key's: there is no way to name another creator's graph. Every rule
//! (what an edit may set, how outcomes merge) is the core's, applied in the creator's
//! `MemoryGraph` object; its refusals come back as `MemoryError`s and are mapped here to the API's
//! errors: 400 naming the field, 409 for a render the graph has not recorded yet.

use studio::api::ApiError;
use studio::brief::parse_brief;
use studio::ids::CreatorId;
use studio::memory::MemoryError;
use studio::memory::import::{MAX_IMPORT_BYTES, parse_import};
use worker::{Env, Method, Request, Response};

use super::util::{MAX_BODY, call_job, indexed_job, job_stub, read_body};
use crate::auth::{authenticate, require_app};
use crate::error::OrInternal;
use crate::{config, memory_client};

/// The graph as the creator sees it: no model named (`studio::memory::view`)
const CREATOR_GRAPH: &str = "/graph?audience=creator";

/// Headers of the graph object's answer that the API passes on
const PASSED_HEADERS: [&str; 2] = ["server-timing", "x-graph-shots"];

async fn caller(req: &Request, env: &Env) -> Result<CreatorId, ApiError> {
    let principal = authenticate(req, env).await?;
    require_app(&principal)
}

/// The body as text; anything but UTF-8 is a 400 on `body`
async fn body_text(req: &mut Request) -> Result<String, ApiError> {
    let bytes = read_body(req, MAX_BODY).await?;
    String::from_utf8(bytes)
        .map_err(|_| ApiError::bad_field("invalid_json", "body", "the body must be UTF-8 JSON"))
}

/// A refusal of the core as the API's error; `code` names the operation's 400
fn refusal(err: MemoryError, code: &'static str) -> ApiError {
    match err {
        MemoryError::Malformed { message } => ApiError::bad_field(
            "invalid_json",
            "body",
            format!("body is not JSON: {message}"),
        ),
        MemoryError::Invalid { field, message } => ApiError::BadRequest {
            code,
            message: format!("{field}: {message}"),
            field: Some(field),
        },
        MemoryError::UnknownRender { job } => ApiError::Conflict {
            code: "render_not_in_memory",
            message: format!(
                "render {job} is not in this creator's memory graph yet: a render is recorded \
                 there when its job finishes; try again in a few seconds"
            ),
        },
    }
}

/// Passes the graph object's answer on: 200 as it is, 422 as the mapped refusal
pub(super) async fn relay(
    call: worker::Result<Response>,
    code: &'static str,
) -> Result<Response, ApiError> {
    let mut resp = call.or_internal("calling the memory graph")?;
    let status = resp.status_code();
    let text = resp.text().await.or_internal("reading the memory graph")?;
    match status {
        200 => {
            let mut out = Response::ok(text).or_internal("response")?;
            let headers = out.headers_mut();
            headers
                .set("content-type", "application/json")
                .or_internal("header")?;
            for name in PASSED_HEADERS {
                if let Some(value) = resp.headers().get(name).ok().flatten() {
                    headers.set(name, &value).or_internal("header")?;
                }
            }
            Ok(out)
        }
        422 => {
            let err: MemoryError = serde_json::from_str(&text)
                .map_err(|e| ApiError::Internal(format!("memory graph refusal {text}: {e}")))?;
            Err(refusal(err, code))
        }
        _ => Err(ApiError::Internal(format!(
            "memory graph answered {status}: {text}"
        ))),
    }
}

/// `GET /v1/memory` (the graph) and `PUT /v1/memory` (an edit; answers the graph after it)
pub(crate) async fn graph(mut req: Request, env: &Env) -> Result<Response, ApiError> {
    let creator = caller(&req, env).await?;
    let call = match req.method() {
        Method::Put => {
            let body = body_text(&mut req).await?;
            memory_client::call(env, &creator, Method::Put, CREATOR_GRAPH, Some(body)).await
        }
        _ => memory_client::call(env, &creator, Method::Get, CREATOR_GRAPH, None).await,
    };
    relay(call, "invalid_memory_edit").await
}

/// `POST /v1/memory/context` (the context the graph gives a brief, as a render of it would be
/// planned with), `POST /v1/memory/import` (a channel's YouTube history) and, with
/// `ENVIRONMENT=dev` only, `POST /v1/memory/__bench_seed`
pub(crate) async fn action(
    mut req: Request,
    env: &Env,
    action: &str,
) -> Result<Response, ApiError> {
    let creator = caller(&req, env).await?;
    if action == "import" {
        return import(req, env, &creator).await;
    }
    let body = read_body(&mut req, MAX_BODY).await?;
    match action {
        "context" => {
            let validated = parse_brief(&body).map_err(|e| ApiError::BadRequest {
                code: e.code(),
                message: e.to_string(),
                field: e.field().map(str::to_owned),
            })?;
            let brief = serde_json::to_string(&validated.brief)
                .map_err(|e| ApiError::Internal(format!("encoding the brief: {e}")))?;
            let call = memory_client::call(
                env,
                &creator,
                Method::Post,
                "/context?audience=creator",
                Some(brief),
            );
            relay(call.await, "invalid_brief").await
        }
        "__bench_seed" if config::lookup(env, "ENVIRONMENT").as_deref() == Some("dev") => {
            let body = String::from_utf8(body).map_err(|_| {
                ApiError::bad_field("invalid_json", "body", "the body must be UTF-8 JSON")
            })?;
            let call =
                memory_client::call(env, &creator, Method::Post, "/__bench/seed", Some(body));
            relay(call.await, "invalid_request").await
        }
        _ => Err(ApiError::NotFound(format!(
            "no route for /v1/memory/{action}"
        ))),
    }
}

/// `POST /v1/memory/import`: the body (a `videos.list` response and Analytics reports, up to
/// `MAX_IMPORT_BYTES`) is parsed and learned from here, so the creator's graph object gets only
/// the small result to merge; a refusal is a 400 naming the field, and nothing is sent
async fn import(mut req: Request, env: &Env, creator: &CreatorId) -> Result<Response, ApiError> {
    let bytes = read_body(&mut req, MAX_IMPORT_BYTES).await?;
    let body = String::from_utf8(bytes)
        .map_err(|_| ApiError::bad_field("invalid_json", "body", "the body must be UTF-8 JSON"))?;
    let learned = parse_import(&body).map_err(|e| refusal(e, "invalid_import"))?;
    drop(body);
    let learned = serde_json::to_string(&learned)
        .map_err(|e| ApiError::Internal(format!("encoding the import: {e}")))?;
    let call = memory_client::call(env, creator, Method::Post, "/import", Some(learned)).await;
    relay(call, "invalid_import").await
}

/// `POST /v1/renders/{id}/outcomes`: outcome figures for one of the creator's succeeded renders
pub(crate) async fn outcomes(mut req: Request, env: &Env, id: &str) -> Result<Response, ApiError> {
    let creator = caller(&req, env).await?;
    let job = indexed_job(env, id, Some(&creator)).await?;
    let stub = job_stub(env, &job)?;
    let (status, view, _) = call_job(stub, Method::Get, "/view", None).await?;
    // Another creator's render answers exactly like a missing one.
    if status != 200 || view["creator"].as_str() != Some(creator.as_str()) {
        return Err(ApiError::NotFound(format!("no render {id}")));
    }
    match view["status"].as_str() {
        Some("succeeded") => {}
        Some(s @ ("failed" | "cancelled")) => {
            return Err(ApiError::Conflict {
                code: "render_not_succeeded",
                message: format!("render {id} {s}: only a succeeded render has outcomes"),
            });
        }
        Some(s) => {
            return Err(ApiError::Conflict {
                code: "render_not_finished",
                message: format!("render {id} is still {s}: report outcomes once it has succeeded"),
            });
        }
        None => return Err(ApiError::Internal(format!("render {id} has no status"))),
    }
    let body = body_text(&mut req).await?;
    let path = format!("/outcomes/{job}");
    let call = memory_client::call(env, &creator, Method::Post, &path, Some(body)).await;
    relay(call, "invalid_outcomes").await
}
