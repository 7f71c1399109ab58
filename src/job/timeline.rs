//! A job's history on one time axis, for the support page: every stage's phases (waiting for
//! inputs, waiting for a slot, submitted, running, storing, backing off) as spans, its failures,
//! support actions and end as events, and the critical path through the DAG.
//!
//! Built by replaying the journal through the job machine itself ([`TimelineRecorder`]), not by
//! reading the journal's inputs a second way: the machine is deterministic (see [`Job::replay`]),
//! so the phases are exactly the states the live job passed through, at the times it did, and a
//! new kind of input can never make the timeline disagree with the job. After each input the
//! recorder compares every stage's phase with the one before (a byte and an attempt number per
//! stage), so a 2,000-stage job with 10,000 entries costs about 20 million cheap comparisons.
//! The shell feeds entries a page at a time; only the spans are kept.

use serde::{Deserialize, Serialize};

use super::{Created, Input, Job, JobError, StageState};
use crate::ids::{Attempt, ModelId, ShotId, StageId};
use crate::plan::StageKind;
use crate::time::Timestamp;

/// What a stage was doing during a span
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TimelinePhase {
    /// Blocked on the stages it depends on
    WaitingForInputs,
    /// Inputs ready, waiting for a slot: the job's own concurrency and budget, then the
    /// provider's gate every job shares
    WaitingForSlot,
    /// Submit sent, waiting for the provider's acknowledgement
    Submitted,
    /// Accepted by the provider, generating
    Running,
    /// Succeeded at the provider; outputs being copied into storage
    Storing,
    /// An attempt failed; waiting before the next one
    BackingOff,
}

/// A stretch of time a stage spent in one phase (and on one attempt and model)
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TimelineSpan {
    /// What it was doing
    pub phase: TimelinePhase,
    /// Since when, ms since the epoch
    pub from: Timestamp,
    /// Until when; `None` while it still is
    pub to: Option<Timestamp>,
    /// The attempt, where the phase has one
    pub attempt: Option<Attempt>,
    /// The model, where the phase has one
    pub model: Option<ModelId>,
    /// For a person: the gate's line, the error being backed off from
    pub detail: Option<String>,
}

/// What happened to a stage at one moment
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TimelineEventKind {
    /// Its outputs are stored
    Done,
    /// No model or budget left: the job fails with it
    Failed,
    /// Stopped because the job ended
    Cancelled,
    /// An attempt failed and another will follow
    AttemptFailed,
    /// Support acted on it
    Support,
}

/// One moment on a stage's row
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TimelineEvent {
    /// When
    pub at: Timestamp,
    /// What
    pub kind: TimelineEventKind,
    /// The attempt concerned, if any
    pub attempt: Option<Attempt>,
    /// For a person: the error, the reason given
    pub detail: Option<String>,
}

/// One stage's row
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct StageTimeline {
    /// The stage
    pub id: StageId,
    /// Its kind
    pub kind: StageKind,
    /// Its shot
    pub shot: Option<ShotId>,
    /// The stages it waits for
    pub deps: Vec<StageId>,
    /// Its state now (`blocked` ... `done`, as in the support view)
    pub status: String,
    /// Its phases, oldest first, back to back while it was active
    pub spans: Vec<TimelineSpan>,
    /// Failures, support actions and its end, oldest first
    pub events: Vec<TimelineEvent>,
}

/// A job's timeline
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Timeline {
    /// The job
    pub job_id: crate::ids::JobId,
    /// When it was created
    pub started_at: Timestamp,
    /// When it reached its terminal status; `None` while it runs
    pub ended_at: Option<Timestamp>,
    /// The time the timeline was drawn at (open spans end here)
    pub now: Timestamp,
    /// Every stage, in plan order
    pub stages: Vec<StageTimeline>,
    /// The chain of stages that decided when the job finished, first to last: from the stage
    /// that finished last, back through the dependency that finished last each time
    pub critical_path: Vec<StageId>,
}

