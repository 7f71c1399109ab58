//! Calls from a job to its creator's `MemoryGraph` object.

use studio::brief::Brief;
use studio::ids::CreatorId;
use studio::job::RenderSummary;
use studio::memory::MemoryContext;
use worker::{Env, Method, Request, RequestInit};

async fn call(
    env: &Env,
    creator: &CreatorId,
    path: &str,
    body: String,
) -> worker::Result<worker::Response> {
    let stub = env
        .durable_object("MEMORY_GRAPH")?
        .id_from_name(creator.as_str())?
        .get_stub()?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post).with_body(Some(body.into()));
    stub.fetch_with_request(Request::new_with_init(
        &format!("https://memory{path}"),
        &init,
    )?)
    .await
}

/// The context for a brief from the creator's graph
pub(crate) async fn context(
    env: &Env,
    creator: &CreatorId,
    brief: &Brief,
) -> worker::Result<MemoryContext> {
    let body = serde_json::to_string(brief)?;
    let mut resp = call(env, creator, "/context", body).await?;
    if resp.status_code() != 200 {
        return Err(worker::Error::RustError(format!(
            "memory graph answered {}",
            resp.status_code()
        )));
    }
    crate::object_sql::read_json_response(&mut resp).await
}

/// Records a finished render in the creator's graph (the graph ignores a repeat of the same job)
pub(crate) async fn enrich(env: &Env, summary: &RenderSummary) {
    let result = async {
        let body = serde_json::to_string(summary)?;
        call(env, &summary.creator, "/renders", body).await
    }
    .await;
    if let Err(e) = result {
        worker::console_error!("enriching memory graph: {e}");
    }
}
