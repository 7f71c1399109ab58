//! The `RenderJob` Durable Object: one per render, driving `studio::job::Job`.
//!
//! Every input (an API call, a callback, an effect's result, the alarm) goes through one
//! synchronous step: `job.handle(now, input)`, then the journal entry and the changed rows are
//! written with no `await` in between, so they commit together. Then the alarm is armed at the
//! job's next deadline and the effects are performed; their results are inputs again. Anything
//! in flight has a deadline, so a job whose isolate dies mid-call resumes from its alarm.
//!
//! Each committed step is also published, still inside the step, to the long-polls and event
//! streams watching the job (`live`); status webhooks are signed and delivered by `notify`.

mod effects;
mod internal;
mod live;
mod lookup;
mod notify;
pub(crate) mod store;
mod submit_request;
mod timeline;

pub(crate) use internal::{LOAD_MS_HEADER, MAX_WAIT_SECS, STORAGE_BYTES_HEADER};

use std::cell::{Cell, RefCell, RefMut};
use std::rc::Rc;
use std::time::Duration;

use futures::StreamExt;
use futures::stream::FuturesUnordered;

use studio::job::{CreatorViewText, Effect, Input, Job, JobError, ViewText};
use studio::providers::inline_images::InlineImages;
use studio::time::Timestamp;
use worker::{Delay, DurableObject, Env, Method, Request, Response, Result, State, durable_object};

use crate::clock;
use crate::object_sql;
use store::StoreError;
use studio::journal::Actor;

/// Effects one request or alarm performs before leaving the rest to the alarm; bounds the work
/// of a single invocation (a chain of synchronous providers could otherwise run long).
const MAX_EFFECTS: usize = 10_000;

