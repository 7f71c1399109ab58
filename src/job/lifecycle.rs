//! Job-level status changes: the end of a job (succeeded, failed, cancelled) and what it stops.

use super::Job;
use super::deadlines::DeadlineKey;
use super::effect::Effect;
use super::state::{AttemptOutcome, JobStatus, StageState, StatusEntry};
use crate::time::Timestamp;

impl Job {
    /// Changes the status, records it and tells the shell (webhooks, D1 index)
    pub(super) fn set_status(
        &mut self,
        now: Timestamp,
        to: JobStatus,
        reason: Option<String>,
        fx: &mut Vec<Effect>,
    ) {
        let from = self.header.status;
        if from == to {
            return;
        }
        self.header.status = to;
        self.header.history.push(StatusEntry {
            status: to,
            at: now,
        });
        if to.is_terminal() {
            self.header.memory_wait = None;
            self.idx.deadlines.set(DeadlineKey::Memory, None);
        }
        fx.push(Effect::StatusChanged { from, to, reason });
    }

    /// Ends the job as failed, with a reason a person can read; stops everything in flight
    pub(super) fn fail_job(&mut self, now: Timestamp, reason: String, fx: &mut Vec<Effect>) {
        if self.header.status.is_terminal() {
            return;
        }
        self.header.failure = Some(reason.clone());
        self.stop_active(now, fx);
        self.set_status(now, JobStatus::Failed, Some(reason), fx);
        fx.push(Effect::EnrichMemory {
            summary: self.summary(now),
        });
    }

    /// Ends the job as cancelled; later callbacks change nothing
    pub(super) fn cancel(&mut self, now: Timestamp, by: String, fx: &mut Vec<Effect>) {
        if self.header.status.is_terminal() {
            return;
        }
        self.header.cancelled_by = Some(by);
        self.stop_active(now, fx);
        self.set_status(now, JobStatus::Cancelled, None, fx);
        fx.push(Effect::EnrichMemory {
            summary: self.summary(now),
        });
    }

    /// The assembly is stored: the render is done
    pub(super) fn succeed_job(&mut self, now: Timestamp, fx: &mut Vec<Effect>) {
        self.set_status(now, JobStatus::Succeeded, None, fx);
        fx.push(Effect::EnrichMemory {
            summary: self.summary(now),
        });
    }

    /// Cancels every active stage (O(active), not O(stages)); running tasks get a best-effort
    /// `CancelTask`. Reservations stay committed: the provider may still bill work it started.
    fn stop_active(&mut self, now: Timestamp, fx: &mut Vec<Effect>) {
        let active: Vec<u32> = self.idx.active.iter().copied().collect();
        for i in active {
            let Some(state) = self.row(i).map(|r| r.state.clone()) else {
                continue;
            };
            if let StageState::Running {
                attempt,
                model,
                provider_ref,
                ..
            } = &state
                && let Some(spec) = self.model(model)
            {
                fx.push(Effect::CancelTask {
                    stage: self.sid(i),
                    attempt: *attempt,
                    model: model.clone(),
                    provider: spec.provider,
                    provider_ref: provider_ref.clone(),
                });
            }
            if let Some(attempt) = state.attempt()
                && let Some(r) = self.row_mut(i).and_then(|row| row.record_mut(attempt))
            {
                r.outcome = AttemptOutcome::Cancelled;
                r.ended_at = Some(now);
            }
            self.set_state(i, StageState::Cancelled { at: now });
        }
    }
}
