//! The `MemoryGraph` Durable Object: one per creator, named by the creator id.
//!
//! It holds the creator's [`studio::memory::MemoryGraph`] as SQLite tables (see [`store`]),
//! loads it into memory on first use and keeps it there between requests. Every operation is the
//! core's pure function (`parse_edit` + `apply_edit`, `record_render`, `parse_outcomes` +
//! `record_outcomes`, `build_context`) over the in-memory graph; the rows it reports changed are
//! then written with no `await` in between, so they commit together.
//!
//! Internal routes (the Worker and job objects call them; callers name the creator in
//! [`CREATOR_HEADER`]):
//!
//! | route | body | answer |
//! |---|---|---|
//! | `GET /graph` | - | the graph (embedding vectors left out) |
//! | `PUT /graph` | `parse_edit`'s format | the graph after the edit |
//! | `POST /context` | a brief | its `MemoryContext`, with a `server-timing` header |
//! | `POST /renders` | a `RenderSummary` | `{"recorded": bool, ...}`; a job is recorded once |
//! | `POST /outcomes/{job}` | an outcome report | `{"result": "updated" \| "unchanged", ...}` |
//! | `POST /import` | a `ChannelImport` (parsed by the Worker) | `{"changed": bool, "written", "kept", "channel", ...}` |
//! | `POST /__bench/seed` | `{"shots": n}` | synthetic history; `ENVIRONMENT=dev` only |
//! | `POST /looks/{cast}/images`, `POST /looks/lookup`, `POST /context?cast_voices=1` | see [`casting`] | looks and voices |
//!
//! Refusals of the core come back as status 422 with the `MemoryError` as JSON, so the Worker
//! maps them to the API's errors (400 naming the field, 409 for a render not recorded yet).

mod bench;
mod casting;
mod embedder;
mod finished;
mod store;

use std::cell::{Cell, RefCell};

use serde::{Deserialize, Serialize};
use serde_json::json;
use studio::brief::Brief;
use studio::ids::{CreatorId, JobId};
use studio::job::{Input, RenderSummary};
use studio::journal::JournalEntry;
use studio::memory::graph::ShotOutcome;
use studio::memory::import::{ChannelImport, apply_import};
use studio::memory::{
    Audience, CreatorContext, DEFAULT_SIMILAR, GraphView, MemoryError, MemoryGraph as Graph,
    NgramEmbedder, OutcomeReport, OutcomesRecorded, RenderRecorded, RowChange, apply_edit,
    brief_prompts, build_context, parse_edit, parse_outcomes, record_outcomes, record_render,
    refresh_row_embeddings, stale_row_texts,
};
use studio::time::Timestamp;
use worker::{
    DurableObject, Env, Method, Request, Response, Result, SqlStorage, State, durable_object,
};

use crate::{clock, config, object_sql};
use finished::Origin;
use store::StoreError;

/// The header in which callers name the creator whose graph this object is
pub(crate) const CREATOR_HEADER: &str = "x-creator";

/// Why a request was not served
enum Failure {
    /// The core refused the input (422 with the `MemoryError`)
    Memory(MemoryError),
    /// A malformed internal request (400)
    BadRequest(String),
    /// Not there (404)
    NotFound(String),
    /// The request names another creator than this object's (409)
    WrongCreator(String),
    /// Storage failed (500)
    Store(StoreError),
    /// Something the answer needs is down for now (503): the caller asks again
    Unavailable(String),
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

impl From<MemoryError> for Failure {
    fn from(e: MemoryError) -> Self {
        Self::Memory(e)
    }
}

impl Failure {
    fn respond(self) -> Result<Response> {
        match self {
            Self::Memory(e) => Response::from_json(&e).map(|r| r.with_status(422)),
            Self::BadRequest(m) => Response::error(m, 400),
            Self::NotFound(m) => Response::error(m, 404),
            Self::Unavailable(m) => Response::error(m, 503),
            Self::WrongCreator(m) => Response::error(m, 409),
            Self::Store(e) => Response::error(format!("memory storage: {e}"), 500),
        }
    }
}

type Served = std::result::Result<Response, Failure>;

fn ok_json<T: Serialize>(value: &T) -> Served {
    Response::from_json(value).map_err(|e| Failure::Store(StoreError::Sql(e)))
}

/// One creator's memory graph
#[durable_object]
pub struct MemoryGraph {
    state: State,
    env: Env,
    schema: std::result::Result<(), String>,
    /// The graph, loaded on first use
    graph: RefCell<Option<Graph>>,
    embedder: embedder::Choice,
    /// Whether the embedder fallback was logged already
    warned: Cell<bool>,
    /// The provider's voice library, shared by concurrent castings
    library: RefCell<casting::LibraryCache>,
}

/// The query's `audience` (`creator` hides every model; see `studio::memory::view`); without
/// one, everything, as a render job and support staff read it. The Worker's app routes always
/// name the creator
fn audience_of(req: &Request) -> std::result::Result<Audience, Failure> {
    let url = req.url().map_err(|e| Failure::BadRequest(e.to_string()))?;
    match url.query_pairs().find(|(k, _)| k == "audience") {
        None => Ok(Audience::Support),
        Some((_, v)) => {
            Audience::parse(&v).ok_or_else(|| Failure::BadRequest(format!("unknown audience {v}")))
        }
    }
}

fn header_creator(req: &Request) -> Option<CreatorId> {
    req.headers()
        .get(CREATOR_HEADER)
        .ok()
        .flatten()
        .filter(|c| !c.is_empty())
        .map(CreatorId)
}

fn millis_since(start: u64) -> u64 {
    worker::Date::now().as_millis().saturating_sub(start)
}

impl MemoryGraph {
    fn sql(&self) -> SqlStorage {
        self.state.storage().sql()
    }

