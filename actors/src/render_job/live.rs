//! Watching a job live: long-polls that wait for the next change, and Server-Sent Event streams.
//!
//! Both are fed by [`Live::publish`], which the object calls right after every committed step
//! (still inside the step, with no `await`): waiting long-polls are woken, and each open stream
//! gets one event per job status change and per stage change (id, status, attempt, progress and
//! cost), and one per new note from Ra. A stream starts with a snapshot and is closed once the
//! job reaches a terminal status. Nothing here is persisted: after an eviction a client
//! reconnects and gets a fresh snapshot.
//!
//! Streams go to the creator's app: like the creator's view they carry no model, provider,
//! provider task id or flag, and a failure is told in Ra's words (`Job::failure_for_creator`).
//!
//! Memory is bounded: a job serves at most [`MAX_STREAMS_PER_JOB`] streams, an API key at most
//! [`MAX_STREAMS_PER_KEY`] of them (more are refused: 429), and each stream's channel holds at
//! most [`STREAM_BUFFER`] chunks. A reader that falls that far behind is dropped (its stream
//! ends) rather than buffered: its client reconnects (with `Last-Event-ID`, which the fresh
//! snapshot supersedes, since a snapshot carries every stage's current state).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::time::Duration;

use futures::StreamExt;
use futures::channel::{mpsc, oneshot};
use futures::future::{Either, select};
use futures::stream::Stream;
use serde_json::{Value, json};
use studio::ids::{Attempt, StageId};
use studio::job::{Job, JobStatus, StageRow};
use worker::Delay;

use super::store::Committed;

/// A comment line sent on an idle stream so proxies and clients keep it open
const HEARTBEAT: Duration = Duration::from_secs(15);
/// The most event streams one job serves at once
pub(crate) const MAX_STREAMS_PER_JOB: usize = 32;
/// The most event streams one API key holds open on one job
pub(crate) const MAX_STREAMS_PER_KEY: usize = 8;
/// Chunks (one per step) a stream may fall behind before it is dropped
pub(crate) const STREAM_BUFFER: usize = 64;

/// Why a stream was not opened
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum StreamRefused {
    /// The job serves its maximum
    #[error("this render already has {MAX_STREAMS_PER_JOB} open event streams")]
    JobFull,
    /// The key holds its maximum on this job
    #[error("this API key already has {MAX_STREAMS_PER_KEY} open event streams on this render")]
    KeyFull,
}

/// One open stream: whose key, and its bounded channel
struct Subscriber {
    key: String,
    tx: mpsc::Sender<String>,
}

/// The open streams of a job, with their caps (pure bookkeeping: no runtime involved)
#[derive(Default)]
struct Fanout {
    subscribers: Vec<Subscriber>,
}

impl Fanout {
    /// Opens a stream for `key`, unless the job or the key is at its cap; streams whose
    /// clients went away are forgotten first, so their seats are free again
    fn admit(&mut self, key: &str) -> Result<mpsc::Receiver<String>, StreamRefused> {
        self.subscribers.retain(|s| !s.tx.is_closed());
        if self.subscribers.len() >= MAX_STREAMS_PER_JOB {
            return Err(StreamRefused::JobFull);
        }
        if self.subscribers.iter().filter(|s| s.key == key).count() >= MAX_STREAMS_PER_KEY {
            return Err(StreamRefused::KeyFull);
        }
        let (tx, rx) = mpsc::channel(STREAM_BUFFER);
        self.subscribers.push(Subscriber {
            key: key.to_owned(),
            tx,
        });
        Ok(rx)
    }

    /// Sends a chunk to every stream; a stream whose channel is full (a slow reader) or closed
    /// is dropped, which ends it
    fn send(&mut self, chunk: &str) {
        self.subscribers
            .retain_mut(|s| s.tx.try_send(chunk.to_owned()).is_ok());
    }

    fn is_empty(&self) -> bool {
        self.subscribers.is_empty()
    }
}

/// What a stream has been told about one stage (never its model: streams go to the app)
#[derive(Debug, Clone, PartialEq)]
struct StageMark {
    status: &'static str,
    attempt: Attempt,
}

impl StageMark {
    fn of(row: &StageRow) -> Self {
        Self {
            status: row.state.name(),
            attempt: row.attempt,
        }
    }

    fn json(&self, stage: &StageId) -> Value {
        json!({
            "stage": stage,
            "status": self.status,
            "attempt": self.attempt,
        })
    }
}

