//! Callbacks arrive twice, early, late, out of order, for old attempts, after the end: each
//! changes nothing (no effect, no row written), or changes things exactly once.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{T0, World, created, example_brief};
use studio::ids::{Attempt, DeliveryId, JobId, ProviderRef, StageId};
use studio::job::{Effect, Input, JobError, JobStatus, StageState};
use studio::journal::Actor;
use studio::memory::MemoryContext;
use studio::providers::{Output, ProviderError, ProviderKind, ProviderStatus};
use studio::time::{Millis, Timestamp};

const KF: &str = "s01.keyframe";

fn sid(s: &str) -> StageId {
    StageId(s.into())
}

fn accepted(stage: &str, attempt: u32, r: &str) -> Input {
    Input::SubmitAccepted {
        stage: sid(stage),
        attempt: Attempt(attempt),
        provider_ref: ProviderRef(r.into()),
    }
}

fn update(stage: &str, attempt: u32, status: ProviderStatus, dlv: Option<&str>) -> Input {
    Input::ProviderUpdate {
        stage: sid(stage),
        attempt: Attempt(attempt),
        status,
        delivery_id: dlv.map(|d| DeliveryId(d.into())),
    }
}

fn succeeded() -> ProviderStatus {
    ProviderStatus::Succeeded {
        outputs: vec![Output::Url {
            url: "https://bfl.example/x.png".into(),
            content_type: Some("image/png".into()),
            expires_at: None,
        }],
    }
}

fn stored(stage: &str, attempt: u32) -> Input {
    Input::ArtifactStored {
        stage: sid(stage),
        attempt: Attempt(attempt),
        key: format!("renders/rnd_test/{stage}/{attempt}/output"),
        content_type: "image/png".into(),
        bytes: 10,
    }
}

/// A success copies the output and frees the model's slot: the next queued keyframe (plan
/// order) is submitted in the same step
fn assert_store_then_next_keyframe(fx: &[Effect]) {
    match fx {
        [
            Effect::StoreArtifact { stage, .. },
            Effect::Submit { stage: next, .. },
        ] => {
            assert_eq!(stage.as_str(), KF);
            assert_eq!(next.as_str(), "s09.keyframe");
        }
        other => panic!("unexpected effects {other:?}"),
    }
}

/// A job rendering, with every root stage submitted and nothing answered
fn rendering() -> World {
    let mut w = World::manual(example_brief());
    w.poke(Input::MemoryContext {
        context: MemoryContext::default(),
    });
    assert_eq!(w.status(), JobStatus::Rendering);
    assert!(matches!(w.state(KF), StageState::Submitting { .. }));
    w
}

#[test]
fn duplicate_delivery_changes_nothing() {
    let mut w = rendering();
    w.poke(accepted(KF, 1, "t1"));
    let (_, changes) = w.poke(update(KF, 1, ProviderStatus::Running, Some("d1")));
    assert_eq!(
        changes.stages.len(),
        1,
        "progress touches only its stage row"
    );
    w.assert_noop(update(KF, 1, ProviderStatus::Running, Some("d1")));
    // The same terminal delivery twice: one StoreArtifact.
    let (fx, _) = w.poke(update(KF, 1, succeeded(), Some("d2")));
    assert_store_then_next_keyframe(&fx);
    w.assert_noop(update(KF, 1, succeeded(), Some("d2")));
}

#[test]
fn the_same_terminal_status_twice_changes_nothing() {
    let mut w = rendering();
    w.poke(accepted(KF, 1, "t1"));
    w.poke(update(KF, 1, succeeded(), Some("d1")));
    // A poll answer and a retried webhook with a fresh delivery id say the same thing again.
    w.assert_noop(update(KF, 1, succeeded(), None));
    w.assert_noop(update(KF, 1, succeeded(), Some("d9")));
    let (fx, _) = w.poke(stored(KF, 1));
    assert!(fx.iter().any(|e| matches!(e, Effect::RecordCost { .. })));
    assert!(matches!(w.state(KF), StageState::Done { .. }));
    // ... and once done, again nothing, and no second cost record.
    w.assert_noop(update(KF, 1, succeeded(), Some("d10")));
    w.assert_noop(stored(KF, 1));
}

