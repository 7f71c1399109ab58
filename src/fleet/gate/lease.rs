//! Who asks for a slot, and the lease a slot is held by.

use serde::{Deserialize, Serialize};

use crate::api::tier_limits::Tier;
use crate::ids::{Attempt, CreatorId, JobId, ModelId, StageId};
use crate::time::{Millis, Timestamp};

/// One submit of one stage attempt: the idempotency key of `acquire`. A retried message with the
/// same key finds the same lease or the same place in line.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct RequesterKey {
    /// The job that asks
    pub job: JobId,
    /// Its stage
    pub stage: StageId,
    /// The stage's attempt
    pub attempt: Attempt,
}

/// A lease's number, unique within one gate. Renewals and releases may name it, so a late
/// message about an earlier lease of the same key cannot touch a newer one.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(transparent)]
pub struct LeaseId(pub u64);

/// A request for a slot, as the job sends it
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SlotRequest {
    /// Who asks; asking again with the same key is idempotent
    pub key: RequesterKey,
    /// The creator the job renders for: fairness is between creators
    pub creator: CreatorId,
    /// The creator's plan, which weighs their share
    pub tier: Tier,
    /// The model the task will run on (shown to support)
    pub model: ModelId,
    /// A hero shot goes before the creator's other requests
    pub hero: bool,
    /// The job's deadline; among a creator's requests the nearest goes first, none goes last
    pub deadline: Option<Timestamp>,
    /// The lease's length once granted, and what each renewal extends it by; `None` for the
    /// gate's `lease_ttl`. A job that does not renew asks for the longest its attempt can take.
    pub lease_ttl: Option<Millis>,
}

/// A granted slot
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Lease {
    /// The lease's number
    pub id: LeaseId,
    /// Who holds it
    pub key: RequesterKey,
    /// The holder's creator
    pub creator: CreatorId,
    /// The model the holder runs on
    pub model: ModelId,
    /// When it was granted
    pub granted_at: Timestamp,
    /// When the slot frees itself unless renewed
    pub expires_at: Timestamp,
    /// What a renewal extends it by
    pub ttl: Millis,
}

/// A slot handed to a request that was waiting: the shell tells that job
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Grant {
    /// The job, stage and attempt to notify
    pub key: RequesterKey,
    /// The lease to renew and release
    pub lease: LeaseId,
    /// When it expires unless renewed
    pub expires_at: Timestamp,
}

impl From<&Lease> for Grant {
    fn from(lease: &Lease) -> Self {
        Self {
            key: lease.key.clone(),
            lease: lease.id,
            expires_at: lease.expires_at,
        }
    }
}
