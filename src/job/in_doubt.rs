//! Submits in doubt after a crash: reconcile before submitting again.
//!
//! A submit whose outcome never came back to the job (the isolate died while the call was in
//! flight, or between persisting the `Submit` effect and reporting its answer) may or may not
//! have created a task at the provider. The shell tells the job when it loaded it from storage
//! ([`Input::Reloaded`](super::Input)); every stage still `submitting` then is *in doubt*
//! ([`InDoubt`]), with a plan chosen by its provider alone ([`reconcile`]):
//!
//! ```text
//! plan              in doubt until                 then
//! AwaitCallback     reload + grace                 a callback (queued/running) on the attempt's URL -> adopted
//!                                                  a result callback -> storing, as usual
//!                                                  no callback by the deadline -> submitted again
//! LookUp            the submit's own deadline      [LookUp]: found -> SubmitAccepted (+ its result), as usual
//!                   (the call has ended by then)   nothing found -> submitted again at once
//!                                                  the lookup failed -> asked again later, then submitted again
//! Resubmit          the submit's own deadline      submitted again (same idempotency key)
//! adopted           attempt timeout                its result callback -> storing; none -> timed out (next attempt)
//! ```
//!
//! Only the `Resubmit` plan can make a second task, and only at a provider that honours no
//! idempotency key (see the README's "Submits in doubt" table).

use serde::{Deserialize, Serialize};

use super::Job;
use super::deadlines::{MAX_SUBMIT_REISSUES, SUBMIT_ACK_TIMEOUT, attempt_timeout};
use super::effect::Effect;
use super::state::{InDoubt, StageState};
use super::transition::{DoubtStep, Outcome};
use crate::ids::{Attempt, StageId};
use crate::providers::{ProviderError, ProviderKind};
use crate::time::{Millis, Timestamp};

/// How long a provider that calls back on its first status change has to do so once we are
/// back: a task it accepted reports `queued`/`processing` within seconds, and its callback
/// retries cover a short outage
pub const CALLBACK_GRACE: Millis = Millis::from_secs(60);
/// The same for providers that call back only when the task is done (fal, BFL): long enough
/// for the generations we send them (FLUX images in seconds, Pika clips in a minute or two)
pub const COMPLETION_GRACE: Millis = Millis::from_secs(300);
/// Wait before asking again when a lookup could not tell (the provider's list API failed)
pub const LOOKUP_RETRY: Millis = Millis::from_secs(15);

/// How an in-doubt submit is reconciled: a pure function of the provider ([`reconcile`])
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "plan", rename_all = "snake_case")]
pub enum Reconcile {
    /// The provider calls back on this attempt's URL; a task it holds will say so within `grace`
    AwaitCallback {
        /// From the reload
        grace: Millis,
    },
    /// The provider keeps a list or history of what it made: search it ([`Effect::LookUp`])
    LookUp,
    /// Nothing can tell: submit again, with the same idempotency key
    Resubmit {
        /// Whether the provider honours that key (else a second task is possible)
        idempotent: bool,
    },
}

/// The plan for a provider (an exhaustive match: a new provider must choose)
pub fn reconcile(kind: ProviderKind) -> Reconcile {
    match kind {
        // Kling (`processing`), Seedance (`running`), Hailuo (the challenge, then
        // `processing`), Replicate (`start`, always sent) call back early, and retry a refused
        // callback for long enough to outlast a restart.
        ProviderKind::Kling
        | ProviderKind::Seedance
        | ProviderKind::Hailuo
        | ProviderKind::Replicate => Reconcile::AwaitCallback {
            grace: CALLBACK_GRACE,
        },
        // Their webhook comes only with the result.
        ProviderKind::FalPika | ProviderKind::Bfl => Reconcile::AwaitCallback {
            grace: COMPLETION_GRACE,
        },
        // `GET /v1/history`: every speech generation with its text, voice and model (Eleven
        // Music is not in it: a music submit's lookup finds nothing and it is submitted again,
        // which may duplicate, as for the providers below). Luma calls back
        // early too, but retries a refused callback only three times 100 ms apart, so a restart
        // loses it; `GET /generations` lists each generation with its request, our callback
        // URL included.
        ProviderKind::ElevenLabs | ProviderKind::Luma => Reconcile::LookUp,
        // Our assembler honours `Idempotency-Key`.
        ProviderKind::Assembler => Reconcile::Resubmit { idempotent: true },
        // No honoured key, no early callback, no list we match on (Sora is sent our
        // `Idempotency-Key` and lists videos, but neither is documented to find a submit).
        ProviderKind::Sora
        | ProviderKind::Veo
        | ProviderKind::Runway
        | ProviderKind::MinimaxMusic
        | ProviderKind::Shotstack => Reconcile::Resubmit { idempotent: false },
    }
}

impl Job {
    /// Whether a submit is in flight that nobody has put in doubt yet (the shell sends
    /// `Input::Reloaded` only then, so an idle object's restart journals nothing)
    pub fn has_submits_in_flight(&self) -> bool {
        self.rows.iter().any(|r| {
            matches!(
                r.state,
                StageState::Submitting {
                    doubt: None | Some(InDoubt::LookingUp),
                    ..
                }
            )
        })
    }

    /// `Input::Reloaded`: every submit in flight is in doubt. A scan of the stages, once per
    /// start of the object (which reads every row anyway).
    pub(super) fn on_reloaded(&mut self, now: Timestamp) {
        let doubted: Vec<(u32, StageState)> = self
            .rows
            .iter()
            .enumerate()
            .filter_map(|(i, r)| Some((u32::try_from(i).ok()?, self.doubted(&r.state, now)?)))
            .collect();
        for (i, state) in doubted {
            self.set_state(i, state);
        }
    }

