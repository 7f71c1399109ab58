//! The assemblies: submission with idempotency, the queue of runs, cancels, callbacks,
//! resumption after a restart and removal of old files.
//!
//! The table of assemblies sits behind a std mutex that is never held across an `.await`.
//! Every change of a record goes through [`Service::update`], which also holds an async write
//! lock while the record is written, so records reach the disk in the order they changed and an
//! idempotency key is on disk before its assembly is acknowledged.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use sha2::{Digest, Sha256};
use tokio::sync::{Semaphore, watch};
use tokio::task::AbortHandle;

use crate::callback::{self, Delivery};
use crate::config::Settings;
use crate::pipeline::{self, Job, Tools};
use crate::record::{self, Failure, FailureCode, Record, Status};
use crate::store::{Store, StoreError};
use crate::timeline::Submission;
use crate::video::Font;

/// How often finished assemblies' files are checked against the retention period
const JANITOR_EVERY: Duration = Duration::from_secs(600);

/// How long a cancel waits for a running assembly to stop before answering
const CANCEL_WAIT: Duration = Duration::from_secs(5);

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Why a file cannot be served
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileError {
    /// No such assembly, or no such output
    #[error("{0}")]
    NotFound(String),
    /// The assembly has not succeeded
    #[error("{0}")]
    NotReady(String),
}

struct Entry {
    record: Record,
    cancel: watch::Sender<bool>,
}

#[derive(Default)]
struct Table {
    entries: HashMap<String, Entry>,
    by_key: HashMap<String, String>,
}

struct Inner {
    settings: Settings,
    public_url: String,
    store: Store,
    tools: Tools,
    font: Font,
    client: reqwest::Client,
    table: Mutex<Table>,
    writes: tokio::sync::Mutex<()>,
    slots: Arc<Semaphore>,
    tasks: Mutex<Vec<AbortHandle>>,
    runs_started: AtomicU64,
    ids_minted: AtomicU64,
}

/// The assemblies (cheap to clone; clones share everything)
#[derive(Clone)]
pub struct Service(Arc<Inner>);

impl Service {
    /// Loads the records under the data directory; returns the service and what was skipped
    pub fn load(
        settings: Settings,
        public_url: String,
        store: Store,
        font: Font,
        client: reqwest::Client,
    ) -> Result<(Self, Vec<String>), StoreError> {
        let (records, warnings) = store.load()?;
        let mut table = Table::default();
        for r in records {
            if let Some(key) = &r.idempotency_key {
                table.by_key.insert(key.clone(), r.id.clone());
            }
            let (cancel, _) = watch::channel(false);
            table
                .entries
                .insert(r.id.clone(), Entry { record: r, cancel });
        }
        let tools = Tools {
            ffmpeg: settings.ffmpeg.clone(),
            ffprobe: settings.ffprobe.clone(),
        };
        let slots = Arc::new(Semaphore::new(settings.concurrency.max(1) as usize));
        let inner = Inner {
            public_url: public_url.trim_end_matches('/').to_string(),
            settings,
            store,
            tools,
            font,
            client,
            table: Mutex::new(table),
            writes: tokio::sync::Mutex::new(()),
            slots,
            tasks: Mutex::new(Vec::new()),
            runs_started: AtomicU64::new(0),
            ids_minted: AtomicU64::new(0),
        };
        Ok((Self(Arc::new(inner)), warnings))
    }

    /// The base of output URLs
    pub fn public_url(&self) -> &str {
        &self.0.public_url
    }

    /// Runs started by this process (each assembly run, first or resumed)
    pub fn runs_started(&self) -> u64 {
        self.0.runs_started.load(Ordering::Relaxed)
    }

    /// Restarts unfinished assemblies from scratch, re-sends undelivered callbacks and starts
    /// the removal of old files
    pub async fn resume(&self) {
        let (unfinished, pending): (Vec<String>, Vec<String>) = {
            let t = lock(&self.0.table);
            let mut entries: Vec<&Record> = t.entries.values().map(|e| &e.record).collect();
            entries.sort_by(|a, b| (a.created_unix_ms, &a.id).cmp(&(b.created_unix_ms, &b.id)));
            let unfinished = entries
                .iter()
                .filter(|r| !r.status.is_terminal())
                .map(|r| r.id.clone())
                .collect();
            let pending = entries
                .iter()
                .filter(|r| r.status.is_terminal() && r.callback_pending)
                .map(|r| r.id.clone())
                .collect();
            (unfinished, pending)
        };
        for id in unfinished {
            eprintln!("assembler: {id}: resuming unfinished work");
            if let Err(e) = self.update(&id, |r| r.status = Status::Queued).await {
                eprintln!("assembler: {id}: cannot record the restart: {e}");
            }
            self.spawn_run(id);
        }
        for id in pending {
            self.spawn_callback(id);
        }
        if self.0.settings.retain_hours > 0 {
            let svc = self.clone();
            let h = tokio::spawn(async move {
                loop {
                    svc.remove_expired_files().await;
                    tokio::time::sleep(JANITOR_EVERY).await;
                }
            });
            self.track(h.abort_handle());
        }
    }