/// Open streams and what they have been told (the same for all: each starts from a snapshot of
/// the current state, and every later step is sent to every stream)
struct Streams {
    fanout: Fanout,
    status: JobStatus,
    stages: BTreeMap<StageId, StageMark>,
    /// Ra's notes already sent (by their words), so each new one is sent once
    notes: Vec<String>,
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

/// Spent on finished stages, USD
fn cost_usd(job: &Job) -> f64 {
    job.header().spent.usd()
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
            "cost_usd": cost_usd(job),
            "stages": stages,
            "notes": job.creator_notes(),
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
                data["cost_usd"] = json!(cost_usd(job));
                out.push_str(&event(committed.seq, "stage", &data));
                streams.stages.insert(id.clone(), mark);
            }
        }
        // New notes from Ra before the status, so a terminal status stays the last event.
        if committed.changes.header {
            for note in job.creator_notes() {
                if !streams.notes.contains(&note.text) {
                    out.push_str(&event(committed.seq, "note", &json!(note)));
                    streams.notes.push(note.text);
                }
            }
        }
        if job.status() != streams.status {
            let data = json!({
                "status": job.status(),
                "from": streams.status,
                "progress": progress(job),
                "cost_usd": cost_usd(job),
                "failure": job.failure_for_creator(),
            });
            out.push_str(&event(committed.seq, "status", &data));
            streams.status = job.status();
        }
        if !out.is_empty() {
            streams.fanout.send(&out);
        }
        // Dropping the senders ends every stream: nothing more will happen to a finished job
        // (a support action that reopens it is seen by streams opened afterwards).
        if job.status().is_terminal() || streams.fanout.is_empty() {
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

    /// Opens a stream for an API key: a snapshot now, then the job's changes, ending at a
    /// terminal status; refused when the job or the key has its maximum of streams open
    pub(crate) fn subscribe(
        &self,
        job: &Job,
        seq: i64,
        key: &str,
    ) -> Result<impl Stream<Item = Result<Vec<u8>, worker::Error>> + use<>, StreamRefused> {
        let first = snapshot(job, seq);
        let rx = if job.status().is_terminal() {
            None
        } else {
            let mut slot = self.streams.borrow_mut();
            let streams = slot.get_or_insert_with(|| Streams {
                fanout: Fanout::default(),
                status: job.status(),
                stages: job
                    .stages()
                    .iter()
                    .map(|row| (row.spec.id.clone(), StageMark::of(row)))
                    .collect(),
                notes: job.creator_notes().into_iter().map(|n| n.text).collect(),
            });
            match streams.fanout.admit(key) {
                Ok(rx) => Some(rx),
                Err(refused) => {
                    if streams.fanout.is_empty() {
                        *slot = None;
                    }
                    return Err(refused);
                }
            }
        };
        Ok(futures::stream::unfold(Phase::First(first, rx), next_chunk))
    }
}

/// Where a stream is
enum Phase {
    First(String, Option<mpsc::Receiver<String>>),
    Open(mpsc::Receiver<String>),
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

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_capped_per_key_and_per_job() {
        let mut fanout = Fanout::default();
        let mut open = Vec::new();
        for _ in 0..MAX_STREAMS_PER_KEY {
            open.push(fanout.admit("key-a").unwrap());
        }
        assert_eq!(fanout.admit("key-a").err(), Some(StreamRefused::KeyFull));
        for i in MAX_STREAMS_PER_KEY..MAX_STREAMS_PER_JOB {
            open.push(fanout.admit(&format!("key-{i}")).unwrap());
        }
        assert_eq!(fanout.admit("key-z").err(), Some(StreamRefused::JobFull));
        // A client that went away frees its seat.
        drop(open.remove(0));
        open.push(fanout.admit("key-a").unwrap());
        assert_eq!(fanout.admit("key-b").err(), Some(StreamRefused::JobFull));
    }

    #[test]
    fn a_slow_reader_is_dropped_instead_of_buffered() {
        let mut fanout = Fanout::default();
        let mut fast = fanout.admit("a").unwrap();
        let mut slow = fanout.admit("b").unwrap();
        // One sender per channel: the channel holds its buffer plus one.
        for i in 0..=STREAM_BUFFER {
            fanout.send(&format!("chunk {i}"));
            assert_eq!(fast.try_recv().unwrap(), format!("chunk {i}"));
        }
        assert_eq!(fanout.subscribers.len(), 2);
        fanout.send("one too many");
        assert_eq!(fanout.subscribers.len(), 1, "the slow reader is dropped");
        assert_eq!(fast.try_recv().unwrap(), "one too many");
        // The slow stream gets what was buffered, then ends.
        let mut got = 0;
        while slow.try_recv().is_ok() {
            got += 1;
        }
        assert_eq!(got, STREAM_BUFFER + 1);
        assert!(
            matches!(slow.try_recv(), Err(mpsc::TryRecvError::Closed)),
            "the stream ended"
        );
    }
}