#[test]
fn a_callback_before_the_acknowledgement() {
    let mut w = rendering();
    // Progress without a task id cannot be polled: wait for the acknowledgement.
    w.assert_noop(update(KF, 1, ProviderStatus::Running, Some("d1")));
    // The result itself is taken.
    let (fx, _) = w.poke(update(KF, 1, succeeded(), Some("d2")));
    assert_store_then_next_keyframe(&fx);
    // The late acknowledgement only records the task id.
    let (fx, changes) = w.poke(accepted(KF, 1, "t1"));
    assert!(fx.is_empty());
    assert_eq!(changes.stages.len(), 1);
    assert_eq!(
        w.stage(KF).attempts[0].provider_ref,
        Some(ProviderRef("t1".into()))
    );
    w.assert_noop(accepted(KF, 1, "t1"));
    w.poke(stored(KF, 1));
    assert!(matches!(w.state(KF), StageState::Done { .. }));
}

#[test]
fn statuses_never_go_backwards() {
    let mut w = rendering();
    w.poke(accepted(KF, 1, "t1"));
    w.poke(update(KF, 1, ProviderStatus::Running, None));
    w.assert_noop(update(KF, 1, ProviderStatus::Queued, None));
    w.poke(update(KF, 1, succeeded(), None));
    w.assert_noop(update(KF, 1, ProviderStatus::Running, None));
    w.assert_noop(update(
        KF,
        1,
        ProviderStatus::Failed {
            reason: "late".into(),
            retryable: true,
        },
        None,
    ));
    w.assert_noop(Input::SubmitFailed {
        stage: sid(KF),
        attempt: Attempt(1),
        error: ProviderError::Transient { reason: "x".into() },
    });
}

#[test]
fn results_of_an_older_attempt_are_fenced_off() {
    let mut w = rendering();
    w.poke(Input::SubmitFailed {
        stage: sid(KF),
        attempt: Attempt(1),
        error: ProviderError::Transient {
            reason: "502".into(),
        },
    });
    let StageState::BackingOff { until, .. } = w.state(KF).clone() else {
        panic!("backing off")
    };
    // The freed slot went to the next queued keyframe; after the backoff s01 waits in the queue
    // (first in plan order) and takes the next free slot.
    w.advance_to(until);
    assert!(matches!(w.state(KF), StageState::Ready { .. }));
    w.poke(accepted("s02.keyframe", 1, "t2"));
    w.poke(update("s02.keyframe", 1, succeeded(), None));
    assert!(matches!(
        w.state(KF),
        StageState::Submitting {
            attempt: Attempt(2),
            ..
        }
    ));
    // Attempt 1's task turns up after all: nothing changes.
    w.assert_noop(accepted(KF, 1, "t-old"));
    w.assert_noop(update(KF, 1, succeeded(), Some("old")));
    w.assert_noop(stored(KF, 1));
    // Attempt 3 was never issued.
    w.assert_noop(update(KF, 3, succeeded(), Some("future")));
}

#[test]
fn after_cancel_nothing_changes_and_nothing_is_submitted() {
    let mut w = rendering();
    w.poke(accepted(KF, 1, "t1"));
    let (fx, _) = w.poke(Input::Cancel {
        by: "sk_test_demo".into(),
    });
    assert_eq!(w.status(), JobStatus::Cancelled);
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::CancelTask { stage, .. } if stage.as_str() == KF))
    );
    assert!(fx.iter().any(|e| matches!(
        e,
        Effect::StatusChanged {
            to: JobStatus::Cancelled,
            ..
        }
    )));
    assert!(!fx.iter().any(|e| matches!(e, Effect::Submit { .. })));
    // The index and memory writes keep the alarm until they are acknowledged.
    assert!(w.job.next_deadline().is_some());
    w.ack_writes();
    assert_eq!(w.job.next_deadline(), None, "no alarm after the end");
    w.assert_noop(update(KF, 1, succeeded(), Some("late")));
    w.assert_noop(accepted("s02.keyframe", 1, "t2"));
    w.assert_noop(Input::Tick);
    w.assert_noop(Input::Cancel { by: "again".into() });
    w.assert_noop(Input::MemoryContext {
        context: MemoryContext::default(),
    });
    assert_eq!(w.job.view().cancelled_by.as_deref(), Some("sk_test_demo"));
}

