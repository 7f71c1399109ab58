//! Applying a stage's [`Outcome`]: new state, money, attempt records, effects.

use super::Job;
use super::budget::Micros;
use super::deadlines::{STORE_TIMEOUT, attempt_timeout, poll_interval, submit_ack_timeout};
use super::effect::{Effect, artifact_key};
use super::ra_notes;
use super::retry::{Failure, RetryStep, next_step, start_over_delay};
use super::state::{Artifact, AttemptOutcome, PendingOutput, Progress, StageState};
use super::transition::Outcome;
use crate::brief::AspectRatio;
use crate::ids::{Attempt, ModelId, ProviderRef};
use crate::plan::{StageKind, StageWork};
use crate::providers::Output;
use crate::time::{Millis, Timestamp};

/// The attempt in flight, taken from a submitting, running or storing state
struct InFlight {
    attempt: Attempt,
    model: ModelId,
    reserved: Micros,
    provider_ref: Option<ProviderRef>,
    running: bool,
}

fn in_flight(state: &StageState) -> Option<InFlight> {
    match state {
        StageState::Submitting {
            attempt,
            model,
            reserved,
            ..
        } => Some(InFlight {
            attempt: *attempt,
            model: model.clone(),
            reserved: *reserved,
            provider_ref: None,
            running: false,
        }),
        StageState::Running {
            attempt,
            model,
            reserved,
            provider_ref,
            ..
        } => Some(InFlight {
            attempt: *attempt,
            model: model.clone(),
            reserved: *reserved,
            provider_ref: Some(provider_ref.clone()),
            running: true,
        }),
        StageState::Storing {
            attempt,
            model,
            reserved,
            provider_ref,
            ..
        } => Some(InFlight {
            attempt: *attempt,
            model: model.clone(),
            reserved: *reserved,
            provider_ref: provider_ref.clone(),
            running: false,
        }),
        StageState::Blocked
        | StageState::Ready { .. }
        | StageState::BackingOff { .. }
        | StageState::Done { .. }
        | StageState::Failed { .. }
        | StageState::Cancelled { .. } => None,
    }
}

/// `9:16` -> `9x16`, for artifact names
fn aspect_name(a: AspectRatio) -> String {
    a.as_str().replace(':', "x")
}

/// The most outputs one attempt stores: a cut's master, one variant per platform
/// (`MAX_PLATFORMS`), poster and captions fit, as do the few images an image model returns
pub const MAX_OUTPUTS_PER_STAGE: usize = 16;

