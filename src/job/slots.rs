//! Submit slots at the providers' gates, shared by every job (`JobSpec::fleet`).
//!
//! A job's own per-model limit stays an upper bound; on top of it, a gated job asks the
//! provider's gate before each submit and gives the slot back when the attempt ends:
//!
//! ```text
//! ready --slot free in the job, budget fits--> ready(slot: asked)      [AcquireSlot]
//! ready(slot) --SlotGranted-------------------> submitting             [Submit]
//! ready(slot) --SlotQueued--------------------> ready(slot: n ahead)    (ask again later)
//! ready(slot) --SlotQueued, a long line at the first choice, an equal model elsewhere-->
//!                                                 ready(next candidate) [ReleaseSlot unused]
//! ready(slot) --ask-again deadline------------> ready(slot)             [AcquireSlot, same key]
//! ready(slot) --SlotRefused (breaker, retired)-> ready(next candidate)  (retired: refused for good)
//! submitting | running --attempt ends---------> ...                     [ReleaseSlot with outcome]
//! ready(slot) --anything else (cancel, paused grant, budget moved it)--> ... [ReleaseSlot unused]
//! ```
//!
//! Releases are found where every state change passes (`Job::set_state`), so no path that ends
//! an attempt can forget one; what each release reports is decided once the step is over,
//! from the attempt's record and the reason a failure gave. A release that is lost frees itself
//! when its lease ends, which is the longest the attempt could have lasted.

use super::Job;
use super::deadlines::{MAX_SUBMIT_REISSUES, attempt_timeout, submit_ack_timeout};
use super::dispatch::Pick;
use super::effect::{Effect, SlotOutcome, SlotPriority};
use super::ra_notes::stage_words;
use super::retry::Failure;
use super::state::{AttemptOutcome, SlotWait, StageRow, StageState};
use crate::ids::{Attempt, ModelId, StageId};
use crate::time::{Millis, Timestamp};

/// How long a stage waits for the gate's answer or a grant before it asks again. The gate drops
/// a waiter that has not asked for three times this, so a job that died leaves the queue.
pub const SLOT_ASK_AGAIN: Millis = Millis::from_secs(20);

/// A line this long at the first choice's gate sends half the stages (by a stable hash) to
/// their next candidate, when that one is at another provider and as good (see
/// [`SPILL_QUALITY`]): a fleet of renders on one model would otherwise queue behind it while an
/// equal model sits idle elsewhere
pub const SPILL_AHEAD: u32 = 32;
/// How much lower the next candidate's quality score may be for the stage to move to it: the
/// same model at another host (FLUX at BFL and at Replicate), not a lesser one
pub const SPILL_QUALITY: f64 = 0.03;

/// The soonest and latest a stage asks again whatever the gate says: the gate drops a waiter
/// that has not asked for three of its paces, so the job keeps inside that
const MIN_ASK_AGAIN: Millis = Millis::from_secs(5);
const MAX_ASK_AGAIN: Millis = Millis::from_secs(180);

/// Extra lease time beyond the longest the attempt can take, for the release to arrive
const LEASE_GRACE: Millis = Millis::from_secs(60);

/// A slot given up during a step
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Release {
    i: u32,
    attempt: Attempt,
    model: ModelId,
    /// The stage only waited: the slot was never used
    waited_only: bool,
}

/// What the step knows of releases: the slots given up, and how failed attempts failed
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct PendingReleases {
    releases: Vec<Release>,
    failures: Vec<(u32, Attempt, SlotOutcome)>,
}

impl SlotOutcome {
    /// What a failure says about the model
    fn of_failure(failure: &Failure) -> Self {
        match failure {
            Failure::RateLimited { retry_after } => Self::RateLimited {
                retry_after_ms: retry_after.map(|d| d.0),
            },
            Failure::Transient { .. }
            | Failure::ModelUnusable { .. }
            | Failure::TimedOut { .. }
            | Failure::StoreFailed { .. } => Self::Failed,
            // A refusal of the content is about the prompt, not the model's health.
            Failure::Moderated { .. } => Self::Unused,
        }
    }
}

