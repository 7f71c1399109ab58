//! Planning routes with what every job saw lately: retired models are never candidates, and a
//! model whose breaker is open goes to the end of its lists with the reason.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{World, created, small_brief};
use studio::ids::ModelId;
use studio::job::{Input, JobStatus};
use studio::journal::Actor;
use studio::routing::Registry;
use studio::routing::live::LiveHealth;

fn v6_world() -> World {
    let mut c = created(small_brief(2), 7, true);
    c.registry = Registry::builtin();
    World::with(c, |_| {})
}

#[test]
fn a_retired_model_is_never_a_candidate() {
    let mut w = v6_world();
    let sora = ModelId("sora-2".into());
    assert!(
        w.job.spec().registry.get(&sora).is_some(),
        "v6 still lists it"
    );
    w.run();
    assert_eq!(
        w.status(),
        JobStatus::Succeeded,
        "{:?}",
        w.job.view().failure
    );
    for row in w.job.stages() {
        assert!(
            !row.decision.candidates.iter().any(|c| c.model == sora),
            "{} routes to a retired model",
            row.spec.id
        );
    }
}

#[test]
fn an_open_breaker_sends_new_stages_to_the_next_candidate_with_the_reason() {
    let mut probe = v6_world();
    probe.run();
    let first = probe.candidates("s01.keyframe")[0].clone();
    let second = probe.candidates("s01.keyframe")[1].clone();
    let mut w = v6_world();
    let spec = w.job.spec().registry.get(&first).unwrap().clone();
    let why = format!("breaker open on {first}: 9 of 10 failed in the last 10 min");
    w.deliver(
        Actor::System,
        Input::FleetHealth {
            models: vec![LiveHealth {
                model: first.clone(),
                p50_ms: spec.latency_p50_ms,
                p95_ms: spec.latency_p95_ms,
                refused: Some(why.clone()),
            }],
        },
    )
    .unwrap();
    w.run();
    assert_eq!(w.status(), JobStatus::Succeeded);
    let candidates = w.candidates("s01.keyframe");
    assert_eq!(candidates[0], second);
    assert_eq!(candidates.last(), Some(&first), "kept as the last fallback");
    let notes = &w.stage("s01.keyframe").decision.notes;
    assert!(notes.iter().any(|n| n.contains(&why)), "{notes:?}");
}

#[test]
fn observed_latency_replaces_the_prior_in_the_decision() {
    let mut probe = v6_world();
    probe.run();
    let first = probe.candidates("s01.motion")[0].clone();
    let mut w = v6_world();
    w.deliver(
        Actor::System,
        Input::FleetHealth {
            models: vec![LiveHealth {
                model: first.clone(),
                p50_ms: 1_234,
                p95_ms: 2_345,
                refused: None,
            }],
        },
    )
    .unwrap();
    w.run();
    let decision = &w.stage("s01.motion").decision;
    let c = decision
        .candidates
        .iter()
        .find(|c| c.model == first)
        .unwrap();
    assert_eq!(c.latency_ms, 1_234);
}

#[test]
fn support_cannot_reroute_a_stage_to_a_retired_model() {
    let mut w = v6_world();
    w.run_until(|w| w.status() == JobStatus::Rendering);
    let err = w.refused(
        studio::job::SupportAction::Reroute {
            stage: studio::ids::StageId("s01.motion".into()),
            model: ModelId("sora-2".into()),
        },
        "try sora",
    );
    assert!(err.to_string().contains("sora-2 is retired"), "{err}");
}

#[test]
fn a_model_retired_after_planning_is_passed_over_at_dispatch() {
    let mut c = created(small_brief(2), 7, true);
    let mut registry = Registry::builtin();
    // The motion model the plan would pick first is retired a minute in: planned with it,
    // never submitted to.
    let mut probe = v6_world();
    probe.run();
    let first = probe.candidates("s01.motion")[0].clone();
    for m in &mut registry.models {
        if m.id == first {
            m.retired_from = Some(common::T0.plus(studio::time::Millis::from_secs(1)));
        }
    }
    c.registry = registry;
    let mut w = World::with(c, |_| {});
    w.run();
    assert_eq!(
        w.status(),
        JobStatus::Succeeded,
        "{:?}",
        w.job.view().failure
    );
    assert!(w.stage("s01.motion").refused.contains(&first));
    assert!(!w.fake.submit_calls.iter().any(|(_, _, m, _)| m == &first));
}
