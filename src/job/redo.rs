//! The stage work of support actions, once `support` has accepted them: fencing out an attempt,
//! putting a model first, redoing a stage and its dependents, reopening a finished job.
//!
//! Cost is O(stages touched): the dependents come from the index, the stages a failure stopped
//! from `idx.stopped`; nothing scans the plan.

use std::collections::BTreeSet;

use super::Job;
use super::effect::Effect;
use super::state::{AttemptOutcome, JobStatus, StageRow, StageState};
use crate::ids::ModelId;
use crate::plan::StageKind;
use crate::routing::outcome::NEUTRAL;
use crate::routing::{Candidate, RoutingContext, Scores, route_stage};
use crate::time::Timestamp;

impl Job {
    /// A fresh attempt of stage `i` from candidate `cursor` (after putting `model` first)
    #[allow(clippy::too_many_arguments)]
    pub(super) fn fresh_attempt(
        &mut self,
        now: Timestamp,
        i: u32,
        cursor: u32,
        model: Option<ModelId>,
        reopen: bool,
        note: &str,
        fx: &mut Vec<Effect>,
    ) {
        if let Some(model) = &model {
            self.put_first(now, i, model, note);
        }
        self.abandon(now, i, note, fx);
        let blocked = self
            .row(i)
            .is_some_and(|r| matches!(r.state, StageState::Blocked));
        if let Some(row) = self.row_mut(i) {
            row.cursor = cursor;
            // A fresh start on the model: the automatic retries start over too, and a person
            // asking for this model again overrides its refusal.
            row.failures_on_model = 0;
            let asked = usize::try_from(cursor)
                .ok()
                .and_then(|c| row.decision.candidates.get(c))
                .map(|c| c.model.clone());
            row.refused.retain(|m| Some(m) != asked.as_ref());
        }
        if reopen {
            let ready: &[u32] = if blocked { &[] } else { &[i] };
            self.reopen(now, ready, note, fx);
        }
        // A blocked stage starts on the new model once its dependencies are done.
        if !blocked {
            self.make_ready(now, i, fx);
        }
    }

    /// Redoes `closure` (a stage and all its dependents, in plan order)
    pub(super) fn restart(
        &mut self,
        now: Timestamp,
        closure: &[u32],
        reopen: bool,
        note: &str,
        fx: &mut Vec<Effect>,
    ) {
        for &j in closure {
            let blocked = self
                .row(j)
                .is_none_or(|r| matches!(r.state, StageState::Blocked));
            if blocked {
                continue;
            }
            self.abandon(now, j, note, fx);
            if let Some(row) = self.row_mut(j) {
                row.cursor = 0;
                row.failures_on_model = 0;
                row.refused.clear();
                row.started_at = None;
            }
            self.set_state(j, StageState::Blocked);
        }
        // Dependencies inside the closure are no longer done; those outside it are untouched,
        // and no stage outside the closure depends on one inside it.
        let mut ready = Vec::new();
        for &j in closure {
            let unmet = self.row(j).map_or(0, |r| {
                r.spec
                    .deps
                    .iter()
                    .filter(|d| {
                        !self
                            .stage(d)
                            .is_some_and(|s| matches!(s.state, StageState::Done { .. }))
                    })
                    .count()
            });
            if let Some(u) = self.idx.unmet.get_mut(j as usize) {
                *u = u32::try_from(unmet).unwrap_or(u32::MAX);
            }
            if unmet == 0 {
                ready.push(j);
            }
        }
        let assembly_ready = ready.iter().any(|&j| self.is_assembly(j));
        if reopen {
            self.reopen(now, &ready, note, fx);
        } else if !assembly_ready && closure.iter().any(|&j| self.is_assembly(j)) {
            // The cut waits for the redone stages again. While paused this only changes what a
            // resume returns to.
            self.set_status(now, JobStatus::Rendering, Some(note.to_owned()), fx);
        }
        for j in ready {
            self.make_ready(now, j, fx);
        }
    }

    /// Stage `root` and every stage that depends on it, transitively, in plan order. The
    /// assembly depends on every other stage, so it is always among them.
    pub(super) fn closure(&self, root: u32) -> Vec<u32> {
        let mut seen = BTreeSet::from([root]);
        let mut todo = vec![root];
        while let Some(j) = todo.pop() {
            let next = self
                .idx
                .dependents
                .get(j as usize)
                .map_or(&[][..], Vec::as_slice);
            for &d in next {
                if seen.insert(d) {
                    todo.push(d);
                }
            }
        }
        seen.into_iter().collect()
    }