impl Job {
    pub(super) fn apply(&mut self, now: Timestamp, i: u32, outcome: Outcome, fx: &mut Vec<Effect>) {
        let Some(state) = self.row(i).map(|r| r.state.clone()) else {
            return;
        };
        match (outcome, state) {
            (Outcome::Ignore, _) => {}
            (
                Outcome::Accepted { provider_ref },
                StageState::Submitting {
                    attempt,
                    model,
                    reserved,
                    since,
                    ..
                },
            ) => {
                let spec = self.model(&model);
                // From the acknowledgement, not the first submit: a re-issued submit (lost call)
                // starts the provider's work late, and its p95 counts from then.
                let deadline = now.plus(attempt_timeout(spec));
                let next_poll = now.plus(poll_interval(spec));
                if let Some(r) = self.row_mut(i).and_then(|row| row.record_mut(attempt)) {
                    r.provider_ref = Some(provider_ref.clone());
                }
                let running = StageState::Running {
                    attempt,
                    model,
                    reserved,
                    provider_ref,
                    since,
                    deadline,
                    next_poll,
                    progress: Progress::Queued,
                };
                self.set_state(i, running);
            }
            (
                Outcome::LateRef { provider_ref },
                StageState::Storing {
                    attempt,
                    model,
                    reserved,
                    pending,
                    stored,
                    deadline,
                    reissues,
                    ..
                },
            ) => {
                if let Some(r) = self.row_mut(i).and_then(|row| row.record_mut(attempt)) {
                    r.provider_ref = Some(provider_ref.clone());
                }
                let provider_ref = Some(provider_ref);
                let storing = StageState::Storing {
                    attempt,
                    model,
                    reserved,
                    provider_ref,
                    pending,
                    stored,
                    deadline,
                    reissues,
                };
                self.set_state(i, storing);
            }
            (Outcome::Progressed(p), running @ StageState::Running { .. }) => {
                // A task that waited in the provider's queue gets its whole run time from when
                // it starts: the queue is the provider's load, not this task failing, and
                // submitting again would only join the back of the same queue (a fleet of
                // assemblies on one busy route resubmitted each other over and over). The wait
                // before it is still bounded by the deadline set at the acknowledgement.
                let started = p == Progress::Running
                    && matches!(
                        &running,
                        StageState::Running {
                            progress: Progress::Queued,
                            ..
                        }
                    );
                let run_time = started
                    .then(|| running.model().map(|m| attempt_timeout(self.model(m))))
                    .flatten();
                let mut running = running.rescheduled(None, Some(p));
                if let Some(run_time) = run_time {
                    running = running.deadline_at_least(now.plus(run_time));
                }
                self.set_state(i, running);
            }
            (Outcome::PollNow, running @ StageState::Running { .. }) => {
                let StageState::Running {
                    attempt,
                    model,
                    provider_ref,
                    ..
                } = &running
                else {
                    return;
                };
                let spec = self.model(model);
                if let Some(spec) = spec {
                    fx.push(Effect::Poll {
                        stage: self.sid(i),
                        attempt: *attempt,
                        model: model.clone(),
                        provider: spec.provider,
                        provider_ref: provider_ref.clone(),
                    });
                }
                let next_poll = now.plus(poll_interval(spec));
                self.set_state(i, running.rescheduled(Some(next_poll), None));
            }
            (Outcome::PollLater(next_poll), running @ StageState::Running { .. }) => {
                self.set_state(i, running.rescheduled(Some(next_poll), None));
            }
            (
                Outcome::Resubmit,
                StageState::Submitting {
                    attempt,
                    model,
                    reserved,
                    since,
                    reissues,
                    ..
                },
            ) => {
                match self.submit_effect(i, attempt, &model) {
                    Ok(e) => fx.push(e),
                    Err(reason) => return self.fail_job(now, reason, fx),
                }
                let deadline = now.plus(submit_ack_timeout(self.model(&model)));
                let reissues = reissues.saturating_add(1);
                self.set_state(
                    i,
                    StageState::Submitting {
                        attempt,
                        model,
                        reserved,
                        since,
                        deadline,
                        reissues,
                        doubt: None,
                    },
                );
            }
            (Outcome::Doubt(step), state) => self.apply_doubt(now, i, step, state, fx),
            (Outcome::Succeeded { outputs }, state) => self.succeeded(now, i, &state, outputs, fx),
            (
                Outcome::Stored {
                    key,
                    content_type,
                    bytes,
                },
                StageState::Storing {
                    attempt,
                    model,
                    reserved,
                    provider_ref,
                    mut pending,
                    mut stored,
                    deadline,
                    reissues,
                },
            ) => {
                let Some(pos) = pending.iter().position(|p| p.key == key) else {
                    return;
                };
                let p = pending.remove(pos);
                stored.push(Artifact {
                    name: p.name,
                    key,
                    content_type,
                    bytes,
                    aspect: p.aspect,
                    position: p.position,
                });
                if pending.is_empty() {
                    self.complete(now, i, attempt, model, reserved, stored, fx);
                } else {
                    let storing = StageState::Storing {
                        attempt,
                        model,
                        reserved,
                        provider_ref,
                        pending,
                        stored,
                        deadline,
                        reissues,
                    };
                    self.set_state(i, storing);
                }
            }
            (
                Outcome::StoreAgain,
                StageState::Storing {
                    attempt,
                    model,
                    reserved,
                    provider_ref,
                    pending,
                    stored,
                    reissues,
                    ..
                },
            ) => {
                for p in &pending {
                    fx.push(Effect::StoreArtifact {
                        stage: self.sid(i),
                        attempt,
                        output: p.output.clone(),
                        key: p.key.clone(),
                    });
                }
                let deadline = now.plus(STORE_TIMEOUT);
                let reissues = reissues.saturating_add(1);
                let storing = StageState::Storing {
                    attempt,
                    model,
                    reserved,
                    provider_ref,
                    pending,
                    stored,
                    deadline,
                    reissues,
                };
                self.set_state(i, storing);
            }
            (Outcome::Failed(f), state) => self.fail_attempt(now, i, &state, f, fx),
            (Outcome::BackoffOver, StageState::BackingOff { .. }) => self.make_ready(now, i, fx),
            // The transition table only produces these outcomes for the states matched above.
            (
                Outcome::Accepted { .. }
                | Outcome::LateRef { .. }
                | Outcome::Progressed(_)
                | Outcome::PollNow
                | Outcome::PollLater(_)
                | Outcome::Resubmit
                | Outcome::Stored { .. }
                | Outcome::StoreAgain
                | Outcome::BackoffOver,
                _,
            ) => {}
        }
    }

