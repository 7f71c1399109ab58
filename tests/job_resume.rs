//! Everything in flight has a deadline: lost calls are re-issued with the same idempotency key,
//! and a job evicted at any point resumes from its stored rows and its alarm.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Fault, World, created, example_brief, small_brief};
use studio::ids::{Attempt, StageId};
use studio::job::{
    Effect, Input, JobStatus, MAX_MEMORY_FETCHES, MEMORY_TIMEOUT, STORE_TIMEOUT, SUBMIT_ACK_TIMEOUT,
};
use studio::time::Millis;

#[test]
fn a_lost_submit_is_reissued_with_the_same_idempotency_key() {
    let mut w = World::with(created(small_brief(2), 42, false), |f| {
        f.fault_stage("s02.keyframe", [Fault::Lost])
    });
    w.run();
    assert_eq!(w.status(), JobStatus::Succeeded);
    let submits = w.submits_of("s02.keyframe");
    assert_eq!(submits.len(), 2, "{submits:?}");
    assert_eq!(submits[0].1, submits[1].1, "same attempt");
    assert_eq!(submits[0].3, submits[1].3, "same idempotency key");
    assert_eq!(submits[0].3, "rnd_test:s02.keyframe:1");
    assert_eq!(submits[1].0.since(submits[0].0), SUBMIT_ACK_TIMEOUT);
    // The provider made one task for it.
    let tasks = w
        .fake
        .by_ref
        .values()
        .filter(|t| t.stage.as_str() == "s02.keyframe")
        .count();
    assert_eq!(tasks, 1);
}

#[test]
fn a_lost_copy_is_reissued_under_the_same_key() {
    let mut w = World::new(small_brief(1));
    w.fake.store_after = Millis(STORE_TIMEOUT.0 + 30_000);
    w.run();
    assert_eq!(w.status(), JobStatus::Succeeded);
    let stores: Vec<_> = w
        .effects
        .iter()
        .filter_map(|(t, e)| match e {
            Effect::StoreArtifact { stage, key, .. } if stage.as_str() == "s01.keyframe" => {
                Some((*t, key.clone()))
            }
            _ => None,
        })
        .collect();
    assert_eq!(stores.len(), 2);
    assert_eq!(stores[0].1, stores[1].1);
    assert_eq!(stores[1].0.since(stores[0].0), STORE_TIMEOUT);
    w.assert_replays();
}

#[test]
fn an_unanswered_memory_graph_is_asked_again_then_planned_without() {
    let mut w = World::with(created(small_brief(1), 42, false), |f| f.memory_down = true);
    w.run();
    assert_eq!(w.status(), JobStatus::Succeeded);
    let fetches: Vec<_> = w
        .effects
        .iter()
        .filter(|(_, e)| matches!(e, Effect::FetchMemoryContext { .. }))
        .map(|(t, _)| *t)
        .collect();
    assert_eq!(fetches.len() as u32, MAX_MEMORY_FETCHES);
    assert_eq!(fetches[1].since(fetches[0]), MEMORY_TIMEOUT);
    assert!(
        w.job
            .view()
            .notes
            .iter()
            .any(|n| n.contains("planned without the creator's context"))
    );
}

/// Runs the example brief, evicting the job (dropping it and loading the stored rows) before
/// step `evict_at`; the effects must be exactly those of a run without eviction
fn run_with_eviction(evict_at: Option<usize>) -> Vec<(studio::time::Timestamp, Effect)> {
    let mut w = World::with(created(example_brief(), 9, false), |f| {
        f.fault_stage("s03.motion", [Fault::Lost]);
        f.fault_stage(
            "s05.motion",
            [Fault::FailStatus {
                reason: "oom".into(),
                retryable: true,
            }],
        );
    });
    let mut step = 0;
    while w.step() {
        step += 1;
        if Some(step) == evict_at {
            w.job = w.store.load();
        }
    }
    assert_eq!(w.status(), JobStatus::Succeeded);
    w.effects
}

#[test]
fn a_job_evicted_at_any_step_resumes_from_its_rows_and_alarm() {
    let baseline = run_with_eviction(None);
    for evict_at in [1, 2, 5, 17, 40, 77, 120] {
        assert_eq!(
            run_with_eviction(Some(evict_at)),
            baseline,
            "eviction before step {evict_at}"
        );
    }
}

#[test]
fn an_isolate_that_died_mid_call_resumes_from_its_alarm() {
    // The shell persisted the step (Submit issued) and died before performing the effects.
    let mut w = World::manual(small_brief(1));
    let (fx, _) = w.poke(Input::MemoryContext {
        context: Default::default(),
    });
    let keys: Vec<_> = fx
        .iter()
        .filter_map(|e| match e {
            Effect::Submit {
                idempotency_key, ..
            } => Some(idempotency_key.clone()),
            _ => None,
        })
        .collect();
    assert!(!keys.is_empty());
    w.ack_writes();
    // A new isolate loads the rows and the alarm fires at the stored deadline.
    w.job = w.store.load();
    let due = w.job.next_deadline().unwrap();
    assert_eq!(due, w.now.plus(SUBMIT_ACK_TIMEOUT));
    w.now = due;
    let (fx, _) = w.poke(Input::Tick);
    let again: Vec<_> = fx
        .iter()
        .filter_map(|e| match e {
            Effect::Submit {
                idempotency_key,
                attempt,
                ..
            } => {
                assert_eq!(*attempt, Attempt(1));
                Some(idempotency_key.clone())
            }
            _ => None,
        })
        .collect();
    assert_eq!(again, keys);
    let _ = StageId("unused".into());
}