    /// Loads the graph on first use; refuses a request that names another creator
    fn ensure_loaded(&self, creator: Option<&CreatorId>) -> std::result::Result<(), Failure> {
        if let Some(g) = self.graph.borrow().as_ref() {
            return match creator {
                Some(c) if *c != g.creator => Err(Failure::WrongCreator(format!(
                    "this is {}'s memory graph, not {c}'s",
                    g.creator
                ))),
                _ => Ok(()),
            };
        }
        let sql = self.sql();
        let creator = match (store::creator(&sql)?, creator) {
            (Some(stored), Some(c)) if stored != *c => {
                return Err(Failure::WrongCreator(format!(
                    "this is {stored}'s memory graph, not {c}'s"
                )));
            }
            (Some(stored), _) => stored,
            (None, Some(c)) => {
                store::set_creator(&sql, c)?;
                c.clone()
            }
            (None, None) => {
                return Err(Failure::BadRequest(format!(
                    "name the creator in the {CREATOR_HEADER} header"
                )));
            }
        };
        let graph = store::load(&sql, creator)?;
        *self.graph.borrow_mut() = Some(graph);
        Ok(())
    }

    /// Runs a synchronous change on the loaded graph and persists the rows it reports; if the
    /// writes fail the in-memory copy is dropped, so the next request reloads what was stored
    fn change<T>(
        &self,
        op: impl FnOnce(&mut Graph) -> std::result::Result<(T, Vec<RowChange>), MemoryError>,
    ) -> std::result::Result<T, Failure> {
        let mut slot = self.graph.borrow_mut();
        let Some(graph) = slot.as_mut() else {
            return Err(Failure::NotFound("the graph is not loaded".into()));
        };
        let (out, changes) = op(graph)?;
        if let Err(e) = store::persist(&self.sql(), graph, &changes) {
            *slot = None;
            return Err(e.into());
        }
        Ok(out)
    }

    /// Re-embeds the Graph rows whose text changed since their vector was made, embeds new ones
    /// and drops those of rows that are gone (`studio::memory::row_embed`), then writes them.
    /// Row vectors are derived data: a failure is logged, the request that changed the rows
    /// stands, and the next refresh (every write and every context) tries again.
    async fn refresh_rows(&self) {
        let texts = match self.graph.borrow().as_ref() {
            Some(g) => stale_row_texts(g, &self.embedder.id()),
            None => return,
        };
        if texts.is_empty() {
            return;
        }
        let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
        let embedder = embedder::for_texts(&self.env, &self.embedder, &texts, &self.warned).await;
        let mut slot = self.graph.borrow_mut();
        let Some(graph) = slot.as_mut() else {
            return;
        };
        let rows = refresh_row_embeddings(graph, embedder.as_ref());
        if let Err(e) = store::write_row_embeddings(&self.sql(), graph, &rows) {
            // The rows themselves are stored; only their vectors lag, and the object's next
            // start re-embeds whatever its load finds stale.
            worker::console_error!("memory graph: writing row embeddings failed ({e})");
        }
    }

    fn view(&self, audience: Audience) -> Served {
        match self.graph.borrow().as_ref() {
            Some(g) => ok_json(&GraphView::of(g, audience)),
            None => Err(Failure::NotFound("the graph is not loaded".into())),
        }
    }

