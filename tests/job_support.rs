//! Support actions: pause, resume, cancel, retry a stage, reroute it, restart from it, in the
//! statuses where they apply and where they are refused (a refused action changes nothing and is
//! not journaled: `World::refused` compares the job, its view, its pending changes and the
//! journal before and after).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;

use common::{Fault, World, created, small_brief};
use studio::brief::Platform;
use studio::ids::{Attempt, DeliveryId, ModelId, ProviderRef, StageId};
use studio::job::{
    AttemptOutcome, Effect, Input, JobError, JobStatus, StageInputs, StageState, SupportAction,
};
use studio::memory::MemoryContext;
use studio::providers::{Output, ProviderError, ProviderStatus};
use studio::time::Timestamp;

fn sid(s: &str) -> StageId {
    StageId(s.into())
}

fn retry(s: &str) -> SupportAction {
    SupportAction::RetryStage { stage: sid(s) }
}

fn reroute(s: &str, m: &str) -> SupportAction {
    SupportAction::Reroute {
        stage: sid(s),
        model: ModelId(m.into()),
    }
}

fn restart(s: &str) -> SupportAction {
    SupportAction::RestartFrom { stage: sid(s) }
}

fn accepted(stage: &str, attempt: u32, r: &str) -> Input {
    Input::SubmitAccepted {
        stage: sid(stage),
        attempt: Attempt(attempt),
        provider_ref: ProviderRef(r.into()),
    }
}

fn succeeded(stage: &str, attempt: u32, dlv: &str) -> Input {
    Input::ProviderUpdate {
        stage: sid(stage),
        attempt: Attempt(attempt),
        status: ProviderStatus::Succeeded {
            outputs: vec![Output::Url {
                url: format!("https://provider.example/{stage}/{attempt}.mp4"),
                content_type: None,
                expires_at: None,
            }],
        },
        delivery_id: Some(DeliveryId(dlv.into())),
    }
}

fn stored(stage: &str, attempt: u32) -> Input {
    Input::ArtifactStored {
        stage: sid(stage),
        attempt: Attempt(attempt),
        key: format!("renders/rnd_test/{stage}/{attempt}/output"),
        content_type: "video/mp4".into(),
        bytes: 10,
    }
}

fn invalid(err: &JobError) -> (&'static str, &str) {
    match err {
        JobError::InvalidAction { action, reason } => (action, reason.as_str()),
        other => panic!("expected InvalidAction, got {other:?}"),
    }
}

fn statuses(w: &World) -> Vec<JobStatus> {
    w.job.view().history.iter().map(|h| h.status).collect()
}

fn submits_since(w: &World, t: Timestamp) -> Vec<(StageId, Attempt, ModelId)> {
    w.effects
        .iter()
        .filter(|(at, _)| *at >= t)
        .filter_map(|(_, e)| match e {
            Effect::Submit {
                stage,
                attempt,
                model,
                ..
            } => Some((stage.clone(), *attempt, model.clone())),
            _ => None,
        })
        .collect()
}

/// Whether a stage is in a state (false before the plan exists)
fn is(w: &World, s: &str, pred: fn(&StageState) -> bool) -> bool {
    w.job.stage(&sid(s)).is_some_and(|r| pred(&r.state))
}

fn running(w: &World, s: &str) -> bool {
    is(w, s, |st| matches!(st, StageState::Running { .. }))
}

fn ready(w: &World, s: &str) -> bool {
    is(w, s, |st| matches!(st, StageState::Ready { .. }))
}

/// A manual world with `s01.keyframe` done and `s01.motion` accepted as `op-1` (attempt 1)
fn motion_running() -> World {
    let mut w = World::manual(small_brief(2));
    w.poke(Input::MemoryContext {
        context: MemoryContext::default(),
    });
    w.poke(accepted("s01.keyframe", 1, "kf-1"));
    w.poke(succeeded("s01.keyframe", 1, "d-kf"));
    w.poke(stored("s01.keyframe", 1));
    assert!(matches!(
        w.state("s01.motion"),
        StageState::Submitting { .. }
    ));
    w.poke(accepted("s01.motion", 1, "op-1"));
    w
}

