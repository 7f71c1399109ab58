//! What support staff can do to a job, and the record of an accepted action the job keeps
//! (checking and applying an action is `support`'s).

use serde::{Deserialize, Serialize};

use crate::ids::{ModelId, StageId};
use crate::time::Timestamp;

/// What support staff can do to a job
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
#[derive(schemars::JsonSchema)]
pub enum SupportAction {
    /// A failed, running or backing-off stage gets a fresh attempt now on its current model; the
    /// old attempt is fenced out (and cancelled at the provider, best effort)
    RetryStage {
        /// The stage
        stage: StageId,
    },
    /// `model` goes first in the stage's candidates and a fresh attempt starts on it (a blocked
    /// stage keeps waiting for its dependencies, then starts on it)
    Reroute {
        /// The stage
        stage: StageId,
        /// A model of the job's pinned registry that can run the stage within the budget
        model: ModelId,
    },
    /// No new submissions; work in flight is still collected
    Pause,
    /// Back to the status before the pause; submissions continue
    Resume,
    /// As the app's cancel
    Cancel,
    /// The stage and every stage depending on it (transitively) are redone with fresh attempts
    /// (new artifact keys; the old artifacts stay in R2); a finished job goes back to rendering
    RestartFrom {
        /// The stage
        stage: StageId,
    },
}

impl SupportAction {
    /// The action's name, as on the wire
    pub fn name(&self) -> &'static str {
        match self {
            Self::RetryStage { .. } => "retry_stage",
            Self::Reroute { .. } => "reroute",
            Self::Pause => "pause",
            Self::Resume => "resume",
            Self::Cancel => "cancel",
            Self::RestartFrom { .. } => "restart_from",
        }
    }

    /// The stage it names, if any
    pub fn stage(&self) -> Option<&StageId> {
        match self {
            Self::RetryStage { stage }
            | Self::Reroute { stage, .. }
            | Self::RestartFrom { stage } => Some(stage),
            Self::Pause | Self::Resume | Self::Cancel => None,
        }
    }

    /// What the creator is told of it: a fixed, plain sentence per kind of action (never the
    /// staff member's words or identity, which the support view and the journal keep)
    pub fn for_creator(&self) -> &'static str {
        match self {
            Self::RetryStage { .. } => {
                "Our support team restarted a step of your render that was stuck or had failed."
            }
            Self::Reroute { .. } => {
                "Our support team moved a step of your render to another renderer to get it done."
            }
            Self::Pause => "Our support team paused your render while they look into it.",
            Self::Resume => "Our support team resumed your render.",
            Self::Cancel => "Our support team cancelled your render.",
            Self::RestartFrom { .. } => "Our support team redid part of your render to fix it.",
        }
    }

    /// The note an accepted action leaves in the job (status reasons, notes, the abandoned
    /// attempt, a reroute's decision); the creator's view swaps it for [`Self::for_creator`]
    pub(crate) fn note(&self, reason: &str) -> String {
        format!("{} by support: {}", self.done(), reason.trim())
    }

    /// The past tense, for notes and webhook reasons
    fn done(&self) -> &'static str {
        match self {
            Self::RetryStage { .. } => "retried",
            Self::Reroute { .. } => "rerouted",
            Self::Pause => "paused",
            Self::Resume => "resumed",
            Self::Cancel => "cancelled",
            Self::RestartFrom { .. } => "restarted",
        }
    }
}

/// Who the creator's view says acted
pub(crate) const SUPPORT_ACTOR: &str = "support";

/// One accepted support action, for the view
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ActionRecord {
    /// When it was handled
    pub at: Timestamp,
    /// Who (support principal)
    pub by: String,
    /// Why, in their words
    pub reason: String,
    /// What
    pub action: SupportAction,
}

impl ActionRecord {
    /// The record as the creator sees it: that support acted, when, what and why in a fixed
    /// plain sentence; not who, nor their words
    pub fn for_creator(&self) -> Self {
        Self {
            at: self.at,
            by: SUPPORT_ACTOR.to_owned(),
            reason: self.action.for_creator().to_owned(),
            action: self.action.clone(),
        }
    }
}