impl PendingReleases {
    /// Notes the slot a state change gives up, if it gives one up
    pub(super) fn note(&mut self, i: u32, old: &StageState, new: &StageState) {
        match old {
            StageState::Ready {
                model,
                slot: Some(wait),
                ..
            } => {
                let granted = matches!(new, StageState::Submitting { attempt, .. } if *attempt == wait.attempt);
                let still_waiting = matches!(new, StageState::Ready { slot: Some(w), .. } if w.attempt == wait.attempt);
                if !granted && !still_waiting {
                    self.releases.push(Release {
                        i,
                        attempt: wait.attempt,
                        model: model.clone(),
                        waited_only: true,
                    });
                }
            }
            StageState::Submitting { attempt, model, .. }
            | StageState::Running { attempt, model, .. } => {
                let held = matches!(new, StageState::Submitting { attempt: a, .. } | StageState::Running { attempt: a, .. } if a == attempt);
                if !held {
                    self.releases.push(Release {
                        i,
                        attempt: *attempt,
                        model: model.clone(),
                        waited_only: false,
                    });
                }
            }
            StageState::Blocked
            | StageState::Ready { slot: None, .. }
            | StageState::Storing { .. }
            | StageState::BackingOff { .. }
            | StageState::Done { .. }
            | StageState::Failed { .. }
            | StageState::Cancelled { .. } => {}
        }
    }

    /// Notes how an attempt failed, before the state change that ends it
    pub(super) fn note_failure(&mut self, i: u32, attempt: Attempt, failure: &Failure) {
        self.failures
            .push((i, attempt, SlotOutcome::of_failure(failure)));
    }
}

impl Job {
    /// Submits at once, or (a gated job) asks the provider's gate first
    pub(super) fn submit_or_ask(
        &mut self,
        now: Timestamp,
        i: u32,
        pick: Pick,
        fx: &mut Vec<Effect>,
    ) {
        let Some(tier) = self.spec.fleet else {
            return self.submit(now, i, pick, fx);
        };
        let (Some(row), Some(spec)) = (self.row(i), self.model(&pick.model)) else {
            // `submit` says why the model is unusable and fails the stage.
            return self.submit(now, i, pick, fx);
        };
        let attempt = row.attempt.next();
        let since = match &row.state {
            StageState::Ready { since, .. } => *since,
            StageState::Blocked
            | StageState::Submitting { .. }
            | StageState::Running { .. }
            | StageState::Storing { .. }
            | StageState::BackingOff { .. }
            | StageState::Done { .. }
            | StageState::Failed { .. }
            | StageState::Cancelled { .. } => now,
        };
        let reissues = u64::from(MAX_SUBMIT_REISSUES) + 1;
        let lease = Millis(
            submit_ack_timeout(Some(spec))
                .0
                .saturating_mul(reissues)
                .saturating_add(attempt_timeout(Some(spec)).0)
                .saturating_add(LEASE_GRACE.0),
        );
        fx.push(Effect::AcquireSlot {
            stage: row.spec.id.clone(),
            attempt,
            model: pick.model.clone(),
            provider: spec.provider,
            creator: self.spec.creator.clone(),
            tier,
            priority: SlotPriority {
                hero: row.spec.hero,
                deadline: self
                    .spec
                    .created_at
                    .plus(Millis::from_secs(self.spec.brief.deadline_s)),
            },
            lease_ms: lease.0,
        });
        self.set_state(
            i,
            StageState::Ready {
                model: pick.model,
                since,
                slot: Some(SlotWait {
                    attempt,
                    asked_at: now,
                    ask_again_at: now.plus(SLOT_ASK_AGAIN),
                    ahead: None,
                    granted: false,
                }),
            },
        );
    }