#[test]
fn pause_stops_new_submissions_while_in_flight_work_is_collected_and_resume_finishes() {
    let mut w = World::new(small_brief(3));
    assert!(w.run_until(|w| running(w, "s01.keyframe")));
    let fx = w.act(SupportAction::Pause, "provider incident").unwrap();
    assert!(!fx.iter().any(|e| matches!(e, Effect::Submit { .. })));
    assert_eq!(w.status(), JobStatus::Paused);
    assert_eq!(w.job.view().paused_from, Some(JobStatus::Rendering));
    let submitted = w.submits().len();
    // Everything in flight finishes and is stored; nothing new starts.
    w.run();
    assert_eq!(w.status(), JobStatus::Paused);
    assert_eq!(w.submits().len(), submitted, "submitted while paused");
    for k in ["s01.keyframe", "s02.keyframe", "s03.keyframe"] {
        assert!(matches!(w.state(k), StageState::Done { .. }), "{k}");
    }
    for m in ["s01.motion", "s02.motion", "s03.motion"] {
        assert!(matches!(w.state(m), StageState::Ready { .. }), "{m} waits");
    }
    assert_eq!(w.job.next_deadline(), None, "nothing left to wake for");

    let fx = w.act(SupportAction::Resume, "incident over").unwrap();
    assert_eq!(w.status(), JobStatus::Rendering);
    let motions = fx
        .iter()
        .filter(|e| matches!(e, Effect::Submit { .. }))
        .count();
    assert_eq!(motions, 3, "the waiting stages go at once");
    w.run();
    assert_eq!(w.status(), JobStatus::Succeeded);
    assert_eq!(
        statuses(&w),
        vec![
            JobStatus::Queued,
            JobStatus::Planning,
            JobStatus::Rendering,
            JobStatus::Paused,
            JobStatus::Rendering,
            JobStatus::Assembling,
            JobStatus::Succeeded,
        ]
    );
    assert_eq!(w.submits().len(), 7, "nothing was submitted twice");
    w.assert_replays();
}

#[test]
fn polls_and_timeouts_keep_working_while_paused() {
    // veo-3 is polled; a silent task times out while the job is paused.
    let mut w = World::with(created(small_brief(1), 42, false), |f| {
        f.fault_stage("s01.motion", [Fault::Silent])
    });
    assert!(w.run_until(|w| running(w, "s01.motion")));
    w.act(SupportAction::Pause, "watching veo").unwrap();
    let paused_at = w.now;
    w.run();
    let after: Vec<&Effect> = w.effects_since(paused_at);
    assert!(after.iter().any(|e| matches!(e, Effect::Poll { .. })));
    assert!(
        after.iter().any(|e| matches!(
            e,
            Effect::CancelTask {
                attempt: Attempt(1),
                ..
            }
        )),
        "the attempt timed out"
    );
    assert!(!after.iter().any(|e| matches!(e, Effect::Submit { .. })));
    assert!(matches!(w.state("s01.motion"), StageState::Ready { .. }));
    assert!(matches!(
        &w.stage("s01.motion").attempts[0].outcome,
        AttemptOutcome::Failed { reason } if reason.contains("timed out")
    ));
    let fx = w.act(SupportAction::Resume, "veo recovered").unwrap();
    assert!(fx.iter().any(|e| matches!(
        e,
        Effect::Submit {
            attempt: Attempt(2),
            ..
        }
    )));
    w.run();
    assert_eq!(w.status(), JobStatus::Succeeded);
    w.assert_replays();
}

