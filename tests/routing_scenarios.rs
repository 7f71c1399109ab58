//! Routing scenarios: the ranking rule, hero shots, exclusions, feature flags, pinned registry
//! versions, budget allocation and the plan's deadline check.

#[path = "support/routing.rs"]
mod common;

use studio::brief::{AspectRatio, ShotKind};
use studio::ids::{ModelId, StageId};
use studio::plan::StageKind;
use studio::routing::rank::{RankRule, rank_order};
use studio::routing::{
    DeadlineCheck, Registry, RoutingError, Scores, allocate_budget, route_plan, route_stage,
};

fn chosen(d: &studio::routing::Decision) -> &str {
    d.candidates.first().map(|c| c.model.as_str()).unwrap_or("")
}

#[test]
fn hero_action_shot_keeps_the_best_quality_and_a_filler_takes_the_near_tie_that_costs_less() {
    let registry = Registry::builtin_version(5).unwrap();
    let ctx = common::ctx("demo", 4.0, 900.0);
    let hero = route_stage(
        &registry,
        &common::motion("s05", ShotKind::Action, true, 5.0, false),
        &ctx,
    )
    .unwrap();
    let plain = route_stage(
        &registry,
        &common::motion("s06", ShotKind::Action, false, 5.0, false),
        &ctx,
    )
    .unwrap();
    // veo-3 0.92 vs sora-2 0.90: outside the hero band (0.01), inside the standard band (0.03).
    assert_eq!(chosen(&hero), "veo-3");
    assert_eq!(chosen(&plain), "sora-2");
    assert!(
        hero.reason.starts_with(
            "veo-3: best quality for action (0.92); hero shot; $2.00 within $4.00 share"
        ),
        "{}",
        hero.reason
    );
    assert!(
        plain
            .reason
            .contains("cheapest of the near-equal quality models for action"),
        "{}",
        plain.reason
    );
    assert_eq!(
        plain.candidates.get(1).map(|c| c.model.as_str()),
        Some("veo-3")
    );
}

#[test]
fn the_reason_reads_like_the_brief_example() {
    let ctx = common::ctx("demo", 6.10, 900.0);
    let d = route_stage(
        &Registry::builtin_version(5).unwrap(),
        &common::motion("s01", ShotKind::Establishing, true, 6.0, false),
        &ctx,
    )
    .unwrap();
    assert_eq!(
        d.reason,
        "veo-3: best quality for establishing (0.95); hero shot; $2.40 within $6.10 share"
    );
    assert_eq!(d.registry_version, 5);
}

#[test]
fn continuity_decides_among_quality_ties_when_the_shot_shows_cast() {
    // Action with cast: veo-3 (reference images) and sora-2 (none) are near-tied on quality.
    let registry = Registry::builtin_version(5).unwrap();
    let ctx = common::ctx("demo", 10.0, 900.0);
    let d = route_stage(
        &registry,
        &common::motion("s05", ShotKind::Action, false, 5.0, true),
        &ctx,
    )
    .unwrap();
    assert_eq!(chosen(&d), "veo-3");
    assert!(
        d.reason.contains("keeps the cast consistent"),
        "{}",
        d.reason
    );
    let sora = d
        .candidates
        .iter()
        .find(|c| c.model.as_str() == "sora-2")
        .unwrap();
    assert_eq!(sora.scores.continuity, 0.0);
}

#[test]
fn models_that_cannot_make_the_stage_are_excluded_with_a_reason() {
    let registry = Registry::builtin_version(5).unwrap();
    let ctx = common::ctx("demo", 100.0, 900.0);
    let mut long = common::motion("s01", ShotKind::Establishing, false, 12.0, false);
    let d = route_stage(&registry, &long, &ctx).unwrap();
    let why = |m: &str| {
        d.excluded
            .iter()
            .find(|(id, _)| id.as_str() == m)
            .map(|(_, w)| w.clone())
    };
    assert_eq!(
        why("veo-3").as_deref(),
        Some("cannot make 12s in one call (max 8s)")
    );
    assert!(d.candidates.iter().all(|c| c.model.as_str() != "veo-3"));

    long.duration_s = 5.0;
    long.aspect = AspectRatio::Square;
    let d = route_stage(&registry, &long, &ctx).unwrap();
    let why = |m: &str| {
        d.excluded
            .iter()
            .find(|(id, _)| id.as_str() == m)
            .map(|(_, w)| w.clone())
    };
    assert_eq!(why("veo-3").as_deref(), Some("does not render 1:1"));
    assert_eq!(why("sora-2").as_deref(), Some("does not render 1:1"));
    // Models of other capabilities were never contenders and are not listed.
    assert!(d.excluded.iter().all(|(m, _)| m.as_str() != "flux-1.1-pro"));
}

