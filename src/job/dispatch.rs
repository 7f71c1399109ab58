//! Ready queues, concurrency slots, the budget check and the `Submit` effect.
//!
//! A ready stage waits in its model's queue (plan order). `pump` fills every free slot of every
//! model with a queue (per-model `concurrency` per job), so every stage whose inputs are ready is
//! submitted at once, in parallel, as far as the limits allow. Its cost is O(models), not
//! O(stages).

use super::Job;
use super::budget::{self, Micros};
use super::deadlines::submit_ack_timeout;
use super::effect::{Effect, IdempotencyKey, StageInputs};
use super::ra_notes;
use super::retry::{hash_str, mix};
use super::state::{AttemptOutcome, AttemptRecord, JobStatus, StageRow, StageState};
use crate::ids::{Attempt, ModelId, ShotId, StageId};
use crate::plan::{StageKind, StageWork, Timeline};
use crate::routing::registry_doc;
use crate::time::Timestamp;

/// A candidate the budget allows
pub(super) struct Pick {
    pub(super) index: u32,
    pub(super) model: ModelId,
    pub(super) cost: Micros,
}

impl Job {
    /// Puts a stage in the queue of its current candidate (or fails it when none is left)
    pub(super) fn make_ready(&mut self, now: Timestamp, i: u32, fx: &mut Vec<Effect>) {
        if self.header.status.is_terminal() {
            return;
        }
        let Some(row) = self.row(i) else {
            return;
        };
        let kind = row.spec.kind;
        // Candidates that refused the stage for good are passed over.
        let start = usize::try_from(row.cursor).unwrap_or(usize::MAX);
        let next = row
            .decision
            .candidates
            .iter()
            .enumerate()
            .skip(start)
            .find(|(_, c)| !row.refused.contains(&c.model))
            .map(|(j, c)| (u32::try_from(j).unwrap_or(u32::MAX), c.model.clone()));
        match next {
            Some((cursor, model)) => {
                if let Some(row) = self.row_mut(i) {
                    row.cursor = cursor;
                }
                self.set_state(
                    i,
                    StageState::Ready {
                        model,
                        since: now,
                        slot: None,
                    },
                );
                if kind == StageKind::Assembly {
                    self.set_status(now, JobStatus::Assembling, None, fx);
                }
            }
            None if self.start_over(now, i).is_some() => {
                // Transient failures used up the list: start it over after a backoff.
                let Some((cursor, model, delay)) = self.start_over(now, i) else {
                    return;
                };
                let last_error = self
                    .row(i)
                    .and_then(|r| r.attempts.last())
                    .map(|a| match &a.outcome {
                        AttemptOutcome::Failed { reason } => reason.clone(),
                        AttemptOutcome::InFlight
                        | AttemptOutcome::Succeeded
                        | AttemptOutcome::Cancelled
                        | AttemptOutcome::Abandoned { .. } => String::new(),
                    })
                    .unwrap_or_default();
                if let Some(row) = self.row_mut(i) {
                    row.cursor = cursor;
                    row.failures_on_model = 0;
                }
                let backing_off = StageState::BackingOff {
                    until: now.plus(delay),
                    model,
                    last_error: format!("every candidate failed; starting over: {last_error}"),
                };
                self.set_state(i, backing_off);
                if let Some(note) = self.row(i).map(|r| ra_notes::starting_over(&r.spec)) {
                    self.say(note);
                }
            }
            None => {
                let reason = self.exhausted_reason(i);
                self.set_state(
                    i,
                    StageState::Failed {
                        reason: reason.clone(),
                    },
                );
                self.fail_job(now, reason, fx);
            }
        }
    }

    /// Submits ready stages into free slots; called at the end of every step. Nothing is
    /// submitted while paused (ready stages wait in their queues) or after the end.
    pub(super) fn pump(&mut self, now: Timestamp, fx: &mut Vec<Effect>) {
        if !self.header.status.submits() {
            return;
        }
        loop {
            let mut progressed = false;
            let models: Vec<ModelId> = self.idx.queues.keys().cloned().collect();
            for model in models {
                let limit = self.model(&model).map_or(1, |m| m.concurrency.max(1));
                while self.idx.slots_used(&model) < limit {
                    let Some(i) = self.idx.queues.get(&model).and_then(|q| q.first()).copied()
                    else {
                        break;
                    };
                    self.dispatch(now, i, &model, fx);
                    progressed = true;
                    if !self.header.status.submits() {
                        return;
                    }
                }
            }
            if !progressed {
                return;
            }
        }
    }