/// A stage's phase, compared after every input: a kind, the attempt, and (on change) the model
#[derive(Debug, Clone, PartialEq, Eq)]
enum Mark {
    Active {
        phase: TimelinePhase,
        attempt: Option<Attempt>,
    },
    Ended,
}

/// Replays a journal into a [`Timeline`], an entry at a time
#[derive(Debug)]
pub struct TimelineRecorder {
    job: Job,
    marks: Vec<Mark>,
    lines: Vec<StageTimeline>,
    done_at: Vec<Option<Timestamp>>,
}

impl TimelineRecorder {
    /// Starts from the journal's first entry (`Created`) and the time it was handled
    pub fn start(at: Timestamp, created: Created) -> Result<Self, JobError> {
        let (job, _) = Job::new(at, created)?;
        let mut recorder = Self {
            job,
            marks: Vec::new(),
            lines: Vec::new(),
            done_at: Vec::new(),
        };
        recorder.observe(at, None);
        Ok(recorder)
    }

    /// Feeds the next journal entry
    pub fn record(&mut self, at: Timestamp, input: Input) -> Result<(), JobError> {
        let support = match &input {
            Input::Support {
                action, reason, by, ..
            } => action
                .stage()
                .cloned()
                .map(|stage| (stage, format!("{} by {by}: {reason}", action.name()))),
            _ => None,
        };
        self.job.handle(at, input)?;
        // The journal's entries replay without their effects; the changes would only grow.
        self.job.take_changes();
        self.observe(at, support);
        Ok(())
    }

    /// Compares every stage's phase with the last one seen and opens and closes spans
    fn observe(&mut self, at: Timestamp, support: Option<(StageId, String)>) {
        for (i, row) in self.job.stages().iter().enumerate() {
            if i == self.lines.len() {
                // Planning adds the rows once; the recorder follows.
                self.lines.push(StageTimeline {
                    id: row.spec.id.clone(),
                    kind: row.spec.kind,
                    shot: row.spec.shot.clone(),
                    deps: row.spec.deps.clone(),
                    status: String::new(),
                    spans: Vec::new(),
                    events: Vec::new(),
                });
                self.marks.push(Mark::Ended);
                self.done_at.push(None);
            }
            let (Some(line), Some(mark), Some(done_at)) = (
                self.lines.get_mut(i),
                self.marks.get_mut(i),
                self.done_at.get_mut(i),
            ) else {
                continue;
            };
            if let Some((stage, detail)) = &support
                && *stage == row.spec.id
            {
                line.events.push(TimelineEvent {
                    at,
                    kind: TimelineEventKind::Support,
                    attempt: None,
                    detail: Some(detail.clone()),
                });
            }
            let now = mark_of(&row.state);
            if now == *mark {
                continue;
            }
            if let Some(open) = line.spans.last_mut().filter(|s| s.to.is_none()) {
                open.to = Some(at);
            }
            if let Some(event) = ending_event(at, &row.state, row.attempt) {
                *done_at = match event.kind {
                    TimelineEventKind::Done => Some(at),
                    TimelineEventKind::Failed
                    | TimelineEventKind::Cancelled
                    | TimelineEventKind::AttemptFailed
                    | TimelineEventKind::Support => None,
                };
                line.events.push(event);
            }
            if let Mark::Active { phase, attempt } = &now {
                line.spans.push(TimelineSpan {
                    phase: *phase,
                    from: at,
                    to: None,
                    attempt: *attempt,
                    model: row.state.model().cloned(),
                    detail: detail_of(&row.state),
                });
            }
            *mark = now;
        }
    }

