//! Small helpers shared by the route handlers.

use futures::StreamExt;
use serde::Deserialize;
use serde_json::Value;
use studio::api::ApiError;
use studio::api::body_cap::CappedBody;
use studio::ids::{CreatorId, JobId};
use worker::wasm_bindgen_futures::JsFuture;
use worker::{Env, Method, ObjectNamespace, Request, RequestInit, Response, Stub, web_sys};

use crate::error::OrInternal;
use crate::object_fetch;

/// Largest request body the API reads (a 1,000-shot brief fits comfortably)
pub(crate) const MAX_BODY: usize = 512 * 1024;

/// Reads a body under `limit`, refusing it with 413 as soon as it passes: at most `limit`
/// bytes are ever buffered. A declared `Content-Length` over the limit is refused unread; one
/// within it bounds the body, which is then read in one call (a stream reader costs a callback
/// about a tenth of its CPU); a chunked body, which declares none, is read as a stream and
/// counted as it arrives.
pub(crate) async fn read_body(req: &mut Request, limit: usize) -> Result<Vec<u8>, ApiError> {
    let declared = req.headers().get("content-length").ok().flatten();
    let mut body = CappedBody::new(limit, declared.as_deref())?;
    if body.length_declared() {
        body.push(&req.bytes().await.or_internal("reading body")?)?;
        return Ok(body.finish());
    }
    // No body at all (a GET, or a POST without one) reads as empty.
    let Ok(mut stream) = req.stream() else {
        return Ok(Vec::new());
    };
    while let Some(chunk) = stream.next().await {
        body.push(&chunk.or_internal("reading body")?)?;
    }
    Ok(body.finish())
}

/// [`read_body`] of the runtime's own request, which the caller hands over: a body of declared
/// length is read in one call, a chunked one as a counted stream through workers-rs
pub(crate) async fn read_raw_body(
    req: web_sys::Request,
    limit: usize,
) -> Result<Vec<u8>, ApiError> {
    let declared = req.headers().get("content-length").ok().flatten();
    let mut body = CappedBody::new(limit, declared.as_deref())?;
    if !body.length_declared() {
        return read_body(&mut Request::from(req), limit).await;
    }
    let promise = req
        .array_buffer()
        .map_err(|e| ApiError::Internal(format!("reading body: {e:?}")))?;
    let buffer = JsFuture::from(promise)
        .await
        .map_err(|e| ApiError::Internal(format!("reading body: {e:?}")))?;
    body.push(&worker::js_sys::Uint8Array::new(&buffer).to_vec())?;
    Ok(body.finish())
}

/// Job ids are `rnd_` and 32 lowercase hex digits; anything else is not a job
pub(crate) fn parse_job_id(id: &str) -> Result<JobId, ApiError> {
    let valid = id.strip_prefix("rnd_").is_some_and(|hex| {
        hex.len() == 32
            && hex
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    });
    if valid {
        Ok(JobId(id.to_owned()))
    } else {
        Err(ApiError::NotFound(format!("no render {id}")))
    }
}

/// A job the D1 render index knows, owned by `owner` when one is named (an app key's creator);
/// else 404, the same for "not there" and "not yours". Reads check this before they touch the
/// job's object, so probing random ids creates no object and no storage.
pub(crate) async fn indexed_job(
    env: &Env,
    id: &str,
    owner: Option<&CreatorId>,
) -> Result<JobId, ApiError> {
    let job = parse_job_id(id)?;
    let creator = match known_owner(&job) {
        Some(creator) => Some(creator),
        None => {
            let creator = indexed_owner(env, &job).await?;
            if let Some(creator) = &creator {
                remember_owner(&job, creator);
            }
            creator
        }
    };
    match (creator, owner) {
        (Some(creator), Some(owner)) if creator != owner.as_str() => {
            Err(ApiError::NotFound(format!("no render {id}")))
        }
        (Some(_), _) => Ok(job),
        (None, _) => Err(ApiError::NotFound(format!("no render {id}"))),
    }
}