    /// The stage waiting at the gate with `attempt`, as (position, model, its wait)
    fn waiting(&self, stage: &StageId, attempt: Attempt) -> Option<(u32, ModelId, SlotWait)> {
        let i = *self.positions.get(stage)?;
        match &self.row(i)?.state {
            StageState::Ready {
                model,
                slot: Some(wait),
                ..
            } if wait.attempt == attempt => Some((i, model.clone(), wait.clone())),
            _ => None,
        }
    }

    /// `Input::SlotGranted`: submit, unless the stage no longer wants the slot (then give it
    /// back), or an input is still being stored (then hold it until it is: `early_slots`)
    pub(super) fn on_slot_granted(
        &mut self,
        now: Timestamp,
        stage: &StageId,
        attempt: Attempt,
        model: &ModelId,
        fx: &mut Vec<Effect>,
    ) {
        let Some((i, waiting_on, mut wait)) = self.waiting(stage, attempt) else {
            // A grant for a request the stage withdrew (or a repeat of one it used): give it
            // back unless that attempt is the one now running on it.
            let holds = self
                .stage(stage)
                .is_some_and(|r| r.state.attempt() == Some(attempt));
            if !holds && let Some(spec) = self.model(model) {
                fx.push(Effect::ReleaseSlot {
                    stage: stage.clone(),
                    attempt,
                    model: model.clone(),
                    provider: spec.provider,
                    outcome: SlotOutcome::Unused,
                });
            }
            return;
        };
        if !self.inputs_stored(i) {
            let since = match self.row(i).map(|r| &r.state) {
                Some(StageState::Ready { since, .. }) => *since,
                _ => now,
            };
            wait.granted = true;
            return self.set_state(
                i,
                StageState::Ready {
                    model: waiting_on,
                    since,
                    slot: Some(wait),
                },
            );
        }
        self.use_grant(now, i, waiting_on, fx);
    }

    /// Submits stage `i` on the slot granted for `waiting_on`, unless the job is paused or the
    /// budget now points elsewhere
    pub(super) fn use_grant(
        &mut self,
        now: Timestamp,
        i: u32,
        waiting_on: ModelId,
        fx: &mut Vec<Effect>,
    ) {
        let pick = self
            .row(i)
            .and_then(|row| self.pick_affordable(row))
            .filter(|p| p.model == waiting_on);
        match pick {
            Some(pick) if self.header.status.submits() => self.submit(now, i, pick, fx),
            // Paused, or the budget now points elsewhere: back to the job's own queue, which
            // gives the slot back; the usual dispatch takes it from there.
            Some(_) | None => self.set_state(
                i,
                StageState::Ready {
                    model: waiting_on,
                    since: now,
                    slot: None,
                },
            ),
        }
    }

    /// `Input::SlotQueued`: remember the place, ask again later
    pub(super) fn on_slot_queued(
        &mut self,
        now: Timestamp,
        stage: &StageId,
        attempt: Attempt,
        (ahead, pace): (u32, Option<Millis>),
        fx: &mut Vec<Effect>,
    ) {
        let Some((i, model, mut wait)) = self.waiting(stage, attempt) else {
            return;
        };
        if ahead >= SPILL_AHEAD
            && let Some(next) = self.row(i).and_then(|r| self.spill_target(r, &model))
        {
            if let Some(row) = self.row_mut(i) {
                row.decision.notes.push(format!(
                    "{model}: {ahead} ahead at its provider's gate; moved to {next}, as good and \
                     at another provider"
                ));
            }
            return self.pass_over(now, i, &model, false, fx);
        }
        let since = match self.row(i).map(|r| &r.state) {
            Some(StageState::Ready { since, .. }) => *since,
            _ => now,
        };
        wait.ahead = Some(ahead);
        // In line, so not holding a slot (a held one whose lease the gate no longer has).
        wait.granted = false;
        // The gate's pace, within bounds a confused gate cannot push the job out of.
        let pace = pace.map_or(SLOT_ASK_AGAIN, |p| p.clamp(MIN_ASK_AGAIN, MAX_ASK_AGAIN));
        wait.ask_again_at = now.plus(pace);
        self.set_state(
            i,
            StageState::Ready {
                model,
                since,
                slot: Some(wait),
            },
        );
    }

