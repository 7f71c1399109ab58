//! A job never commits spend beyond its budget: it routes cheaper, or fails before spending.
//! (The harness also checks `committed <= budget` after every step of every scenario.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Fault, World, created, registry_of, small_brief};
use studio::ids::ModelId;
use studio::job::{Effect, JobStatus, StageState};

/// One hero establishing shot (6 s); video on veo-3 ($0.40/s) or seedance ($0.03/s)
fn one_shot(budget_usd: f64) -> World {
    let mut brief = small_brief(1);
    brief.budget_usd = budget_usd;
    let mut c = created(brief, 42, false);
    c.registry = registry_of(&[
        "flux-1.1-pro",
        "veo-3",
        "seedance-1-pro",
        "studio-assembler",
    ]);
    World::with(c, |f| f.fault_stage("s01.motion", [Fault::Silent]))
}

fn model(s: &str) -> ModelId {
    ModelId(s.into())
}

#[test]
fn when_the_preferred_model_no_longer_fits_the_stage_routes_cheaper() {
    let mut w = one_shot(3.0);
    w.run_until(|w| w.job.stage(&"s01.motion".into()).is_some());
    assert_eq!(
        w.candidates("s01.motion"),
        vec![model("veo-3"), model("seedance-1-pro")],
        "premise"
    );
    w.run();
    assert_eq!(
        w.status(),
        JobStatus::Succeeded,
        "{:?}",
        w.job.view().failure
    );
    // veo-3 timed out; its $2.40 stays committed (it may still bill), so the retry cannot
    // afford veo-3 again and goes to seedance.
    let models: Vec<_> = w
        .submits_of("s01.motion")
        .into_iter()
        .map(|s| s.2)
        .collect();
    assert_eq!(models, vec![model("veo-3"), model("seedance-1-pro")]);
    let row = w.stage("s01.motion");
    let note = row.attempts[1].note.as_deref().unwrap();
    assert!(
        note.contains("routed to seedance-1-pro") && note.contains("budget"),
        "{note}"
    );
    let view = w.job.view();
    assert!(
        (view.committed_usd - (0.04 + 2.40 + 0.18)).abs() < 1e-9,
        "{}",
        view.committed_usd
    );
    assert!(
        (view.cost_usd - (0.04 + 0.18)).abs() < 1e-9,
        "{}",
        view.cost_usd
    );
}

#[test]
fn when_nothing_fits_the_stage_fails_before_spending() {
    let mut w = one_shot(2.5);
    w.run_until(|w| w.job.stage(&"s01.motion".into()).is_some());
    assert_eq!(w.candidates("s01.motion")[0], model("veo-3"), "premise");
    w.run();
    assert_eq!(w.status(), JobStatus::Failed);
    let reason = w.job.view().failure.unwrap();
    assert!(reason.starts_with("s01.motion: over budget"), "{reason}");
    assert!(
        reason.contains("$0.18") && reason.contains("$2.50"),
        "{reason}"
    );
    assert_eq!(
        w.submits_of("s01.motion").len(),
        1,
        "no submit it could not pay for"
    );
    assert!(matches!(w.state("s01.motion"), StageState::Failed { .. }));
}

#[test]
fn a_budget_below_the_cheapest_plan_fails_at_planning_with_nothing_spent() {
    let mut brief = small_brief(3);
    brief.budget_usd = 0.05;
    let mut w = World::new(brief);
    w.run();
    assert_eq!(w.status(), JobStatus::Failed);
    assert!(w.submits().is_empty());
    let reason = w.job.view().failure.unwrap();
    assert!(reason.contains("budget"), "{reason}");
    let statuses: Vec<_> = w
        .effects
        .iter()
        .filter_map(|(_, e)| match e {
            Effect::StatusChanged { to, .. } => Some(*to),
            _ => None,
        })
        .collect();
    assert_eq!(statuses, vec![JobStatus::Planning, JobStatus::Failed]);
}

#[test]
fn spend_is_recorded_per_stage_and_never_exceeds_the_budget() {
    let mut brief = small_brief(4);
    brief.budget_usd = 12.0;
    let mut w = World::new(brief);
    w.run();
    assert_eq!(
        w.status(),
        JobStatus::Succeeded,
        "{:?}",
        w.job.view().failure
    );
    let view = w.job.view();
    assert!(view.cost_usd <= 12.0);
    for s in &view.stages {
        let ledger: f64 = w
            .fake
            .costs
            .iter()
            .filter(|c| c.0 == s.id)
            .map(|c| c.2)
            .sum();
        assert!((ledger - s.cost_usd).abs() < 1e-9, "{}", s.id);
        let m = w
            .job
            .spec()
            .registry
            .get(s.model.as_ref().unwrap())
            .unwrap();
        let row = w.stage(s.id.as_str());
        let price = m.cost_usd(row.spec.duration_s, row.spec.chars());
        assert!(
            (price - s.cost_usd).abs() < 1e-6,
            "{}: price {price} cost {}",
            s.id,
            s.cost_usd
        );
    }
}
