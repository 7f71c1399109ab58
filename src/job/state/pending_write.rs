//! A write to another store as the job keeps it in its outbox until the shell reports it done
//! (issuing and retrying it is `writes`').

use std::fmt;

use serde::{Deserialize, Serialize};

use super::status::JobStatus;
use crate::ids::{Attempt, ModelId, StageId};
use crate::time::Timestamp;

/// A write's id in its job, from 1; the same on every issue of the write
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct WriteId(pub u32);

impl fmt::Display for WriteId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// What a write carries
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum WriteKind {
    /// The render index's status (`Effect::StatusChanged`)
    Index {
        /// Old status
        from: JobStatus,
        /// New status
        to: JobStatus,
        /// Why, for failures
        reason: Option<String>,
        /// Orders index writes: the length of the status history after the change
        seq: u32,
    },
    /// One cost ledger line (`Effect::RecordCost`)
    Cost {
        /// The stage
        stage: StageId,
        /// The attempt that produced the artifact
        attempt: Attempt,
        /// The model
        model: ModelId,
        /// Dollars
        usd: f64,
    },
    /// The render's summary into the memory graph (`Effect::EnrichMemory`), built from the job
    /// as it ended at `ended_at`
    Memory {
        /// When the job ended
        ended_at: Timestamp,
    },
}

impl WriteKind {
    /// The kind's name, for support
    pub fn name(&self) -> &'static str {
        match self {
            Self::Index { .. } => "index",
            Self::Cost { .. } => "cost",
            Self::Memory { .. } => "memory",
        }
    }

    /// Whether a newer write of this kind makes an older pending one pointless
    pub(crate) fn supersedes(&self, older: &Self) -> bool {
        match (self, older) {
            (Self::Index { .. }, Self::Index { .. })
            | (Self::Memory { .. }, Self::Memory { .. }) => true,
            (Self::Index { .. } | Self::Cost { .. } | Self::Memory { .. }, _) => false,
        }
    }
}

/// Where a pending write stands
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum WriteState {
    /// Issued; without a result by `deadline` it is issued again
    Sending {
        /// When to stop waiting for the result
        deadline: Timestamp,
    },
    /// The last issue failed; the next goes out at `next_at`
    Retrying {
        /// When to issue again
        next_at: Timestamp,
        /// What the last issue got
        last_error: String,
    },
}

impl WriteState {
    /// When this state needs the alarm
    pub fn wake_at(&self) -> Timestamp {
        match self {
            Self::Sending { deadline } => *deadline,
            Self::Retrying { next_at, .. } => *next_at,
        }
    }
}

/// One write not yet acknowledged
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingWrite {
    /// Its id (ascending in the outbox)
    pub id: WriteId,
    /// What it writes
    pub kind: WriteKind,
    /// Issues so far
    pub attempts: u32,
    /// Where it stands
    pub state: WriteState,
}
