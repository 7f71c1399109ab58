//! The registries this build ships, by version.

use super::builtin_early::{builtin_v1, builtin_v2, builtin_v3, builtin_v4, builtin_v5};
use super::builtin_v6::builtin_v6;
use super::registry::Registry;

impl Registry {
    /// The newest registry this build ships
    pub fn builtin() -> Self {
        builtin_v6()
    }

    /// The newest built-in version
    pub const LATEST_VERSION: u32 = 6;

    /// A built-in registry by version, so a job in flight keeps routing (and falling back) with
    /// the version it started with even after the build ships a newer one
    pub fn builtin_version(version: u32) -> Option<Self> {
        match version {
            1 => Some(builtin_v1()),
            2 => Some(builtin_v2()),
            3 => Some(builtin_v3()),
            4 => Some(builtin_v4()),
            5 => Some(builtin_v5()),
            6 => Some(builtin_v6()),
            _ => None,
        }
    }
}