/// The most job owners an isolate remembers; past it the memory starts over
const MAX_KNOWN_OWNERS: usize = 20_000;

thread_local! {
    /// Job id -> creator id of jobs this isolate found in the index. A render's row is written
    /// once, at creation, with its creator, and is never re-owned or deleted, so a remembered
    /// owner cannot go stale; the job object checks the creator again on every read. A poll
    /// then costs no D1 query for the index (one a poll was a share of the Worker's CPU under
    /// fleet load). Ids not found are not remembered: a job's row may be written a moment later.
    static KNOWN_OWNERS: std::cell::RefCell<std::collections::HashMap<String, String>> =
        std::cell::RefCell::new(std::collections::HashMap::new());
}

fn known_owner(job: &JobId) -> Option<String> {
    KNOWN_OWNERS.with(|known| known.borrow().get(job.as_str()).cloned())
}

fn remember_owner(job: &JobId, creator: &str) {
    KNOWN_OWNERS.with(|known| {
        let mut known = known.borrow_mut();
        if known.len() >= MAX_KNOWN_OWNERS {
            known.clear();
        }
        known.insert(job.as_str().to_owned(), creator.to_owned());
    });
}

/// The creator the D1 render index names for `job`, if it has the job
async fn indexed_owner(env: &Env, job: &JobId) -> Result<Option<String>, ApiError> {
    #[derive(Deserialize)]
    struct Row {
        creator_id: String,
    }
    let row: Option<Row> = env
        .d1("DB")
        .or_internal("D1")?
        .prepare("SELECT creator_id FROM renders WHERE job_id = ?1")
        .bind(&[job.as_str().into()])
        .or_internal("binding render lookup")?
        .first(None)
        .await
        .or_internal("render lookup")?;
    Ok(row.map(|row| row.creator_id))
}

thread_local! {
    /// The job objects' namespace, looked up once per isolate: the binding is the same object
    /// for every request, and the look-up (a property read and a type check across into JS) was
    /// a share of a callback's CPU.
    static JOB_NAMESPACE: std::cell::RefCell<Option<ObjectNamespace>> =
        const { std::cell::RefCell::new(None) };
}

/// The job object of a job id
pub(crate) fn job_stub(env: &Env, job: &JobId) -> Result<Stub, ApiError> {
    let namespace = match JOB_NAMESPACE.with(|cached| cached.borrow().clone()) {
        Some(namespace) => namespace,
        None => {
            let namespace = env
                .durable_object("RENDER_JOB")
                .or_internal("job objects")?;
            JOB_NAMESPACE.with(|cached| *cached.borrow_mut() = Some(namespace.clone()));
            namespace
        }
    };
    namespace
        .get_by_name(job.as_str())
        .or_internal("job object")
}

/// Headers as name and value pairs, read across from JS in one string rather than an
/// iterator's step per header (which cost a callback more than checking its signature)
pub(crate) fn header_pairs(headers: &web_sys::Headers) -> Result<Vec<(String, String)>, ApiError> {
    let pairs = worker::js_sys::Array::from(headers.as_ref());
    let json = worker::js_sys::JSON::stringify(&pairs)
        .ok()
        .and_then(|text| text.as_string())
        .ok_or_else(|| ApiError::Internal("reading headers".into()))?;
    serde_json::from_str(&json).map_err(|e| ApiError::Internal(format!("reading headers: {e}")))
}

/// Calls a job object's internal route
pub(crate) async fn call_job(
    stub: Stub,
    method: Method,
    path: &str,
    body: Option<&Value>,
) -> Result<(u16, Value, String), ApiError> {
    let (status, text) = object_fetch::text(
        stub,
        method,
        &format!("https://job{path}"),
        &[],
        body.map(Value::to_string),
    )
    .await
    .or_internal("calling job object")?;
    let json = serde_json::from_str(&text).unwrap_or(Value::Null);
    Ok((status, json, text))
}

