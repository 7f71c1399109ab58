//! Assembly has a second route: when our assembler fails or is down, the assembly stage falls
//! down its candidates to Shotstack's Edit API (registry v3) and the job still finishes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Fault, World, created, small_brief};
use studio::ids::ModelId;
use studio::job::{AttemptOutcome, Input, JobStatus, MAX_FAILURES_PER_MODEL, StageState};
use studio::journal::Actor;
use studio::providers::{ProviderError, ProviderKind, ProviderStatus};

const ASSEMBLY: &str = "assembly";

fn model(id: &str) -> ModelId {
    ModelId(id.into())
}

/// The job runs to its end with `faults` queued for our assembler
fn run_with_assembler_faults(faults: Vec<Fault>) -> World {
    let mut w = World::with(created(small_brief(2), 42, false), |f| {
        f.fault_model(&model("studio-assembler"), faults);
    });
    w.run();
    assert_eq!(
        w.status(),
        JobStatus::Succeeded,
        "{:?}",
        w.job.view().failure
    );
    w
}

/// Provider updates of the assembly stage in the journal: (who, status)
fn assembly_updates(w: &World) -> Vec<(ProviderKind, ProviderStatus)> {
    w.journal
        .iter()
        .filter_map(|e| match (&e.actor, &e.input) {
            (Actor::Provider { provider }, Input::ProviderUpdate { stage, status, .. })
                if stage.as_str() == ASSEMBLY =>
            {
                Some((*provider, status.clone()))
            }
            _ => None,
        })
        .collect()
}

/// Ra ranks our assembler first and keeps Shotstack as the fallback, with a reason
fn assert_decision(w: &World) {
    assert_eq!(
        w.candidates(ASSEMBLY),
        vec![model("studio-assembler"), model("shotstack-edit")]
    );
    let decision = &w.stage(ASSEMBLY).decision;
    assert_eq!(decision.registry_version, 5);
    assert!(decision.excluded.is_empty(), "{:?}", decision.excluded);
    assert!(!decision.reason.is_empty());
}

fn assert_finished_through_shotstack(w: &World, assembler_attempts: usize) {
    let StageState::Done { model: done, .. } = w.state(ASSEMBLY) else {
        panic!("assembly done: {:?}", w.state(ASSEMBLY))
    };
    assert_eq!(done, &model("shotstack-edit"));
    let models: Vec<ModelId> = w.submits_of(ASSEMBLY).into_iter().map(|s| s.2).collect();
    let mut expected = vec![model("studio-assembler"); assembler_attempts];
    expected.push(model("shotstack-edit"));
    assert_eq!(models, expected);

    // The view shows every attempt: the assembler's failures, then Shotstack's success.
    let view = w.job.view();
    let stage = view
        .stages
        .iter()
        .find(|s| s.id.as_str() == ASSEMBLY)
        .unwrap();
    assert_eq!(stage.model.as_ref(), Some(&model("shotstack-edit")));
    assert_eq!(stage.attempts.len(), assembler_attempts + 1);
    for a in &stage.attempts[..assembler_attempts] {
        assert_eq!(a.model, model("studio-assembler"));
        assert!(matches!(a.outcome, AttemptOutcome::Failed { .. }), "{a:?}");
    }
    assert_eq!(
        stage.attempts[assembler_attempts].model,
        model("shotstack-edit")
    );
    // Shotstack bills per rendered second: the cost is recorded against it.
    assert!(
        w.fake.costs.iter().any(|(s, m, usd)| s.as_str() == ASSEMBLY
            && m == &model("shotstack-edit")
            && *usd > 0.0),
        "{:?}",
        w.fake.costs
    );
}

#[test]
fn assembly_falls_back_to_shotstack_when_our_assembler_fails() {
    let failed = Fault::FailStatus {
        reason: "ffmpeg: clip s02 could not be decoded".into(),
        retryable: true,
    };
    let w = run_with_assembler_faults(vec![failed; MAX_FAILURES_PER_MODEL as usize]);
    assert_decision(&w);
    assert_finished_through_shotstack(&w, MAX_FAILURES_PER_MODEL as usize);

    // The journal tells the story: three failures reported by the assembler, then Shotstack.
    let updates = assembly_updates(&w);
    let failures = updates
        .iter()
        .filter(|(p, s)| {
            *p == ProviderKind::Assembler && matches!(s, ProviderStatus::Failed { .. })
        })
        .count();
    assert_eq!(failures, MAX_FAILURES_PER_MODEL as usize);
    assert!(
        matches!(
            updates.last(),
            Some((ProviderKind::Shotstack, ProviderStatus::Succeeded { .. }))
        ),
        "{updates:?}"
    );
}

#[test]
fn assembly_falls_back_to_shotstack_when_our_assembler_is_down() {
    let down = Fault::SubmitError(ProviderError::Transient {
        reason: "connection refused".into(),
    });
    let w = run_with_assembler_faults(vec![down; MAX_FAILURES_PER_MODEL as usize]);
    assert_decision(&w);
    assert_finished_through_shotstack(&w, MAX_FAILURES_PER_MODEL as usize);
    let journal_failures = w
        .journal
        .iter()
        .filter(
            |e| matches!(&e.input, Input::SubmitFailed { stage, .. } if stage.as_str() == ASSEMBLY),
        )
        .count();
    assert_eq!(journal_failures, MAX_FAILURES_PER_MODEL as usize);
}

#[test]
fn a_healthy_assembler_is_preferred_and_shotstack_never_called() {
    let w = run_with_assembler_faults(vec![]);
    assert_decision(&w);
    let models: Vec<ModelId> = w.submits_of(ASSEMBLY).into_iter().map(|s| s.2).collect();
    assert_eq!(models, vec![model("studio-assembler")]);
    assert!(
        assembly_updates(&w)
            .iter()
            .all(|(p, _)| *p == ProviderKind::Assembler)
    );
}