#[test]
fn over_budget_models_are_excluded_and_nothing_affordable_is_an_error_that_says_why() {
    let registry = Registry::builtin_version(5).unwrap();
    let req = common::motion("s01", ShotKind::Establishing, false, 6.0, false);
    let d = route_stage(&registry, &req, &common::ctx("demo", 0.5, 900.0)).unwrap();
    assert!(d.candidates.iter().all(|c| c.cost_usd <= 0.5));
    assert!(
        d.excluded
            .iter()
            .any(|(m, why)| m.as_str() == "veo-3" && why == "over budget: $2.40 > $0.50")
    );

    let err = route_stage(&registry, &req, &common::ctx("demo", 0.01, 900.0)).unwrap_err();
    let RoutingError::NoModel { stage, why } = err;
    assert_eq!(stage, StageId("s01.motion".into()));
    assert!(why.contains("veo-3: over budget: $2.40 > $0.01"), "{why}");
}

#[test]
fn a_flagged_model_is_routed_only_for_creators_in_its_rollout() {
    // Registry v2 opens wan-2.2 to 10% of creators. A $0.10 budget for 4 s of b-roll leaves
    // only wan-2.2 ($0.02/s) affordable.
    let registry = Registry::builtin_version(5).unwrap();
    let req = common::motion("s03", ShotKind::BRoll, false, 4.0, false);
    let inside = common::creator_where(|b| b < 10);
    let outside = common::creator_where(|b| b >= 10);

    let mut ctx = common::ctx(inside.as_str(), 0.10, 900.0);
    let d = route_stage(&registry, &req, &ctx).unwrap();
    assert_eq!(chosen(&d), "wan-2.2");
    assert!(
        d.reason
            .contains("wan-2.2 behind flag wan-2.2-on-replicate: creator in rollout"),
        "{}",
        d.reason
    );
    assert!(
        d.notes
            .iter()
            .any(|n| n.starts_with("wan-2.2 behind flag wan-2.2-on-replicate: creator in rollout"))
    );

    ctx.creator = outside.clone();
    let err = route_stage(&registry, &req, &ctx).unwrap_err();
    let RoutingError::NoModel { why, .. } = err;
    assert!(
        why.contains("wan-2.2: behind flag wan-2.2-on-replicate: creator not in rollout"),
        "{why}"
    );

    // An allowlisted creator gets it whatever their bucket.
    let mut allow = registry.clone();
    for m in &mut allow.models {
        if let Some(flag) = m.flag.as_mut() {
            flag.allowlist.push(outside.0.clone());
        }
    }
    let d = route_stage(&allow, &req, &ctx).unwrap();
    assert_eq!(chosen(&d), "wan-2.2");
    assert!(d.reason.contains("creator allowlisted"), "{}", d.reason);
}

#[test]
fn a_job_keeps_the_registry_version_it_started_with() {
    let inside = common::creator_where(|b| b < 10);
    let req = common::motion("s03", ShotKind::BRoll, false, 4.0, false);
    let ctx = common::ctx(inside.as_str(), 0.10, 900.0);

    let v1 = Registry::builtin_version(1).unwrap();
    assert_eq!(v1.version, 1);
    // In v1 the flag is at 0%: the same creator and stage find no model.
    assert!(route_stage(&v1, &req, &ctx).is_err());
    let v2 = Registry::builtin_version(2).unwrap();
    assert_eq!(route_stage(&v2, &req, &ctx).unwrap().registry_version, 2);
    assert_eq!(
        Registry::builtin_version(Registry::LATEST_VERSION),
        Some(Registry::builtin())
    );
    assert_eq!(Registry::builtin_version(0), None);
    assert_eq!(Registry::builtin_version(99), None);
}

#[test]
fn rollout_buckets_are_stable_and_spread() {
    // Fixed values: a change of hash would silently move creators in or out of rollouts.
    let b = |s: &str| studio::routing::rollout_bucket(&s.into());
    assert_eq!(b("demo"), 18);
    assert_eq!(b("rival"), 99);
    let buckets: std::collections::BTreeSet<u8> = (0..2000).map(|i| b(&format!("c{i}"))).collect();
    assert_eq!(buckets.len(), 100, "all 100 buckets are used");
    assert!(buckets.iter().all(|&x| x < 100));
}

