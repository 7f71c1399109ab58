//! The one error type of the memory boundary (edits, recorded renders, outcomes).

use serde::{Deserialize, Serialize};

use crate::ids::JobId;

/// Why a memory operation was refused; nothing was changed
#[derive(Debug, Clone, PartialEq, thiserror::Error, Serialize, Deserialize)]
pub enum MemoryError {
    /// The body is not JSON at all
    #[error("malformed json: {message}")]
    Malformed {
        /// The parser's message
        message: String,
    },
    /// A value is missing, of the wrong type or out of range
    #[error("{field}: {message}")]
    Invalid {
        /// Path of the offending field, e.g. `looks.keeper.reference_images[1]`
        field: String,
        /// What is wrong with it
        message: String,
    },
    /// Outcomes for a render this graph never recorded
    #[error("no render {job} in this creator's memory")]
    UnknownRender {
        /// The job
        job: JobId,
    },
}

impl MemoryError {
    /// The offending field, for the API's `{"error": {"field"}}`
    pub fn field(&self) -> Option<&str> {
        match self {
            Self::Invalid { field, .. } => Some(field),
            Self::Malformed { .. } | Self::UnknownRender { .. } => None,
        }
    }

    /// Shorthand for [`MemoryError::Invalid`]
    pub(crate) fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }
}
