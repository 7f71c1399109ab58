//! Support actions: retry a stage, reroute it, pause, resume, cancel, restart from a stage.
//!
//! An action is checked in full before anything changes (`check_*` read `&self` only): a refused
//! action is a [`JobError`] and leaves the job exactly as it was, so the shell, which journals
//! only accepted inputs, never journals it. An accepted one is applied (see `redo` for the stage
//! work) and recorded in the header with who did it and why. What each action does in each status
//! is the table in the module doc of [`job`](super).

use super::Job;
use super::budget::Micros;
use super::effect::Effect;
use super::error::JobError;
use super::state::{ActionRecord, JobStatus, StageRow, StageState, SupportAction};
use crate::ids::{ModelId, StageId};
use crate::time::Timestamp;

/// Support actions kept in the header (the journal keeps them all)
pub const MAX_ACTIONS: usize = 64;

/// What an accepted action will do, worked out before anything changes
pub(super) enum Plan {
    Pause,
    Resume {
        to: JobStatus,
    },
    Cancel,
    /// A fresh attempt of stage `i` from candidate `cursor`, with `model` put first for a reroute
    Fresh {
        i: u32,
        cursor: u32,
        model: Option<ModelId>,
        reopen: bool,
    },
    /// Redo these stages (plan order: the named one and its dependents)
    Restart {
        closure: Vec<u32>,
        reopen: bool,
    },
}

impl Job {
    /// Checks and applies one support action; `Err` leaves the job unchanged
    pub(super) fn on_support(
        &mut self,
        now: Timestamp,
        by: String,
        reason: String,
        action: SupportAction,
        fx: &mut Vec<Effect>,
    ) -> Result<(), JobError> {
        let plan = self.check_action(now, &reason, &action)?;
        let reason = reason.trim().to_owned();
        let note = action.note(&reason);
        // Recorded first, so the status webhook this action sends can swap the note for the
        // creator's plain sentence (`Job::plain_for_creator`)
        if self.header.actions.len() >= MAX_ACTIONS {
            self.header.actions.remove(0);
        }
        self.header.actions.push(ActionRecord {
            at: now,
            by: by.clone(),
            reason,
            action: action.clone(),
        });
        match plan {
            Plan::Pause => {
                self.header.paused_from = Some(self.header.status);
                self.change_status(now, JobStatus::Paused, Some(note), fx);
            }
            Plan::Resume { to } => self.change_status(now, to, Some(note), fx),
            Plan::Cancel => self.cancel(now, by.clone(), Some(note), fx),
            Plan::Fresh {
                i,
                cursor,
                model,
                reopen,
            } => self.fresh_attempt(now, i, cursor, model, reopen, &note, fx),
            Plan::Restart { closure, reopen } => self.restart(now, &closure, reopen, &note, fx),
        }
        self.header_dirty = true;
        Ok(())
    }

    /// The models support may reroute stage `id` to now: every model of the pinned registry
    /// the reroute check accepts (capability, duration, aspect, in service, budget, the stage's
    /// and the job's state), so the support page offers nothing the job would refuse
    pub fn reroute_options(&self, now: Timestamp, id: &StageId) -> Vec<ModelId> {
        self.spec
            .registry
            .models
            .iter()
            .filter(|m| {
                let action = SupportAction::Reroute {
                    stage: id.clone(),
                    model: m.id.clone(),
                };
                self.check_action(now, "listing options", &action).is_ok()
            })
            .map(|m| m.id.clone())
            .collect()
    }

    fn check_action(
        &self,
        now: Timestamp,
        reason: &str,
        action: &SupportAction,
    ) -> Result<Plan, JobError> {
        use JobStatus as S;
        if reason.trim().is_empty() {
            return Err(refuse(action, "a reason is required".into()));
        }
        let status = self.header.status;
        let ended = || {
            refuse(
                action,
                format!("the job already ended ({})", status.as_str()),
            )
        };
        if status == S::Cancelled {
            return Err(refuse(action, "the job was cancelled".into()));
        }
        match action {
            SupportAction::Pause => match status {
                S::Queued | S::Planning | S::Rendering | S::Assembling => Ok(Plan::Pause),
                S::Paused => Err(refuse(action, "the job is already paused".into())),
                S::Succeeded | S::Failed | S::Cancelled => Err(ended()),
            },
            SupportAction::Resume => match status {
                S::Paused => Ok(Plan::Resume {
                    to: self.header.paused_from.unwrap_or(S::Rendering),
                }),
                S::Queued
                | S::Planning
                | S::Rendering
                | S::Assembling
                | S::Succeeded
                | S::Failed
                | S::Cancelled => Err(refuse(
                    action,
                    format!("the job is not paused (it is {})", status.as_str()),
                )),
            },
            SupportAction::Cancel => match status {
                S::Queued | S::Planning | S::Rendering | S::Assembling | S::Paused => {
                    Ok(Plan::Cancel)
                }
                S::Succeeded | S::Failed | S::Cancelled => Err(ended()),
            },
            SupportAction::RetryStage { stage } => self.check_retry(action, stage),
            SupportAction::Reroute { stage, model } => {
                self.check_reroute(now, action, stage, model)
            }
            SupportAction::RestartFrom { stage } => self.check_restart(action, stage),
        }
    }