    /// Stops every run, callback and background task at once (runs' ffmpeg children are
    /// killed). Records are left as they are, so a later start resumes the work.
    pub fn abort_all(&self) {
        for h in lock(&self.0.tasks).drain(..) {
            h.abort();
        }
    }

    fn track(&self, h: AbortHandle) {
        let mut tasks = lock(&self.0.tasks);
        tasks.retain(|t| !t.is_finished());
        tasks.push(h);
    }

    /// Applies `f` to a record and writes it; `None` when there is no such assembly
    async fn update<T>(
        &self,
        id: &str,
        f: impl FnOnce(&mut Record) -> T,
    ) -> Result<Option<(Record, T)>, StoreError> {
        let _write = self.0.writes.lock().await;
        let (snapshot, out) = {
            let mut t = lock(&self.0.table);
            let Some(e) = t.entries.get_mut(id) else {
                return Ok(None);
            };
            let out = f(&mut e.record);
            e.record.updated_unix_ms = now_ms();
            (e.record.clone(), out)
        };
        self.persist(snapshot.clone()).await?;
        Ok(Some((snapshot, out)))
    }

    async fn persist(&self, r: Record) -> Result<(), StoreError> {
        let store = self.0.store.clone();
        match tokio::task::spawn_blocking(move || store.save(&r)).await {
            Ok(result) => result,
            Err(join) => Err(StoreError::Io {
                what: "cannot save",
                path: PathBuf::from("assembly.json"),
                source: std::io::Error::other(join.to_string()),
            }),
        }
    }

    fn mint_id(&self) -> String {
        let n = self.0.ids_minted.fetch_add(1, Ordering::Relaxed);
        let mut seed = std::collections::hash_map::RandomState::new().build_hasher();
        seed.write_u64(n);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let digest = Sha256::new()
            .chain_update(seed.finish().to_le_bytes())
            .chain_update(nanos.to_le_bytes())
            .chain_update(n.to_le_bytes())
            .chain_update(std::process::id().to_le_bytes())
            .finalize();
        format!("asm_{}", hex::encode(&digest[..12]))
    }

    /// The wire object of a record
    pub fn wire(&self, r: &Record) -> Value {
        record::to_wire(r, &self.0.public_url)
    }

    /// Accepts a submission; the same idempotency key always answers the same assembly.
    /// Returns the assembly and whether it was created by this call.
    pub async fn submit(
        &self,
        key: Option<String>,
        submission: Submission,
    ) -> Result<(Value, bool), StoreError> {
        // Held from the key check to the write: two submissions of one key cannot both create
        let _write = self.0.writes.lock().await;
        let record = {
            let t = lock(&self.0.table);
            if let Some(existing) = key
                .as_ref()
                .and_then(|k| t.by_key.get(k))
                .and_then(|id| t.entries.get(id))
            {
                if existing.record.submission != submission {
                    eprintln!(
                        "assembler: {}: idempotency key reused with a different body; answering the original",
                        existing.record.id
                    );
                }
                return Ok((self.wire(&existing.record), false));
            }
            let mut id = self.mint_id();
            while t.entries.contains_key(&id) {
                id = self.mint_id();
            }
            let now = now_ms();
            Record {
                id,
                idempotency_key: key.clone(),
                created_unix_ms: now,
                updated_unix_ms: now,
                submission,
                status: Status::Queued,
                error: None,
                outputs: None,
                runs: 0,
                callback_pending: false,
                files_removed: false,
            }
        };
        self.persist(record.clone()).await?;
        let id = record.id.clone();
        let wire = self.wire(&record);
        {
            let mut t = lock(&self.0.table);
            if let Some(k) = key {
                t.by_key.insert(k, id.clone());
            }
            let (cancel, _) = watch::channel(false);
            t.entries.insert(id.clone(), Entry { record, cancel });
        }
        drop(_write);
        self.spawn_run(id);
        Ok((wire, true))
    }