#[test]
fn ranking_follows_the_documented_example() {
    let s = |q: f64, cost: f64| Scores {
        quality: q,
        continuity: 1.0,
        cost,
        latency: 0.5,
        outcome: 0.5,
    };
    let (veo, sora, hailuo) = (
        ModelId("veo-3".into()),
        ModelId("sora-2".into()),
        ModelId("hailuo-02".into()),
    );
    let (sv, ss, sh) = (s(0.92, 0.5), s(0.90, 0.875), s(0.85, 0.8));
    let items = [(&veo, &sv), (&sora, &ss), (&hailuo, &sh)];
    assert_eq!(rank_order(&items, &RankRule::default()), vec![1, 0, 2]);
    let hero = RankRule {
        quality_epsilon: 0.01,
        ..RankRule::default()
    };
    assert_eq!(rank_order(&items, &hero), vec![0, 1, 2]);
}

#[test]
fn near_ties_are_anchored_at_the_leader_so_the_order_is_well_defined() {
    // 0.94 ~ 0.92 ~ 0.90 pairwise, but 0.90 is outside the leader's band: a comparator would be
    // intransitive here; tiers give one answer.
    let ids: Vec<ModelId> = ["a", "b", "c"]
        .iter()
        .map(|s| ModelId((*s).into()))
        .collect();
    let s = |q: f64, cost: f64| Scores {
        quality: q,
        continuity: 1.0,
        cost,
        latency: 0.5,
        outcome: 0.5,
    };
    let scores = [s(0.94, 0.1), s(0.92, 0.5), s(0.90, 0.9)];
    let items: Vec<_> = ids.iter().zip(scores.iter()).collect();
    // Tier 1 = {a, b} (cost: b first), then c.
    assert_eq!(rank_order(&items, &RankRule::default()), vec![1, 0, 2]);
}

#[test]
fn budget_allocation_gives_heroes_more_and_fillers_less() {
    let registry = Registry::builtin_version(5).unwrap();
    let stages = vec![
        common::motion("hero", ShotKind::Action, true, 5.0, false),
        common::motion("std", ShotKind::Action, false, 5.0, false),
        common::motion("filler", ShotKind::BRoll, false, 5.0, false),
    ];
    let shares = allocate_budget(&registry, &stages, 12.0);
    let usd: Vec<f64> = shares.iter().map(|s| s.usd).collect();
    assert!((usd.iter().sum::<f64>() - 12.0).abs() < 1e-9);
    assert!(usd[0] > usd[1] && usd[1] > usd[2], "{usd:?}");
    assert!(
        (usd[0] / usd[1] - 2.0).abs() < 1e-9,
        "hero weight is twice a standard shot"
    );
    assert!(
        allocate_budget(&registry, &stages, f64::NAN)
            .iter()
            .all(|s| s.usd == 0.0)
    );
    assert!(
        allocate_budget(&registry, &stages, -3.0)
            .iter()
            .all(|s| s.usd == 0.0)
    );
}

#[test]
fn the_example_brief_routes_within_budget_and_deadline() {
    let brief = common::lighthouse();
    let stages = common::stage_requests(&brief);
    let ctx = common::ctx("demo", brief.budget_usd, brief.deadline_s as f64);
    let plan = route_plan(&Registry::builtin_version(5).unwrap(), &stages, &ctx).unwrap();
    assert_eq!(plan.decisions.len(), stages.len());
    assert!(plan.total_cost_usd <= brief.budget_usd);
    assert!(
        matches!(plan.deadline, DeadlineCheck::Fits { .. }),
        "{:?}",
        plan.deadline
    );
    let by_stage = |id: &str| {
        plan.decisions
            .iter()
            .find(|d| d.stage.as_str() == id)
            .unwrap()
    };
    assert_eq!(chosen(by_stage("s01.motion")), "veo-3");
    assert_eq!(chosen(by_stage("s01.keyframe")), "flux-1.1-pro");
    assert_eq!(chosen(by_stage("voiceover")), "eleven-multilingual-v2");
    assert_eq!(chosen(by_stage("score")), "minimax-music-1.5");
    assert_eq!(chosen(by_stage("assembly")), "studio-assembler");
    // Close-ups show the keeper: a continuity model.
    assert_eq!(chosen(by_stage("s02.motion")), "kling-2.1");
    for d in &plan.decisions {
        assert!(!d.reason.is_empty());
        let c = d.chosen().unwrap();
        assert!(c.cost_usd <= d.budget_usd);
    }
    // Every shot's motion is on a video model, every keyframe on an image model.
    for (req, d) in stages.iter().zip(&plan.decisions) {
        let spec = Registry::builtin_version(5)
            .unwrap()
            .get(&d.chosen().unwrap().model)
            .cloned()
            .unwrap();
        assert_eq!(spec.capability, req.kind.capability());
    }
}

