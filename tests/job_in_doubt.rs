//! Submits in doubt after a crash: a job reloaded with a submit in flight reconciles it (a
//! callback within the grace, or the provider's history) before it would submit again.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Fault, World, created, example_brief};
use studio::brief::Brief;
use studio::ids::{ModelId, StageId};
use studio::job::{
    COMPLETION_GRACE, Effect, InDoubt, Input, JobStatus, SUBMIT_ACK_TIMEOUT, StageState,
    submit_ack_timeout,
};
use studio::journal::Actor;
use studio::plan::StageKind;
use studio::providers::ProviderStatus;
use studio::time::Millis;

const KEYFRAME: &str = "s01.keyframe";

/// One shot with its keyframe (FLUX at BFL, which calls back only with the result) and the
/// voiceover (ElevenLabs, synchronous, with a history)
fn brief() -> Brief {
    let mut brief = example_brief();
    brief.shots.truncate(1);
    brief.score = None;
    if let Some(p) = brief.pacing.as_mut() {
        p.target_duration_s = brief.shots.iter().map(|s| s.duration_s).sum();
    }
    brief
}

/// The voiceover stage, once the job is planned
fn voiceover(w: &mut World) -> StageId {
    assert!(w.run_until(|w| !w.job.stages().is_empty()), "never planned");
    w.job
        .stages()
        .iter()
        .find(|r| r.spec.kind == StageKind::Voiceover)
        .map(|r| r.spec.id.clone())
        .expect("a voiceover stage")
}

/// Runs until `stage`'s first submit went out, then "crashes": the runtime dies with the call
/// in flight, so its answer (for a synchronous provider, the result itself) is lost; the job is
/// loaded from what was stored and told it was reloaded
fn crash_inside_submit(w: &mut World, stage: &StageId, synchronous: bool) {
    assert!(
        w.run_until(|w| w.fake.submit_calls.iter().any(|c| &c.0 == stage)),
        "{stage} was never submitted"
    );
    if synchronous {
        w.inbox.retain(|_, (_, input)| input.stage() != Some(stage));
    }
    w.advance(Millis(1_000));
    w.job = w.store.load();
    assert!(w.job.has_submits_in_flight());
    w.deliver(Actor::System, Input::Reloaded).expect("reloaded");
    assert!(!w.job.has_submits_in_flight());
}

fn doubt(w: &World, stage: &StageId) -> Option<InDoubt> {
    match &w.job.stage(stage).expect("stage").state {
        StageState::Submitting { doubt, .. } => *doubt,
        other => panic!("{stage} is {}", other.name()),
    }
}

#[test]
fn a_crash_inside_a_speech_submit_is_found_in_the_history_and_not_submitted_again() {
    let model = ModelId("eleven-multilingual-v2".into());
    let mut w = World::with(created(brief(), 42, false), |f| {
        f.fault_model(&model, [Fault::Crashed]);
    });
    let vo = voiceover(&mut w);
    crash_inside_submit(&mut w, &vo, true);
    assert_eq!(doubt(&w, &vo), Some(InDoubt::LookUp));
    w.run();
    assert_eq!(w.status(), JobStatus::Succeeded);
    assert_eq!(w.submits_of(vo.as_str()).len(), 1, "no second submit");
    assert_eq!(w.fake.lookups.len(), 1);
    // The lookup waited for the submit's own deadline: the call had ended at the provider.
    let submitted = w.submits_of(vo.as_str())[0].0;
    let looked_up = w
        .effects
        .iter()
        .find(|(_, e)| matches!(e, Effect::LookUp { .. }))
        .map(|(t, _)| *t)
        .expect("a lookup");
    // ElevenLabs answers with the audio itself: the call is given the generation's time.
    let ack = submit_ack_timeout(w.job.spec().registry.get(&model));
    assert!(ack > SUBMIT_ACK_TIMEOUT, "{ack:?}");
    assert_eq!(looked_up.since(submitted), ack);
    let row = w.job.stage(&vo).expect("row");
    assert_eq!(row.attempts.len(), 1);
    assert!(row.attempts[0].provider_ref.is_some(), "the task adopted");
    w.assert_replays();
}

#[test]
fn a_lookup_that_finds_nothing_submits_again_with_the_same_key() {
    let model = ModelId("eleven-multilingual-v2".into());
    let mut w = World::with(created(brief(), 42, false), |f| {
        f.fault_model(&model, [Fault::Lost]);
    });
    let vo = voiceover(&mut w);
    crash_inside_submit(&mut w, &vo, true);
    w.run();
    assert_eq!(w.status(), JobStatus::Succeeded);
    let submits = w.submits_of(vo.as_str());
    assert_eq!(submits.len(), 2, "{submits:?}");
    assert_eq!(submits[0].3, submits[1].3, "same idempotency key");
    assert_eq!(w.fake.lookups.len(), 1);
    // Submitted again as soon as the lookup came back empty.
    let ack = submit_ack_timeout(w.job.spec().registry.get(&model));
    assert_eq!(submits[1].0.since(submits[0].0), Millis(ack.0 + 200));
    w.assert_replays();
}

