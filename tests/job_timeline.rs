//! The support page's timeline: replaying the journal through the job machine gives every
//! stage's phases on one time axis, its failures and support actions as events, and the
//! critical path; it agrees with the live job's own records.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Fault, World, created, example_brief, small_brief};
use studio::ids::StageId;
use studio::job::{
    Input, JobStatus, StageState, SupportAction, Timeline, TimelineEventKind, TimelinePhase,
    TimelineRecorder,
};
use studio::journal::JournalEntry;
use studio::providers::ProviderError;
use studio::time::Timestamp;

fn timeline_of(journal: &[JournalEntry], now: Timestamp) -> Timeline {
    let (first, rest) = journal.split_first().expect("a journal");
    let Input::Created(created) = &first.input else {
        panic!("the first entry is Created")
    };
    let mut recorder = TimelineRecorder::start(first.at, created.clone()).unwrap();
    for entry in rest {
        recorder.record(entry.at, entry.input.clone()).unwrap();
    }
    recorder.finish(now)
}

fn line<'a>(t: &'a Timeline, id: &str) -> &'a studio::job::StageTimeline {
    t.stages.iter().find(|s| s.id.as_str() == id).unwrap()
}

/// Spans of a stage never overlap and never run backwards; while it is active they follow
/// each other without a gap
fn assert_well_formed(t: &Timeline) {
    for s in &t.stages {
        for pair in s.spans.windows(2) {
            let end = pair[0].to.expect("only the last span may be open");
            assert!(pair[0].from <= end, "{}: a span runs backwards", s.id);
            assert_eq!(
                end, pair[1].from,
                "{}: a gap or overlap between spans",
                s.id
            );
        }
        for e in s.events.windows(2) {
            assert!(e[0].at <= e[1].at, "{}: events out of order", s.id);
        }
    }
}

fn running(w: &World, id: &str) -> bool {
    w.job
        .stage(&StageId(id.into()))
        .is_some_and(|r| matches!(r.state, StageState::Running { .. }))
}

#[test]
fn a_finished_render_has_every_stage_from_waiting_to_done_and_a_critical_path_to_assembly() {
    let mut w = World::new(example_brief());
    w.run();
    assert_eq!(w.status(), JobStatus::Succeeded);
    let t = timeline_of(&w.journal, w.now);
    assert_well_formed(&t);
    assert_eq!(t.stages.len(), w.job.stages().len());
    assert_eq!(t.ended_at, w.job.header().history.last().map(|h| h.at));
    for (s, row) in t.stages.iter().zip(w.job.stages()) {
        assert_eq!(s.id, row.spec.id);
        assert_eq!(s.status, "done");
        let StageState::Done { finished_at, .. } = row.state else {
            panic!("{} not done", s.id)
        };
        // The last span ends when the live job says the stage finished, with a done event.
        assert_eq!(s.spans.last().unwrap().to, Some(finished_at), "{}", s.id);
        assert!(s.spans.iter().all(|p| p.to.is_some()));
        let done = s.events.last().unwrap();
        assert_eq!((done.kind, done.at), (TimelineEventKind::Done, finished_at));
        // Every stage went through submit and running on the model the live job says.
        let phases: Vec<TimelinePhase> = s.spans.iter().map(|p| p.phase).collect();
        assert!(
            phases.contains(&TimelinePhase::Submitted),
            "{}: {phases:?}",
            s.id
        );
        assert!(
            phases.contains(&TimelinePhase::Running),
            "{}: {phases:?}",
            s.id
        );
        let running = s.spans.iter().find(|p| p.phase == TimelinePhase::Running);
        assert_eq!(
            running.and_then(|p| p.model.as_ref()),
            row.attempts.last().map(|a| &a.model)
        );
        // A stage with dependencies waits for its inputs until the last of them is done.
        if !s.deps.is_empty() {
            assert_eq!(
                s.spans[0].phase,
                TimelinePhase::WaitingForInputs,
                "{}",
                s.id
            );
            let last_dep_done = s
                .deps
                .iter()
                .map(|d| line(&t, d.as_str()).events.last().unwrap().at)
                .max();
            assert_eq!(s.spans[0].to, last_dep_done, "{}", s.id);
        }
    }
    // The critical path runs along edges and ends at the assembly, done last.
    let path = &t.critical_path;
    assert_eq!(path.last().map(StageId::as_str), Some("assembly"));
    assert!(path.len() >= 2, "{path:?}");
    for pair in path.windows(2) {
        assert!(
            line(&t, pair[1].as_str()).deps.contains(&pair[0]),
            "{} is not a dependency of {}",
            pair[0],
            pair[1]
        );
    }
    assert!(line(&t, path[0].as_str()).deps.is_empty());
}

