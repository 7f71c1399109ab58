//! Job-level status changes: the end of a job (succeeded, failed, cancelled) and what it stops.
//!
//! Every change goes through [`Job::change_status`]: it is recorded in the history, told to the
//! shell (`StatusChanged`: the D1 index) and queued as a status webhook (`notify`).

use super::Job;
use super::deadlines::DeadlineKey;
use super::effect::Effect;
use super::state::{AttemptOutcome, JobStatus, StageState, StatusEntry};
use crate::time::Timestamp;

impl Job {
    /// Moves the job's progress (planning -> rendering -> assembling, or to an end). While
    /// paused, a progress step only changes what a resume returns to; an end ends the pause.
    pub(super) fn set_status(
        &mut self,
        now: Timestamp,
        to: JobStatus,
        reason: Option<String>,
        fx: &mut Vec<Effect>,
    ) {
        if self.header.status == JobStatus::Paused && !to.is_terminal() {
            if to != JobStatus::Paused {
                self.header.paused_from = Some(to);
            }
            return;
        }
        self.change_status(now, to, reason, fx);
    }

    /// Changes the status, records it and tells the shell (D1 index, status webhook)
    pub(super) fn change_status(
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
        if to != JobStatus::Paused {
            self.header.paused_from = None;
        }
        if to.is_terminal() {
            self.header.memory_wait = None;
            self.idx.deadlines.set(DeadlineKey::Memory, None);
        }
        self.notify_status(now, from, to, reason.clone(), fx);
        self.write_index(now, from, to, reason, fx);
    }

    /// The status the job is making progress in: the one before the pause while paused
    pub(super) fn progress_status(&self) -> JobStatus {
        match self.header.status {
            JobStatus::Paused => self.header.paused_from.unwrap_or(JobStatus::Rendering),
            s @ (JobStatus::Queued
            | JobStatus::Planning
            | JobStatus::Rendering
            | JobStatus::Assembling
            | JobStatus::Succeeded
            | JobStatus::Failed
            | JobStatus::Cancelled) => s,
        }
    }

    /// Ends the job as failed, with a reason a person can read; stops everything in flight
    pub(super) fn fail_job(&mut self, now: Timestamp, reason: String, fx: &mut Vec<Effect>) {
        if self.header.status.is_terminal() {
            return;
        }
        self.header.failure = Some(reason.clone());
        self.stop_active(now, fx);
        self.set_status(now, JobStatus::Failed, Some(reason), fx);
        self.write_memory(now, fx);
    }

    /// Ends the job as cancelled; later callbacks change nothing
    pub(super) fn cancel(
        &mut self,
        now: Timestamp,
        by: String,
        reason: Option<String>,
        fx: &mut Vec<Effect>,
    ) {
        if self.header.status.is_terminal() {
            return;
        }
        self.header.cancelled_by = Some(by);
        self.stop_active(now, fx);
        self.set_status(now, JobStatus::Cancelled, reason, fx);
        self.write_memory(now, fx);
    }

    /// The assembly is stored: the render is done
    pub(super) fn succeed_job(&mut self, now: Timestamp, fx: &mut Vec<Effect>) {
        self.set_status(now, JobStatus::Succeeded, None, fx);
        self.write_memory(now, fx);
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
