//! Why the gate refuses a request.

use thiserror::Error;

/// The gate's refusals. Waiting for a slot is not a refusal: it is [`super::Admission::Waiting`].
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum GateError {
    /// The waiting line is at its configured bound; the job should back off and ask again
    #[error("the provider gate's waiting line is full ({capacity} requests); try again later")]
    QueueFull {
        /// The configured bound (`GateConfig::max_waiters`)
        capacity: u32,
    },
}
