//! Ra's notes on a job: what Ra tells the Director while the render is planned and made.
//!
//! Any step of the job adds one with `self.say(note)`, where `note` is a
//! [`RaNote`](crate::brief::ra::RaNote) (see `brief::ra` for the voice and the rules: from Ra,
//! opening with "Director, ", brief, concrete, never naming a model, provider, task id or flag).
//! The builders below are the notes the job itself makes; other modules may build their own
//! with `RaNote::new(NoteTopic::..., "...")`:
//!
//! ```text
//! planning without the memory graph ---------> context   "I couldn't reach your memory graph..."
//! faster options to meet the deadline --------> deadline  "to land inside your 90 s deadline..."
//! a shot or the score longer than one call ---> split     "shot s04 runs 14 s, longer than one take..."
//! the budget pushes a stage to a cheaper one -> budget    "the budget left doesn't cover..."
//! a stage moves on after failures or a refusal-> next_choice"the motion of shot s02 failed 3 times..."
//! every option failed, trying them again -----> retry     "every option I had for ... failed once..."
//! ```
//!
//! The job's failure is told in Ra's words too ([`Job::failure_for_creator`]); support's own
//! words (the `notes` log, `failure`) stay in the support view.

use super::Job;
use super::retry::{Failure, MAX_FAILURES_PER_MODEL};
use super::state::StageState;
use crate::brief::ra::{self, NoteTopic, RaNote};
use crate::plan::{StageKind, StageSpec};

/// Ra's notes kept on a job; past it the oldest goes (a stage failing over and over says the
/// same things, which are dropped as repeats anyway)
pub const MAX_SAID: usize = 64;

impl Job {
    /// Adds a note from Ra for the Director; the same words twice are said once
    pub(super) fn say(&mut self, note: RaNote) {
        let said = &mut self.header.said;
        if said.iter().any(|n| n.text == note.text) {
            return;
        }
        if said.len() >= MAX_SAID {
            said.remove(0);
        }
        said.push(note);
        self.header_dirty = true;
    }

    /// Why the job failed, in Ra's words for the Director (`None` unless it failed); the
    /// failure as support reads it is `header.failure`
    pub fn failure_for_creator(&self) -> Option<String> {
        let failure = self.header.failure.as_deref()?;
        let failed = self.rows.iter().find_map(|r| match &r.state {
            StageState::Failed { reason } => Some((&r.spec, reason.as_str())),
            StageState::Blocked
            | StageState::Ready { .. }
            | StageState::Submitting { .. }
            | StageState::Running { .. }
            | StageState::Storing { .. }
            | StageState::BackingOff { .. }
            | StageState::Done { .. }
            | StageState::Cancelled { .. } => None,
        });
        let budget = self.header.budget;
        Some(ra::say(&match failed {
            // The budget check is the one failure a stage's own reason names its budget in.
            Some((spec, reason)) if reason.contains("budget") => format!(
                "I ran out of budget before {}: what is left of your {budget} doesn't cover it. \
                 I'd raise the budget or trim shots, then render again.",
                stage_words(spec)
            ),
            Some((spec, _)) => format!(
                "{} failed on every option I had, so I stopped the render. \
                 Support can see what happened; I'd try again later.",
                stage_words(spec)
            ),
            None if failure.contains("over budget") => format!(
                "the cheapest way to make this plan costs more than your {budget} budget, so I \
                 didn't start. I'd raise the budget or cut shots."
            ),
            None if failure.contains("planning failed") => {
                "I couldn't plan this render: no option I have can make every step of it. \
                 Support can see why."
                    .to_owned()
            }
            None => {
                "the render stopped before it finished. Support can see what happened.".to_owned()
            }
        }))
    }
}

/// How Ra names a stage to the Director: what it makes, not how
pub(super) fn stage_words(spec: &StageSpec) -> String {
    match (spec.kind, &spec.shot) {
        (StageKind::Keyframe, Some(shot)) => format!("the first frame of shot {shot}"),
        (StageKind::Motion, Some(shot)) => format!("the motion of shot {shot}"),
        (StageKind::Frame, Some(shot)) => format!("the join inside shot {shot}"),
        (StageKind::Dialogue, Some(shot)) => format!("the line in shot {shot}"),
        (StageKind::Voiceover, _) => "the narration".to_owned(),
        (StageKind::Score, _) => "the score".to_owned(),
        (StageKind::Assembly, _) => "the final cut".to_owned(),
        (
            StageKind::Keyframe | StageKind::Motion | StageKind::Frame | StageKind::Dialogue,
            None,
        ) => {
            format!("step {}", spec.id)
        }
    }
}

