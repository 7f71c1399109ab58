//! The job's writes to other stores (the D1 render index, the D1 cost ledger, the creator's
//! memory graph), as effects with deadlines and results, like provider calls.
//!
//! A write is queued in the header's `writes` outbox in the step that decides it, issued at
//! once, and stays there until the shell reports it done (`Input::WriteResult` with `ok`).
//! Without a result by its deadline (the isolate died mid-write, the runtime restarted) or after
//! a failure it is issued again from the alarm, with the same id and payload, so the receiving
//! side must be idempotent:
//!
//! - the render index is an upsert keyed by job whose status only moves to a higher `seq` (the
//!   job's status history length): a late re-issue never overwrites a newer status;
//! - the cost ledger is keyed by (job, stage, attempt): a re-issue never counts twice;
//! - the memory graph records a job once (by job id).
//!
//! Only the newest index write matters (its `seq` supersedes every older one), and a job that
//! ends twice (reopened by support) needs only its last summary, so those replace their pending
//! predecessor: the outbox holds at most one index write, one memory write, and one cost line per
//! stage finished since the ledger last answered. After [`MAX_WRITE_ATTEMPTS`] (about 15 hours of
//! backoff) a write is given up with a note for support, so a dead store cannot keep a finished
//! job's alarm armed forever.

use super::Job;
use super::deadlines::DeadlineKey;
use super::effect::Effect;
use super::state::{JobStatus, PendingWrite, WriteId, WriteKind, WriteState};
use crate::ids::{Attempt, ModelId, StageId};
use crate::time::{Millis, Timestamp};

/// How long the shell has to report a write's result before it is issued again
pub const WRITE_RESULT_TIMEOUT: Millis = Millis::from_secs(30);
/// The first wait after a failed write; doubled on each failure up to [`WRITE_BACKOFF_MAX`]
pub const WRITE_BACKOFF_BASE: Millis = Millis::from_secs(5);
/// The longest wait between two issues of a write
pub const WRITE_BACKOFF_MAX: Millis = Millis::from_secs(3600);
/// Issues of one write before it is given up
pub const MAX_WRITE_ATTEMPTS: u32 = 24;

/// The wait after `failures` failed issues: 5 s doubling, capped at an hour (no jitter: one
/// job's writes go to stores shared by all jobs, whose own retries spread them)
pub fn write_backoff(failures: u32) -> Millis {
    let doublings = failures.saturating_sub(1).min(20);
    Millis(
        WRITE_BACKOFF_BASE
            .0
            .saturating_mul(1u64 << doublings)
            .min(WRITE_BACKOFF_MAX.0),
    )
}

impl Job {
    /// Queues the render index's status write (the seq is the status history's length)
    pub(super) fn write_index(
        &mut self,
        now: Timestamp,
        from: JobStatus,
        to: JobStatus,
        reason: Option<String>,
        fx: &mut Vec<Effect>,
    ) {
        let seq = u32::try_from(self.header.history.len()).unwrap_or(u32::MAX);
        let kind = WriteKind::Index {
            from,
            to,
            reason,
            seq,
        };
        self.queue_write(now, kind, fx);
    }

    /// Queues a cost ledger line
    pub(super) fn write_cost(
        &mut self,
        now: Timestamp,
        stage: StageId,
        attempt: Attempt,
        model: ModelId,
        usd: f64,
        fx: &mut Vec<Effect>,
    ) {
        let kind = WriteKind::Cost {
            stage,
            attempt,
            model,
            usd,
        };
        self.queue_write(now, kind, fx);
    }

    /// Queues the render's summary for the memory graph
    pub(super) fn write_memory(&mut self, now: Timestamp, fx: &mut Vec<Effect>) {
        self.queue_write(now, WriteKind::Memory { ended_at: now }, fx);
    }

    fn queue_write(&mut self, now: Timestamp, kind: WriteKind, fx: &mut Vec<Effect>) {
        let superseded: Vec<WriteId> = self
            .header
            .writes
            .iter()
            .filter(|w| kind.supersedes(&w.kind))
            .map(|w| w.id)
            .collect();
        for id in superseded {
            self.drop_write(id);
        }
        let id = WriteId(self.header.writes_issued.saturating_add(1));
        self.header.writes_issued = id.0;
        self.header.writes.push(PendingWrite {
            id,
            kind,
            attempts: 0,
            state: WriteState::Sending { deadline: now },
        });
        self.issue_write(now, id, fx);
    }

