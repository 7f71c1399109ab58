//! The one error type of registry publication: every refusal names the field at fault.

use serde::{Deserialize, Serialize};

use crate::ids::ModelId;
use crate::plan::Capability;

/// Why a publication was refused; nothing was published
#[derive(Debug, Clone, PartialEq, thiserror::Error, Serialize, Deserialize)]
pub enum RegistryError {
    /// A value is missing, out of range or inconsistent with the rest of its model
    #[error("{field}: {message}")]
    Invalid {
        /// Path of the offending field, e.g. `edits[2].pricing.usd` or
        /// `models[veo-3].latency_p95_ms`
        field: String,
        /// What is wrong with it
        message: String,
    },
    /// An edit names a model the latest version does not list
    #[error("{field}: no model {model} in version {version}")]
    UnknownModel {
        /// Path of the edit's model field, e.g. `edits[0].model`
        field: String,
        /// The model it names
        model: ModelId,
        /// The version the edits apply to
        version: u32,
    },
    /// The result would leave a capability that every plan needs without a model that is in
    /// service for good and open to every creator
    #[error(
        "{field}: no {} model would stay in service for every creator",
        capability_name(*capability)
    )]
    NoModelInService {
        /// The edit that took the last one away (`edits[3]`), or `models` for a whole list
        field: String,
        /// The capability left without a model
        capability: Capability,
    },
    /// The result equals the latest version
    #[error("the publication changes nothing in version {version}")]
    NothingChanged {
        /// The latest version
        version: u32,
    },
    /// The latest version is `u32::MAX`: there is no next one
    #[error("no version after {version}")]
    VersionExhausted {
        /// The latest version
        version: u32,
    },
}

impl RegistryError {
    /// The offending field, for the API's `{"error": {"field"}}`
    pub fn field(&self) -> Option<&str> {
        match self {
            Self::Invalid { field, .. }
            | Self::UnknownModel { field, .. }
            | Self::NoModelInService { field, .. } => Some(field),
            Self::NothingChanged { .. } | Self::VersionExhausted { .. } => None,
        }
    }

    /// The stable machine code for the API's 400 (409 for [`Self::VersionExhausted`] is the
    /// shell's call: it is not the operator's input that is wrong)
    pub fn code(&self) -> &'static str {
        match self {
            Self::Invalid { .. } => "invalid_registry",
            Self::UnknownModel { .. } => "unknown_model",
            Self::NoModelInService { .. } => "no_model_in_service",
            Self::NothingChanged { .. } => "nothing_changed",
            Self::VersionExhausted { .. } => "version_exhausted",
        }
    }

    /// Shorthand for [`RegistryError::Invalid`]
    pub(crate) fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// The name of a capability on the wire
pub(crate) fn capability_name(capability: Capability) -> &'static str {
    match capability {
        Capability::Image => "image",
        Capability::Video => "video",
        Capability::Speech => "speech",
        Capability::Music => "music",
        Capability::Assembly => "assembly",
        Capability::Frame => "frame",
    }
}