#[test]
fn a_job_paused_while_planning_plans_but_submits_nothing() {
    let mut w = World::new(small_brief(2));
    assert_eq!(w.status(), JobStatus::Planning);
    w.act(SupportAction::Pause, "hold until the creator confirms")
        .unwrap();
    w.run();
    assert_eq!(w.status(), JobStatus::Paused);
    assert_eq!(w.job.view().paused_from, Some(JobStatus::Rendering));
    assert!(!w.job.stages().is_empty(), "planned");
    assert!(w.submits().is_empty());
    w.act(SupportAction::Resume, "confirmed").unwrap();
    assert_eq!(w.status(), JobStatus::Rendering);
    w.run();
    assert_eq!(w.status(), JobStatus::Succeeded);
    w.assert_replays();
}

#[test]
fn a_paused_job_whose_assembly_was_in_flight_still_succeeds() {
    let mut w = World::new(small_brief(1));
    assert!(w.run_until(|w| running(w, "assembly")));
    w.act(SupportAction::Pause, "late pause").unwrap();
    w.run();
    assert_eq!(w.status(), JobStatus::Succeeded);
    assert_eq!(w.job.view().paused_from, None);
    let tail: Vec<JobStatus> = statuses(&w).into_iter().rev().take(3).collect();
    assert_eq!(
        tail,
        vec![
            JobStatus::Succeeded,
            JobStatus::Paused,
            JobStatus::Assembling
        ]
    );
    w.assert_replays();
}

#[test]
fn pause_and_resume_are_refused_where_they_do_not_apply() {
    let mut w = World::new(small_brief(1));
    let err = w.refused(SupportAction::Resume, "go");
    assert_eq!(
        invalid(&err),
        ("resume", "the job is not paused (it is planning)")
    );
    w.act(SupportAction::Pause, "hold").unwrap();
    let err = w.refused(SupportAction::Pause, "hold again");
    assert_eq!(invalid(&err).1, "the job is already paused");
    w.act(SupportAction::Resume, "go").unwrap();
    w.run();
    assert_eq!(w.status(), JobStatus::Succeeded);
    for action in [
        SupportAction::Pause,
        SupportAction::Resume,
        SupportAction::Cancel,
    ] {
        w.refused(action, "too late");
    }
    let err = w.refused(SupportAction::Cancel, "too late");
    assert_eq!(invalid(&err).1, "the job already ended (succeeded)");
}

#[test]
fn a_reason_is_required() {
    let mut w = World::new(small_brief(1));
    for reason in ["", "   ", "\n\t"] {
        let err = w.refused(SupportAction::Pause, reason);
        assert_eq!(invalid(&err), ("pause", "a reason is required"));
    }
    assert!(w.job.header().actions.is_empty());
}

#[test]
fn retry_fences_out_a_running_attempt_and_starts_a_fresh_one_on_the_same_model() {
    let mut w = motion_running();
    let fx = w
        .act(retry("s01.motion"), "stuck in veo's queue for an hour")
        .unwrap();
    match &fx[..] {
        [
            Effect::CancelTask {
                stage,
                attempt: Attempt(1),
                provider_ref,
                ..
            },
            Effect::Submit {
                stage: again,
                attempt: Attempt(2),
                model,
                ..
            },
        ] => {
            assert_eq!(stage.as_str(), "s01.motion");
            assert_eq!(provider_ref.as_str(), "op-1");
            assert_eq!(again.as_str(), "s01.motion");
            assert_eq!(model.as_str(), "veo-3");
        }
        other => panic!("unexpected effects {other:?}"),
    }
    assert!(matches!(
        &w.stage("s01.motion").attempts[0].outcome,
        AttemptOutcome::Abandoned { reason } if reason == "retried by support: stuck in veo's queue for an hour"
    ));
    // Whatever the old attempt still reports changes nothing.
    w.assert_noop(succeeded("s01.motion", 1, "late-1"));
    w.assert_noop(accepted("s01.motion", 1, "op-1"));
    w.assert_noop(stored("s01.motion", 1));
    w.poke(accepted("s01.motion", 2, "op-2"));
    w.poke(succeeded("s01.motion", 2, "d-2"));
    w.poke(stored("s01.motion", 2));
    assert_eq!(
        w.stage("s01.motion").primary_key(),
        Some("renders/rnd_test/s01.motion/2/output")
    );
    w.assert_replays();
}

