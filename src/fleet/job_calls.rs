//! What a job's slot effects ask of its provider's desk, and what the desk's answer tells the
//! job: the one translation the Worker shell and the multi-job tests both use, so neither keeps
//! its own copy.
//!
//! ```text
//! Effect::AcquireSlot --acquire_of--> (provider, AcquireCall, probe lease) --desk--> AcquireAnswer
//! AcquireAnswer --into_input--> Input::SlotGranted | SlotQueued | SlotRefused
//! Effect::ReleaseSlot --release_of--> (provider, ReleaseCall)
//! ```

use super::desk::{AcquireAnswer, AcquireCall, ReleaseCall};
use super::gate::RequesterKey;
use crate::ids::{Attempt, ModelId, StageId};
use crate::job::{Effect, Input, JobSpec, attempt_timeout};
use crate::providers::ProviderKind;
use crate::time::Millis;

/// An `AcquireSlot` effect as a desk call
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotAsk {
    /// Whose desk
    pub provider: ProviderKind,
    /// The call
    pub call: AcquireCall,
    /// How long a half-open breaker's probe may hold the slot: the attempt's timeout
    pub probe_lease: Millis,
}

/// The desk call of `effect` when it is an `AcquireSlot` of the job `spec` describes
pub fn acquire_of(spec: &JobSpec, effect: &Effect) -> Option<SlotAsk> {
    let Effect::AcquireSlot {
        stage,
        attempt,
        model,
        provider,
        creator,
        tier,
        priority,
        lease_ms,
    } = effect
    else {
        return None;
    };
    Some(SlotAsk {
        provider: *provider,
        call: AcquireCall {
            key: RequesterKey {
                job: spec.job_id.clone(),
                stage: stage.clone(),
                attempt: *attempt,
            },
            model: model.clone(),
            creator: creator.clone(),
            tier: *tier,
            priority: *priority,
            lease_ms: *lease_ms,
        },
        probe_lease: attempt_timeout(spec.registry.get(model)),
    })
}

/// The desk call of `effect` when it is a `ReleaseSlot` of the job `spec` describes
pub fn release_of(spec: &JobSpec, effect: &Effect) -> Option<(ProviderKind, ReleaseCall)> {
    let Effect::ReleaseSlot {
        stage,
        attempt,
        model,
        provider,
        outcome,
    } = effect
    else {
        return None;
    };
    let call = ReleaseCall {
        key: RequesterKey {
            job: spec.job_id.clone(),
            stage: stage.clone(),
            attempt: *attempt,
        },
        model: model.clone(),
        outcome: *outcome,
    };
    Some((*provider, call))
}

impl AcquireAnswer {
    /// What the answer to the acquire of `stage`'s `attempt` on `model` tells the job
    pub fn into_input(self, stage: StageId, attempt: Attempt, model: ModelId) -> Input {
        match self {
            Self::Granted => Input::SlotGranted {
                stage,
                attempt,
                model,
            },
            Self::Queued {
                ahead,
                ask_again_ms,
            } => Input::SlotQueued {
                stage,
                attempt,
                ahead,
                ask_again_ms,
            },
            Self::Refused { reason, retired } => Input::SlotRefused {
                stage,
                attempt,
                model,
                reason,
                retired,
            },
        }
    }
}