/// Why a step did not happen
#[derive(Debug, thiserror::Error)]
pub(crate) enum StepError {
    /// The object holds no job
    #[error("no job in this object")]
    NoJob,
    /// The machine refused the input
    #[error(transparent)]
    Job(#[from] JobError),
    /// Storage failed
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// This object's storage. It is set up by `/create` only, so a request that reaches an object
/// whose job was never created (the Worker checks the D1 index first; this is the second line)
/// answers 404 and leaves no storage behind
enum Schema {
    /// Never created: no tables
    Absent,
    /// Tables exist, every schema step applied
    Ready,
    /// Setting up or migrating failed; every request reports it instead of panicking
    Failed(String),
}

impl Schema {
    fn of(result: std::result::Result<(), String>) -> Self {
        match result {
            Ok(()) => Self::Ready,
            Err(e) => Self::Failed(e),
        }
    }
}

/// What the object keeps in memory between requests
pub(crate) struct Inner {
    pub(crate) state: State,
    pub(crate) env: Env,
    schema: RefCell<Schema>,
    job: RefCell<Option<Job>>,
    loaded: Cell<bool>,
    /// How long the last load from SQLite took, ms (support reads it after an eviction)
    load_ms: Cell<Option<u64>>,
    /// How long setting up a new object's storage took, ms (the create reports it)
    schema_ms: Cell<Option<u64>>,
    armed: Cell<Option<u64>>,
    resumed: Cell<bool>,
    /// Whether submits found in flight at load were put in doubt (`Input::Reloaded`)
    reloaded: Cell<bool>,
    /// Long-polls and event streams waiting for the next step
    live: live::Live,
    /// The creator's webhook signing secret, once read from D1
    webhook_secret: RefCell<Option<String>>,
    /// Keyframes copied into R2 that a dependent's submit will send inline (see
    /// `studio::providers::inline_images`)
    pub(crate) inline_images: RefCell<InlineImages>,
    /// The creator's view as JSON with its ETag, until the job next changes: an app polls far
    /// more often than a job steps, and building and encoding the view was a tenth of the
    /// runtime's CPU under fleet load
    view: RefCell<Option<Rc<ViewText>>>,
    /// Each stage's part of that view, kept until the stage's row changes: under fleet load
    /// most polls find the job changed, but in a stage or two
    pub(crate) view_parts: RefCell<CreatorViewText>,
}

/// The largest encoded view kept between polls, bytes (a job of thousands of stages is encoded
/// on each poll instead of pinning megabytes in the isolate)
const MAX_KEPT_VIEW: usize = 512 * 1024;

/// One render job
#[durable_object]
pub struct RenderJob {
    inner: Rc<Inner>,
}

impl Inner {
    fn sql(&self) -> worker::SqlStorage {
        self.state.storage().sql()
    }

    /// Loads the job from SQLite on first use after the object (re)starts
    pub(crate) fn ensure_loaded(&self) -> std::result::Result<(), StoreError> {
        if !self.loaded.get() {
            let started = clock::now();
            let job = store::load(&self.sql())?;
            *self.job_mut() = job;
            self.view_parts.borrow_mut().clear();
            self.loaded.set(true);
            self.load_ms
                .set(Some(clock::now().0.saturating_sub(started.0)));
        }
        Ok(())
    }

    /// How long the last load from SQLite took, ms; `None` before one
    pub(crate) fn load_ms(&self) -> Option<u64> {
        self.load_ms.get()
    }

    /// After the object (re)starts, a deadline that passed while nothing ran (the isolate died,
    /// the runtime was down) is handled at once instead of waiting for the alarm to be replayed
    pub(crate) fn resume_if_overdue(self: &Rc<Self>) {
        self.doubt_submits_in_flight();
        if self.resumed.replace(true) {
            return;
        }
        let now = clock::now();
        let overdue = self
            .with_job(|j| j.next_deadline().is_some_and(|t| t <= now))
            .unwrap_or(false);
        if overdue {
            match self.step(now, &Actor::Alarm, Input::Tick) {
                Ok(effects) => self.spawn(effects),
                Err(e) => worker::console_error!("resume tick: {e}"),
            }
        }
    }

    /// Once per start of the object, before any other input: a submit the stored job still has
    /// in flight was cut off with the isolate that made it, so its outcome is unknown; the job
    /// reconciles it (callback, lookup, or resubmit) rather than submitting blindly again
    pub(crate) fn doubt_submits_in_flight(self: &Rc<Self>) {
        if self.reloaded.replace(true) {
            return;
        }
        if let Err(e) = self.ensure_loaded() {
            worker::console_error!("loading for reload: {e}");
            return;
        }
        if self.with_job(Job::has_submits_in_flight) != Some(true) {
            return;
        }
        match self.step(clock::now(), &Actor::System, Input::Reloaded) {
            Ok(effects) => self.spawn(effects),
            Err(e) => worker::console_error!("reload step: {e}"),
        }
    }

    /// Runs `f` on the job, if there is one
    pub(crate) fn with_job<T>(&self, f: impl FnOnce(&Job) -> T) -> Option<T> {
        self.job.borrow().as_ref().map(f)
    }

    /// The job for changing: the only way to it, so the kept view is dropped with every
    /// change (and with every refused input too, which changes nothing, to stay simple)
    fn job_mut(&self) -> RefMut<'_, Option<Job>> {
        self.view.borrow_mut().take();
        self.job.borrow_mut()
    }

    /// The creator's view kept since the job last changed
    pub(crate) fn kept_view(&self) -> Option<Rc<ViewText>> {
        self.view.borrow().clone()
    }

    /// Keeps the creator's view until the job next changes (unless it is too big to pin)
    pub(crate) fn keep_view(&self, view: ViewText) -> Rc<ViewText> {
        let view = Rc::new(view);
        if view.json.len() <= MAX_KEPT_VIEW {
            *self.view.borrow_mut() = Some(Rc::clone(&view));
        }
        view
    }

    /// Creates the job: the first step, committed with `extra` (the creation fingerprint). The
    /// job is kept in memory only once it is stored.
    pub(crate) fn create(
        &self,
        now: Timestamp,
        actor: &Actor,
        created: studio::job::Created,
        extra: Vec<store::Statement>,
    ) -> std::result::Result<Vec<Effect>, StepError> {
        let input = Input::Created(created.clone());
        let (mut job, effects) = Job::new(now, created)?;
        let storage = self.state.storage();
        let committed = store::commit(&storage, &mut job, now, actor, &input, extra)?;
        self.live.publish(&job, &committed);
        *self.job_mut() = Some(job);
        self.view_parts.borrow_mut().clear();
        self.loaded.set(true);
        Ok(effects)
    }

    /// One atomic step: handle, then journal and changed rows in one synchronous transaction.
    ///
    /// When the commit fails, the job in memory is ahead of storage (it took the step, storage
    /// rolled it back): it is dropped and reloaded from storage before the error is answered, and
    /// the step's effects are never performed, so memory, storage and the outside world agree on
    /// the state before the step. (`Job::handle` refusing an input changes nothing, so that path
    /// needs no reload.)
    pub(crate) fn step(
        &self,
        now: Timestamp,
        actor: &Actor,
        input: Input,
    ) -> std::result::Result<Vec<Effect>, StepError> {
        self.ensure_loaded()?;
        let storage = self.state.storage();
        let mut slot = self.job_mut();
        let job = slot.as_mut().ok_or(StepError::NoJob)?;
        let effects = job.handle(now, input.clone())?;
        let committed = match store::commit(&storage, job, now, actor, &input, Vec::new()) {
            Ok(committed) => committed,
            Err(e) => {
                *slot = None;
                drop(slot);
                self.view_parts.borrow_mut().clear();
                self.loaded.set(false);
                if let Err(reload) = self.ensure_loaded() {
                    worker::console_error!("reloading after a failed commit: {reload}");
                }
                return Err(e.into());
            }
        };
        // Still synchronous: waiters and streams hear of the step in the order steps commit
        // (their answers leave the object only once the writes are durable: the output gate).
        self.live.publish(job, &committed);
        self.view_parts.borrow_mut().forget(&committed.changes);
        Ok(effects)
    }

    /// Feeds an effect's result back at once (committed before the caller awaits anything
    /// else) and performs whatever it leads to in the background
    pub(crate) fn feed(self: &Rc<Self>, input: Input) {
        match self.step(clock::now(), &Actor::System, input) {
            Ok(effects) => {
                if !effects.is_empty() {
                    self.spawn(effects);
                }
            }
            Err(e) => worker::console_error!("feeding an effect result back: {e}"),
        }
    }

    /// The deadline the alarm should be armed for, when it is not armed for it already
    fn alarm_out_of_date(&self) -> Option<Option<u64>> {
        let next = self.with_job(Job::next_deadline).flatten().map(|t| t.0);
        (next != self.armed.get()).then_some(next)
    }

    /// Arms the one alarm at the job's earliest deadline (or clears it)
    pub(crate) async fn sync_alarm(&self) {
        let Some(next) = self.alarm_out_of_date() else {
            return;
        };
        let storage = self.state.storage();
        let result = match next {
            Some(at) => {
                let date = worker::js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(at as f64));
                storage.set_alarm(worker::ScheduledTime::new(date)).await
            }
            None => storage.delete_alarm().await,
        };
        match result {
            Ok(()) => self.armed.set(next),
            Err(e) => worker::console_error!("arming alarm: {e}"),
        }
    }

