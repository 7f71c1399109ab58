//! What a step changed, for the shell to persist exactly that.
//!
//! # Contract
//!
//! After every `Job::new`, `Job::handle` that returned `Ok`, call [`Job::take_changes`](super::Job::take_changes)
//! and, in the same synchronous step as appending the input to the journal (no `await` in
//! between, so the Durable Object commits them together):
//!
//! - `spec`: upsert the spec row from `job.spec()` (creation, and once when the context arrives);
//! - `header`: upsert the header row from `job.header()`;
//! - `stages`: upsert each listed stage's row from `job.stage(id)`; rows are never deleted.
//!
//! A step that changed nothing (a stale or duplicate input, a tick with nothing due) returns an
//! empty `Changes`; the shell may still journal the input, which replays as a no-op.

use std::collections::BTreeSet;

use crate::ids::StageId;

/// The parts of a job a step changed
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    /// The spec row
    pub spec: bool,
    /// The header row
    pub header: bool,
    /// These stage rows
    pub stages: BTreeSet<StageId>,
}

impl Changes {
    /// Whether nothing changed
    pub fn is_empty(&self) -> bool {
        !self.spec && !self.header && self.stages.is_empty()
    }
}