#[test]
fn retry_cuts_a_backoff_short() {
    let mut w = World::with(created(small_brief(2), 42, false), |f| {
        f.fault_stage(
            "s01.keyframe",
            [Fault::SubmitError(ProviderError::Transient {
                reason: "502".into(),
            })],
        )
    });
    assert!(w.run_until(|w| is(w, "s01.keyframe", |s| matches!(
        s,
        StageState::BackingOff { .. }
    ))));
    let StageState::BackingOff { until, .. } = w.state("s01.keyframe").clone() else {
        unreachable!()
    };
    let now = w.now;
    assert!(until > now);
    w.act(retry("s01.keyframe"), "flux is back").unwrap();
    assert_eq!(
        w.submits_of("s01.keyframe").last().map(|s| (s.0, s.1)),
        Some((now, 2))
    );
    assert_eq!(w.stage("s01.keyframe").failures_on_model, 0);
    w.run();
    assert_eq!(w.status(), JobStatus::Succeeded);
    w.assert_replays();
}

#[test]
fn retry_is_refused_for_stages_that_are_not_in_flight_backing_off_or_failed() {
    let mut w = World::new(small_brief(2));
    assert!(w.run_until(|w| running(w, "s01.keyframe")));
    let err = w.refused(retry("s01.motion"), "try it");
    assert_eq!(
        invalid(&err),
        ("retry_stage", "s01.motion is waiting for its dependencies")
    );
    let err = w.refused(retry("s09.keyframe"), "try it");
    assert!(
        matches!(err, JobError::UnknownStage { stage, .. } if stage.as_str() == "s09.keyframe")
    );
    // A ready stage waiting for its turn (the job is paused, so it waits).
    w.act(SupportAction::Pause, "hold").unwrap();
    assert!(w.run_until(|w| ready(w, "s01.motion")));
    let err = w.refused(retry("s01.motion"), "try it");
    assert_eq!(
        invalid(&err).1,
        "s01.motion is already waiting to be submitted on veo-3"
    );
    let err = w.refused(restart("s01.motion"), "redo it");
    assert_eq!(
        invalid(&err).1,
        "s01.motion has not been submitted yet: nothing to redo"
    );
    w.act(SupportAction::Resume, "go").unwrap();
    w.run();
    let err = w.refused(retry("s01.keyframe"), "again");
    assert_eq!(
        invalid(&err).1,
        "s01.keyframe is done: use restart_from to redo it"
    );
}

#[test]
fn reroute_puts_the_model_first_and_the_old_attempt_is_fenced_out() {
    let mut w = motion_running();
    assert_eq!(w.candidates("s01.motion")[0].as_str(), "veo-3");
    let fx = w
        .act(reroute("s01.motion", "pika-2.2"), "veo is degraded")
        .unwrap();
    match &fx[..] {
        [
            Effect::CancelTask {
                attempt: Attempt(1),
                model: old,
                ..
            },
            Effect::Submit {
                attempt: Attempt(2),
                model,
                ..
            },
        ] => {
            assert_eq!(old.as_str(), "veo-3");
            assert_eq!(model.as_str(), "pika-2.2");
        }
        other => panic!("unexpected effects {other:?}"),
    }
    let d = &w.stage("s01.motion").decision;
    assert_eq!(d.candidates[0].model.as_str(), "pika-2.2");
    assert!(d.candidates.iter().any(|c| c.model.as_str() == "veo-3"));
    assert_eq!(d.reason, "rerouted by support: veo is degraded");
    assert!(
        d.notes
            .iter()
            .any(|n| n.starts_with("routing before the override"))
    );
    // The old attempt's poll answer and callback change nothing.
    w.assert_noop(Input::PollFailed {
        stage: sid("s01.motion"),
        attempt: Attempt(1),
        error: ProviderError::Rejected {
            reason: "cancelled".into(),
        },
    });
    w.assert_noop(succeeded("s01.motion", 1, "late"));
    w.poke(accepted("s01.motion", 2, "pk-2"));
    w.poke(succeeded("s01.motion", 2, "d-2"));
    w.poke(stored("s01.motion", 2));
    let view = w.job.view();
    let stage = view
        .stages
        .iter()
        .find(|s| s.id.as_str() == "s01.motion")
        .unwrap();
    assert_eq!(stage.model.as_ref().map(ModelId::as_str), Some("pika-2.2"));
    assert_eq!(stage.status, "done");
    w.assert_replays();
}

