//! Calls to a creator's `MemoryGraph` object: from a job (context, enrich) and from the Worker's
//! `/v1/memory` routes.

use studio::brief::Brief;
use studio::ids::CreatorId;
use studio::job::RenderSummary;
use studio::memory::MemoryContext;
use worker::{Env, Method, Request, RequestInit};

use crate::memory_graph::CREATOR_HEADER;

/// Sends one request to the creator's graph object (named by the creator id)
pub(crate) async fn call(
    env: &Env,
    creator: &CreatorId,
    method: Method,
    path: &str,
    body: Option<String>,
) -> worker::Result<worker::Response> {
    let stub = env
        .durable_object("MEMORY_GRAPH")?
        .id_from_name(creator.as_str())?
        .get_stub()?;
    let headers = worker::Headers::new();
    headers.set(CREATOR_HEADER, creator.as_str())?;
    headers.set("content-type", "application/json")?;
    let mut init = RequestInit::new();
    init.with_method(method).with_headers(headers);
    if let Some(body) = body {
        init.with_body(Some(body.into()));
    }
    stub.fetch_with_request(Request::new_with_init(
        &format!("https://memory{path}"),
        &init,
    )?)
    .await
}

/// The context for a render job's brief from the creator's graph, which first casts a voice for
/// every speaker it has none for (see `memory_graph::casting`); `last_ask` is the job's last
/// fetch, which plans without casting rather than fail when the voice library is down
pub(crate) async fn context(
    env: &Env,
    creator: &CreatorId,
    brief: &Brief,
    last_ask: bool,
) -> worker::Result<MemoryContext> {
    let body = serde_json::to_string(brief)?;
    let path = if last_ask {
        "/context?cast_voices=1&last=1"
    } else {
        "/context?cast_voices=1"
    };
    let mut resp = call(env, creator, Method::Post, path, Some(body)).await?;
    if resp.status_code() != 200 {
        let text = resp.text().await.unwrap_or_default();
        return Err(worker::Error::RustError(format!(
            "memory graph answered {}: {text}",
            resp.status_code()
        )));
    }
    crate::object_sql::read_json_response(&mut resp).await
}

/// Records a finished render in the creator's graph. The job re-issues it until this answers
/// `Ok` (`Effect::EnrichMemory` is a write with a deadline), so the graph is idempotent by job
/// id: a repeat answers 200 with `recorded: false`, which is an acknowledgement too.
pub(crate) async fn enrich(env: &Env, summary: &RenderSummary) -> Result<(), String> {
    async {
        let body = serde_json::to_string(summary)?;
        let mut resp = call(env, &summary.creator, Method::Post, "/renders", Some(body)).await?;
        let status = resp.status_code();
        let text = resp.text().await?;
        if status == 200 {
            Ok(())
        } else {
            Err(worker::Error::RustError(format!(
                "memory graph answered {status}: {text}"
            )))
        }
    }
    .await
    .map_err(|e: worker::Error| format!("enriching memory graph for {}: {e}", summary.job))
}