    /// The timeline, drawn at `now`
    pub fn finish(mut self, now: Timestamp) -> Timeline {
        for (line, row) in self.lines.iter_mut().zip(self.job.stages()) {
            line.status = row.state.name().to_owned();
        }
        let ended_at = self
            .job
            .header()
            .status
            .is_terminal()
            .then(|| self.job.header().history.last().map(|h| h.at))
            .flatten();
        let critical_path = critical_path(&self.lines, &self.done_at);
        Timeline {
            job_id: self.job.spec().job_id.clone(),
            started_at: self.job.spec().created_at,
            ended_at,
            now,
            stages: self.lines,
            critical_path,
        }
    }
}

fn mark_of(state: &StageState) -> Mark {
    let active = |phase, attempt| Mark::Active { phase, attempt };
    match state {
        StageState::Blocked => active(TimelinePhase::WaitingForInputs, None),
        StageState::Ready { slot, .. } => active(
            TimelinePhase::WaitingForSlot,
            slot.as_ref().map(|s| s.attempt),
        ),
        StageState::Submitting { attempt, .. } => active(TimelinePhase::Submitted, Some(*attempt)),
        StageState::Running { attempt, .. } => active(TimelinePhase::Running, Some(*attempt)),
        StageState::Storing { attempt, .. } => active(TimelinePhase::Storing, Some(*attempt)),
        StageState::BackingOff { .. } => active(TimelinePhase::BackingOff, None),
        StageState::Done { .. } | StageState::Failed { .. } | StageState::Cancelled { .. } => {
            Mark::Ended
        }
    }
}

fn detail_of(state: &StageState) -> Option<String> {
    match state {
        StageState::Ready { .. } => super::slots::waiting_for_support(state),
        StageState::BackingOff { last_error, .. } => Some(last_error.clone()),
        StageState::Blocked
        | StageState::Submitting { .. }
        | StageState::Running { .. }
        | StageState::Storing { .. }
        | StageState::Done { .. }
        | StageState::Failed { .. }
        | StageState::Cancelled { .. } => None,
    }
}

/// The event a stage's new state is, if it is one: an end, or a failed attempt
fn ending_event(at: Timestamp, state: &StageState, last: Attempt) -> Option<TimelineEvent> {
    let event = |kind, attempt, detail| TimelineEvent {
        at,
        kind,
        attempt,
        detail,
    };
    match state {
        StageState::Done { attempt, .. } => {
            Some(event(TimelineEventKind::Done, Some(*attempt), None))
        }
        StageState::Failed { reason } => {
            Some(event(TimelineEventKind::Failed, None, Some(reason.clone())))
        }
        StageState::Cancelled { .. } => Some(event(TimelineEventKind::Cancelled, None, None)),
        StageState::BackingOff { last_error, .. } => Some(event(
            TimelineEventKind::AttemptFailed,
            Some(last),
            Some(last_error.clone()),
        )),
        StageState::Blocked
        | StageState::Ready { .. }
        | StageState::Submitting { .. }
        | StageState::Running { .. }
        | StageState::Storing { .. } => None,
    }
}

/// From the stage done last, back through the dependency done last, reversed
fn critical_path(lines: &[StageTimeline], done_at: &[Option<Timestamp>]) -> Vec<StageId> {
    let done = |id: &StageId| {
        lines
            .iter()
            .position(|l| &l.id == id)
            .and_then(|i| done_at.get(i).copied().flatten().map(|t| (i, t)))
    };
    let Some(mut at) = done_at
        .iter()
        .enumerate()
        .filter_map(|(i, t)| t.map(|t| (i, t)))
        .max_by_key(|&(i, t)| (t, i))
        .map(|(i, _)| i)
    else {
        return Vec::new();
    };
    let mut path = Vec::new();
    // Each step moves to a dependency, so the walk ends within the number of stages.
    for _ in 0..lines.len() {
        let Some(line) = lines.get(at) else { break };
        path.push(line.id.clone());
        let Some((next, _)) = line
            .deps
            .iter()
            .filter_map(done)
            .max_by_key(|&(i, t)| (t, i))
        else {
            break;
        };
        at = next;
    }
    path.reverse();
    path
}
