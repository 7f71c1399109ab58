//! Watching a job live: long-polls that wait for the next change, and Server-Sent Event streams.
//!
//! Both are fed by [`Live::publish`], which the object calls right after every committed step
//! (still inside the step, with no `await`): waiting long-polls are woken, and each open stream
//! gets one event per job status change and per stage change (id, status, model, attempt). A
//! stream starts with a snapshot and is closed once the job reaches a terminal status. Nothing
//! here is persisted: after an eviction a client reconnects and gets a fresh snapshot.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::time::Duration;

use futures::StreamExt;
use futures::channel::{mpsc, oneshot};
use futures::future::{Either, select};
use futures::stream::Stream;
use serde_json::{Value, json};
use studio::ids::{Attempt, ModelId, StageId};
use studio::job::{Job, JobStatus, StageRow};
use worker::Delay;

use super::store::Committed;

/// A comment line sent on an idle stream so proxies and clients keep it open
const HEARTBEAT: Duration = Duration::from_secs(15);

/// What a stream has been told about one stage
#[derive(Debug, Clone, PartialEq)]
struct StageMark {
    status: &'static str,
    model: Option<ModelId>,
    attempt: Attempt,
}

impl StageMark {
    fn of(row: &StageRow) -> Self {
        Self {
            status: row.state.name(),
            model: row
                .state
                .model()
                .cloned()
                .or_else(|| row.attempts.last().map(|a| a.model.clone())),
            attempt: row.attempt,
        }
    }

    fn json(&self, stage: &StageId) -> Value {
        json!({
            "stage": stage,
            "status": self.status,
            "model": self.model,
            "attempt": self.attempt,
        })
    }
}

/// Open streams and what they have been told (the same for all: each starts from a snapshot of
/// the current state, and every later step is sent to every stream)
struct Streams {
    subscribers: Vec<mpsc::UnboundedSender<String>>,
    status: JobStatus,
    stages: BTreeMap<StageId, StageMark>,
}

/// Long-poll waiters and SSE subscribers of one job object
#[derive(Default)]
pub(crate) struct Live {
    waiters: RefCell<Vec<oneshot::Sender<()>>>,
    streams: RefCell<Option<Streams>>,
}

fn progress(job: &Job) -> Value {
    let c = job.header().counts;
    json!({ "total": c.total, "done": c.done, "running": c.running, "failed": c.failed })
}

/// One SSE event: `id`, `event` and a one-line JSON `data`
fn event(seq: i64, name: &str, data: &Value) -> String {
    format!("id: {seq}\nevent: {name}\ndata: {data}\n\n")
}

fn snapshot(job: &Job, seq: i64) -> String {
    let stages: Vec<Value> = job
        .stages()
        .iter()
        .map(|row| StageMark::of(row).json(&row.spec.id))
        .collect();
    event(
        seq,
        "snapshot",
        &json!({
            "job_id": job.spec().job_id,
            "status": job.status(),
            "progress": progress(job),
            "stages": stages,
        }),
    )
}

impl Live {
    /// Tells waiters and streams about a committed step; steps that changed no row say nothing
    pub(crate) fn publish(&self, job: &Job, committed: &Committed) {
        if committed.changes.is_empty() {
            return;
        }
        for waiter in self.waiters.borrow_mut().drain(..) {
            let _ = waiter.send(());
        }
        let mut slot = self.streams.borrow_mut();
        let Some(streams) = slot.as_mut() else {
            return;
        };
        let mut out = String::new();
        for id in &committed.changes.stages {
            let Some(row) = job.stage(id) else { continue };
            let mark = StageMark::of(row);
            if streams.stages.get(id) != Some(&mark) {
                let mut data = mark.json(id);
                data["progress"] = progress(job);
                out.push_str(&event(committed.seq, "stage", &data));
                streams.stages.insert(id.clone(), mark);
            }
        }
        if job.status() != streams.status {
            let data = json!({
                "status": job.status(),
                "from": streams.status,
                "progress": progress(job),
                "failure": job.header().failure,
            });
            out.push_str(&event(committed.seq, "status", &data));
            streams.status = job.status();
        }
        if !out.is_empty() {
            streams
                .subscribers
                .retain(|tx| tx.unbounded_send(out.clone()).is_ok());
        }
        // Dropping the senders ends every stream: nothing more will happen to a finished job
        // (a support action that reopens it is seen by streams opened afterwards).
        if job.status().is_terminal() || streams.subscribers.is_empty() {
            *slot = None;
        }
    }

    /// A receiver woken by the next step that changes the job
    pub(crate) fn next_change(&self) -> oneshot::Receiver<()> {
        let (tx, rx) = oneshot::channel();
        let mut waiters = self.waiters.borrow_mut();
        waiters.retain(|w| !w.is_canceled());
        waiters.push(tx);
        rx
    }

    /// Opens a stream: a snapshot now, then the job's changes, ending at a terminal status
    pub(crate) fn subscribe(
        &self,
        job: &Job,
        seq: i64,
    ) -> impl Stream<Item = Result<Vec<u8>, worker::Error>> + use<> {
        let first = snapshot(job, seq);
        let rx = if job.status().is_terminal() {
            None
        } else {
            let (tx, rx) = mpsc::unbounded();
            let mut slot = self.streams.borrow_mut();
            let streams = slot.get_or_insert_with(|| Streams {
                subscribers: Vec::new(),
                status: job.status(),
                stages: job
                    .stages()
                    .iter()
                    .map(|row| (row.spec.id.clone(), StageMark::of(row)))
                    .collect(),
            });
            streams.subscribers.push(tx);
            Some(rx)
        };
        futures::stream::unfold(Phase::First(first, rx), next_chunk)
    }
}

/// Where a stream is
enum Phase {
    First(String, Option<mpsc::UnboundedReceiver<String>>),
    Open(mpsc::UnboundedReceiver<String>),
    Done,
}

async fn next_chunk(phase: Phase) -> Option<(Result<Vec<u8>, worker::Error>, Phase)> {
    match phase {
        Phase::First(first, rx) => {
            let next = rx.map_or(Phase::Done, Phase::Open);
            Some((Ok(first.into_bytes()), next))
        }
        Phase::Open(mut rx) => {
            let heartbeat = Box::pin(Delay::from(HEARTBEAT));
            match select(rx.next(), heartbeat).await {
                Either::Left((Some(chunk), _)) => Some((Ok(chunk.into_bytes()), Phase::Open(rx))),
                Either::Left((None, _)) => None,
                Either::Right(_) => Some((Ok(b": keepalive\n\n".to_vec()), Phase::Open(rx))),
            }
        }
        Phase::Done => None,
    }
}