    /// Where a stage waiting on `model` in a long line may go instead: for half the stages (a
    /// stable hash), only from its first choice (so it moves once), to the very next candidate,
    /// when that one is at another provider, not refused, and within [`SPILL_QUALITY`] of the
    /// first choice's quality
    fn spill_target(&self, row: &StageRow, model: &ModelId) -> Option<ModelId> {
        // Half the stages move, chosen by a hash of job and stage that stays the same on every
        // re-ask: were all to move, the whole line would only change hosts and leave the first
        // one idle (seen with 2,400 keyframes at once).
        let half = super::retry::mix(self.spec.seed ^ super::retry::hash_str(row.spec.id.as_str()));
        if half.is_multiple_of(2) {
            return None;
        }
        let candidates = &row.decision.candidates;
        let first = candidates.first().filter(|c| &c.model == model)?;
        let next = candidates.get(1)?;
        let provider = |m: &ModelId| self.model(m).map(|spec| spec.provider);
        let elsewhere = provider(&next.model).is_some() && provider(&next.model) != provider(model);
        let as_good = next.scores.quality >= first.scores.quality - SPILL_QUALITY;
        let usable = !row.refused.contains(&next.model);
        (elsewhere && as_good && usable).then(|| next.model.clone())
    }

    /// `Input::SlotRefused`: the stage moves past the model (for good when it is retired)
    pub(super) fn on_slot_refused(
        &mut self,
        now: Timestamp,
        stage: &StageId,
        attempt: Attempt,
        model: &ModelId,
        retired: bool,
        fx: &mut Vec<Effect>,
    ) {
        let Some((i, waiting_on, _)) = self.waiting(stage, attempt) else {
            return;
        };
        if &waiting_on != model {
            return;
        }
        self.pass_over(now, i, model, retired, fx);
    }

    /// Moves a stage past `model` down its ranked list (for good when `retired`), without an
    /// attempt: the model was never submitted to
    pub(super) fn pass_over(
        &mut self,
        now: Timestamp,
        i: u32,
        model: &ModelId,
        retired: bool,
        fx: &mut Vec<Effect>,
    ) {
        if let Some(row) = self.row_mut(i) {
            if retired && !row.refused.contains(model) {
                row.refused.push(model.clone());
            }
            let at = row
                .decision
                .candidates
                .iter()
                .position(|c| &c.model == model)
                .and_then(|p| u32::try_from(p).ok());
            if let Some(at) = at {
                row.cursor = row.cursor.max(at.saturating_add(1));
            }
            row.failures_on_model = 0;
        }
        self.make_ready(now, i, fx);
    }

    /// A waiting stage's ask-again deadline: ask again (the same key keeps its place)
    pub(super) fn ask_slot_again(&mut self, now: Timestamp, i: u32, fx: &mut Vec<Effect>) {
        let Some(row) = self.row(i) else { return };
        let StageState::Ready {
            model,
            since,
            slot: Some(wait),
        } = &row.state
        else {
            return;
        };
        let (model, since, mut wait) = (model.clone(), *since, wait.clone());
        let Some(pick) = self.pick_affordable(row).filter(|p| p.model == model) else {
            // The budget moved it: back to the job's queue (the slot is given back).
            return self.set_state(
                i,
                StageState::Ready {
                    model,
                    since: now,
                    slot: None,
                },
            );
        };
        let before = fx.len();
        self.submit_or_ask(now, i, pick, fx);
        // `submit_or_ask` set a fresh wait; keep the first asking time and the last place.
        if fx.len() > before
            && let Some(StageState::Ready {
                slot: Some(fresh), ..
            }) = self.row(i).map(|r| r.state.clone())
        {
            wait.ask_again_at = fresh.ask_again_at;
            self.set_state(
                i,
                StageState::Ready {
                    model,
                    since,
                    slot: Some(wait),
                },
            );
        }
    }

