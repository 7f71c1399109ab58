//! `PUT /v1/memory/looks/{cast}/images`: a reference image of a cast member's look, and the
//! briefs that take cast members from the Memory Graph by id.
//!
//! The upload is read as a stream under [`MAX_REFERENCE_IMAGE_BYTES`] (413 past it), checked
//! by its magic bytes (`studio::memory::looks_upload`), written to R2 under the caller's own
//! prefix (`creators/{creator}/looks/{cast}/{digest}.{ext}`), then recorded in the look's row by
//! the creator's graph object. The key never leaves the creator: a look may only name keys under
//! its owner's prefix (`PUT /v1/memory` refuses others, naming the field), only that creator's
//! renders sign it for a provider, and `/v1/media` serves it only through a signed URL, which
//! this answer gives the uploader (for an hour) and nobody else is ever given.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::json;
use studio::api::ApiError;
use studio::brief::validate::{cast_from_graph as fill_cast, graph_cast_ids};
use studio::brief::{ValidatedBrief, validate_brief};
use studio::ids::CreatorId;
use studio::memory::looks_upload::{LookImageStored, MAX_REFERENCE_IMAGE_BYTES, check_upload};
use studio::memory::{CastLook, MemoryError};
use studio::time::Millis;
use worker::{Env, Method, Request, Response};

use super::util::read_body;
use crate::auth::{authenticate, require_app};
use crate::error::OrInternal;
use crate::{clock, config, memory_client};

/// How long the link to the uploaded image in the answer stays valid
const PREVIEW_LINK_LIFETIME: Millis = Millis::from_secs(3600);

/// A refusal of the graph as the API's 400, naming the field
fn refused(err: MemoryError) -> ApiError {
    match err {
        MemoryError::Invalid { field, message } => ApiError::BadRequest {
            code: "invalid_look",
            message: format!("{field}: {message}"),
            field: Some(field),
        },
        MemoryError::Malformed { message } => ApiError::Internal(message),
        MemoryError::UnknownRender { job } => ApiError::Internal(format!("unexpected {job}")),
    }
}

/// `PUT /v1/memory/looks/{cast}/images`
pub(crate) async fn upload(mut req: Request, env: &Env, cast: &str) -> Result<Response, ApiError> {
    let principal = authenticate(&req, env).await?;
    let creator = require_app(&principal)?;
    let content_type = req.headers().get("content-type").ok().flatten();
    let body = read_body(&mut req, MAX_REFERENCE_IMAGE_BYTES).await?;
    let upload = check_upload(&creator, cast, content_type.as_deref(), &body).map_err(|e| {
        ApiError::BadRequest {
            code: "invalid_image",
            message: e.to_string(),
            field: Some(e.field().to_owned()),
        }
    })?;
    let bytes = body.len();
    let bucket = env.bucket("MEDIA").or_internal("R2 binding")?;
    // Content-addressed: an upload of the same image writes the same bytes to the same key.
    bucket
        .put(&upload.key, body)
        .http_metadata(worker::HttpMetadata {
            content_type: Some(upload.image.content_type().to_owned()),
            ..Default::default()
        })
        .execute()
        .await
        .or_internal("storing the reference image")?;
    let path = format!("/looks/{}/images", upload.cast_id);
    let record = json!({ "key": upload.key }).to_string();
    let mut resp = memory_client::call(env, &creator, Method::Post, &path, Some(record))
        .await
        .or_internal("calling the memory graph")?;
    let status = resp.status_code();
    let text = resp.text().await.or_internal("reading the memory graph")?;
    match status {
        200 => {}
        422 => {
            // Not recorded (the look is full): the object is no look's, so it goes again.
            if let Err(e) = bucket.delete(&upload.key).await {
                worker::console_error!("removing refused upload {}: {e}", upload.key);
            }
            let err: MemoryError = serde_json::from_str(&text)
                .map_err(|e| ApiError::Internal(format!("memory graph refusal {text}: {e}")))?;
            return Err(refused(err));
        }
        _ => {
            return Err(ApiError::Internal(format!(
                "memory graph answered {status}: {text}"
            )));
        }
    }
    #[derive(Deserialize)]
    struct Recorded {
        added: bool,
        look: Option<studio::memory::graph::Look>,
    }
    let recorded: Recorded = serde_json::from_str(&text)
        .map_err(|e| ApiError::Internal(format!("memory graph answer {text}: {e}")))?;
    let url = studio::api::media::signed_url(
        &config::public_base(env),
        &config::media_key(env)?,
        &upload.key,
        clock::now().plus(PREVIEW_LINK_LIFETIME),
    );
    let answer = LookImageStored {
        cast_id: upload.cast_id,
        key: upload.key,
        content_type: upload.image.content_type().to_owned(),
        bytes: bytes as u64,
        added: recorded.added,
        reference_images: recorded
            .look
            .map(|l| l.reference_images)
            .unwrap_or_default(),
        url,
    };
    Response::from_json(&answer)
        .map(|r| r.with_status(if recorded.added { 201 } else { 200 }))
        .or_internal("encoding the answer")
}

/// A brief whose cast entries that name only an id are filled in from the creator's Graph
/// (`studio::brief::validate::cast_from_graph`) and validated again; 400 naming
/// `cast[i].description` for an id without a look
pub(crate) async fn cast_from_graph(
    env: &Env,
    creator: &CreatorId,
    validated: ValidatedBrief,
) -> Result<ValidatedBrief, ApiError> {
    let ids = graph_cast_ids(&validated.brief);
    if ids.is_empty() {
        return Ok(validated);
    }
    let body = json!({ "ids": ids }).to_string();
    let mut resp = memory_client::call(env, creator, Method::Post, "/looks/lookup", Some(body))
        .await
        .or_internal("calling the memory graph")?;
    let status = resp.status_code();
    let text = resp.text().await.or_internal("reading the memory graph")?;
    if status != 200 {
        return Err(ApiError::Internal(format!(
            "memory graph answered {status}: {text}"
        )));
    }
    #[derive(Deserialize)]
    struct Looks {
        looks: BTreeMap<String, CastLook>,
    }
    let looks: Looks = serde_json::from_str(&text)
        .map_err(|e| ApiError::Internal(format!("memory graph answer {text}: {e}")))?;
    let bad = |e: studio::brief::BriefError| ApiError::BadRequest {
        code: e.code(),
        message: e.to_string(),
        field: e.field().map(str::to_owned),
    };
    let brief = fill_cast(validated.brief, &looks.looks).map_err(bad)?;
    validate_brief(brief).map_err(bad)
}