    /// The shell's report on one issue of a write; a result for a write no longer pending (an
    /// earlier issue was acknowledged, or it was superseded or given up) changes nothing
    pub(super) fn on_write_result(
        &mut self,
        now: Timestamp,
        id: WriteId,
        ok: bool,
        error: Option<String>,
    ) {
        let Some(w) = self.write_mut(id) else {
            return;
        };
        if ok {
            self.drop_write(id);
            return;
        }
        // A failure of an issue whose retry is already scheduled changes nothing either.
        if !matches!(w.state, WriteState::Sending { .. }) {
            return;
        }
        let last_error = error.unwrap_or_else(|| "write failed".into());
        if w.attempts >= MAX_WRITE_ATTEMPTS {
            self.give_up_write(id, &last_error);
            return;
        }
        w.state = WriteState::Retrying {
            next_at: now.plus(write_backoff(w.attempts)),
            last_error,
        };
        let wake = w.state.wake_at();
        self.idx.deadlines.set(DeadlineKey::Write(id.0), Some(wake));
        self.header_dirty = true;
    }

    /// A write's deadline: issue it again, or give up
    pub(super) fn on_write_due(&mut self, now: Timestamp, id: WriteId, fx: &mut Vec<Effect>) {
        let Some(w) = self.write_mut(id) else {
            return;
        };
        if now < w.state.wake_at() {
            return;
        }
        if w.attempts >= MAX_WRITE_ATTEMPTS {
            let last_error = match &w.state {
                WriteState::Retrying { last_error, .. } => last_error.clone(),
                WriteState::Sending { .. } => format!("no result for issue {}", w.attempts),
            };
            self.give_up_write(id, &last_error);
            return;
        }
        self.issue_write(now, id, fx);
    }

    /// Issues a write (again): its effect, and a deadline for its result
    fn issue_write(&mut self, now: Timestamp, id: WriteId, fx: &mut Vec<Effect>) {
        let Some(w) = self.write_mut(id) else {
            return;
        };
        w.attempts = w.attempts.saturating_add(1);
        let deadline = now.plus(WRITE_RESULT_TIMEOUT);
        w.state = WriteState::Sending { deadline };
        let kind = w.kind.clone();
        self.idx
            .deadlines
            .set(DeadlineKey::Write(id.0), Some(deadline));
        self.header_dirty = true;
        let effect = match kind {
            WriteKind::Index {
                from,
                to,
                reason,
                seq,
            } => Effect::StatusChanged {
                from,
                to,
                reason,
                write: id,
                seq,
                total_usd: self.header.spent.usd(),
            },
            WriteKind::Cost {
                stage,
                attempt,
                model,
                usd,
            } => Effect::RecordCost {
                stage,
                attempt,
                model,
                usd,
                write: id,
            },
            WriteKind::Memory { ended_at } => Effect::EnrichMemory {
                summary: self.summary(ended_at),
                write: id,
            },
        };
        fx.push(effect);
    }

    fn give_up_write(&mut self, id: WriteId, last_error: &str) {
        let what = self
            .write_mut(id)
            .map(|w| (w.kind.name(), w.attempts))
            .unwrap_or(("?", 0));
        self.header.notes.push(format!(
            "gave up the {} write {id} after {} issues: {last_error}",
            what.0, what.1
        ));
        self.drop_write(id);
    }

    fn drop_write(&mut self, id: WriteId) {
        let writes = &mut self.header.writes;
        if let Ok(i) = writes.binary_search_by_key(&id, |w| w.id) {
            writes.remove(i);
            self.idx.deadlines.set(DeadlineKey::Write(id.0), None);
            self.header_dirty = true;
        }
    }

    /// A pending write (the outbox is kept in id order, so a binary search)
    fn write_mut(&mut self, id: WriteId) -> Option<&mut PendingWrite> {
        let writes = &mut self.header.writes;
        let i = writes.binary_search_by_key(&id, |w| w.id).ok()?;
        writes.get_mut(i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backoff_doubles_up_to_an_hour_and_the_attempts_span_most_of_a_day() {
        assert_eq!(write_backoff(1), Millis::from_secs(5));
        assert_eq!(write_backoff(2), Millis::from_secs(10));
        assert_eq!(write_backoff(40), WRITE_BACKOFF_MAX);
        let total: u64 = (1..MAX_WRITE_ATTEMPTS).map(|f| write_backoff(f).0).sum();
        assert!(
            (10 * 3_600_000..=24 * 3_600_000).contains(&total),
            "{total}"
        );
    }
}