    /// Turns the step's released slots into `ReleaseSlot` effects, each with what the attempt
    /// tells about its model
    pub(super) fn drain_releases(&mut self, now: Timestamp, fx: &mut Vec<Effect>) {
        let pending = std::mem::take(&mut self.slot_releases);
        if self.spec.fleet.is_none() {
            return;
        }
        for r in pending.releases {
            let Some(row) = self.row(r.i) else { continue };
            let Some(spec) = self.model(&r.model) else {
                continue;
            };
            let outcome = if r.waited_only {
                SlotOutcome::Unused
            } else if let Some((_, _, o)) = pending
                .failures
                .iter()
                .find(|(i, a, _)| *i == r.i && *a == r.attempt)
            {
                *o
            } else {
                let record = row.attempts.iter().rev().find(|a| a.attempt == r.attempt);
                let made_it = matches!(&row.state, StageState::Storing { attempt, .. } | StageState::Done { attempt, .. } if *attempt == r.attempt);
                match record.map(|a| (&a.outcome, a.started_at)) {
                    Some((AttemptOutcome::Succeeded, started)) => SlotOutcome::Succeeded {
                        latency_ms: now.since(started).0,
                    },
                    Some((AttemptOutcome::InFlight, started)) if made_it => {
                        SlotOutcome::Succeeded {
                            latency_ms: now.since(started).0,
                        }
                    }
                    Some((AttemptOutcome::Failed { .. }, _)) => SlotOutcome::Failed,
                    Some((
                        AttemptOutcome::InFlight
                        | AttemptOutcome::Cancelled
                        | AttemptOutcome::Abandoned { .. },
                        _,
                    ))
                    | None => SlotOutcome::Unused,
                }
            };
            fx.push(Effect::ReleaseSlot {
                stage: row.spec.id.clone(),
                attempt: r.attempt,
                model: r.model.clone(),
                provider: spec.provider,
                outcome,
            });
        }
    }
}

fn ahead_words(wait: &SlotWait) -> String {
    match wait.ahead {
        Some(0) => "next in line".to_owned(),
        Some(n) => format!("{n} ahead"),
        None => "asking for a place".to_owned(),
    }
}

/// A waiting stage, for support: "waiting for a veo-3 slot, 3 ahead", or "holding a veo-3 slot
/// until its input is stored"
pub(super) fn waiting_for_support(state: &StageState) -> Option<String> {
    match state {
        StageState::Ready {
            model,
            slot: Some(wait),
            ..
        } if wait.granted => Some(format!("holding a {model} slot until its input is stored")),
        StageState::Ready {
            model,
            slot: Some(wait),
            ..
        } => Some(format!("waiting for a {model} slot, {}", ahead_words(wait))),
        _ => None,
    }
}

/// A waiting stage, for the creator, in Ra's words and without the model
pub(super) fn waiting_for_creator(row: &StageRow) -> Option<String> {
    match &row.state {
        StageState::Ready {
            slot: Some(wait), ..
        } if wait.granted => Some(crate::brief::ra::say(&format!(
            "{} has its turn at the generator and starts the moment its input is in.",
            stage_words(&row.spec)
        ))),
        StageState::Ready {
            slot: Some(wait), ..
        } => Some(crate::brief::ra::say(&format!(
            "{} is waiting its turn at a generator every render shares: {}.",
            stage_words(&row.spec),
            ahead_words(wait)
        ))),
        _ => None,
    }
}