#[test]
fn reroute_of_a_waiting_stage_takes_effect_when_it_is_submitted() {
    let mut w = World::new(small_brief(2));
    assert!(w.run_until(|w| running(w, "s01.keyframe")));
    // Blocked: it stays blocked, and starts on the new model once its keyframe is done.
    let fx = w
        .act(
            reroute("s01.motion", "seedance-1-pro"),
            "cheaper for b-roll",
        )
        .unwrap();
    assert!(fx.is_empty(), "{fx:?}");
    assert!(matches!(w.state("s01.motion"), StageState::Blocked));
    w.act(SupportAction::Pause, "hold").unwrap();
    assert!(w.run_until(|w| ready(w, "s02.motion") && ready(w, "s01.motion")));
    // Ready while paused: it moves to the new model's queue, nothing is submitted.
    let fx = w
        .act(reroute("s02.motion", "pika-2.2"), "kling quota")
        .unwrap();
    assert!(fx.is_empty(), "{fx:?}");
    assert!(
        matches!(w.state("s02.motion"), StageState::Ready { model, .. } if model.as_str() == "pika-2.2")
    );
    let resumed = w.now;
    w.act(SupportAction::Resume, "go").unwrap();
    w.run();
    assert_eq!(w.status(), JobStatus::Succeeded);
    let models: BTreeMap<String, String> = submits_since(&w, resumed)
        .into_iter()
        .map(|(s, _, m)| (s.0, m.0))
        .collect();
    assert_eq!(models["s01.motion"], "seedance-1-pro");
    assert_eq!(models["s02.motion"], "pika-2.2");
    w.assert_replays();
}

#[test]
fn reroute_is_refused_for_a_model_that_cannot_run_the_stage() {
    let mut w = World::new(small_brief(2));
    assert!(w.run_until(|w| running(w, "s01.keyframe")));
    let cases = [
        ("nope-1", "nope-1 is not in registry v"),
        (
            "flux-1.1-pro",
            "flux-1.1-pro cannot run s01.motion: it has capability Image, the stage needs Video",
        ),
        // s01 is 6 s long
        ("wan-2.2", "wan-2.2 cannot make 6s in one call (max 5s)"),
    ];
    for (model, why) in cases {
        let err = w.refused(reroute("s01.motion", model), "try it");
        let (action, reason) = invalid(&err);
        assert_eq!(action, "reroute");
        assert!(reason.starts_with(why), "{reason}");
    }
    // A square master: veo-3 does not render 1:1.
    let mut brief = small_brief(1);
    brief.platforms = vec![Platform::X];
    let mut sq = World::new(brief);
    assert!(sq.run_until(|w| running(w, "s01.keyframe")));
    let err = sq.refused(reroute("s01.motion", "veo-3"), "try it");
    assert_eq!(invalid(&err).1, "veo-3 does not render 1:1");
}