/// A job object's answer read whole: its status, its body, and those of `headers` it carried
pub(crate) async fn read_job_answer(
    resp: Response,
    headers: &[&'static str],
) -> Result<(u16, String, Vec<(&'static str, String)>), ApiError> {
    let carried = headers
        .iter()
        .filter_map(|name| Some((*name, resp.headers().get(name).ok().flatten()?)))
        .collect();
    let status = resp.status_code();
    let text = object_fetch::response_text(&resp)
        .await
        .or_internal("reading job response")?;
    Ok((status, text, carried))
}

/// A JSON response with a status
pub(crate) fn json_response(value: &Value, status: u16) -> Result<Response, ApiError> {
    Response::from_json(value)
        .map(|r| r.with_status(status))
        .or_internal("encoding response")
}

/// A 200 response whose body is JSON already encoded
pub(crate) fn json_text_response(json: String) -> Result<Response, ApiError> {
    let mut resp = Response::ok(json).or_internal("json response")?;
    resp.headers_mut()
        .set("content-type", "application/json")
        .or_internal("content-type")?;
    Ok(resp)
}

/// Calls a job object's internal route with extra headers; returns its response unread (a
/// stream stays a stream)
pub(crate) async fn job_request(
    stub: &Stub,
    method: Method,
    path: &str,
    body: Option<&Value>,
    headers: &[(&str, String)],
) -> Result<Response, ApiError> {
    let mut init = RequestInit::new();
    init.with_method(method);
    let h = worker::Headers::new();
    for (name, value) in headers {
        h.set(name, value).or_internal("job request header")?;
    }
    init.with_headers(h);
    if let Some(b) = body {
        init.with_body(Some(b.to_string().into()));
    }
    let req = Request::new_with_init(&format!("https://job{path}"), &init)
        .or_internal("building job request")?;
    stub.fetch_with_request(req)
        .await
        .or_internal("calling job object")
}

/// The query string as pairs, decoded
pub(crate) fn query_pairs(req: &Request) -> Result<Vec<(String, String)>, ApiError> {
    Ok(req
        .url()
        .or_internal("url")?
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect())
}

/// A whole-number query parameter within `min..=max`, else 400 naming it
pub(crate) fn bounded_param(name: &str, value: &str, min: u64, max: u64) -> Result<u64, ApiError> {
    value
        .parse::<u64>()
        .ok()
        .filter(|n| (min..=max).contains(n))
        .ok_or_else(|| {
            ApiError::bad_field(
                "invalid_query",
                name,
                format!("must be a whole number from {min} to {max}"),
            )
        })
}

/// A job status named in a query, else 400 naming `field`
pub(crate) fn status_param(field: &str, value: &str) -> Result<studio::job::JobStatus, ApiError> {
    serde_json::from_value(Value::String(value.to_owned())).map_err(|_| {
        ApiError::bad_field(
            "invalid_query",
            field,
            "must be one of queued, planning, rendering, assembling, paused, succeeded, failed, cancelled",
        )
    })
}

/// A page position in a list ordered by `created_at DESC, job_id DESC`: both, so that renders
/// created in the same millisecond are neither skipped nor repeated across pages
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Cursor {
    /// `created_at` of the last row of the previous page, ms
    pub created_at: i64,
    /// Its job id
    pub job_id: String,
}

impl Cursor {
    /// Before every row
    pub(crate) fn start() -> Self {
        Self {
            created_at: i64::MAX,
            job_id: String::new(),
        }
    }

    /// Parses `{created_at}_{job_id}`, else 400 naming `cursor`
    pub(crate) fn parse(value: &str) -> Result<Self, ApiError> {
        let bad = || {
            ApiError::bad_field(
                "invalid_query",
                "cursor",
                "must be a next_cursor from a previous page",
            )
        };
        let (at, job) = value.split_once('_').ok_or_else(bad)?;
        let created_at = at.parse::<i64>().map_err(|_| bad())?;
        parse_job_id(job).map_err(|_| bad())?;
        Ok(Self {
            created_at,
            job_id: job.to_owned(),
        })
    }

    /// The cursor after a row
    pub(crate) fn after(created_at: f64, job_id: &str) -> String {
        format!("{}_{job_id}", created_at as i64)
    }
}