    fn check_retry(&self, action: &SupportAction, id: &StageId) -> Result<Plan, JobError> {
        let (i, row) = self.position_of(id)?;
        let cursor = match &row.state {
            StageState::Submitting { .. }
            | StageState::Running { .. }
            | StageState::Storing { .. }
            | StageState::BackingOff { .. } => row.cursor,
            // Every candidate may have failed (the cursor ran off the list): the current model is
            // the one its last attempt ran on.
            StageState::Failed { .. } => {
                let last = row.attempts.last().and_then(|a| {
                    row.decision
                        .candidates
                        .iter()
                        .position(|c| c.model == a.model)
                });
                let end = row.decision.candidates.len().saturating_sub(1);
                last.map_or(row.cursor.min(to_u32(end)), to_u32)
            }
            StageState::Done { .. } => {
                return Err(refuse(
                    action,
                    format!("{id} is done: use restart_from to redo it"),
                ));
            }
            StageState::Blocked => {
                return Err(refuse(
                    action,
                    format!("{id} is waiting for its dependencies"),
                ));
            }
            StageState::Ready { model, .. } => {
                return Err(refuse(
                    action,
                    format!("{id} is already waiting to be submitted on {model}"),
                ));
            }
            StageState::Cancelled { .. } => return Err(refuse(action, stopped(id))),
        };
        let failed = matches!(row.state, StageState::Failed { .. });
        let reopen = self
            .check_reopen(u32::from(failed))
            .map_err(|why| refuse(action, why))?;
        let others = self.others_floor(row, reopen, &[i]);
        let cheapest = row
            .decision
            .candidates
            .iter()
            .skip(usize::try_from(cursor).unwrap_or(usize::MAX))
            .filter_map(|c| self.cost_on(row, &c.model))
            .min();
        match cheapest {
            Some(cost) if self.fits(cost.plus(others)) => Ok(Plan::Fresh {
                i,
                cursor,
                model: None,
                reopen,
            }),
            Some(cost) => Err(refuse(action, self.over_budget(id, cost, others))),
            None => Err(refuse(action, format!("{id} has no priced model left"))),
        }
    }

    fn check_reroute(
        &self,
        now: Timestamp,
        action: &SupportAction,
        id: &StageId,
        model: &ModelId,
    ) -> Result<Plan, JobError> {
        let (i, row) = self.position_of(id)?;
        let Some(spec) = self.model(model) else {
            let v = self.spec.registry.version;
            return Err(refuse(action, format!("{model} is not in registry v{v}")));
        };
        if !crate::routing::registry_doc::spec_in_service(spec, now) {
            return Err(refuse(action, format!("{model} is retired")));
        }
        let s = &row.spec;
        let needs = s.kind.capability();
        if spec.capability != needs {
            let why = format!(
                "{model} cannot run {id}: it has capability {:?}, the stage needs {needs:?}",
                spec.capability
            );
            return Err(refuse(action, why));
        }
        if spec.max_duration_s > 0.0 && s.duration_s > spec.max_duration_s {
            let why = format!(
                "{model} cannot make {}s in one call (max {}s)",
                s.duration_s, spec.max_duration_s
            );
            return Err(refuse(action, why));
        }
        if !spec.aspects.is_empty() && !spec.aspects.contains(&s.aspect) {
            let why = format!("{model} does not render {}", s.aspect.as_str());
            return Err(refuse(action, why));
        }
        let failed = match &row.state {
            StageState::Blocked
            | StageState::Ready { .. }
            | StageState::Submitting { .. }
            | StageState::Running { .. }
            | StageState::Storing { .. }
            | StageState::BackingOff { .. } => false,
            StageState::Failed { .. } => true,
            StageState::Done { .. } => {
                let why = format!(
                    "{id} is done: restart_from it (pause first to reroute it before it is submitted again)"
                );
                return Err(refuse(action, why));
            }
            StageState::Cancelled { .. } => return Err(refuse(action, stopped(id))),
        };
        let reopen = self
            .check_reopen(u32::from(failed))
            .map_err(|why| refuse(action, why))?;
        let others = self.others_floor(row, reopen, &[i]);
        let cost = self.cost_on(row, model).unwrap_or(Micros::ZERO);
        if !self.fits(cost.plus(others)) {
            return Err(refuse(action, self.over_budget(id, cost, others)));
        }
        Ok(Plan::Fresh {
            i,
            cursor: 0,
            model: Some(model.clone()),
            reopen,
        })
    }