#[test]
fn reroute_is_refused_when_the_budget_cannot_cover_the_model() {
    let mut brief = small_brief(2);
    brief.budget_usd = 1.5;
    let mut w = World::new(brief);
    assert!(w.run_until(|w| running(w, "s01.keyframe")));
    let err = w.refused(reroute("s01.motion", "veo-3"), "best quality");
    assert!(
        invalid(&err)
            .1
            .starts_with("over budget: s01.motion needs $2.40"),
        "{err}"
    );
    w.act(reroute("s01.motion", "pika-2.2"), "within budget")
        .unwrap();
    w.run();
    assert_eq!(w.status(), JobStatus::Succeeded);
}

#[test]
fn restart_from_a_finished_job_redoes_exactly_the_stage_and_its_dependents() {
    let mut w = World::new(small_brief(3));
    w.run();
    assert_eq!(w.status(), JobStatus::Succeeded);
    let keys_before: BTreeMap<String, String> = w
        .job
        .stages()
        .iter()
        .map(|r| (r.spec.id.0.clone(), r.primary_key().unwrap().to_owned()))
        .collect();
    let spent_before = w.job.header().spent;
    let t = w.now;
    w.act(restart("s02.keyframe"), "wrong coat in the close-up")
        .unwrap();
    assert_eq!(w.status(), JobStatus::Rendering);
    assert!(matches!(
        w.state("s02.keyframe"),
        StageState::Submitting { .. }
    ));
    assert!(matches!(w.state("s02.motion"), StageState::Blocked));
    assert!(matches!(w.state("assembly"), StageState::Blocked));
    w.run();
    assert_eq!(w.status(), JobStatus::Succeeded);
    let redone: Vec<(String, u32)> = submits_since(&w, t)
        .into_iter()
        .map(|(s, a, _)| (s.0, a.0))
        .collect();
    assert_eq!(
        redone,
        vec![
            ("s02.keyframe".into(), 2),
            ("s02.motion".into(), 2),
            ("assembly".into(), 2)
        ]
    );
    for row in w.job.stages() {
        let id = row.spec.id.as_str();
        let key = row.primary_key().unwrap();
        if ["s02.keyframe", "s02.motion", "assembly"].contains(&id) {
            assert_ne!(key, keys_before[id]);
            assert!(key.contains("/2/"), "{key}");
        } else {
            assert_eq!(key, keys_before[id], "{id} was not redone");
        }
    }
    // The new motion starts from the new keyframe.
    let image_key = w.effects_since(t).into_iter().find_map(|e| match e {
        Effect::Submit {
            inputs: StageInputs::Video { image_key, .. },
            ..
        } => Some(image_key.clone()),
        _ => None,
    });
    assert_eq!(
        image_key.as_deref(),
        Some("renders/rnd_test/s02.keyframe/2/output")
    );
    assert_eq!(
        w.job.view().master_key.as_deref(),
        Some("renders/rnd_test/assembly/2/master")
    );
    assert!(w.job.header().spent > spent_before, "the redo is paid for");
    let tail: Vec<JobStatus> = statuses(&w).into_iter().rev().take(4).collect();
    assert_eq!(
        tail,
        vec![
            JobStatus::Succeeded,
            JobStatus::Assembling,
            JobStatus::Rendering,
            JobStatus::Succeeded
        ]
    );
    w.assert_replays();
}

#[test]
fn restart_from_the_assembly_goes_straight_back_to_assembling() {
    let mut w = World::new(small_brief(1));
    w.run();
    w.act(restart("assembly"), "badge missing").unwrap();
    assert_eq!(w.status(), JobStatus::Assembling);
    w.run();
    assert_eq!(w.status(), JobStatus::Succeeded);
    assert_eq!(w.submits_of("assembly").len(), 2);
    assert_eq!(w.submits().len(), 4, "only the assembly was redone");
}

