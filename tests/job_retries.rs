//! Retries with backoff, Retry-After, fallback down the routing candidates, timeouts.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Fault, World, created, registry_of, small_brief};
use studio::ids::{Attempt, StageId};
use studio::job::{
    BACKOFF_BASE, Effect, JobStatus, MAX_FAILURES_PER_MODEL, StageState, attempt_timeout, backoff,
};
use studio::providers::ProviderError;
use studio::time::Millis;

fn transient() -> Fault {
    Fault::SubmitError(ProviderError::Transient {
        reason: "502 bad gateway".into(),
    })
}

fn failed() -> Fault {
    Fault::FailStatus {
        reason: "internal error".into(),
        retryable: true,
    }
}

#[test]
fn transient_failures_back_off_exponentially_with_seeded_jitter() {
    let mut w = World::with(created(small_brief(3), 42, false), |f| {
        f.fault_stage("s01.keyframe", [transient(), transient()])
    });
    w.run();
    assert_eq!(w.status(), JobStatus::Succeeded);
    let submits = w.submits_of("s01.keyframe");
    assert_eq!(
        submits.iter().map(|s| s.1).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    let ack = w.fake.ack_after;
    let stage = StageId("s01.keyframe".into());
    for (n, pair) in submits.windows(2).enumerate() {
        let failures = n as u32 + 1;
        let expected = backoff(42, &stage, Attempt(failures), failures);
        assert_eq!(
            pair[1].0.since(pair[0].0),
            Millis(ack.0 + expected.0),
            "delay before attempt {}",
            failures + 1
        );
        // equal jitter: between half the step and the step
        let step = BACKOFF_BASE.0 << (failures - 1);
        assert!(
            expected.0 >= step / 2 && expected.0 <= step,
            "{expected:?} outside [{}, {step}]",
            step / 2
        );
    }
    // Each attempt has its own idempotency key.
    assert_ne!(submits[0].3, submits[1].3);
    w.assert_replays();
}

#[test]
fn jitter_is_a_function_of_the_seed() {
    let times = |seed| {
        let mut w = World::with(created(small_brief(2), seed, false), |f| {
            f.fault_stage("s01.keyframe", [transient()])
        });
        w.run();
        w.submits_of("s01.keyframe")
            .iter()
            .map(|s| s.0)
            .collect::<Vec<_>>()
    };
    assert_eq!(times(1), times(1));
    let distinct: std::collections::BTreeSet<_> = (1..8).map(times).collect();
    assert!(distinct.len() > 1, "different seeds give different jitter");
}

#[test]
fn retry_after_is_honoured() {
    let rate_limited = Fault::SubmitError(ProviderError::RateLimited {
        retry_after: Some(Millis(7_250)),
    });
    let mut w = World::with(created(small_brief(2), 42, false), |f| {
        f.fault_stage("s02.keyframe", [rate_limited])
    });
    w.run();
    let submits = w.submits_of("s02.keyframe");
    assert_eq!(submits.len(), 2);
    assert_eq!(
        submits[1].0.since(submits[0].0),
        Millis(w.fake.ack_after.0 + 7_250)
    );
    assert_eq!(submits[1].2, submits[0].2, "same model after a 429");
    assert_eq!(w.status(), JobStatus::Succeeded);
}

#[test]
fn three_failures_on_one_model_fall_back_to_the_next_candidate() {
    let mut w = World::with(created(small_brief(2), 42, false), |f| {
        f.fault_stage(
            "s02.motion",
            std::iter::repeat_n(failed(), MAX_FAILURES_PER_MODEL as usize),
        );
    });
    w.run();
    assert_eq!(w.status(), JobStatus::Succeeded);
    let candidates = w.candidates("s02.motion");
    assert!(candidates.len() >= 2, "needs a fallback: {candidates:?}");
    let models: Vec<_> = w
        .submits_of("s02.motion")
        .into_iter()
        .map(|s| s.2)
        .collect();
    let first = candidates[0].clone();
    let second = candidates[1].clone();
    assert_eq!(
        models,
        vec![first.clone(), first.clone(), first, second.clone()]
    );
    let StageState::Done { model, .. } = w.state("s02.motion") else {
        panic!("done")
    };
    assert_eq!(model, &second);
    let view = w.job.view();
    let stage = view
        .stages
        .iter()
        .find(|s| s.id.as_str() == "s02.motion")
        .unwrap();
    assert_eq!(stage.attempts.len(), 4);
    assert_eq!(stage.model.as_ref(), Some(&second));
}

#[test]
fn moderation_falls_back_at_once() {
    let mut w = World::with(created(small_brief(2), 42, false), |f| {
        f.fault_stage("s01.motion", [Fault::Moderate])
    });
    w.run();
    assert_eq!(w.status(), JobStatus::Succeeded);
    let candidates = w.candidates("s01.motion");
    let submits = w.submits_of("s01.motion");
    assert_eq!(submits.len(), 2);
    assert_eq!(submits[0].2, candidates[0]);
    assert_eq!(submits[1].2, candidates[1]);
    // No backoff: the fallback goes out in the step that received the refusal.
    let refused_at = w
        .journal
        .iter()
        .find(|e| matches!(&e.input, studio::job::Input::ProviderUpdate { stage, status: studio::providers::ProviderStatus::Moderated { .. }, .. } if stage.as_str() == "s01.motion"))
        .unwrap()
        .at;
    assert_eq!(submits[1].0, refused_at);
}

#[test]
fn a_stage_with_no_model_left_fails_the_job_with_a_readable_reason() {
    let mut w = World::with(created(small_brief(2), 42, false), |f| {
        f.fault_stage("s01.motion", std::iter::repeat_n(Fault::Moderate, 20))
    });
    w.run();
    assert_eq!(w.status(), JobStatus::Failed);
    let view = w.job.view();
    let reason = view.failure.unwrap();
    assert!(
        reason.starts_with("s01.motion: no model left to try (every model refused it)."),
        "{reason}"
    );
    for m in w.candidates("s01.motion") {
        assert!(reason.contains(m.as_str()), "{reason} names {m}");
    }
    assert!(reason.contains("refused by moderation"));
    assert_eq!(
        w.submits_of("s01.motion").len(),
        w.candidates("s01.motion").len()
    );
    let failed_at = view.history.last().unwrap().at;
    assert!(
        w.effects
            .iter()
            .all(|(t, e)| !(matches!(e, Effect::Submit { .. }) && *t > failed_at))
    );
    assert_eq!(view.progress.failed, 1);
}

#[test]
fn a_refused_request_falls_back_without_retrying() {
    let rejected = Fault::SubmitError(ProviderError::Rejected {
        reason: "duration not supported".into(),
    });
    let mut w = World::with(created(small_brief(1), 42, false), |f| {
        f.fault_stage("s01.motion", [rejected])
    });
    w.run();
    let candidates = w.candidates("s01.motion");
    let models: Vec<_> = w
        .submits_of("s01.motion")
        .into_iter()
        .map(|s| s.2)
        .collect();
    assert_eq!(models, candidates[..2].to_vec());
    assert_eq!(w.status(), JobStatus::Succeeded);
}

#[test]
fn an_attempt_that_never_finishes_times_out_is_cancelled_and_retried() {
    let mut w = World::with(created(small_brief(1), 42, false), |f| {
        f.fault_stage("s01.motion", [Fault::Silent])
    });
    w.run();
    assert_eq!(w.status(), JobStatus::Succeeded);
    let submits = w.submits_of("s01.motion");
    assert_eq!(submits.len(), 2);
    let model = w.job.spec().registry.get(&submits[0].2).cloned();
    let timeout = attempt_timeout(model.as_ref());
    assert!(submits[1].0.since(submits[0].0) >= timeout);
    assert!(
        w.fake
            .cancels
            .contains(&(StageId("s01.motion".into()), Attempt(1))),
        "the abandoned task is cancelled"
    );
    let view = w.job.view();
    let stage = view
        .stages
        .iter()
        .find(|s| s.id.as_str() == "s01.motion")
        .unwrap();
    assert!(
        matches!(&stage.attempts[0].outcome, studio::job::AttemptOutcome::Failed { reason } if reason.starts_with("timed out"))
    );
}

#[test]
fn an_output_that_cannot_be_copied_retries_the_stage() {
    let mut w = World::with(created(small_brief(1), 42, false), |f| {
        f.fault_stage("s01.keyframe", [Fault::BadOutput])
    });
    w.run();
    assert_eq!(w.status(), JobStatus::Succeeded);
    assert_eq!(w.submits_of("s01.keyframe").len(), 2);
    let StageState::Done {
        attempt, artifacts, ..
    } = w.state("s01.keyframe")
    else {
        panic!()
    };
    assert_eq!(*attempt, Attempt(2));
    assert!(artifacts[0].key.contains("/s01.keyframe/2/"));
}

#[test]
fn polled_providers_are_polled_on_a_schedule_and_callbacks_only_as_a_safety_net() {
    // Runway (polled) is the only video model; FLUX (callbacks) makes the keyframes.
    let registry = registry_of(&["flux-1.1-pro", "runway-gen4-turbo", "studio-assembler"]);
    let mut c = created(small_brief(2), 42, false);
    c.registry = registry;
    let mut w = World::with(c, |_| {});
    w.run();
    assert_eq!(
        w.status(),
        JobStatus::Succeeded,
        "{:?}",
        w.job.view().failure
    );
    let polls = |stage: &str| {
        w.effects
            .iter()
            .filter(|(_, e)| matches!(e, Effect::Poll { stage: s, .. } if s.as_str() == stage))
            .map(|(t, _)| *t)
            .collect::<Vec<_>>()
    };
    let motion = polls("s01.motion");
    assert!(motion.len() >= 3, "runway is polled until done: {motion:?}");
    let interval =
        studio::job::poll_interval(w.job.spec().registry.get(&w.candidates("s01.motion")[0]));
    for pair in motion.windows(2) {
        assert_eq!(pair[1].since(pair[0]), interval);
    }
    assert!(
        polls("s01.keyframe").is_empty(),
        "flux calls back before its safety-net poll"
    );
}

/// The model the fault-free run gives `stage`, its attempt timeout and its latency in the fake
fn first_choice(stage: &str) -> (studio::ids::ModelId, Millis, Millis) {
    let mut w = World::new(small_brief(1));
    w.run();
    assert_eq!(w.status(), JobStatus::Succeeded);
    let model = w.submits_of(stage)[0].2.clone();
    let spec = w.job.spec().registry.get(&model).cloned();
    let latency =
        Millis(spec.as_ref().map_or(10_000, |s| s.latency_p50_ms) * w.fake.latency_percent / 100);
    (model, attempt_timeout(spec.as_ref()), latency)
}

#[test]
fn a_task_queued_at_the_provider_gets_its_whole_run_time_from_when_it_starts() {
    for stage in ["s01.motion", "assembly"] {
        let (model, timeout, latency) = first_choice(stage);
        // It leaves the queue before its deadline and is still running at it: the deadline
        // counted from the acknowledgement would cut it off halfway.
        let queued = Millis(timeout.0 - latency.0 / 2);
        let mut w = World::with(created(small_brief(1), 42, false), |f| {
            f.fault_stage(stage, [Fault::QueuedFor(queued)])
        });
        w.run();
        assert_eq!(w.status(), JobStatus::Succeeded, "{stage}");
        let submits = w.submits_of(stage);
        assert_eq!(
            submits.len(),
            1,
            "{stage} on {model}: submitted again {submits:?}"
        );
        assert!(w.fake.cancels.is_empty(), "{stage}: {:?}", w.fake.cancels);
        w.assert_replays();
    }
}

#[test]
fn a_task_that_never_leaves_the_queue_still_times_out_at_its_deadline() {
    let (_, timeout, _) = first_choice("s01.motion");
    let mut w = World::with(created(small_brief(1), 42, false), |f| {
        f.fault_stage("s01.motion", [Fault::QueuedFor(Millis(timeout.0 * 10))])
    });
    w.run();
    assert_eq!(w.status(), JobStatus::Succeeded);
    let submits = w.submits_of("s01.motion");
    assert_eq!(submits.len(), 2, "{submits:?}");
    assert!(submits[1].0.since(submits[0].0) >= timeout);
    assert!(submits[1].0.since(submits[0].0) < Millis(timeout.0 * 2));
}