/// The memory graph never answered: the plan has none of the creator's past work
pub(super) fn planned_without_memory() -> RaNote {
    RaNote::new(
        NoteTopic::Context,
        "I couldn't reach your memory graph, so I planned this one without your past work: \
         no saved looks, voices or format. Check that the cast looks like themselves.",
    )
}

/// Faster options were taken among near-ties so the plan meets the deadline
pub(super) fn deadline_speed_up(projected_s: f64, deadline_s: f64) -> RaNote {
    RaNote::new(
        NoteTopic::Deadline,
        &format!(
            "to land inside your {deadline_s:.0} s deadline I took faster options where the \
             quality was a near tie. I project {projected_s:.0} s."
        ),
    )
}

/// Even the fastest plan is projected to miss the deadline
pub(super) fn deadline_miss(projected_s: f64, deadline_s: f64) -> RaNote {
    RaNote::new(
        NoteTopic::Deadline,
        &format!(
            "this will run past your deadline: I project {projected_s:.0} s against \
             {deadline_s:.0} s. I'd give it more time or cut shots."
        ),
    )
}

/// One note per shot cut into parts and one for a score cut into segments: each part is one
/// call, and the Director should know why a long shot is made in pieces
pub(super) fn split_notes(stages: &[StageSpec]) -> Vec<RaNote> {
    let mut out = Vec::new();
    let mut shots: Vec<(&crate::ids::ShotId, u32, f64)> = Vec::new();
    for s in stages.iter().filter(|s| s.kind == StageKind::Motion) {
        let Some(shot) = &s.shot else { continue };
        match shots.iter_mut().find(|(id, _, _)| *id == shot) {
            Some(entry) => {
                entry.1 += 1;
                entry.2 += s.duration_s;
            }
            None => shots.push((shot, 1, s.duration_s)),
        }
    }
    for (shot, parts, seconds) in shots.into_iter().filter(|(_, n, _)| *n > 1) {
        out.push(
            RaNote::new(
                NoteTopic::Split,
                &format!(
                    "shot {shot} runs {seconds:.1} s, longer than one take can hold. I'll shoot \
                     it in {parts} parts, each starting on the last frame of the one before, so \
                     it plays as one shot."
                ),
            )
            .on_shot(shot.clone()),
        );
    }
    let score: Vec<&StageSpec> = stages
        .iter()
        .filter(|s| s.kind == StageKind::Score)
        .collect();
    if score.len() > 1 {
        let seconds: f64 = score.iter().map(|s| s.duration_s).sum();
        out.push(RaNote::new(
            NoteTopic::Split,
            &format!(
                "the score runs about {seconds:.0} s, more music than I can make in one piece. \
                 I'll make it in {} segments and crossfade the joins.",
                score.len()
            ),
        ));
    }
    out
}

/// The budget left does not cover the stage's preferred option: a cheaper one runs it
pub(super) fn budget_fallback(spec: &StageSpec) -> RaNote {
    let note = RaNote::new(
        NoteTopic::Budget,
        &format!(
            "the budget left doesn't cover my first choice for {}, so I went with a cheaper \
             option. I'd rather have spent more there.",
            stage_words(spec)
        ),
    );
    on_stage_shot(note, spec)
}

/// A stage moves to its next option after repeated failures or a refusal
pub(super) fn fallback(spec: &StageSpec, failure: &Failure) -> RaNote {
    let words = stage_words(spec);
    let body = match failure {
        Failure::Moderated { .. } => format!(
            "the option I picked for {words} refused the prompt on content grounds, so I moved \
             it to my next choice. If that refuses too, I'd soften the prompt."
        ),
        Failure::ModelUnusable { .. } => format!(
            "the option I picked for {words} couldn't take the request, so I moved it to my \
             next choice."
        ),
        Failure::Transient { .. }
        | Failure::RateLimited { .. }
        | Failure::TimedOut { .. }
        | Failure::StoreFailed { .. } => format!(
            "{words} failed {MAX_FAILURES_PER_MODEL} times on the option I picked, so I moved \
             it to my next choice."
        ),
    };
    on_stage_shot(RaNote::new(NoteTopic::NextChoice, &body), spec)
}

/// Every option of a stage failed (none for good): the list starts over after a pause
pub(super) fn starting_over(spec: &StageSpec) -> RaNote {
    let note = RaNote::new(
        NoteTopic::Retry,
        &format!(
            "every option I had for {} failed once. I'm trying them again after a short pause; \
             nothing to do on your side yet.",
            stage_words(spec)
        ),
    );
    on_stage_shot(note, spec)
}

fn on_stage_shot(note: RaNote, spec: &StageSpec) -> RaNote {
    match &spec.shot {
        Some(shot) => note.on_shot(shot.clone()),
        None => note,
    }
}
