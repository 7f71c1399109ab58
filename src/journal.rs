//! The job's append-only journal: every accepted input with its time and who caused it, and
//! [`Job::replay`], which rebuilds the job from it.
//!
//! The job machine is deterministic given `(now, input)`, so replaying the journal in order
//! yields the same state as the live job: support can inspect any past step, and a job whose
//! stored rows are lost or suspect can be rebuilt from the journal alone.
//!
//! Contract for the shell: journal an input only when `handle` returned `Ok` (an `Err` left the
//! job unchanged, e.g. a refused support action) and the step changed something
//! ([`Changes::skipped`] is `None`); journal in the same synchronous step as persisting the
//! changes. A step that changed nothing is counted by its [`Skipped`] kind instead: it would
//! replay as a no-op, and journaling it would let duplicate callbacks and idle alarms grow the
//! journal without bound. Support actions are journaled with [`Actor::Support`], webhook
//! results (`NotifyResult`) with [`Actor::System`]: the replay needs both, since they move the
//! job and its outbox.

use serde::{Deserialize, Serialize};

use crate::job::{Changes, Input, Job, JobError};
use crate::providers::ProviderKind;
use crate::time::Timestamp;

/// Who caused an input
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[derive(schemars::JsonSchema)]
pub enum Actor {
    /// The creator's app, by API key id
    App {
        /// API key id or principal
        by: String,
    },
    /// A provider's callback, or a provider's answer to a submit or poll
    Provider {
        /// Which
        provider: ProviderKind,
    },
    /// The Durable Object's alarm
    Alarm,
    /// Support staff, by name or key id
    Support {
        /// Who
        by: String,
    },
    /// The shell reporting its own work (R2 copies, the memory graph's answer)
    System,
}

/// Why a step changed nothing: what the shell counts instead of journaling it
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Skipped {
    /// A callback or provider answer the stage already had (a delivery id seen before, or the
    /// same status again)
    DuplicateCallback,
    /// A callback or provider answer for an attempt no longer in flight, or for an ended job
    StaleCallback,
    /// An alarm with nothing due (alarms may fire twice or late)
    NoOpTick,
    /// Anything else that changed nothing (a repeated cancel, a result already taken)
    Other,
}

impl Skipped {
    /// Every kind, for counters that show zeros too
    pub const ALL: [Self; 4] = [
        Self::DuplicateCallback,
        Self::StaleCallback,
        Self::NoOpTick,
        Self::Other,
    ];

    /// The snake_case name, as stored and shown
    pub fn as_str(self) -> &'static str {
        match self {
            Self::DuplicateCallback => "duplicate_callback",
            Self::StaleCallback => "stale_callback",
            Self::NoOpTick => "noop_tick",
            Self::Other => "other",
        }
    }
}

/// What the shell does with a step's input
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Record {
    /// The step changed the job: append the input to the journal
    Append,
    /// The step changed nothing: count it under this kind
    Count(Skipped),
}

impl Record {
    /// The rule, from what the step changed
    pub fn of(changes: &Changes) -> Self {
        match changes.skipped {
            Some(kind) if changes.is_empty() => Self::Count(kind),
            Some(_) | None => Self::Append,
        }
    }
}

/// One journal row
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JournalEntry {
    /// Position in the journal, from 1, without gaps
    pub seq: u64,
    /// The `now` the input was handled at
    pub at: Timestamp,
    /// Who caused it
    pub actor: Actor,
    /// The input
    pub input: Input,
}

impl Job {
    /// Rebuilds a job from its journal; the first entry must be `Created`
    pub fn replay<'a>(
        entries: impl IntoIterator<Item = &'a JournalEntry>,
    ) -> Result<Self, JobError> {
        let mut it = entries.into_iter();
        let first = it.next().ok_or(JobError::EmptyJournal)?;
        let Input::Created(created) = &first.input else {
            return Err(JobError::NotCreatedFirst {
                seq: first.seq,
                input: first.input.name(),
            });
        };
        let (mut job, _) = Job::new(first.at, created.clone()).map_err(|e| JobError::Replay {
            seq: first.seq,
            source: Box::new(e),
        })?;
        for entry in it {
            let _effects =
                job.handle(entry.at, entry.input.clone())
                    .map_err(|e| JobError::Replay {
                        seq: entry.seq,
                        source: Box::new(e),
                    })?;
        }
        job.take_changes();
        Ok(job)
    }
}