    /// The assembly object
    pub fn get(&self, id: &str) -> Option<Value> {
        let t = lock(&self.0.table);
        t.entries.get(id).map(|e| self.wire(&e.record))
    }

    /// A copy of the record (diagnostics and tests)
    pub fn record(&self, id: &str) -> Option<Record> {
        lock(&self.0.table)
            .entries
            .get(id)
            .map(|e| e.record.clone())
    }

    /// Cancels an assembly (best effort): a queued one fails at once, a running one as soon as
    /// its current step is stopped; a finished one is left as it is
    pub async fn cancel(&self, id: &str) -> Result<Option<Value>, StoreError> {
        let status = {
            let t = lock(&self.0.table);
            let Some(e) = t.entries.get(id) else {
                return Ok(None);
            };
            if !e.record.status.is_terminal() {
                e.cancel.send_replace(true);
            }
            e.record.status
        };
        if status == Status::Queued {
            let changed = self
                .update(id, |r| {
                    if r.status != Status::Queued {
                        return false;
                    }
                    r.status = Status::Failed;
                    r.error = Some(Failure::new(
                        FailureCode::Cancelled,
                        "cancelled before it started",
                    ));
                    r.callback_pending = r.submission.callback_url.is_some();
                    true
                })
                .await?;
            if let Some((_, true)) = changed {
                eprintln!("assembler: {id}: cancelled while queued");
                self.spawn_callback(id.to_string());
            }
        }
        let deadline = tokio::time::Instant::now() + CANCEL_WAIT;
        loop {
            let current = self.record(id);
            match current {
                Some(r) if r.status.is_terminal() || tokio::time::Instant::now() >= deadline => {
                    return Ok(Some(self.wire(&r)));
                }
                Some(_) => tokio::time::sleep(Duration::from_millis(50)).await,
                None => return Ok(None),
            }
        }
    }

    /// The path of an output, when it can be served
    pub fn file_path(&self, id: &str, name: &str) -> Result<PathBuf, FileError> {
        let t = lock(&self.0.table);
        let Some(e) = t.entries.get(id) else {
            return Err(FileError::NotFound(format!("no assembly {id}")));
        };
        let r = &e.record;
        let (Some(outputs), Status::Succeeded) = (&r.outputs, r.status) else {
            return Err(FileError::NotReady(format!(
                "{id} is {}, it has no files",
                r.status.as_str()
            )));
        };
        if !outputs.names().any(|n| n == name) {
            return Err(FileError::NotFound(format!("{id} has no file {name}")));
        }
        if r.files_removed {
            return Err(FileError::NotFound(format!(
                "the files of {id} were removed after {} h",
                self.0.settings.retain_hours
            )));
        }
        Ok(self.0.store.out_dir(id).join(name))
    }

    fn spawn_run(&self, id: String) {
        let svc = self.clone();
        let h = tokio::spawn(async move { svc.run(id).await });
        self.track(h.abort_handle());
    }