#[test]
fn a_callback_within_the_grace_adopts_the_task() {
    let mut w = World::with(created(brief(), 42, false), |f| {
        f.fault_stage(KEYFRAME, [Fault::Crashed]);
    });
    let kf = StageId(KEYFRAME.into());
    crash_inside_submit(&mut w, &kf, false);
    assert_eq!(doubt(&w, &kf), Some(InDoubt::AwaitingCallback));
    // The provider reports the task it holds on the attempt's callback URL.
    let attempt = w.submits_of(KEYFRAME)[0].1;
    w.deliver(
        Actor::System,
        Input::ProviderUpdate {
            stage: kf.clone(),
            attempt: studio::ids::Attempt(attempt),
            status: ProviderStatus::Running,
            delivery_id: None,
        },
    )
    .expect("callback");
    assert_eq!(doubt(&w, &kf), Some(InDoubt::Adopted));
    w.run();
    assert_eq!(w.status(), JobStatus::Succeeded);
    assert_eq!(w.submits_of(KEYFRAME).len(), 1, "no second submit");
    assert!(w.fake.lookups.is_empty());
    w.assert_replays();
}

#[test]
fn no_callback_within_the_grace_submits_again() {
    let mut w = World::with(created(brief(), 42, false), |f| {
        f.fault_stage(KEYFRAME, [Fault::Lost]);
    });
    let kf = StageId(KEYFRAME.into());
    crash_inside_submit(&mut w, &kf, false);
    let reloaded = w.now;
    w.run();
    assert_eq!(w.status(), JobStatus::Succeeded);
    let submits = w.submits_of(KEYFRAME);
    assert_eq!(submits.len(), 2, "{submits:?}");
    assert_eq!(submits[0].3, submits[1].3, "same idempotency key");
    assert_eq!(submits[1].0.since(reloaded), COMPLETION_GRACE);
    w.assert_replays();
}

#[test]
fn a_job_loaded_with_nothing_in_flight_has_nothing_in_doubt() {
    let mut w = World::new(brief());
    w.run();
    assert_eq!(w.status(), JobStatus::Succeeded);
    let job = w.store.load();
    assert!(!job.has_submits_in_flight());
}

/// A submit whose call timed out in the shell (a saturated runtime): the provider made the task
/// and calls back with its result (here before the shell gives up on the call, so the late
/// "unanswered" finds the stage past submitting and changes nothing). Either way the result is
/// adopted and no second task is asked for, where failing the attempt would have retried it.
#[test]
fn an_unanswered_submit_is_in_doubt_and_its_callback_adopts_the_task() {
    let mut w = World::with(created(brief(), 42, false), |f| {
        f.fault_stage(KEYFRAME, [Fault::Unanswered]);
    });
    let kf = StageId(KEYFRAME.into());
    w.run();
    assert_eq!(w.status(), JobStatus::Succeeded);
    let submits = w.submits_of(KEYFRAME);
    assert_eq!(submits.len(), 1, "no second task: {submits:?}");
    let row = w.job.stage(&kf).expect("row");
    assert_eq!(row.attempts.len(), 1, "no second attempt");
    w.assert_replays();
}

/// Without the callback (the task was never made), the unanswered submit is sent again with the
/// same attempt and idempotency key once the grace is over: a provider that honours the key can
/// never make two tasks of it, where a failed attempt's retry would carry a new key.
#[test]
fn an_unanswered_submit_without_a_callback_is_sent_again_with_the_same_key() {
    let mut w = World::with(created(brief(), 42, false), |f| {
        f.fault_stage(KEYFRAME, [Fault::Lost]);
    });
    let kf = StageId(KEYFRAME.into());
    assert!(w.run_until(|w| w.fake.submit_calls.iter().any(|c| c.0 == kf)));
    w.advance(Millis::from_secs(30));
    let attempt = w.submits_of(KEYFRAME)[0].1;
    w.deliver(
        Actor::System,
        Input::SubmitUnanswered {
            stage: kf.clone(),
            attempt: studio::ids::Attempt(attempt),
            reason: "POST timed out after 30s".into(),
        },
    )
    .expect("unanswered");
    assert_eq!(doubt(&w, &kf), Some(InDoubt::AwaitingCallback));
    w.run();
    assert_eq!(w.status(), JobStatus::Succeeded);
    let submits = w.submits_of(KEYFRAME);
    assert_eq!(submits.len(), 2, "{submits:?}");
    assert_eq!(submits[0].1, submits[1].1, "the same attempt");
    assert_eq!(submits[0].3, submits[1].3, "the same idempotency key");
    w.assert_replays();
}

#[test]
fn an_unanswered_submit_for_another_attempt_changes_nothing() {
    let mut w = World::new(brief());
    let kf = StageId(KEYFRAME.into());
    assert!(w.run_until(|w| w.fake.submit_calls.iter().any(|c| c.0 == kf)));
    let before = w.job.clone();
    let stale = Input::SubmitUnanswered {
        stage: kf.clone(),
        attempt: studio::ids::Attempt(7),
        reason: "late".into(),
    };
    w.job.handle(w.now, stale).expect("accepted as a no-op");
    assert!(w.job == before);
}