    fn get_graph(&self, req: &Request) -> Served {
        self.ensure_loaded(header_creator(req).as_ref())?;
        self.view(audience_of(req)?)
    }

    async fn edit(&self, mut req: Request) -> Served {
        let body = req
            .text()
            .await
            .map_err(|e| Failure::BadRequest(e.to_string()))?;
        let edit = parse_edit(&body)?;
        let audience = audience_of(&req)?;
        self.ensure_loaded(header_creator(&req).as_ref())?;
        self.change(|g| apply_edit(g, &edit).map(|changes| ((), changes)))?;
        self.refresh_rows().await;
        self.view(audience)
    }

    async fn context(&self, mut req: Request) -> Served {
        let cast = casting::CastOptions::of(&req);
        let audience = audience_of(&req)?;
        let brief: Brief = object_sql::read_json(&mut req)
            .await
            .map_err(|e| Failure::BadRequest(e.to_string()))?;
        let start = worker::Date::now().as_millis();
        self.ensure_loaded(header_creator(&req).as_ref())?;
        // A job's context first gives every speaker a voice (the graph keeps it), so the
        // context below carries the voices cast.
        let casting = if cast.cast_voices {
            self.cast_for_job(&brief, &cast).await?
        } else {
            Vec::new()
        };
        let load_ms = millis_since(start);
        let embed_start = worker::Date::now().as_millis();
        // Rows changed by a build that did not embed them (or under another embedder) are
        // brought up to date first: a no-op once they are.
        self.refresh_rows().await;
        let texts = brief_prompts(&brief);
        let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
        let embedder = embedder::for_texts(&self.env, &self.embedder, &texts, &self.warned).await;
        let embed_ms = millis_since(embed_start);
        // The pure part: timed on its own, as the object's time for the context.
        let work_start = worker::Date::now().as_millis();
        let (body, shots) = {
            let slot = self.graph.borrow();
            let Some(graph) = slot.as_ref() else {
                return Err(Failure::NotFound("the graph is not loaded".into()));
            };
            let mut context = build_context(graph, &brief, embedder.as_ref(), DEFAULT_SIMILAR);
            context.casting = casting;
            let body = match audience {
                Audience::Support => serde_json::to_string(&context),
                Audience::Creator => serde_json::to_string(&CreatorContext::of(&context)),
            }
            .map_err(|e| Failure::BadRequest(format!("encoding context: {e}")))?;
            (body, graph.shots.len())
        };
        let work_ms = millis_since(work_start);
        let timing = format!(
            "load;dur={load_ms}, embed;dur={embed_ms}, context;dur={work_ms}, total;dur={}",
            millis_since(start)
        );
        let mut resp = Response::ok(body).map_err(|e| Failure::Store(e.into()))?;
        let headers = resp.headers_mut();
        for (k, v) in [
            ("content-type", "application/json"),
            ("server-timing", timing.as_str()),
            ("x-graph-shots", shots.to_string().as_str()),
        ] {
            headers.set(k, v).map_err(|e| Failure::Store(e.into()))?;
        }
        Ok(resp)
    }

    /// The brief and creation time of a job, from the first entry of its journal
    async fn origin(&self, job: &JobId) -> std::result::Result<(Brief, Timestamp), String> {
        #[derive(Deserialize)]
        struct Page {
            entries: Vec<JournalEntry>,
        }
        let page: Page = async {
            let stub = self
                .env
                .durable_object("RENDER_JOB")?
                .get_by_name(job.as_str())?;
            let mut resp = stub
                .fetch_with_str("https://job/journal?after=0&limit=1")
                .await?;
            if resp.status_code() != 200 {
                return Err(worker::Error::RustError(format!(
                    "journal answered {}",
                    resp.status_code()
                )));
            }
            object_sql::read_json_response(&mut resp).await
        }
        .await
        .map_err(|e| e.to_string())?;
        match page.entries.into_iter().next() {
            Some(JournalEntry {
                at,
                input: Input::Created(created),
                ..
            }) => Ok((created.brief, at)),
            Some(other) => Err(format!(
                "the journal starts with {}, not created",
                other.input.name()
            )),
            None => Err("the journal is empty".into()),
        }
    }

