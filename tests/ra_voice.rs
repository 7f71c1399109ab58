//! Every note the creator reads is from Ra, addresses the creator as "Director", and names no
//! model, provider or flag: pacing push-back, a split, a budget trade-off, a deadline, a next
//! choice after failures or a refusal, a start-over, planning without the memory graph, the
//! failure itself, support's actions, and why each stage was made the way it was.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod creator_words;

use common::{Fault, World, created, registry_of, small_brief};
use creator_words::{assert_clean, assert_ra, assert_said};
use studio::brief::ra::{self, NoteTopic};
use studio::brief::{DialogueLine, pacing_warnings};
use studio::job::{JobStatus, MAX_FAILURES_PER_MODEL, SupportAction};
use studio::providers::ProviderError;

/// Checks every note, the failure and every stage's words of the creator's view; returns the
/// topics of Ra's notes, in order
fn check_creator_words(w: &World) -> Vec<NoteTopic> {
    let view = w.job.creator_view();
    for warning in &view.warnings {
        assert_eq!(warning.from, ra::RA, "{warning:?}");
        assert_said(&warning.message);
    }
    for note in &view.notes {
        assert_ra(note);
    }
    if let Some(failure) = &view.failure {
        assert_said(failure);
    }
    for stage in &view.stages {
        assert_said(&stage.why);
        if let Some(error) = &stage.error {
            assert_said(error);
        }
    }
    assert_clean("the creator's view", &serde_json::to_string(&view).unwrap());
    view.notes.iter().map(|n| n.topic).collect()
}

#[test]
fn pacing_notes_are_from_ra_to_the_director() {
    let mut brief = small_brief(2);
    brief.shots[0].duration_s = 1.0;
    brief.shots[1].duration_s = 1.2;
    brief.shots[1].dialogue = Some(DialogueLine {
        character: "keeper".into(),
        line: "They switch us off on Friday, Captain. Sixty years, and a letter.".into(),
    });
    brief.shots[1].cast = vec!["keeper".into()];
    let warnings = pacing_warnings(&brief);
    assert!(warnings.len() >= 3, "{warnings:?}");
    for w in &warnings {
        assert_eq!(w.from, "Ra");
        assert!(w.message.starts_with("Director, "), "{}", w.message);
    }
    let line = warnings
        .iter()
        .find(|w| w.message.contains("gives the line"))
        .expect("a note on the rushed line");
    assert!(
        line.message.contains("1.2 s") && line.message.contains("I'd give it"),
        "{}",
        line.message
    );
    let mut w = World::new(brief);
    w.run();
    let topics = check_creator_words(&w);
    let pacing = topics.iter().filter(|t| **t == NoteTopic::Pacing).count();
    assert_eq!(pacing, warnings.len(), "{topics:?}");
}

#[test]
fn a_shot_longer_than_one_take_is_split_and_ra_says_so() {
    let mut brief = small_brief(2);
    brief.deadline_s = 86_400;
    brief.shots[1].duration_s = 30.0;
    let mut w = World::new(brief);
    w.run();
    assert_eq!(w.status(), JobStatus::Succeeded);
    let topics = check_creator_words(&w);
    assert!(topics.contains(&NoteTopic::Split), "{topics:?}");
    let view = w.job.creator_view();
    let split = view
        .notes
        .iter()
        .find(|n| n.topic == NoteTopic::Split)
        .unwrap();
    assert_eq!(split.shot.as_ref(), Some(&w.job.spec().brief.shots[1].id));
    assert!(split.text.contains("parts"), "{}", split.text);
}

#[test]
fn a_budget_trade_off_is_told_in_ra_words() {
    // veo-3 times out; its reservation stays committed, so the retry can only afford seedance.
    let mut brief = small_brief(1);
    brief.budget_usd = 3.0;
    let mut c = created(brief, 42, false);
    c.registry = registry_of(&[
        "flux-1.1-pro",
        "veo-3",
        "seedance-1-pro",
        "studio-assembler",
    ]);
    let mut w = World::with(c, |f| f.fault_stage("s01.motion", [Fault::Silent]));
    w.run();
    assert_eq!(w.status(), JobStatus::Succeeded);
    let topics = check_creator_words(&w);
    assert!(topics.contains(&NoteTopic::Budget), "{topics:?}");
    // Support still reads the models.
    let support = serde_json::to_string(&w.job.view()).unwrap();
    assert!(support.contains("seedance-1-pro") && support.contains("veo-3"));
}

#[test]
fn running_out_of_budget_fails_in_ra_words() {
    let mut brief = small_brief(1);
    brief.budget_usd = 2.5;
    let mut c = created(brief, 42, false);
    c.registry = registry_of(&[
        "flux-1.1-pro",
        "veo-3",
        "seedance-1-pro",
        "studio-assembler",
    ]);
    let mut w = World::with(c, |f| f.fault_stage("s01.motion", [Fault::Silent]));
    w.run();
    assert_eq!(w.status(), JobStatus::Failed);
    check_creator_words(&w);
    let failure = w.job.creator_view().failure.unwrap();
    assert!(failure.contains("budget"), "{failure}");
    // The support view keeps the figures and the stage id as before.
    let support = w.job.view().failure.unwrap();
    assert!(support.starts_with("s01.motion: over budget"), "{support}");
}

