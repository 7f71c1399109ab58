//! Asking the gate while a stage's last input is still being stored.
//!
//! A stage used to ask its provider's gate only once every input was in R2, so the gate's round
//! trip (another object's step, its write, the answer and the job's own step for it) came on top
//! of the copy, on the path from one provider's result to the next submit. A stage whose only
//! missing input has succeeded at its provider and is being copied now asks at that moment; the
//! copy and the gate's answer overlap, and a slot granted before the copy ends is held until it
//! ends, then used at once:
//!
//! ```text
//! dependency -> storing, the stage blocked on it alone --> ready(slot: asked)   [AcquireSlot]
//! ready(slot) --SlotGranted, an input not yet stored--> ready(slot: granted)   (held)
//! dependency -> done --> ready(slot: granted) --> submitting                   [Submit]
//! dependency storing -> anything but done --> blocked                           [ReleaseSlot unused]
//! ```
//!
//! It asks only where nothing is given up for it: a gated job that submits, a stage whose
//! current candidate is usable and affordable, a model with a free slot in the job and no stage
//! of the job already queued for it (so plan order holds). The hold is bounded: a copy that
//! fails or times out sends the stage back to wait for its inputs and gives the slot back, and
//! a held slot's lease outlasts the longest copy. No submit ever leaves before its inputs are
//! stored: a grant is used only when every dependency is done.

use super::Job;
use super::effect::Effect;
use super::state::{StageRow, StageState};
use crate::plan::StageKind;
use crate::time::Timestamp;

/// The stages whose copies began, ended or were abandoned during a step, handled at its end
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct StoringChanges {
    began: Vec<u32>,
    stored: Vec<u32>,
    abandoned: Vec<u32>,
}

impl StoringChanges {
    /// Notes a state change that starts, finishes or abandons a copy into R2
    pub(super) fn note(&mut self, i: u32, old: &StageState, new: &StageState) {
        let was = matches!(old, StageState::Storing { .. });
        match new {
            StageState::Storing { .. } if !was => self.began.push(i),
            StageState::Done { .. } if was => self.stored.push(i),
            StageState::Storing { .. } | StageState::Done { .. } => {}
            StageState::Blocked
            | StageState::Ready { .. }
            | StageState::Submitting { .. }
            | StageState::Running { .. }
            | StageState::BackingOff { .. }
            | StageState::Failed { .. }
            | StageState::Cancelled { .. } => {
                if was {
                    self.abandoned.push(i);
                }
            }
        }
    }
}

impl Job {
    /// How many dependencies of stage `i` are not done (their outputs not all stored)
    fn inputs_missing(&self, i: u32) -> usize {
        self.row(i).map_or(0, |row| {
            row.spec
                .deps
                .iter()
                .filter(|dep| {
                    !self
                        .stage(dep)
                        .is_some_and(|d| matches!(d.state, StageState::Done { .. }))
                })
                .count()
        })
    }

    /// Every dependency of stage `i` is done (its outputs stored)
    pub(super) fn inputs_stored(&self, i: u32) -> bool {
        self.inputs_missing(i) == 0
    }

    /// At the end of a step: early asks for the dependents of copies that began, grants used
    /// for those of copies that ended, and early stages sent back for copies abandoned
    pub(super) fn settle_early_slots(&mut self, now: Timestamp, fx: &mut Vec<Effect>) {
        let changes = std::mem::take(&mut self.storing);
        if self.spec.fleet.is_none() {
            return;
        }
        for x in changes.abandoned {
            for d in self.dependents_of(x) {
                self.back_to_blocked(d);
            }
        }
        for x in changes.began {
            for d in self.dependents_of(x) {
                self.ask_early(now, d, fx);
            }
        }
        for x in changes.stored {
            for d in self.dependents_of(x) {
                self.use_held_grant(now, d, fx);
            }
        }
    }

    pub(super) fn dependents_of(&self, i: u32) -> Vec<u32> {
        self.idx
            .dependents
            .get(i as usize)
            .cloned()
            .unwrap_or_default()
    }

    /// Asks the gate for stage `d` if its last missing input is the one being copied, and
    /// nothing is given up for it (see the module's comment)
    fn ask_early(&mut self, now: Timestamp, d: u32, fx: &mut Vec<Effect>) {
        if !self.header.status.submits() || self.idx.unmet.get(d as usize) != Some(&1) {
            return;
        }
        let Some(row) = self.row(d) else { return };
        if !matches!(row.state, StageState::Blocked) || row.spec.kind == StageKind::Assembly {
            return;
        }
        let Some(model) = current_candidate(row) else {
            return;
        };
        let Some(spec) = self.model(&model) else {
            return;
        };
        let free = self.idx.slots_used(&model) < spec.concurrency.max(1);
        let none_queued = self.idx.queues.get(&model).is_none_or(|q| q.is_empty());
        let Some(pick) = self
            .pick_affordable(row)
            .filter(|p| p.model == model && p.index == row.cursor)
        else {
            return;
        };
        if free && none_queued {
            self.submit_or_ask(now, d, pick, fx);
        }
    }

    /// Submits stage `d` on the slot it holds, once its inputs are all stored
    fn use_held_grant(&mut self, now: Timestamp, d: u32, fx: &mut Vec<Effect>) {
        let held = match self.row(d).map(|r| &r.state) {
            Some(StageState::Ready {
                model,
                slot: Some(wait),
                ..
            }) if wait.granted => Some(model.clone()),
            _ => None,
        };
        if let Some(model) = held
            && self.inputs_stored(d)
        {
            self.use_grant(now, d, model, fx);
        }
    }

    /// Sends stage `d` back to wait for its inputs when it went ahead of one that is no longer
    /// being copied (the slot it asked for or holds is given back with the state change)
    fn back_to_blocked(&mut self, d: u32) {
        let early = self
            .row(d)
            .is_some_and(|r| matches!(r.state, StageState::Ready { .. }));
        if !early || self.inputs_stored(d) {
            return;
        }
        self.set_state(d, StageState::Blocked);
        let unmet = self.inputs_missing(d);
        if let Some(u) = self.idx.unmet.get_mut(d as usize) {
            *u = u32::try_from(unmet).unwrap_or(u32::MAX);
        }
    }
}

/// The model a blocked stage would be made ready on: its candidate at the cursor, unless that
/// one refused it for good (then `make_ready` moves on when the time comes)
pub(super) fn current_candidate(row: &StageRow) -> Option<crate::ids::ModelId> {
    let at = usize::try_from(row.cursor).ok()?;
    row.decision
        .candidates
        .get(at)
        .filter(|c| !row.refused.contains(&c.model))
        .map(|c| c.model.clone())
}
