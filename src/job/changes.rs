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
//! empty `Changes` naming why (`skipped`); the shell counts it instead of journaling it (it would
//! replay as a no-op), so duplicates and idle alarms never grow the journal.

use std::collections::BTreeSet;

use crate::ids::StageId;
use crate::journal::Skipped;

/// The parts of a job a step changed
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    /// The spec row
    pub spec: bool,
    /// The header row
    pub header: bool,
    /// These stage rows
    pub stages: BTreeSet<StageId>,
    /// When nothing changed: why (the shell counts it instead of journaling it; see `journal`)
    pub skipped: Option<Skipped>,
}

impl Changes {
    /// Whether nothing changed
    pub fn is_empty(&self) -> bool {
        !self.spec && !self.header && self.stages.is_empty()
    }
}