#[test]
fn a_failed_attempt_shows_as_an_event_and_a_backing_off_span_before_the_next_attempt() {
    let transient = Fault::SubmitError(ProviderError::Transient {
        reason: "502 bad gateway".into(),
    });
    let mut w = World::with(created(small_brief(3), 42, false), |f| {
        f.fault_stage("s01.keyframe", [transient.clone(), transient])
    });
    w.run();
    assert_eq!(w.status(), JobStatus::Succeeded);
    let t = timeline_of(&w.journal, w.now);
    assert_well_formed(&t);
    let s = line(&t, "s01.keyframe");
    let failures: Vec<_> = s
        .events
        .iter()
        .filter(|e| e.kind == TimelineEventKind::AttemptFailed)
        .collect();
    assert_eq!(failures.len(), 2, "{:?}", s.events);
    assert!(failures[0].detail.as_deref().unwrap().contains("502"));
    let backoffs: Vec<_> = s
        .spans
        .iter()
        .filter(|p| p.phase == TimelinePhase::BackingOff)
        .collect();
    assert_eq!(backoffs.len(), 2);
    // The third attempt is the one that ran.
    let running: Vec<_> = s
        .spans
        .iter()
        .filter(|p| p.phase == TimelinePhase::Running)
        .map(|p| p.attempt.unwrap().0)
        .collect();
    assert_eq!(running, vec![3]);
}

#[test]
fn a_running_render_has_open_spans_and_no_end_and_support_actions_appear_as_events() {
    let mut w = World::with(created(small_brief(2), 42, false), |f| {
        f.fault_stage("s01.keyframe", [Fault::Silent])
    });
    w.run_until(|w| running(w, "s01.keyframe"));
    w.act(
        SupportAction::RetryStage {
            stage: StageId("s01.keyframe".into()),
        },
        "stuck for ten minutes",
    )
    .unwrap();
    let t = timeline_of(&w.journal, w.now);
    assert_well_formed(&t);
    assert_eq!(t.ended_at, None);
    let s = line(&t, "s01.keyframe");
    let support = s
        .events
        .iter()
        .find(|e| e.kind == TimelineEventKind::Support)
        .expect("the retry is on the stage's row");
    assert!(
        support
            .detail
            .as_deref()
            .unwrap()
            .contains("stuck for ten minutes")
    );
    assert!(support.detail.as_deref().unwrap().contains("retry_stage"));
    // The fresh attempt is waiting or in flight: its span is open.
    assert!(s.spans.last().unwrap().to.is_none());
    assert!(
        t.stages
            .iter()
            .all(|s| s.status != "done" || s.spans.last().unwrap().to.is_some())
    );
}

#[test]
fn reroute_options_are_the_models_the_reroute_check_accepts() {
    let mut w = World::with(created(small_brief(2), 42, false), |f| {
        f.fault_stage("s01.motion", [Fault::Silent])
    });
    w.run_until(|w| running(w, "s01.motion"));
    let stage = StageId("s01.motion".into());
    let options = w.job.reroute_options(w.now, &stage);
    assert!(!options.is_empty());
    for model in &w.job.spec().registry.models {
        let accepted = w
            .job
            .clone()
            .handle(
                w.now,
                Input::Support {
                    by: "sam".into(),
                    reason: "try".into(),
                    action: SupportAction::Reroute {
                        stage: stage.clone(),
                        model: model.id.clone(),
                    },
                },
            )
            .is_ok();
        assert_eq!(options.contains(&model.id), accepted, "{}", model.id);
    }
    // A done stage cannot be rerouted: no options.
    let done = StageId("s01.keyframe".into());
    assert!(matches!(w.state("s01.keyframe"), StageState::Done { .. }));
    assert!(w.job.reroute_options(w.now, &done).is_empty());
}