    async fn run(&self, id: String) {
        let Some(mut cancel) = lock(&self.0.table)
            .entries
            .get(&id)
            .map(|e| e.cancel.subscribe())
        else {
            return;
        };
        let slots = self.0.slots.clone();
        let _permit = tokio::select! {
            p = slots.acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => return,
            },
            // The cancel has already failed the queued assembly
            () = crate::exec::cancelled(&mut cancel) => return,
        };
        let started = self
            .update(&id, |r| {
                if r.status != Status::Queued {
                    return false;
                }
                r.status = Status::Running;
                r.runs += 1;
                true
            })
            .await;
        let record = match started {
            Ok(Some((r, true))) => r,
            Ok(_) => return,
            Err(e) => {
                eprintln!("assembler: {id}: cannot record the start: {e}");
                return;
            }
        };
        self.0.runs_started.fetch_add(1, Ordering::Relaxed);
        let started_at = std::time::Instant::now();
        eprintln!("assembler: {id}: running (run {})", record.runs);
        let result = self.execute(&record, &mut cancel).await;
        let work = self.0.store.work_dir(&id);
        let _ = tokio::task::spawn_blocking(move || Store::remove_dir(&work)).await;
        let callback = record.submission.callback_url.is_some();
        let finished = match result {
            Ok(outputs) => {
                self.update(&id, |r| {
                    r.status = Status::Succeeded;
                    r.outputs = Some(outputs);
                    r.error = None;
                    r.callback_pending = callback;
                })
                .await
            }
            Err(failure) => {
                eprintln!("assembler: {id}: failed: {}", failure.message);
                self.update(&id, |r| {
                    r.status = Status::Failed;
                    r.error = Some(failure);
                    r.callback_pending = callback;
                })
                .await
            }
        };
        match finished {
            Ok(Some((r, ()))) => {
                eprintln!(
                    "assembler: {id}: {} in {:.1} s",
                    r.status.as_str(),
                    started_at.elapsed().as_secs_f64()
                );
                if r.callback_pending {
                    self.spawn_callback(id);
                }
            }
            Ok(None) => {}
            Err(e) => eprintln!("assembler: {id}: cannot record the end: {e}"),
        }
    }

    /// One run from scratch: a clean scratch folder, the pipeline, then the outputs moved into
    /// place in one rename
    async fn execute(
        &self,
        record: &Record,
        cancel: &mut watch::Receiver<bool>,
    ) -> Result<record::Outputs, Failure> {
        let id = &record.id;
        let work = self.0.store.work_dir(id);
        let out = self.0.store.out_dir(id);
        let (w, o) = (work.clone(), out.clone());
        let cleared = tokio::task::spawn_blocking(move || {
            Store::remove_dir(&w)?;
            Store::remove_dir(&o)
        })
        .await;
        match cleared {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(Failure::new(FailureCode::Internal, e.to_string())),
            Err(e) => return Err(Failure::new(FailureCode::Internal, e.to_string())),
        }
        let s = &self.0.settings;
        let job = Job {
            timeline: &record.submission.timeline,
            work: &work,
            tools: &self.0.tools,
            client: &self.0.client,
            font: &self.0.font,
            max_input_bytes: s.max_input_bytes,
            fetch_timeout: s.fetch_timeout(),
            chunk_clips: s.chunk_clips as usize,
            chunk_lines: s.chunk_lines as usize,
        };
        let outputs = pipeline::execute(&job, cancel).await?;
        tokio::fs::rename(work.join(pipeline::OUT), &out)
            .await
            .map_err(|e| {
                Failure::new(
                    FailureCode::Internal,
                    format!("cannot move the outputs into place: {e}"),
                )
            })?;
        Ok(outputs)
    }

    fn spawn_callback(&self, id: String) {
        let svc = self.clone();
        let h = tokio::spawn(async move { svc.send_callback(id).await });
        self.track(h.abort_handle());
    }

    async fn send_callback(&self, id: String) {
        let Some(r) = self.record(&id) else {
            return;
        };
        let Some(url) = r
            .submission
            .callback_url
            .clone()
            .filter(|_| r.callback_pending)
        else {
            return;
        };
        let body = self.wire(&r).to_string().into_bytes();
        let outcome =
            callback::deliver(&self.0.client, &url, body, self.0.settings.callback_tries).await;
        match &outcome {
            Delivery::Delivered { status, tries } => {
                eprintln!("assembler: {id}: callback delivered (HTTP {status}, try {tries})");
            }
            Delivery::Refused { status } => {
                eprintln!("assembler: {id}: callback refused with HTTP {status}; not retried");
            }
            Delivery::GaveUp { last } => {
                eprintln!(
                    "assembler: {id}: callback undelivered after every try ({last}); the Worker's polling will see the state"
                );
            }
        }
        if let Err(e) = self.update(&id, |r| r.callback_pending = false).await {
            eprintln!("assembler: {id}: cannot record the callback: {e}");
        }
    }

    /// Removes the files of assemblies finished longer ago than the retention period
    async fn remove_expired_files(&self) {
        let hours = self.0.settings.retain_hours;
        let cutoff = now_ms().saturating_sub(hours.saturating_mul(3_600_000));
        let expired: Vec<String> = {
            let t = lock(&self.0.table);
            t.entries
                .values()
                .map(|e| &e.record)
                .filter(|r| {
                    r.status.is_terminal() && !r.files_removed && r.updated_unix_ms < cutoff
                })
                .map(|r| r.id.clone())
                .collect()
        };
        for id in expired {
            let out = self.0.store.out_dir(&id);
            match tokio::task::spawn_blocking(move || Store::remove_dir(&out)).await {
                Ok(Ok(())) => {
                    if let Err(e) = self.update(&id, |r| r.files_removed = true).await {
                        eprintln!("assembler: {id}: cannot record the removal: {e}");
                    }
                }
                Ok(Err(e)) => eprintln!("assembler: {id}: cannot remove old files: {e}"),
                Err(e) => eprintln!("assembler: {id}: cannot remove old files: {e}"),
            }
        }
    }
}