    async fn record(&self, mut req: Request) -> Served {
        let summary: RenderSummary = object_sql::read_json(&mut req)
            .await
            .map_err(|e| Failure::BadRequest(e.to_string()))?;
        self.ensure_loaded(Some(&summary.creator))?;
        let already = |g: &Graph| g.render(&summary.job).is_some();
        if self.graph.borrow().as_ref().is_some_and(already) {
            return ok_json(&json!({ "recorded": false, "reason": "already recorded" }));
        }
        if let Err(why) = finished::recordable(&summary) {
            return ok_json(&json!({ "recorded": false, "reason": why.to_string() }));
        }
        let origin = match self.origin(&summary.job).await {
            Ok(o) => Some(o),
            Err(e) => {
                worker::console_error!(
                    "memory graph: no brief for {} ({e}); recording models and kinds only",
                    summary.job
                );
                None
            }
        };
        let origin = origin.as_ref().map(|(brief, created_at)| Origin {
            brief,
            created_at: *created_at,
        });
        let render = match finished::finished_render(&summary, origin.as_ref(), clock::now()) {
            Ok(r) => r,
            Err(why) => {
                return ok_json(&json!({ "recorded": false, "reason": why.to_string() }));
            }
        };
        let embedder =
            embedder::for_texts(&self.env, &self.embedder, &render.prompts(), &self.warned).await;
        // Another delivery may have recorded it while we awaited: `record_render` checks again,
        // synchronously with the write, so the job is recorded exactly once.
        self.ensure_loaded(Some(&summary.creator))?;
        let recorded = self.change(|g| {
            record_render(g, &render, embedder.as_ref()).map(|r| match r {
                RenderRecorded::Recorded { shots, changes } => (Some(shots), changes),
                RenderRecorded::AlreadyRecorded => (None, Vec::new()),
            })
        })?;
        self.refresh_rows().await;
        match recorded {
            Some(shots) => ok_json(&json!({ "recorded": true, "shots": shots })),
            None => ok_json(&json!({ "recorded": false, "reason": "already recorded" })),
        }
    }

    async fn outcomes(&self, mut req: Request, job: &str) -> Served {
        if job.is_empty() {
            return Err(Failure::NotFound("no render named".into()));
        }
        let job = JobId(job.to_owned());
        let body = req
            .text()
            .await
            .map_err(|e| Failure::BadRequest(e.to_string()))?;
        let report = parse_outcomes(&body)?;
        storable(&report)?;
        self.ensure_loaded(header_creator(&req).as_ref())?;
        let updated = self.change(|g| {
            record_outcomes(g, &job, &report).map(|r| match r {
                OutcomesRecorded::Updated { changes } => (true, changes),
                OutcomesRecorded::Unchanged => (false, Vec::new()),
            })
        })?;
        self.refresh_rows().await;
        let slot = self.graph.borrow();
        let outcome = slot
            .as_ref()
            .and_then(|g| g.outcomes.iter().find(|o| o.job == job));
        let shots: Vec<&ShotOutcome> = slot
            .as_ref()
            .map(|g| g.shot_outcomes.iter().filter(|o| o.job == job).collect())
            .unwrap_or_default();
        ok_json(&json!({
            "job": job,
            "result": if updated { "updated" } else { "unchanged" },
            "outcome": outcome,
            "shots": shots,
        }))
    }

    /// `POST /import`: merges what a channel import learned (the Worker parsed the body)
    async fn import(&self, mut req: Request) -> Served {
        let import: ChannelImport = object_sql::read_json(&mut req)
            .await
            .map_err(|e| Failure::BadRequest(e.to_string()))?;
        self.ensure_loaded(header_creator(&req).as_ref())?;
        let applied = self.change(|g| {
            let mut applied = apply_import(g, &import);
            let changes = std::mem::take(&mut applied.changes);
            Ok((applied, changes))
        })?;
        let slot = self.graph.borrow();
        ok_json(&json!({
            "changed": applied.changed,
            "videos": import.videos,
            "skipped": import.skipped,
            "written": applied.written,
            "kept": applied.kept,
            "channel": slot.as_ref().and_then(|g| g.channel.as_ref()),
        }))
    }