    /// Performs effects concurrently, feeding each result back as an input as soon as it
    /// arrives, until none are left or the effect limit is hit (the alarm picks up whatever
    /// remains: every waiting state has a deadline)
    pub(crate) async fn run(self: Rc<Self>, effects: Vec<Effect>) {
        // Each result is fed back (and persisted) the moment its own effect completes, not when
        // a whole batch has: a provider's acceptance must not wait on a slow neighbour (a
        // synchronous provider holds its request for seconds), or a crash in between would make
        // the resumed job submit again.
        let mut in_flight = FuturesUnordered::new();
        let mut started = 0usize;
        for effect in effects {
            started += 1;
            in_flight.push(effects::perform(self.clone(), effect));
        }
        self.sync_alarm().await;
        while let Some(inputs) = in_flight.next().await {
            for input in inputs {
                match self.step(clock::now(), &Actor::System, input) {
                    Ok(more) => {
                        for effect in more {
                            if started < MAX_EFFECTS {
                                started += 1;
                                in_flight.push(effects::perform(self.clone(), effect));
                            }
                        }
                    }
                    Err(e) => worker::console_error!("feeding an effect result back: {e}"),
                }
            }
            self.sync_alarm().await;
        }
    }

    /// Performs effects in the background and returns at once; the object stays alive while
    /// they run, and the alarm covers an isolate that dies meanwhile
    pub(crate) fn spawn(self: &Rc<Self>, effects: Vec<Effect>) {
        self.spawn_when(effects, Start::Now);
    }

