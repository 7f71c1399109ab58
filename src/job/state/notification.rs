//! A status webhook as the job keeps it in its outbox: what is sent and where its delivery
//! stands (delivering and retrying it is `notify`'s).

use serde::{Deserialize, Serialize};

use super::status::JobStatus;
use crate::ids::JobId;
use crate::time::Timestamp;

/// The kind of event a webhook carries
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum EventType {
    /// The job's status changed
    #[serde(rename = "render.status_changed")]
    StatusChanged,
}

/// The body of a status webhook (the shell signs and POSTs it as JSON)
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct StatusEvent {
    /// Always `render.status_changed`
    #[serde(rename = "type")]
    pub event_type: EventType,
    /// The job
    pub job_id: JobId,
    /// The new status
    pub status: JobStatus,
    /// The status before (receivers order events with it and `at`)
    pub previous: JobStatus,
    /// When the status changed
    pub at: Timestamp,
    /// Why, as the creator may read it: the failure in Ra's words, or a support action's plain
    /// sentence relayed by Ra (never a model, provider, or support's own words)
    pub reason: Option<String>,
}

/// Where one notification's delivery stands; each state carries what it waits for
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
#[derive(schemars::JsonSchema)]
pub enum NotificationState {
    /// Attempt `attempts` is out; without a result by `deadline` it is sent again
    Sending {
        /// When to stop waiting for its result
        deadline: Timestamp,
    },
    /// The last attempt failed; the next one goes out at `next_at`
    Pending {
        /// When to send again
        next_at: Timestamp,
        /// What the last attempt got
        last_error: String,
    },
    /// The receiver acknowledged it (2xx)
    Delivered {
        /// When the result came in
        at: Timestamp,
    },
    /// Every attempt failed
    GaveUp {
        /// When
        at: Timestamp,
        /// What the last attempt got
        last_error: String,
    },
}

impl NotificationState {
    /// When this state needs the alarm
    pub fn wake_at(&self) -> Option<Timestamp> {
        match self {
            Self::Sending { deadline } => Some(*deadline),
            Self::Pending { next_at, .. } => Some(*next_at),
            Self::Delivered { .. } | Self::GaveUp { .. } => None,
        }
    }

    /// Whether nothing more will be sent
    pub fn is_settled(&self) -> bool {
        match self {
            Self::Sending { .. } | Self::Pending { .. } => false,
            Self::Delivered { .. } | Self::GaveUp { .. } => true,
        }
    }

    /// The state's name, as on the wire
    pub fn name(&self) -> &'static str {
        match self {
            Self::Sending { .. } => "sending",
            Self::Pending { .. } => "pending",
            Self::Delivered { .. } => "delivered",
            Self::GaveUp { .. } => "gave_up",
        }
    }
}

/// One status webhook in the outbox
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    /// Sequence number in the job, from 1
    pub id: u32,
    /// What is sent (the same bytes on every attempt)
    pub event: StatusEvent,
    /// Attempts sent so far (the current or last attempt's number)
    pub attempts: u32,
    /// Where delivery stands
    pub state: NotificationState,
}