    /// Names an output. An assembly's outputs are told apart by type: the videos are the master
    /// then the variants in the timeline's order, an image is the poster, a WebVTT file the
    /// captions. `videos_before` counts the videos ahead of this output.
    fn output_name(
        &self,
        stage: u32,
        i: usize,
        content_type: Option<&str>,
        videos_before: usize,
    ) -> (String, Option<AspectRatio>) {
        let assembly = self.row(stage).and_then(|r| match &r.spec.work {
            StageWork::Assembly(a) => Some(a),
            StageWork::Keyframe { .. }
            | StageWork::Motion { .. }
            | StageWork::Speech { .. }
            | StageWork::Score { .. }
            | StageWork::Frame { .. } => None,
        });
        let media = content_type
            .and_then(|c| c.split(';').next())
            .map(str::trim)
            .unwrap_or("video/mp4");
        match assembly {
            Some(_) if media.starts_with("image/") => ("poster".into(), None),
            Some(_) if media == "text/vtt" => ("captions".into(), None),
            Some(a) => match videos_before {
                0 => ("master".into(), Some(a.master)),
                n => match a.variants.get(n - 1) {
                    Some(v) => (format!("variant-{}", aspect_name(*v)), Some(*v)),
                    None => (format!("extra-{i}"), None),
                },
            },
            None if i == 0 => ("output".into(), None),
            None => (format!("output-{i}"), None),
        }
    }

    fn succeeded(
        &mut self,
        now: Timestamp,
        i: u32,
        state: &StageState,
        outputs: Vec<Output>,
        fx: &mut Vec<Effect>,
    ) {
        let Some(f) = in_flight(state) else { return };
        if outputs.is_empty() {
            let failure = Failure::Transient {
                reason: "the provider reported success without an output".into(),
            };
            return self.fail_attempt(now, i, state, failure, fx);
        }
        let mut pending = Vec::new();
        let mut stored = Vec::new();
        let id = self.sid(i);
        let mut videos = 0;
        // A provider that answers with a flood of outputs gets the first few copied, no more:
        // each is a copy into R2 and a row of the stage.
        for (n, output) in outputs.into_iter().take(MAX_OUTPUTS_PER_STAGE).enumerate() {
            let content_type = match &output {
                Output::Url { content_type, .. } => content_type.as_deref(),
                Output::Stored { content_type, .. } => Some(content_type.as_str()),
            };
            let (name, aspect) = self.output_name(i, n, content_type, videos);
            if content_type.is_none_or(|c| c.starts_with("video/")) {
                videos += 1;
            }
            let position = u32::try_from(n).unwrap_or(u32::MAX);
            match output {
                Output::Stored {
                    key,
                    content_type,
                    bytes,
                } => {
                    stored.push(Artifact {
                        name,
                        key,
                        content_type,
                        bytes,
                        aspect,
                        position,
                    });
                }
                output @ Output::Url { .. } => {
                    let key = artifact_key(&self.spec.job_id, &id, f.attempt, &name);
                    fx.push(Effect::StoreArtifact {
                        stage: self.sid(i),
                        attempt: f.attempt,
                        output: output.clone(),
                        key: key.clone(),
                    });
                    pending.push(PendingOutput {
                        name,
                        key,
                        output,
                        aspect,
                        position,
                    });
                }
            }
        }
        if pending.is_empty() {
            return self.complete(now, i, f.attempt, f.model, f.reserved, stored, fx);
        }
        let storing = StageState::Storing {
            attempt: f.attempt,
            model: f.model,
            reserved: f.reserved,
            provider_ref: f.provider_ref,
            pending,
            stored,
            deadline: now.plus(STORE_TIMEOUT),
            reissues: 0,
        };
        self.set_state(i, storing);
    }

    #[allow(clippy::too_many_arguments)]
    fn complete(
        &mut self,
        now: Timestamp,
        i: u32,
        attempt: Attempt,
        model: ModelId,
        reserved: Micros,
        mut artifacts: Vec<Artifact>,
        fx: &mut Vec<Effect>,
    ) {
        artifacts.sort_by_key(|a| a.position);
        let mut kind = None;
        if let Some(row) = self.row_mut(i) {
            row.spent = row.spent.plus(reserved);
            kind = Some(row.spec.kind);
            if let Some(r) = row.record_mut(attempt) {
                r.outcome = AttemptOutcome::Succeeded;
                r.ended_at = Some(now);
            }
        }
        self.header.spent = self.header.spent.plus(reserved);
        self.write_cost(now, self.sid(i), attempt, model.clone(), reserved.usd(), fx);
        self.set_state(
            i,
            StageState::Done {
                attempt,
                model,
                artifacts,
                finished_at: now,
            },
        );
        let dependents = self
            .idx
            .dependents
            .get(i as usize)
            .cloned()
            .unwrap_or_default();
        for d in dependents {
            let ready = match self.idx.unmet.get_mut(d as usize) {
                Some(n) if *n > 0 => {
                    *n -= 1;
                    *n == 0
                }
                Some(_) | None => false,
            };
            if ready {
                self.make_ready(now, d, fx);
            }
        }
        if kind == Some(StageKind::Assembly) {
            self.succeed_job(now, fx);
        }
    }

