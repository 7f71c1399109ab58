//! In-memory indexes over the stages, derived from the rows and never persisted, so that one
//! input costs O(log n) integer operations at most, never a scan: deadlines, dependents, unmet
//! dependency counts, per-model slots in use and ready queues, and the set of active stages.
//! Stages are keyed by their plan position (`u32`), which is also their dispatch priority.
//!
//! [`Index::rebuild`] derives them from scratch on load; the job keeps them up to date
//! incrementally (every state change goes through `Job::set_state`). Tests check that both ways
//! agree after every step.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::hash::{BuildHasherDefault, Hasher};

use super::deadlines::{DeadlineKey, DeadlineTable};
use super::state::{JobHeader, StageRow, StageState};
use crate::ids::{ModelId, StageId};

/// FNV-1a: a deterministic hasher (no random keys, which wasm may not have, and stage ids are
/// ours, so flooding is not a concern)
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// Stage id to plan position; only looked up, never iterated (so its order does not matter)
pub(crate) type Positions = HashMap<StageId, u32, BuildHasherDefault<Fnv>>;

/// The derived indexes
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Index {
    /// Every named deadline
    pub deadlines: DeadlineTable,
    /// Stages waiting on each stage
    pub dependents: Vec<Vec<u32>>,
    /// Dependencies not yet done, for blocked stages (0 otherwise)
    pub unmet: Vec<u32>,
    /// Concurrency slots in use per model (submitting or running)
    pub in_flight: BTreeMap<ModelId, u32>,
    /// Ready stages per model, by plan position (= dispatch order)
    pub queues: BTreeMap<ModelId, BTreeSet<u32>>,
    /// Stages the job must stop when it ends
    pub active: BTreeSet<u32>,
    /// Stages stopped when the job ended (cancelled state): what a support action that reopens a
    /// failed job sets going again, without scanning the plan
    pub stopped: BTreeSet<u32>,
}

fn pos(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(u32::MAX)
}

impl Index {
    /// Derives every index from the stored rows (`rows[i].spec.order == i`)
    pub fn rebuild(header: &JobHeader, rows: &[StageRow], positions: &Positions) -> Self {
        let n = rows.len();
        let mut idx = Self {
            dependents: vec![Vec::new(); n],
            unmet: vec![0; n],
            ..Self::default()
        };
        if let Some(w) = &header.memory_wait {
            idx.deadlines.set(DeadlineKey::Memory, Some(w.deadline));
        }
        for n in &header.outbox {
            idx.deadlines
                .set(DeadlineKey::Notify(n.id), n.state.wake_at());
        }
        for w in &header.writes {
            idx.deadlines
                .set(DeadlineKey::Write(w.id.0), Some(w.state.wake_at()));
        }
        for (i, row) in rows.iter().enumerate() {
            let blocked = matches!(row.state, StageState::Blocked);
            for dep in &row.spec.deps {
                let Some(&d) = positions.get(dep) else {
                    continue;
                };
                if let Some(list) = idx.dependents.get_mut(d as usize) {
                    list.push(pos(i));
                }
                let done = rows
                    .get(d as usize)
                    .is_some_and(|r| matches!(r.state, StageState::Done { .. }));
                if blocked
                    && !done
                    && let Some(u) = idx.unmet.get_mut(i)
                {
                    *u += 1;
                }
            }
            idx.enter(pos(i), &row.state);
        }
        idx
    }

    /// Adds a stage in `state` to the indexes
    pub fn enter(&mut self, i: u32, state: &StageState) {
        if let Some(m) = state.slot() {
            match self.in_flight.get_mut(m) {
                Some(n) => *n += 1,
                None => {
                    self.in_flight.insert(m.clone(), 1);
                }
            }
        }
        // A stage waiting at the gate is out of the job's queue (it holds a slot instead).
        if let Some(model) = state.queue() {
            match self.queues.get_mut(model) {
                Some(q) => {
                    q.insert(i);
                }
                None => {
                    self.queues.insert(model.clone(), BTreeSet::from([i]));
                }
            }
        }
        if state.is_active() {
            self.active.insert(i);
        }
        if matches!(state, StageState::Cancelled { .. }) {
            self.stopped.insert(i);
        }
        self.deadlines.set(DeadlineKey::Stage(i), state.wake_at());
    }

    /// Removes a stage in `state` from the indexes (its deadline is overwritten by `enter`)
    pub fn leave(&mut self, i: u32, state: &StageState) {
        if let Some(m) = state.slot()
            && let Some(n) = self.in_flight.get_mut(m)
        {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.in_flight.remove(m);
            }
        }
        if let Some(model) = state.queue()
            && let Some(q) = self.queues.get_mut(model)
        {
            q.remove(&i);
            if q.is_empty() {
                self.queues.remove(model);
            }
        }
        if state.is_active() {
            self.active.remove(&i);
        }
        if matches!(state, StageState::Cancelled { .. }) {
            self.stopped.remove(&i);
        }
    }

    /// Slots in use on a model
    pub fn slots_used(&self, model: &ModelId) -> u32 {
        self.in_flight.get(model).copied().unwrap_or(0)
    }
}