    /// Takes a finished job back to work: rendering (assembling when the cut is among the stages
    /// about to be ready), and every stage its failure stopped is set going again
    fn reopen(&mut self, now: Timestamp, ready: &[u32], note: &str, fx: &mut Vec<Effect>) {
        if let Some(failure) = self.header.failure.take() {
            self.header
                .notes
                .push(format!("reopened after it failed ({failure}): {note}"));
        }
        let stopped: Vec<u32> = self.idx.stopped.iter().copied().collect();
        let assembling = ready.iter().chain(&stopped).any(|&j| self.is_assembly(j));
        let to = if assembling {
            JobStatus::Assembling
        } else {
            JobStatus::Rendering
        };
        self.change_status(now, to, Some(note.to_owned()), fx);
        // They were running or waiting when the job failed: their dependencies are done.
        for j in stopped {
            self.make_ready(now, j, fx);
        }
    }

    /// Fences out the attempt in flight, if any: its record says why, a running task is
    /// cancelled at the provider (best effort). The caller moves the stage on, so anything the
    /// attempt still reports no longer matches and is ignored. Its reservation stays committed:
    /// the provider may still finish and bill it, as after a timeout.
    fn abandon(&mut self, now: Timestamp, i: u32, note: &str, fx: &mut Vec<Effect>) {
        let Some(state) = self.row(i).map(|r| r.state.clone()) else {
            return;
        };
        let Some(attempt) = state.attempt() else {
            return;
        };
        if let StageState::Running {
            model,
            provider_ref,
            ..
        } = &state
            && let Some(spec) = self.model(model)
        {
            fx.push(Effect::CancelTask {
                stage: self.sid(i),
                attempt,
                model: model.clone(),
                provider: spec.provider,
                provider_ref: provider_ref.clone(),
            });
        }
        if let Some(r) = self.row_mut(i).and_then(|row| row.record_mut(attempt)) {
            r.outcome = AttemptOutcome::Abandoned {
                reason: note.to_owned(),
            };
            r.ended_at = Some(now);
        }
    }

    /// Puts `model` first in the stage's candidates and records the override in its decision;
    /// keeps the stage's floor (cheapest candidate) and the job's outstanding floor in step
    fn put_first(&mut self, now: Timestamp, i: u32, model: &ModelId, note: &str) {
        let Some(row) = self.row(i) else {
            return;
        };
        let candidate = row
            .decision
            .candidates
            .iter()
            .find(|c| &c.model == model)
            .cloned()
            .unwrap_or_else(|| self.candidate_for(now, row, model));
        let new_cost = self.cost_on(row, model);
        let floor = row
            .decision
            .candidates
            .iter()
            .filter_map(|c| self.cost_on(row, &c.model))
            .chain(new_cost)
            .min()
            .unwrap_or(row.floor);
        let (old_floor, holds) = (row.floor, row.state.holds_floor());
        if let Some(row) = self.row_mut(i) {
            let d = &mut row.decision;
            d.candidates.retain(|c| &c.model != model);
            d.candidates.insert(0, candidate);
            d.excluded.retain(|(m, _)| m != model);
            d.notes
                .push(format!("routing before the override: {}", d.reason));
            d.reason = note.to_owned();
            row.floor = floor;
        }
        if holds {
            let h = &mut self.header;
            h.outstanding_floor = h.outstanding_floor.minus(old_floor).plus(floor);
        }
    }

    /// The router's scores for a model that was not a candidate (it may have been excluded by
    /// the stage's budget share); a model the router would not rank (behind a feature flag) gets
    /// its quality prior and neutral scores
    fn candidate_for(&self, now: Timestamp, row: &StageRow, model: &ModelId) -> Candidate {
        let brief = &self.spec.brief;
        let elapsed_s = now.since(self.spec.created_at).as_secs_f64();
        let ctx = RoutingContext {
            creator: self.spec.creator.clone(),
            outcome_target: brief.outcome_target,
            budget_usd: brief.budget_usd,
            deadline_s: (brief.deadline_s as f64 - elapsed_s).max(1.0),
            memory: self.spec.memory.clone().unwrap_or_default(),
        };
        let req = row.spec.routing_request();
        let ranked = route_stage(&self.spec.registry, &req, &ctx)
            .ok()
            .and_then(|d| d.candidates.into_iter().find(|c| &c.model == model));
        ranked.unwrap_or_else(|| {
            let spec = self.model(model);
            Candidate {
                model: model.clone(),
                scores: Scores {
                    quality: spec.map_or(0.0, |s| s.quality_for(row.spec.shot_kind)),
                    continuity: NEUTRAL,
                    cost: NEUTRAL,
                    latency: NEUTRAL,
                    outcome: NEUTRAL,
                },
                cost_usd: spec.map_or(0.0, |s| s.cost_usd(row.spec.duration_s, row.spec.chars())),
                latency_ms: spec.map_or(0, |s| s.latency_p50_ms),
            }
        })
    }

    fn is_assembly(&self, i: u32) -> bool {
        self.row(i)
            .is_some_and(|r| r.spec.kind == StageKind::Assembly)
    }
}