    /// Takes one stage off `queued_on`'s queue: submits it, moves it to a cheaper model's queue,
    /// or fails it when the budget covers none of its candidates
    fn dispatch(&mut self, now: Timestamp, i: u32, queued_on: &ModelId, fx: &mut Vec<Effect>) {
        let Some(row) = self.row(i) else {
            return;
        };
        match self.pick_affordable(row) {
            // A model retired since the job pinned its registry is never submitted to.
            Some(pick)
                if &pick.model == queued_on
                    && self
                        .model(&pick.model)
                        .is_some_and(|m| !registry_doc::spec_in_service(m, now)) =>
            {
                self.pass_over(now, i, &pick.model, true, fx);
            }
            Some(pick) if &pick.model == queued_on => self.submit_or_ask(now, i, pick, fx),
            Some(pick) => self.set_state(
                i,
                StageState::Ready {
                    model: pick.model,
                    since: now,
                    slot: None,
                },
            ),
            None => {
                let reason = self.budget_reason(row);
                self.set_state(
                    i,
                    StageState::Failed {
                        reason: reason.clone(),
                    },
                );
                self.fail_job(now, reason, fx);
            }
        }
    }

    /// The projected cost of a stage on a model of the registry
    pub(super) fn cost_on(&self, row: &StageRow, model: &ModelId) -> Option<Micros> {
        let spec = self.model(model)?;
        Some(Micros::from_usd(
            spec.cost_usd(row.spec.duration_s, row.spec.chars()),
        ))
    }

    /// The first candidate from the cursor on whose projected cost fits the budget
    pub(super) fn pick_affordable(&self, row: &StageRow) -> Option<Pick> {
        let h = &self.header;
        let start = usize::try_from(row.cursor).unwrap_or(usize::MAX);
        row.decision
            .candidates
            .iter()
            .enumerate()
            .skip(start)
            .filter(|(i, c)| *i == start || !row.refused.contains(&c.model))
            .find_map(|(i, c)| {
                let cost = self.cost_on(row, &c.model)?;
                budget::fits(h.budget, h.committed, h.outstanding_floor, row.floor, cost).then(
                    || Pick {
                        index: u32::try_from(i).unwrap_or(u32::MAX),
                        model: c.model.clone(),
                        cost,
                    },
                )
            })
    }

    fn budget_reason(&self, row: &StageRow) -> String {
        let h = &self.header;
        let start = usize::try_from(row.cursor).unwrap_or(usize::MAX);
        let cheapest = row
            .decision
            .candidates
            .iter()
            .skip(start)
            .filter_map(|c| self.cost_on(row, &c.model))
            .min();
        let left = budget::available(h.budget, h.committed, h.outstanding_floor, row.floor);
        match cheapest {
            Some(c) => format!(
                "{}: over budget. Its cheapest remaining model costs {c}, but only {left} of the {} budget is left for it",
                row.spec.id, h.budget
            ),
            None => format!(
                "{}: no priced model left within the {} budget",
                row.spec.id, h.budget
            ),
        }
    }

    pub(super) fn submit(&mut self, now: Timestamp, i: u32, pick: Pick, fx: &mut Vec<Effect>) {
        let Some(row) = self.row(i) else {
            return;
        };
        let attempt = row.attempt.next();
        let note = (pick.index != row.cursor).then(|| {
            let preferred = usize::try_from(row.cursor)
                .ok()
                .and_then(|i| row.decision.candidates.get(i))
                .map_or_else(String::new, |c| c.model.to_string());
            format!(
                "routed to {} (candidate {}): the budget left does not cover {preferred}",
                pick.model,
                pick.index + 1
            )
        });
        let effect = match self.submit_effect(i, attempt, &pick.model) {
            Ok(e) => e,
            Err(reason) => {
                self.set_state(
                    i,
                    StageState::Failed {
                        reason: reason.clone(),
                    },
                );
                return self.fail_job(now, reason, fx);
            }
        };
        fx.push(effect);
        if note.is_some()
            && let Some(said) = self.row(i).map(|r| ra_notes::budget_fallback(&r.spec))
        {
            self.say(said);
        }
        if let Some(row) = self.row_mut(i) {
            row.attempt = attempt;
            row.started_at.get_or_insert(now);
            row.attempts.push(AttemptRecord {
                attempt,
                model: pick.model.clone(),
                provider_ref: None,
                started_at: now,
                ended_at: None,
                reserved: pick.cost,
                outcome: AttemptOutcome::InFlight,
                note,
            });
        }
        self.commit(i, pick.cost, false);
        let ack = submit_ack_timeout(self.model(&pick.model));
        let submitting = StageState::Submitting {
            attempt,
            model: pick.model,
            reserved: pick.cost,
            since: now,
            deadline: now.plus(ack),
            reissues: 0,
            doubt: None,
        };
        self.set_state(i, submitting);
    }

