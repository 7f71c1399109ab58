//! The poll a provider's "something changed" callback asks for (Sora's webhook carries only a
//! task id). The id in the callback is a claim: a validly signed webhook can be replayed, or
//! aimed at another job's stage, so the poll always goes to the task the job itself recorded
//! for the attempt, and a callback naming any other task asks for nothing.

use super::Job;
use super::effect::Effect;
use super::state::StageState;
use crate::ids::{Attempt, ProviderRef, StageId};

impl Job {
    /// A poll of the task recorded for `attempt` of `stage`, when that attempt is the one running
    /// and `claimed` (the task the callback names, if any) is that task; `None` otherwise (a
    /// stale, foreign or early callback: the job's own polls and deadlines still cover it)
    pub fn poll_now(
        &self,
        stage: &StageId,
        attempt: Attempt,
        claimed: Option<&ProviderRef>,
    ) -> Option<Effect> {
        let row = self.stage(stage)?;
        let StageState::Running {
            attempt: running,
            model,
            provider_ref,
            ..
        } = &row.state
        else {
            return None;
        };
        if *running != attempt || claimed.is_some_and(|c| c != provider_ref) {
            return None;
        }
        let spec = self.spec.registry.get(model)?;
        Some(Effect::Poll {
            stage: stage.clone(),
            attempt,
            model: model.clone(),
            provider: spec.provider,
            provider_ref: provider_ref.clone(),
        })
    }
}
