//! Newtypes for every id that crosses a boundary, so a stage id is never passed as a job id.

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        #[derive(schemars::JsonSchema)]
        #[schemars(inline)]
        pub struct $name(pub String);

        impl $name {
            /// The id as a string slice
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                Self(s.to_owned())
            }
        }
    };
}

string_id!(
    /// A render job, e.g. `rnd_01h...`; also the name of its Durable Object
    JobId
);
string_id!(
    /// A creator (tenant); also the name of their MemoryGraph Durable Object
    CreatorId
);
string_id!(
    /// A creator's project, from the brief
    ProjectId
);
string_id!(
    /// A shot of the brief, e.g. `s04`
    ShotId
);
string_id!(
    /// A stage of the plan, e.g. `s04.keyframe`, `vo`, `assembly`
    StageId
);
string_id!(
    /// A model of the registry, e.g. `veo-3`, `flux-1.1-pro`
    ModelId
);
string_id!(
    /// The provider's own id for a submitted task (operation name, task id, prediction id)
    ProviderRef
);
string_id!(
    /// A provider's id for one callback delivery, used to drop replays
    DeliveryId
);

/// The attempt number of a stage: fences callbacks and poll results of older attempts
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
#[derive(schemars::JsonSchema)]
#[schemars(inline)]
pub struct Attempt(pub u32);

impl fmt::Display for Attempt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl Attempt {
    /// The attempt after this one
    pub fn next(self) -> Self {
        Self(self.0.saturating_add(1))
    }
}
