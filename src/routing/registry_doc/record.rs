//! One entry of the registry's history, as `GET /v1/support/registry` lists it.

use serde::{Deserialize, Serialize};

use super::diff::{RegistryChange, diff};
use crate::routing::Registry;
use crate::time::Timestamp;

/// Who published a version, when, why, and what it changed
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RegistryVersionRecord {
    /// The version
    pub version: u32,
    /// When it was published
    pub published_at: Timestamp,
    /// Who published it (the admin key's name; [`SEEDED_BY`] for the built-in seed)
    pub published_by: String,
    /// Why, in the publisher's words
    pub note: String,
    /// What changed from the version before (every model `added` for the seed)
    pub changes: Vec<RegistryChange>,
}

/// `published_by` of the record that seeds the stored history from the build
pub const SEEDED_BY: &str = "build";

impl RegistryVersionRecord {
    /// The first record of the stored history: the build's newest registry, every model added
    pub fn seed(builtin: &Registry, at: Timestamp) -> Self {
        let empty = Registry {
            version: 0,
            models: Vec::new(),
        };
        Self {
            version: builtin.version,
            published_at: at,
            published_by: SEEDED_BY.to_owned(),
            note: format!("built-in registry version {}", builtin.version),
            changes: diff(&empty, builtin),
        }
    }
}

/// `GET /v1/support/registry`: the latest version's models and the stored history
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RegistryHistory {
    /// The version new jobs pin
    pub latest: u32,
    /// Its models
    pub models: Vec<crate::routing::ModelSpec>,
    /// Stored versions, newest first, each with what changed
    pub versions: Vec<RegistryVersionRecord>,
}