    fn check_restart(&self, action: &SupportAction, id: &StageId) -> Result<Plan, JobError> {
        let (i, row) = self.position_of(id)?;
        match &row.state {
            StageState::Blocked | StageState::Ready { .. } => {
                let why = format!("{id} has not been submitted yet: nothing to redo");
                return Err(refuse(action, why));
            }
            StageState::Submitting { .. }
            | StageState::Running { .. }
            | StageState::Storing { .. }
            | StageState::BackingOff { .. }
            | StageState::Done { .. }
            | StageState::Failed { .. }
            | StageState::Cancelled { .. } => {}
        }
        let closure = self.closure(i);
        let rows = || closure.iter().filter_map(|&j| self.row(j));
        let failed = rows()
            .filter(|r| matches!(r.state, StageState::Failed { .. }))
            .count();
        let reopen = self
            .check_reopen(to_u32(failed))
            .map_err(|why| refuse(action, why))?;
        // Every stage of the closure needs at least its floor again; so do the stages a reopened
        // job sets going again.
        let mut extra = rows()
            .filter(|r| !r.state.holds_floor())
            .fold(Micros::ZERO, |m, r| m.plus(r.floor));
        if reopen {
            extra = extra.plus(self.stopped_floor(&closure));
        }
        let h = &self.header;
        if !self.fits(h.outstanding_floor.plus(extra)) {
            let left = h.budget.minus(h.committed).minus(h.outstanding_floor);
            let why = format!(
                "over budget: redoing {} stages needs at least {extra} more, only {left} of the {} budget is left",
                closure.len(),
                h.budget
            );
            return Err(refuse(action, why));
        }
        Ok(Plan::Restart { closure, reopen })
    }

    /// Whether the action reopens a finished job; a failed job only when every failed stage is
    /// redone by it (`covered`), so that a job back at work never holds a failed stage
    fn check_reopen(&self, covered: u32) -> Result<bool, String> {
        match self.header.status {
            JobStatus::Failed if covered >= self.header.counts.failed => Ok(true),
            JobStatus::Failed => Err(format!(
                "the job failed ({}): retry or reroute its failed stage, or restart_from a stage that leads to it",
                self.header
                    .failure
                    .as_deref()
                    .unwrap_or("no reason recorded")
            )),
            JobStatus::Succeeded => Ok(true),
            JobStatus::Cancelled => Err("the job was cancelled".into()),
            JobStatus::Queued
            | JobStatus::Planning
            | JobStatus::Rendering
            | JobStatus::Assembling
            | JobStatus::Paused => Ok(false),
        }
    }

    fn position_of(&self, id: &StageId) -> Result<(u32, &StageRow), JobError> {
        self.positions
            .get(id)
            .and_then(|&i| Some((i, self.row(i)?)))
            .ok_or_else(|| JobError::UnknownStage {
                job: self.spec.job_id.clone(),
                stage: id.clone(),
            })
    }

    /// The floors still owed by stages other than `except`, plus those of stopped stages when
    /// the job is reopened (they will need a reservation again)
    fn others_floor(&self, row: &StageRow, reopen: bool, except: &[u32]) -> Micros {
        let mut floor = self.header.outstanding_floor;
        if row.state.holds_floor() {
            floor = floor.minus(row.floor);
        }
        if reopen {
            floor = floor.plus(self.stopped_floor(except));
        }
        floor
    }

    /// The floors of the stages stopped when the job ended, but those in `except`
    fn stopped_floor(&self, except: &[u32]) -> Micros {
        self.idx
            .stopped
            .iter()
            .filter(|j| !except.contains(j))
            .filter_map(|&j| self.row(j))
            .fold(Micros::ZERO, |m, r| m.plus(r.floor))
    }

    /// Whether `more` can be committed on top of what is
    fn fits(&self, more: Micros) -> bool {
        self.header.committed.plus(more) <= self.header.budget
    }

    fn over_budget(&self, id: &StageId, cost: Micros, others: Micros) -> String {
        let h = &self.header;
        let left = h.budget.minus(h.committed).minus(others);
        format!(
            "over budget: {id} needs {cost}, only {left} of the {} budget is left for it",
            h.budget
        )
    }
}

fn refuse(action: &SupportAction, reason: String) -> JobError {
    JobError::InvalidAction {
        action: action.name(),
        reason,
    }
}

fn stopped(id: &StageId) -> String {
    format!("{id} was stopped when the job ended: act on the failed stage, or restart_from")
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}