#[test]
fn restart_from_a_stage_whose_dependent_is_in_flight_fences_the_dependent_out() {
    let mut w = World::new(small_brief(1));
    assert!(w.run_until(|w| running(w, "s01.motion")));
    let fx = w
        .act(restart("s01.keyframe"), "keyframe has artefacts")
        .unwrap();
    assert!(fx.iter().any(|e| matches!(
        e,
        Effect::CancelTask { stage, attempt: Attempt(1), .. } if stage.as_str() == "s01.motion"
    )));
    assert!(fx.iter().any(|e| matches!(
        e,
        Effect::Submit { stage, attempt: Attempt(2), .. } if stage.as_str() == "s01.keyframe"
    )));
    assert!(matches!(w.state("s01.motion"), StageState::Blocked));
    assert!(matches!(
        w.stage("s01.motion").attempts[0].outcome,
        AttemptOutcome::Abandoned { .. }
    ));
    w.run();
    assert_eq!(w.status(), JobStatus::Succeeded);
    assert_eq!(
        w.stage("s01.motion").primary_key(),
        Some("renders/rnd_test/s01.motion/2/output")
    );
    w.assert_replays();
}

#[test]
fn a_failed_job_reopens_when_its_failed_stage_is_retried() {
    // flux is the keyframes' only model: a moderation refusal fails the job.
    let mut w = World::with(created(small_brief(2), 42, false), |f| {
        f.fault_stage("s01.keyframe", [Fault::Moderate])
    });
    w.run();
    assert_eq!(w.status(), JobStatus::Failed);
    let failure = w.job.header().failure.clone().unwrap();
    assert!(failure.starts_with("s01.keyframe"), "{failure}");
    // Actions that would leave the failed stage failed are refused.
    let err = w.refused(restart("s02.keyframe"), "redo");
    assert!(invalid(&err).1.starts_with("the job failed"), "{err}");
    let err = w.refused(reroute("s01.motion", "pika-2.2"), "cheaper");
    assert!(invalid(&err).1.starts_with("the job failed"), "{err}");
    w.refused(SupportAction::Pause, "hold");
    w.refused(SupportAction::Cancel, "stop");

    w.act(
        retry("s01.keyframe"),
        "moderation false positive, cleared with flux",
    )
    .unwrap();
    assert_eq!(w.status(), JobStatus::Rendering);
    assert_eq!(w.job.header().failure, None);
    assert!(
        w.job
            .view()
            .notes
            .iter()
            .any(|n| n.contains("reopened after it failed"))
    );
    assert!(w.job.stages().iter().all(|r| !matches!(
        r.state,
        StageState::Failed { .. } | StageState::Cancelled { .. }
    )));
    w.run();
    assert_eq!(w.status(), JobStatus::Succeeded);
    let tail: Vec<JobStatus> = statuses(&w).into_iter().rev().take(4).collect();
    assert_eq!(
        tail,
        vec![
            JobStatus::Succeeded,
            JobStatus::Assembling,
            JobStatus::Rendering,
            JobStatus::Failed
        ]
    );
    w.assert_replays();
}

#[test]
fn a_failed_job_reopens_when_restarted_from_its_failed_stage() {
    let mut w = World::with(created(small_brief(2), 42, false), |f| {
        f.fault_stage("s02.keyframe", [Fault::Moderate])
    });
    w.run();
    assert_eq!(w.status(), JobStatus::Failed);
    w.act(restart("s02.keyframe"), "prompt fixed upstream")
        .unwrap();
    assert_eq!(w.status(), JobStatus::Rendering);
    w.run();
    assert_eq!(w.status(), JobStatus::Succeeded);
    w.assert_replays();
}