    /// As [`Self::spawn`], but the effects start only once the answer being built has been
    /// handed back: for `/create`, whose caller (the creator's app) waits on it
    pub(crate) fn spawn_after_answer(self: &Rc<Self>, effects: Vec<Effect>) {
        self.spawn_when(effects, Start::AfterAnswer);
    }

    fn spawn_when(self: &Rc<Self>, effects: Vec<Effect>, start: Start) {
        // Most callbacks (progress, duplicates) change no deadline and start nothing: no
        // background task for them, which the runtime would otherwise track to its end.
        if effects.is_empty() && self.alarm_out_of_date().is_none() {
            return;
        }
        let inner = self.clone();
        self.state.wait_until(async move {
            if start == Start::AfterAnswer {
                // One timer turn: the answer's promise resolves first. A new job's first step
                // fans out at once (the memory context, then every keyframe asking its gate);
                // where the caller's Worker shares this thread, as on one workerd, that work
                // would otherwise run ahead of the answer (a 500-shot create: 125 ms at the
                // client against 28). It costs the job one timer tick.
                Delay::from(Duration::ZERO).await;
            }
            inner.run(effects).await
        });
    }
}

/// When background effects begin
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Start {
    /// As soon as the spawning request yields
    Now,
    /// After the spawning request's answer has been handed back
    AfterAnswer,
}

impl DurableObject for RenderJob {
    fn new(state: State, env: Env) -> Self {
        // Migrates an existing job's storage at once (no `await`, so no request sees a
        // half-applied schema); a never-created object stays without storage until `/create`.
        let sql = state.storage().sql();
        let schema = match object_sql::has_schema(&sql) {
            Ok(true) => Schema::of(object_sql::migrate(&sql, store::SCHEMA)),
            Ok(false) => Schema::Absent,
            Err(e) => Schema::Failed(e),
        };
        Self {
            inner: Rc::new(Inner {
                state,
                env,
                schema: RefCell::new(schema),
                job: RefCell::new(None),
                loaded: Cell::new(false),
                load_ms: Cell::new(None),
                schema_ms: Cell::new(None),
                armed: Cell::new(None),
                resumed: Cell::new(false),
                reloaded: Cell::new(false),
                live: live::Live::default(),
                webhook_secret: RefCell::new(None),
                inline_images: RefCell::new(InlineImages::new(effects::INLINE_IMAGE_BUDGET)),
                view: RefCell::new(None),
                view_parts: RefCell::new(CreatorViewText::default()),
            }),
        }
    }

    async fn fetch(&self, req: Request) -> Result<Response> {
        let absent = matches!(*self.inner.schema.borrow(), Schema::Absent);
        if absent {
            if req.method() != Method::Post || req.path() != "/create" {
                return Response::error("no such job", 404);
            }
            let started = clock::now().0;
            let created = object_sql::migrate(&self.inner.state.storage().sql(), store::SCHEMA);
            *self.inner.schema.borrow_mut() = Schema::of(created);
            self.inner
                .schema_ms
                .set(Some(clock::now().0.saturating_sub(started)));
        }
        if let Schema::Failed(e) = &*self.inner.schema.borrow() {
            return Response::error(format!("job storage unavailable: {e}"), 500);
        }
        internal::handle(&self.inner, req).await
    }

    async fn alarm(&self) -> Result<Response> {
        // Alarms fire at least once, sometimes late or twice: a tick with nothing due is a no-op.
        if !matches!(*self.inner.schema.borrow(), Schema::Ready) {
            return Response::ok("no job");
        }
        self.inner.doubt_submits_in_flight();
        let effects = match self.inner.step(clock::now(), &Actor::Alarm, Input::Tick) {
            Ok(effects) => effects,
            Err(StepError::NoJob) => return Response::ok("no job"),
            Err(e) => {
                worker::console_error!("alarm step: {e}");
                Vec::new()
            }
        };
        self.inner.armed.set(None);
        self.inner.clone().run(effects).await;
        Response::ok("ticked")
    }
}