    pub(super) fn fail_attempt(
        &mut self,
        now: Timestamp,
        i: u32,
        state: &StageState,
        failure: Failure,
        fx: &mut Vec<Effect>,
    ) {
        let Some(f) = in_flight(state) else { return };
        self.slot_releases.note_failure(i, f.attempt, &failure);
        if !failure.may_be_billed() {
            self.commit(i, f.reserved, true);
        }
        if matches!(failure, Failure::TimedOut { .. })
            && f.running
            && let (Some(provider_ref), Some(spec)) = (f.provider_ref.clone(), self.model(&f.model))
        {
            fx.push(Effect::CancelTask {
                stage: self.sid(i),
                attempt: f.attempt,
                model: f.model.clone(),
                provider: spec.provider,
                provider_ref,
            });
        }
        let seed = self.spec.seed;
        let step = {
            let Some(row) = self.row_mut(i) else { return };
            if let Some(r) = row.record_mut(f.attempt) {
                r.outcome = AttemptOutcome::Failed {
                    reason: failure.describe(),
                };
                r.ended_at = Some(now);
            }
            row.failures_on_model = row.failures_on_model.saturating_add(1);
            if failure.is_permanent() && !row.refused.contains(&f.model) {
                row.refused.push(f.model.clone());
            }
            let step = next_step(
                &failure,
                row.failures_on_model,
                seed,
                &row.spec.id,
                f.attempt,
            );
            if step == RetryStep::NextCandidate {
                row.cursor = row.cursor.saturating_add(1);
                row.failures_on_model = 0;
            }
            step
        };
        match step {
            RetryStep::SameModel { delay } => {
                let backing_off = StageState::BackingOff {
                    until: now.plus(delay),
                    model: f.model,
                    last_error: failure.describe(),
                };
                self.set_state(i, backing_off);
            }
            RetryStep::NextCandidate => {
                self.make_ready(now, i, fx);
                // Said only when there was a next choice to move to (else the job's failure
                // or the start-over says what happened).
                if let Some(row) = self.row(i)
                    && matches!(row.state, StageState::Ready { .. })
                {
                    let note = ra_notes::fallback(&row.spec, &failure);
                    self.say(note);
                }
            }
        }
    }

    /// Why a stage has no model left, for a person
    pub(super) fn exhausted_reason(&self, i: u32) -> String {
        let Some(row) = self.row(i) else {
            return "no model left".into();
        };
        let id = &row.spec.id;
        let mut parts: Vec<String> = Vec::new();
        for c in &row.decision.candidates {
            let tries: Vec<&str> = row
                .attempts
                .iter()
                .filter(|a| a.model == c.model)
                .filter_map(|a| match &a.outcome {
                    AttemptOutcome::Failed { reason } => Some(reason.as_str()),
                    AttemptOutcome::InFlight
                    | AttemptOutcome::Succeeded
                    | AttemptOutcome::Cancelled
                    | AttemptOutcome::Abandoned { .. } => None,
                })
                .collect();
            if let Some(last) = tries.last() {
                let times = if tries.len() > 1 {
                    format!(" ({} attempts)", tries.len())
                } else {
                    String::new()
                };
                parts.push(format!("{} {last}{times}", c.model));
            }
        }
        let why = if row
            .decision
            .candidates
            .iter()
            .all(|c| row.refused.contains(&c.model))
        {
            "no model left to try (every model refused it)"
        } else {
            "no model left to try before the deadline"
        };
        if parts.is_empty() {
            format!("{id}: {why}")
        } else {
            format!("{id}: {why}. {}", parts.join("; "))
        }
    }

    /// When transient failures have used up a stage's candidates: where its list starts over
    /// (the first candidate that did not refuse it for good), and after how long. `None` once
    /// the job's deadline has passed, or when every candidate refused.
    pub(super) fn start_over(&self, now: Timestamp, i: u32) -> Option<(u32, ModelId, Millis)> {
        let row = self.row(i)?;
        let deadline = self
            .spec
            .created_at
            .plus(Millis::from_secs(self.spec.brief.deadline_s));
        if now >= deadline {
            return None;
        }
        let (cursor, candidate) = row
            .decision
            .candidates
            .iter()
            .enumerate()
            .find(|(_, c)| !row.refused.contains(&c.model))?;
        let failures = row
            .attempts
            .iter()
            .filter(|a| matches!(a.outcome, AttemptOutcome::Failed { .. }))
            .count();
        let delay = start_over_delay(
            self.spec.seed,
            &row.spec.id,
            row.attempt.next(),
            u32::try_from(failures).unwrap_or(u32::MAX),
        );
        Some((
            u32::try_from(cursor).unwrap_or(u32::MAX),
            candidate.model.clone(),
            delay,
        ))
    }
}
