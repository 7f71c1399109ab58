//! Outcome data in routing: a creator's history corrects the quality prior of a model on a shot
//! kind (beyond a dead zone) and breaks ties, shrunk so a few lucky renders do not decide, and
//! only for the brief's target.

#[path = "support/routing.rs"]
mod common;
#[path = "support/memory.rs"]
mod memory_common;

use studio::brief::{OutcomeTarget, ShotKind};
use studio::ids::JobId;
use studio::memory::{
    MemoryGraph, NgramEmbedder, build_context, parse_outcomes, record_outcomes, record_render,
};
use studio::routing::outcome::{lift_score, shrink};
use studio::routing::{Registry, route_stage};

// A dialogue shot without cast at $1.50: veo-3 ($2.00) is over budget, so sora-2 (0.88) and
// kling-2.1 (0.86) are near-tied on quality; both score 1 on continuity; $0.50 vs $0.49 and
// 120 s vs 100 s against a 900 s deadline are near-ties too. Only outcome data separates them.
fn stage() -> studio::routing::StageRequest {
    common::motion("s04", ShotKind::Dialogue, false, 5.0, false)
}

fn chosen(d: &studio::routing::Decision) -> String {
    d.candidates
        .first()
        .map(|c| c.model.to_string())
        .unwrap_or_default()
}