#[test]
fn support_cancel_acts_as_the_apps_and_a_cancelled_job_refuses_every_action() {
    let mut w = World::new(small_brief(2));
    assert!(w.run_until(|w| running(w, "s01.keyframe")));
    let fx = w
        .act(SupportAction::Cancel, "creator asked by email")
        .unwrap();
    assert_eq!(w.status(), JobStatus::Cancelled);
    assert!(fx.iter().any(|e| matches!(e, Effect::CancelTask { .. })));
    assert!(fx.iter().any(|e| matches!(e, Effect::EnrichMemory { .. })));
    assert_eq!(w.job.view().cancelled_by.as_deref(), Some("sam@support"));
    for action in [
        SupportAction::Pause,
        SupportAction::Resume,
        SupportAction::Cancel,
        retry("s01.keyframe"),
        reroute("s01.motion", "pika-2.2"),
        restart("s01.keyframe"),
        restart("no-such-stage"),
    ] {
        let err = w.refused(action, "anything");
        assert_eq!(invalid(&err).1, "the job was cancelled");
    }
    w.assert_replays();
}

#[test]
fn actions_show_in_the_view_with_who_did_what_and_why() {
    let mut w = World::new(small_brief(1));
    assert!(w.run_until(|w| running(w, "s01.keyframe")));
    let t = w.now;
    w.act(SupportAction::Pause, "  checking the cast lock  ")
        .unwrap();
    w.refused(SupportAction::Pause, "twice");
    w.act(SupportAction::Resume, "lock is fine").unwrap();
    w.run();
    let view = w.job.view();
    assert_eq!(view.actions.len(), 2, "refused actions are not recorded");
    assert_eq!(view.actions[0].at, t);
    assert_eq!(view.actions[0].by, "sam@support");
    assert_eq!(view.actions[0].reason, "checking the cast lock");
    assert_eq!(view.actions[0].action, SupportAction::Pause);
    assert_eq!(view.actions[1].action, SupportAction::Resume);
    let json = serde_json::to_value(&view).unwrap();
    assert_eq!(json["actions"][0]["action"]["action"], "pause");
    assert_eq!(json["actions"][1]["reason"], "lock is fine");
    assert_eq!(json["history"][3]["status"], "paused");
    // The journal has them with the support actor.
    let journaled = w
        .journal
        .iter()
        .filter(|e| matches!(e.input, Input::Support { .. }))
        .count();
    assert_eq!(journaled, 2);
}

#[test]
fn support_inputs_have_a_stable_wire_form() {
    let input = Input::Support {
        by: "sam@support".into(),
        reason: "veo is degraded".into(),
        action: reroute("s01.motion", "pika-2.2"),
    };
    let json = serde_json::to_value(&input).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "type": "support",
            "by": "sam@support",
            "reason": "veo is degraded",
            "action": {"action": "reroute", "stage": "s01.motion", "model": "pika-2.2"}
        })
    );
    let back: Input = serde_json::from_value(json).unwrap();
    assert_eq!(back, input);
    let restart: SupportAction =
        serde_json::from_str(r#"{"action":"restart_from","stage":"s02.keyframe"}"#).unwrap();
    assert_eq!(restart, self::restart("s02.keyframe"));
}

#[test]
fn header_rows_round_trip_through_json_and_rows_from_before_support_still_load() {
    let mut w = World::new(common::webhook_brief(1));
    assert!(w.run_until(|w| running(w, "s01.keyframe")));
    w.act(SupportAction::Pause, "hold").unwrap();
    let header = w.job.header().clone();
    assert!(!header.actions.is_empty() && !header.outbox.is_empty());
    let json = serde_json::to_value(&header).unwrap();
    assert_eq!(json["paused_from"], "rendering");
    let back: studio::job::JobHeader = serde_json::from_value(json).unwrap();
    assert_eq!(back, header);
    // A row written before these fields existed (or with nothing in them) loads with defaults,
    // and an untouched header does not write them at all.
    let mut plain = World::new(small_brief(1));
    plain.run();
    let json = serde_json::to_value(plain.job.header()).unwrap();
    for field in ["paused_from", "actions", "outbox", "notifications_issued"] {
        assert!(json.get(field).is_none(), "{field} written while empty");
    }
    let back: studio::job::JobHeader = serde_json::from_value(json).unwrap();
    assert_eq!(&back, plain.job.header());
}