#[test]
fn a_tight_budget_spends_the_surplus_on_hero_shots_first() {
    let registry = Registry::builtin_version(5).unwrap();
    let stages = vec![
        common::motion("s01", ShotKind::Establishing, true, 6.0, false),
        common::motion("s02", ShotKind::BRoll, false, 4.0, false),
        common::motion("s03", ShotKind::BRoll, false, 4.0, false),
    ];
    let plan = route_plan(&registry, &stages, &common::ctx("demo", 3.0, 900.0)).unwrap();
    assert!(plan.total_cost_usd <= 3.0 + 1e-9);
    assert_eq!(
        chosen(&plan.decisions[0]),
        "veo-3",
        "{}",
        plan.decisions[0].reason
    );
}

#[test]
fn a_plan_no_budget_can_make_fails_naming_the_stage() {
    let stages = vec![common::motion(
        "s01",
        ShotKind::Establishing,
        true,
        6.0,
        false,
    )];
    let err = route_plan(
        &Registry::builtin_version(5).unwrap(),
        &stages,
        &common::ctx("demo", 0.05, 900.0),
    )
    .unwrap_err();
    let RoutingError::NoModel { stage, .. } = err;
    assert_eq!(stage.as_str(), "s01.motion");
}

#[test]
fn a_plan_that_would_miss_its_deadline_prefers_faster_near_ties() {
    // A close-up: kling-2.1 (0.90, $0.098/s, 100 s) and veo-3 (0.90 default, $0.40/s, 90 s) are
    // near-tied on quality; cost picks kling, but 8 + 100 + 20 s misses a 120 s deadline while
    // 8 + 90 + 20 s fits.
    let registry = Registry::builtin_version(5).unwrap();
    let brief_stages = vec![
        studio::routing::StageRequest {
            stage: StageId("s01.keyframe".into()),
            kind: StageKind::Keyframe,
            duration_s: 0.0,
            ..common::motion("s01", ShotKind::CloseUp, false, 5.0, true)
        },
        common::motion("s01", ShotKind::CloseUp, false, 5.0, true),
        studio::routing::StageRequest {
            stage: StageId("assembly".into()),
            kind: StageKind::Assembly,
            shot_kind: None,
            shot: None,
            duration_s: 0.0,
            needs_continuity: false,
            ..common::motion("x", ShotKind::CloseUp, false, 0.0, false)
        },
    ];
    let relaxed = route_plan(&registry, &brief_stages, &common::ctx("demo", 20.0, 900.0)).unwrap();
    assert_eq!(chosen(&relaxed.decisions[1]), "kling-2.1");

    let tight = route_plan(&registry, &brief_stages, &common::ctx("demo", 20.0, 120.0)).unwrap();
    match &tight.deadline {
        DeadlineCheck::FitsAfterSpeedUp { before, after } => {
            assert_eq!(before.critical_path_ms, 128_000);
            assert_eq!(after.critical_path_ms, 118_000);
        }
        other => panic!("expected a speed-up, got {other:?}"),
    }
    assert_eq!(chosen(&tight.decisions[1]), "veo-3");
    assert!(
        tight.decisions[1]
            .reason
            .contains("fastest of the near-equal models"),
        "{}",
        tight.decisions[1].reason
    );

    let hopeless = route_plan(&registry, &brief_stages, &common::ctx("demo", 20.0, 30.0)).unwrap();
    assert!(matches!(hopeless.deadline, DeadlineCheck::Misses { .. }));
    assert!(!hopeless.deadline.fits());
}

#[test]
fn provider_concurrency_bounds_the_projection() {
    // 40 hero establishing shots all want veo-3, which takes 4 at a time: ten waves of 90 s.
    let registry = Registry::builtin_version(5).unwrap();
    let stages: Vec<_> = (0..40)
        .map(|i| {
            common::motion(
                &format!("s{i:02}"),
                ShotKind::Establishing,
                true,
                6.0,
                false,
            )
        })
        .collect();
    let plan = route_plan(&registry, &stages, &common::ctx("demo", 1000.0, 100_000.0)).unwrap();
    let DeadlineCheck::Fits { projection } = &plan.deadline else {
        panic!("{:?}", plan.deadline)
    };
    assert_eq!(projection.critical_path_ms, 90_000);
    assert_eq!(projection.throughput_ms, 900_000);
    assert_eq!(projection.projected_ms(), 900_000);
}