#[test]
fn a_refusal_moves_to_the_next_choice_and_ra_says_so() {
    let mut w = World::with(created(small_brief(2), 42, false), |f| {
        f.fault_stage("s01.motion", [Fault::Moderate])
    });
    w.run();
    assert_eq!(w.status(), JobStatus::Succeeded);
    let topics = check_creator_words(&w);
    assert!(topics.contains(&NoteTopic::NextChoice), "{topics:?}");
}

#[test]
fn repeated_failures_move_to_the_next_choice_and_ra_says_so() {
    let failed = Fault::FailStatus {
        reason: "kling internal error on task 8c1f".into(),
        retryable: true,
    };
    let mut w = World::with(created(small_brief(2), 42, false), |f| {
        f.fault_stage(
            "s02.motion",
            std::iter::repeat_n(failed, MAX_FAILURES_PER_MODEL as usize),
        )
    });
    w.run();
    assert_eq!(w.status(), JobStatus::Succeeded);
    let view = w.job.creator_view();
    let next = view
        .notes
        .iter()
        .find(|n| n.topic == NoteTopic::NextChoice)
        .expect("a next-choice note");
    assert!(
        next.text.contains(&MAX_FAILURES_PER_MODEL.to_string()),
        "{}",
        next.text
    );
    check_creator_words(&w);
}

#[test]
fn every_option_failing_once_starts_over_and_ra_says_so() {
    let transient = Fault::SubmitError(ProviderError::Transient {
        reason: "502 from veo".into(),
    });
    let mut w = World::with(created(small_brief(1), 42, false), |f| {
        f.fault_stage("s01.keyframe", std::iter::repeat_n(transient, 40))
    });
    let starting_over = |w: &World| {
        w.job
            .creator_view()
            .notes
            .iter()
            .any(|n| n.topic == NoteTopic::Retry)
    };
    assert!(w.run_until(starting_over), "the stage never started over");
    // While it waits, the stage's error is Ra's, not the provider's.
    let view = w.job.creator_view();
    let stage = view
        .stages
        .iter()
        .find(|s| s.id.as_str() == "s01.keyframe")
        .unwrap();
    assert_eq!(stage.status, "backing_off");
    assert!(stage.error.is_some());
    check_creator_words(&w);
}

#[test]
fn every_option_refusing_fails_in_ra_words() {
    let mut w = World::with(created(small_brief(2), 42, false), |f| {
        f.fault_stage("s01.motion", std::iter::repeat_n(Fault::Moderate, 20))
    });
    w.run();
    assert_eq!(w.status(), JobStatus::Failed);
    check_creator_words(&w);
    let failure = w.job.creator_view().failure.unwrap();
    assert!(failure.contains("shot s01"), "{failure}");
}

#[test]
fn planning_without_the_memory_graph_is_told_to_the_director() {
    let mut w = World::with(created(small_brief(1), 42, false), |f| f.memory_down = true);
    w.run();
    assert_eq!(w.status(), JobStatus::Succeeded);
    let topics = check_creator_words(&w);
    assert!(topics.contains(&NoteTopic::Context), "{topics:?}");
}

#[test]
fn a_tight_deadline_is_told_to_the_director() {
    let mut brief = small_brief(3);
    brief.deadline_s = 30;
    let mut w = World::new(brief);
    w.run();
    let topics = check_creator_words(&w);
    assert!(topics.contains(&NoteTopic::Deadline), "{topics:?}");
}

#[test]
fn support_actions_are_relayed_by_ra() {
    let mut w = World::new(small_brief(1));
    assert!(w.run_until(|w| w.status() == JobStatus::Rendering));
    w.act(SupportAction::Pause, "VIP creator, Bob from sales asked")
        .unwrap();
    w.act(SupportAction::Resume, "Bob says go ahead").unwrap();
    w.run();
    let topics = check_creator_words(&w);
    let support = topics.iter().filter(|t| **t == NoteTopic::Support).count();
    assert_eq!(support, 2, "{topics:?}");
    let text = serde_json::to_string(&w.job.creator_view()).unwrap();
    assert!(!text.contains("Bob"), "{text}");
}

#[test]
fn the_example_render_speaks_as_ra_at_every_stage() {
    let mut w = World::new(common::example_brief());
    w.run();
    assert_eq!(w.status(), JobStatus::Succeeded);
    check_creator_words(&w);
    // Each stage says why, in words that differ with what decided it.
    let view = w.job.creator_view();
    let whys: std::collections::BTreeSet<&str> =
        view.stages.iter().map(|s| s.why.as_str()).collect();
    assert!(whys.len() > 3, "{whys:?}");
}