    /// `Input::SubmitUnanswered`: that one submit is in doubt, as after a restart. An answer
    /// for another attempt, or for a submit already in doubt or answered, changes nothing.
    pub(super) fn on_submit_unanswered(
        &mut self,
        now: Timestamp,
        stage: &StageId,
        attempt: Attempt,
    ) -> Result<(), super::JobError> {
        let Some(i) = self.positions.get(stage).copied() else {
            return Err(super::JobError::UnknownStage {
                job: self.spec.job_id.clone(),
                stage: stage.clone(),
            });
        };
        let Some(row) = self.rows.get(i as usize) else {
            return Ok(());
        };
        if row.state.attempt() != Some(attempt) {
            return Ok(());
        }
        if let Some(state) = self.doubted(&row.state, now) {
            self.set_state(i, state);
        }
        Ok(())
    }

    /// The in-doubt state of a stage whose submit is in flight and not yet in doubt (or whose
    /// lookup was itself cut off), with the deadline its provider's plan sets; `None` otherwise
    fn doubted(&self, state: &StageState, now: Timestamp) -> Option<StageState> {
        let StageState::Submitting {
            attempt,
            model,
            reserved,
            since,
            deadline,
            reissues,
            doubt,
        } = state
        else {
            return None;
        };
        let provider = self.model(model).map(|m| m.provider)?;
        let (doubt, deadline) = match (doubt, reconcile(provider)) {
            (None, Reconcile::AwaitCallback { grace }) => {
                (InDoubt::AwaitingCallback, (*deadline).max(now.plus(grace)))
            }
            // The submit's own deadline is past the longest call: the provider has finished
            // whatever it received by then.
            (None | Some(InDoubt::LookingUp), Reconcile::LookUp) => (InDoubt::LookUp, *deadline),
            (None, Reconcile::Resubmit { .. }) => (InDoubt::Resubmit, *deadline),
            (Some(_), _) => return None,
        };
        Some(StageState::Submitting {
            attempt: *attempt,
            model: model.clone(),
            reserved: *reserved,
            since: *since,
            deadline,
            reissues: *reissues,
            doubt: Some(doubt),
        })
    }

    /// `Input::LookUpMissed` for an in-doubt submit: nothing found is a resubmit now; a failed
    /// search is asked again later (within the submit's re-issue bound), then a resubmit
    pub(super) fn on_lookup_missed(
        &mut self,
        now: Timestamp,
        stage: &StageId,
        attempt: Attempt,
        error: Option<&ProviderError>,
        fx: &mut Vec<Effect>,
    ) -> Result<(), super::JobError> {
        let Some(i) = self.positions.get(stage).copied() else {
            return Err(super::JobError::UnknownStage {
                job: self.spec.job_id.clone(),
                stage: stage.clone(),
            });
        };
        if self.header.status.is_terminal() {
            return Ok(());
        }
        let Some(StageState::Submitting {
            attempt: current,
            reissues,
            doubt: Some(InDoubt::LookingUp),
            ..
        }) = self.row(i).map(|r| &r.state)
        else {
            return Ok(());
        };
        if *current != attempt {
            return Ok(());
        }
        let outcome = match error {
            Some(_) if *reissues < MAX_SUBMIT_REISSUES => Outcome::Doubt(DoubtStep::LookUpLater),
            Some(_) | None => Outcome::Resubmit,
        };
        self.apply(now, i, outcome, fx);
        Ok(())
    }

    /// Applies a [`DoubtStep`] to a submitting stage
    pub(super) fn apply_doubt(
        &mut self,
        now: Timestamp,
        i: u32,
        step: DoubtStep,
        state: StageState,
        fx: &mut Vec<Effect>,
    ) {
        let StageState::Submitting {
            attempt,
            model,
            reserved,
            since,
            reissues,
            ..
        } = state
        else {
            return;
        };
        let (doubt, deadline, reissues) = match step {
            DoubtStep::Adopt => (
                InDoubt::Adopted,
                now.plus(attempt_timeout(self.model(&model))),
                reissues,
            ),
            DoubtStep::LookUpLater => (InDoubt::LookUp, now.plus(LOOKUP_RETRY), reissues),
            DoubtStep::LookUp => {
                match self.submit_effect(i, attempt, &model) {
                    Ok(Effect::Submit {
                        stage,
                        attempt,
                        model,
                        provider,
                        provider_model,
                        idempotency_key,
                        seed: _,
                        inputs,
                    }) => fx.push(Effect::LookUp {
                        stage,
                        attempt,
                        model,
                        provider,
                        provider_model,
                        idempotency_key,
                        since,
                        inputs,
                    }),
                    Ok(_) => {}
                    Err(reason) => return self.fail_job(now, reason, fx),
                }
                (
                    InDoubt::LookingUp,
                    now.plus(SUBMIT_ACK_TIMEOUT),
                    reissues.saturating_add(1),
                )
            }
        };
        let submitting = StageState::Submitting {
            attempt,
            model,
            reserved,
            since,
            deadline,
            reissues,
            doubt: Some(doubt),
        };
        self.set_state(i, submitting);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn every_provider_has_a_plan_and_only_resubmits_can_duplicate() {
        for kind in ProviderKind::ALL {
            match reconcile(kind) {
                Reconcile::AwaitCallback { grace } => assert!(grace >= CALLBACK_GRACE),
                // Only providers whose adapter can search what they made
                Reconcile::LookUp => assert!(
                    matches!(kind, ProviderKind::ElevenLabs | ProviderKind::Luma),
                    "{kind}"
                ),
                Reconcile::Resubmit { .. } => {}
            }
        }
        assert_eq!(
            reconcile(ProviderKind::MinimaxMusic),
            Reconcile::Resubmit { idempotent: false }
        );
    }
}