    /// The `Submit` effect of one attempt; the same on every re-issue
    pub(super) fn submit_effect(
        &self,
        i: u32,
        attempt: Attempt,
        model: &ModelId,
    ) -> Result<Effect, String> {
        let row = self
            .row(i)
            .ok_or_else(|| format!("stage #{i} is not in the plan"))?;
        let id = &row.spec.id;
        let spec = self.model(model).ok_or_else(|| {
            format!(
                "{id}: model {model} is not in registry v{}",
                self.spec.registry.version
            )
        })?;
        let key_of = |s: &StageId| {
            self.stage(s)
                .and_then(|r| r.primary_key())
                .map(str::to_owned)
        };
        let s = &row.spec;
        let inputs = match &s.work {
            StageWork::Keyframe {
                prompt,
                negative_prompt,
                reference_images,
            } => StageInputs::Image {
                prompt: prompt.clone(),
                negative_prompt: negative_prompt.clone(),
                aspect: s.aspect,
                reference_images: reference_images.clone(),
            },
            StageWork::Motion {
                prompt,
                negative_prompt,
                keyframe,
            } => StageInputs::Video {
                prompt: prompt.clone(),
                negative_prompt: negative_prompt.clone(),
                duration_s: s.duration_s,
                aspect: s.aspect,
                image_key: key_of(keyframe)
                    .ok_or_else(|| format!("{id}: keyframe {keyframe} has no artifact"))?,
                reference_images: self.shot_references(s),
            },
            StageWork::Speech {
                text,
                voice,
                voice_id,
                language,
            } => StageInputs::Speech {
                text: text.clone(),
                voice: voice.clone(),
                voice_id: voice_id.clone(),
                language: language.clone(),
            },
            StageWork::Score { mood } => StageInputs::Music {
                mood: mood.clone(),
                duration_s: s.duration_s,
            },
            // A still from our assembler: its only output is the clip's last frame.
            StageWork::Frame { clip } => StageInputs::Assembly {
                timeline: Box::new(Timeline::last_frame(
                    s.shot.clone().unwrap_or_else(|| ShotId(id.to_string())),
                    key_of(clip).ok_or_else(|| format!("{id}: clip {clip} has no artifact"))?,
                    self.stage(clip).map_or(s.duration_s, |c| c.spec.duration_s),
                    s.aspect,
                )),
            },
            StageWork::Assembly(a) => StageInputs::Assembly {
                timeline: Box::new(
                    Timeline::build(a, key_of)
                        .map_err(|missing| format!("{id}: {missing} has no artifact"))?,
                ),
            },
        };
        Ok(Effect::Submit {
            stage: id.clone(),
            attempt,
            model: model.clone(),
            provider: spec.provider,
            provider_model: spec.provider_model.clone(),
            idempotency_key: IdempotencyKey::for_attempt(&self.spec.job_id, id, attempt),
            seed: stage_seed(self.spec.seed, id),
            inputs,
        })
    }
}

impl Job {
    /// The reference images of a shot's cast, as its keyframe was planned with them: every
    /// motion part of the shot sends the same ones (a later part starts from a cut frame, not
    /// the keyframe, but shows the same cast)
    fn shot_references(&self, spec: &crate::plan::StageSpec) -> Vec<String> {
        let Some(shot) = &spec.shot else {
            return Vec::new();
        };
        let keyframe = crate::plan::shot_stage_id(shot, StageKind::Keyframe);
        match self.stage(&keyframe).map(|r| &r.spec.work) {
            Some(StageWork::Keyframe {
                reference_images, ..
            }) => reference_images.clone(),
            Some(_) | None => Vec::new(),
        }
    }
}

/// A provider seed per stage: stable across attempts, so a retry renders the same take
fn stage_seed(seed: u64, id: &StageId) -> u32 {
    (mix(seed ^ hash_str(id.as_str())) >> 32) as u32
}
