//! The one error type of the job machine: real misuse only.
//!
//! Stale, duplicate, late and out-of-order inputs are not errors: they return `Ok(vec![])` and
//! change nothing, because providers and alarms deliver at least once and in any order.

use crate::brief::BriefError;
use crate::ids::{Attempt, JobId, StageId};
use crate::providers::ProviderKind;

/// Misuse of the job machine by its shell
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum JobError {
    /// The brief of `Created` does not validate (the API should have refused it with a 400)
    #[error("invalid brief: {0}")]
    InvalidBrief(#[from] BriefError),
    /// A `Created` for another job reached this one
    #[error("job {existing} cannot be created again as {requested}")]
    AlreadyCreated {
        /// This job
        existing: JobId,
        /// The job the input names
        requested: JobId,
    },
    /// An input names a stage this job does not have (misrouted or forged callback)
    #[error("job {job} has no stage {stage}")]
    UnknownStage {
        /// This job
        job: JobId,
        /// The stage the input names
        stage: StageId,
    },
    /// A callback came in on another provider's route than the provider of the attempt's model
    /// (a callback URL rewritten to another provider, or a task id of another provider's)
    #[error("{stage} attempt {attempt} runs on {expected}, not {got}: callback refused")]
    WrongProvider {
        /// The stage the callback names
        stage: StageId,
        /// The attempt it names
        attempt: Attempt,
        /// The provider of the attempt's model
        expected: ProviderKind,
        /// The provider of the callback's route
        got: ProviderKind,
    },
    /// A support action that does not apply to the job as it is (no reason given, an action on
    /// a cancelled job, retrying a done stage, resuming a job that is not paused, a model that
    /// cannot run the stage, over budget, ...); the job is unchanged
    #[error("cannot {action}: {reason}")]
    InvalidAction {
        /// The action (`retry_stage`, `reroute`, `pause`, `resume`, `cancel`, `restart_from`)
        action: &'static str,
        /// Why, for the support person
        reason: String,
    },
    /// A `NotifyResult` names a notification this job never issued
    #[error("job {job} has no notification {notification}")]
    UnknownNotification {
        /// This job
        job: JobId,
        /// The notification the input names
        notification: u32,
    },
    /// A journal to replay has no entries
    #[error("journal is empty")]
    EmptyJournal,
    /// A journal does not start with the job's creation
    #[error("journal entry {seq} should create the job, found {input}")]
    NotCreatedFirst {
        /// Sequence number of the first entry
        seq: u64,
        /// The input it holds
        input: &'static str,
    },
    /// An entry of a journal was refused on replay
    #[error("journal entry {seq} does not replay: {source}")]
    Replay {
        /// Sequence number of the entry
        seq: u64,
        /// Why it was refused
        #[source]
        source: Box<JobError>,
    },
    /// Stored parts of a job do not fit together
    #[error("stored job parts are inconsistent: {reason}")]
    Corrupt {
        /// What does not fit
        reason: String,
    },
}
