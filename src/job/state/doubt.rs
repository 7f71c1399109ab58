//! Where an in-doubt submit stands, as its stage keeps it (reconciling it is `in_doubt`'s).

use serde::{Deserialize, Serialize};

/// Where an in-doubt submit stands; kept on
/// [`StageState::Submitting`](super::StageState::Submitting), whose `deadline` is the end of the
/// current step
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InDoubt {
    /// Waiting for a callback on the attempt's URL
    AwaitingCallback,
    /// The lookup is due at the deadline
    LookUp,
    /// The lookup was issued; its answer is awaited
    LookingUp,
    /// Submitted again at the deadline
    Resubmit,
    /// A callback showed the task exists; its result is awaited
    Adopted,
}
