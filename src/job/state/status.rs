//! Where a job is in its life: the status the header, the index and every webhook carry.

use serde::{Deserialize, Serialize};

/// Where a job is in its life
///
/// `paused` sits beside `planning`, `rendering` and `assembling`: every in-flight attempt and
/// its deadlines keep going, only new submissions stop; the header's `paused_from` is the
/// status a resume returns to (and follows the job while paused, e.g. rendering -> assembling).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[derive(schemars::JsonSchema)]
pub enum JobStatus {
    /// Stored, nothing started
    Queued,
    /// Waiting for the memory context, then planning and routing
    Planning,
    /// Stages are being rendered
    Rendering,
    /// Everything is rendered; the assembly is running
    Assembling,
    /// Support paused it: nothing new is submitted, work in flight is still collected
    Paused,
    /// The master and variants are in R2
    Succeeded,
    /// A stage had no model left, or the budget could not cover it
    Failed,
    /// Cancelled by the app or support
    Cancelled,
}

impl JobStatus {
    /// Whether nothing more will happen
    pub fn is_terminal(self) -> bool {
        match self {
            Self::Succeeded | Self::Failed | Self::Cancelled => true,
            Self::Queued | Self::Planning | Self::Rendering | Self::Assembling | Self::Paused => {
                false
            }
        }
    }

    /// Whether ready stages may be submitted (not paused, not ended)
    pub fn submits(self) -> bool {
        match self {
            Self::Queued | Self::Planning | Self::Rendering | Self::Assembling => true,
            Self::Paused | Self::Succeeded | Self::Failed | Self::Cancelled => false,
        }
    }

    /// The snake_case name, as on the wire
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Planning => "planning",
            Self::Rendering => "rendering",
            Self::Assembling => "assembling",
            Self::Paused => "paused",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }
}