#[test]
fn unknown_stages_are_misuse_and_change_nothing() {
    let mut w = rendering();
    let before = w.job.clone();
    let err = w
        .job
        .handle(w.now, update("s99.motion", 1, succeeded(), None))
        .unwrap_err();
    assert!(matches!(err, JobError::UnknownStage { .. }));
    assert!(w.job == before);
    assert!(w.job.take_changes().is_empty());
}

#[test]
fn ticks_with_nothing_due_do_nothing() {
    let mut w = rendering();
    w.assert_noop(Input::Tick);
    w.assert_noop(Input::Tick);
    // A late alarm handles what is due exactly once.
    let due = w.job.next_deadline().unwrap();
    w.now = due.plus(Millis(5_000));
    let (fx, _) = w.poke(Input::Tick);
    assert!(!fx.is_empty());
    w.assert_noop(Input::Tick);
}

#[test]
fn repeated_creation_and_context_change_nothing() {
    let mut w = rendering();
    w.assert_noop(Input::Created(created(example_brief(), 42, false)));
    w.assert_noop(Input::MemoryContext {
        context: MemoryContext::default(),
    });
    let mut other = created(example_brief(), 42, false);
    other.job_id = JobId("rnd_other".into());
    assert!(matches!(
        w.job.handle(w.now, Input::Created(other)),
        Err(JobError::AlreadyCreated { .. })
    ));
}

#[test]
fn a_callback_touches_one_stage_row_and_the_header() {
    let mut w = rendering();
    let (_, changes) = w.poke(accepted(KF, 1, "t1"));
    assert_eq!(
        changes
            .stages
            .iter()
            .map(StageId::as_str)
            .collect::<Vec<_>>(),
        vec![KF]
    );
    assert!(!changes.spec);
    let _ = T0;
    let _: Timestamp = w.now;
}

fn callback(provider: ProviderKind, stage: &str, attempt: u32, dlv: &str) -> Input {
    Input::Callback {
        provider,
        stage: sid(stage),
        attempt: Attempt(attempt),
        status: succeeded(),
        delivery_id: Some(DeliveryId(dlv.into())),
    }
}

#[test]
fn a_callback_on_another_providers_route_is_refused_and_changes_nothing() {
    let mut w = rendering();
    w.poke(accepted(KF, 1, "t1"));
    let runs_on = w.job.attempt_provider(&sid(KF), Attempt(1)).unwrap();
    let model = &w.stage(KF).attempts[0].model;
    assert_eq!(
        Some(runs_on),
        w.job.spec().registry.get(model).map(|m| m.provider)
    );
    let before = w.job.clone();
    let view = w.job.view();
    let journal = w.journal.len();
    for other in ProviderKind::ALL.into_iter().filter(|p| *p != runs_on) {
        let err = w
            .deliver(
                Actor::Provider { provider: other },
                callback(other, KF, 1, "d1"),
            )
            .unwrap_err();
        assert_eq!(
            err,
            JobError::WrongProvider {
                stage: sid(KF),
                attempt: Attempt(1),
                expected: runs_on,
                got: other,
            }
        );
    }
    assert!(w.job == before, "a refused callback changed the job");
    assert_eq!(w.job.view(), view);
    assert!(w.job.take_changes().is_empty());
    assert_eq!(w.journal.len(), journal, "a refused callback was journaled");
    // Its delivery id was not taken either: the provider's own callback still counts.
    let (fx, _) = w.poke(callback(runs_on, KF, 1, "d1"));
    assert_store_then_next_keyframe(&fx);
    w.assert_noop(callback(runs_on, KF, 1, "d1"));
    // An attempt never made has no provider to compare: fenced off as before, and journaled.
    let other = ProviderKind::ALL
        .into_iter()
        .find(|p| *p != runs_on)
        .unwrap();
    w.assert_noop(callback(other, KF, 3, "future"));
    w.assert_replays();
}