    /// `POST /__bench/seed {"shots": n}`: appends `n` synthetic past shots (dev only)
    async fn bench_seed(&self, mut req: Request) -> Served {
        if config::lookup(&self.env, "ENVIRONMENT").as_deref() != Some("dev") {
            return Err(Failure::NotFound("unknown memory route".into()));
        }
        #[derive(Deserialize)]
        struct Seed {
            shots: usize,
        }
        let seed: Seed = object_sql::read_json(&mut req)
            .await
            .map_err(|e| Failure::BadRequest(e.to_string()))?;
        if seed.shots > bench::MAX_SEED_SHOTS {
            return Err(Failure::BadRequest(format!(
                "at most {} shots per request",
                bench::MAX_SEED_SHOTS
            )));
        }
        self.ensure_loaded(header_creator(&req).as_ref())?;
        let start = worker::Date::now().as_millis();
        let now = clock::now();
        let embedder = NgramEmbedder::default();
        let (renders, shots) = self.change(|g| {
            let mut changes = Vec::new();
            let mut left = seed.shots;
            let mut renders = 0usize;
            while left > 0 {
                let n = left.min(bench::SHOTS_PER_RENDER);
                // Renders ever recorded, the folded ones included: the kept rows stop growing at
                // the retention cap, and a repeated index would repeat a job id.
                let folded: usize = g.folded_formats.iter().map(|f| f.renders as usize).sum();
                // Finished in recording order, a millisecond apart and before now: retention
                // folds the earliest finished first, so a render seeded as older than the ones
                // kept would be folded the moment it is recorded.
                let left_renders = left.div_ceil(bench::SHOTS_PER_RENDER) as u64;
                let finished_at = Timestamp(now.0.saturating_sub(left_renders));
                let (render, report) = bench::render(g.renders.len() + folded, n, finished_at);
                if let RenderRecorded::Recorded { changes: c, .. } =
                    record_render(g, &render, &embedder)?
                {
                    changes.extend(c);
                }
                if let OutcomesRecorded::Updated { changes: c } =
                    record_outcomes(g, &render.job, &report)?
                {
                    changes.extend(c);
                }
                left -= n;
                renders += 1;
            }
            Ok(((renders, g.shots.len()), changes))
        })?;
        self.refresh_rows().await;
        ok_json(&json!({
            "renders_added": renders,
            "shots_added": seed.shots,
            "shots_total": shots,
            "ms": millis_since(start),
        }))
    }

    async fn serve(&self, req: Request) -> Served {
        let path = req.path();
        match (req.method(), path.as_str()) {
            (Method::Get, "/graph") => self.get_graph(&req),
            (Method::Put, "/graph") => self.edit(req).await,
            (Method::Post, "/context") => self.context(req).await,
            (Method::Post, "/renders") => self.record(req).await,
            (Method::Post, "/import") => self.import(req).await,
            (Method::Post, "/__bench/seed") => self.bench_seed(req).await,
            (Method::Post, "/looks/lookup") => self.looks_for(req).await,
            (Method::Post, p) if p.starts_with("/looks/") && p.ends_with("/images") => {
                let cast = p
                    .trim_start_matches("/looks/")
                    .trim_end_matches("/images")
                    .to_owned();
                self.add_look_image(req, &cast).await
            }
            (Method::Post, p) if p.starts_with("/outcomes/") => {
                let job = p.trim_start_matches("/outcomes/").to_owned();
                self.outcomes(req, &job).await
            }
            _ => Err(Failure::NotFound("unknown memory route".into())),
        }
    }
}

/// Counts the runtime can store exactly (JavaScript numbers): a larger one is a 400, not a 500
fn storable(report: &OutcomeReport) -> std::result::Result<(), MemoryError> {
    let too_big = |field: String, n: Option<u64>| match n {
        Some(n) if n > store::MAX_STORED_COUNT => Err(MemoryError::Invalid {
            field,
            message: format!("at most {}", store::MAX_STORED_COUNT),
        }),
        _ => Ok(()),
    };
    too_big("views".into(), report.views)?;
    too_big("clicks".into(), report.clicks)?;
    too_big("conversions".into(), report.conversions)?;
    for (i, s) in report.shots.iter().enumerate() {
        too_big(format!("shots[{i}].conversions"), s.conversions)?;
    }
    Ok(())
}

impl DurableObject for MemoryGraph {
    fn new(state: State, env: Env) -> Self {
        let schema = object_sql::migrate(&state.storage().sql(), store::SCHEMA);
        let embedder = embedder::Choice::from_env(&env);
        Self {
            state,
            env,
            schema,
            graph: RefCell::new(None),
            embedder,
            warned: Cell::new(false),
            library: RefCell::default(),
        }
    }

    async fn fetch(&self, req: Request) -> Result<Response> {
        if let Err(e) = &self.schema {
            return Response::error(format!("memory storage unavailable: {e}"), 500);
        }
        match self.serve(req).await {
            Ok(resp) => Ok(resp),
            Err(failure) => failure.respond(),
        }
    }
}