/// A creator whose sora-2 dialogue shots held viewers in `n` renders at `retention`
fn creator_graph(creator: &str, n: usize, retention: f64) -> MemoryGraph {
    let mut g = MemoryGraph::new(creator.into());
    for i in 0..n {
        let job = format!("rnd_{i}");
        let r = memory_common::render(
            &job,
            &[(
                "s01",
                ShotKind::Dialogue,
                "sora-2",
                "two people talk at a table",
            )],
        );
        record_render(&mut g, &r, &NgramEmbedder::default()).unwrap();
        let body = format!(r#"{{"views": 1000, "retention_3s": {retention}}}"#);
        record_outcomes(&mut g, &JobId(job), &parse_outcomes(&body).unwrap()).unwrap();
    }
    g
}

#[test]
fn outcome_data_changes_the_choice_for_one_creator_and_not_another() {
    let registry = Registry::builtin_version(5).unwrap();
    let brief = common::lighthouse();

    let mut fan = common::ctx("sora-fan", 1.5, 900.0);
    fan.memory = build_context(
        &creator_graph("sora-fan", 12, 0.85),
        &brief,
        &NgramEmbedder::default(),
        0,
    );
    let with_data = route_stage(&registry, &stage(), &fan).unwrap();

    let newcomer = common::ctx("newcomer", 1.5, 900.0);
    let without = route_stage(&registry, &stage(), &newcomer).unwrap();

    assert_eq!(chosen(&without), "kling-2.1", "{}", without.reason);
    assert!(!without.reason.contains("outcome"), "{}", without.reason);
    assert_eq!(chosen(&with_data), "sora-2", "{}", with_data.reason);
    assert!(
        with_data
            .reason
            .contains("outcome data chose it over kling-2.1: 3s retention 0.850 over 12 render(s)"),
        "{}",
        with_data.reason
    );
    assert!(
        with_data
            .notes
            .iter()
            .any(|n| n.starts_with("sora-2: outcome 0.850 over 12 render(s)"))
    );
    let sora = &with_data.candidates[0];
    assert!(sora.scores.outcome > 0.55);
}

#[test]
fn a_few_lucky_renders_are_shrunk_toward_the_prior() {
    // One render at 0.95: (1 x 0.95 + 5 x 0.6) / 6 = 0.658, a score 0.523: a correction of
    // 0.023, inside the 0.03 dead zone, so the quality prior stands and kling-2.1 keeps the stage.
    let registry = Registry::builtin_version(5).unwrap();
    let mut lucky = common::ctx("lucky", 1.5, 900.0);
    lucky.memory = build_context(
        &creator_graph("lucky", 1, 0.95),
        &common::lighthouse(),
        &NgramEmbedder::default(),
        0,
    );
    let d = route_stage(&registry, &stage(), &lucky).unwrap();
    assert_eq!(chosen(&d), "kling-2.1", "{}", d.reason);

    assert!((shrink(1, 0.95, 0.6) - 0.658_333).abs() < 1e-5);
    assert!((shrink(3, 0.95, 0.6) - 0.731_25).abs() < 1e-9);
    assert!((shrink(0, 0.95, 0.6) - 0.6).abs() < 1e-12);
    assert!((lift_score(0.6, 0.6) - 0.5).abs() < 1e-12);
    assert!(lift_score(0.9, 0.6) > lift_score(0.7, 0.6));
}

#[test]
fn bad_outcomes_push_a_model_down_among_near_ties() {
    let registry = Registry::builtin_version(5).unwrap();
    let mut g = MemoryGraph::new("kling-hater".into());
    for i in 0..10 {
        let job = format!("rnd_{i}");
        let r = memory_common::render(&job, &[("s01", ShotKind::Dialogue, "kling-2.1", "talk")]);
        record_render(&mut g, &r, &NgramEmbedder::default()).unwrap();
        record_outcomes(
            &mut g,
            &JobId(job),
            &parse_outcomes(r#"{"retention_3s": 0.2}"#).unwrap(),
        )
        .unwrap();
    }
    let mut ctx = common::ctx("kling-hater", 1.5, 900.0);
    ctx.memory = build_context(&g, &common::lighthouse(), &NgramEmbedder::default(), 0);
    let d = route_stage(&registry, &stage(), &ctx).unwrap();
    assert_eq!(chosen(&d), "sora-2");
    assert!(
        d.reason.contains(
            "outcome data chose it over kling-2.1: this creator's 3s retention 0.200 over 10 render(s)"
        ),
        "{}",
        d.reason
    );
}

#[test]
fn statistics_for_another_target_are_ignored() {
    let registry = Registry::builtin_version(5).unwrap();
    let mut ctx = common::ctx("sora-fan", 1.5, 900.0);
    ctx.memory.outcomes = vec![common::stat(
        "sora-2",
        ShotKind::Dialogue,
        OutcomeTarget::Conversions,
        50,
        0.05,
    )];
    let d = route_stage(&registry, &stage(), &ctx).unwrap();
    assert_eq!(chosen(&d), "kling-2.1");
    ctx.outcome_target = OutcomeTarget::Conversions;
    let d = route_stage(&registry, &stage(), &ctx).unwrap();
    assert_eq!(chosen(&d), "sora-2", "{}", d.reason);
    assert!(
        d.reason.contains("conversion rate 0.050 over 50 render(s)"),
        "{}",
        d.reason
    );
}

#[test]
fn thin_evidence_never_overrides_a_clear_quality_difference_but_strong_evidence_does() {
    // A hero establishing shot: veo-3 leads at 0.95, sora-2 at 0.90 is outside the band.
    let registry = Registry::builtin_version(5).unwrap();
    let route_with = |renders: u32| {
        let mut ctx = common::ctx("sora-fan", 10.0, 900.0);
        ctx.memory.outcomes = vec![common::stat(
            "sora-2",
            ShotKind::Establishing,
            OutcomeTarget::WatchTime,
            renders,
            0.99,
        )];
        route_stage(
            &registry,
            &common::motion("s01", ShotKind::Establishing, true, 6.0, false),
            &ctx,
        )
        .unwrap()
    };
    // Two great renders: shrunk to 0.71, a correction of 0.01: veo-3 keeps it.
    assert_eq!(chosen(&route_with(2)), "veo-3");
    // Two hundred: the creator's own evidence outweighs the editorial prior.
    let strong = route_with(200);
    assert_eq!(chosen(&strong), "sora-2", "{}", strong.reason);
    assert!(
        strong.reason.contains("outcome data chose it over veo-3"),
        "{}",
        strong.reason
    );
}
