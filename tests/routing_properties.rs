//! Properties of routing over arbitrary stages, budgets, creators, flags and outcome data.

#[path = "support/routing.rs"]
mod common;

use proptest::prelude::*;
use studio::brief::{AspectRatio, OutcomeTarget, ShotKind};
use studio::ids::{CreatorId, StageId};
use studio::memory::MemoryContext;
use studio::plan::StageKind;
use studio::routing::rank::{FLOAT_SLACK, RankRule, rank_order};
use studio::routing::{
    FeatureFlag, Registry, RoutingContext, StageRequest, route_plan, route_stage,
};

const KINDS: [StageKind; 6] = [
    StageKind::Keyframe,
    StageKind::Motion,
    StageKind::Dialogue,
    StageKind::Voiceover,
    StageKind::Score,
    StageKind::Assembly,
];
const ASPECTS: [AspectRatio; 3] = [
    AspectRatio::Landscape,
    AspectRatio::Portrait,
    AspectRatio::Square,
];
const TARGETS: [OutcomeTarget; 4] = [
    OutcomeTarget::WatchTime,
    OutcomeTarget::Conversions,
    OutcomeTarget::Impressions,
    OutcomeTarget::Signups,
];

fn request() -> impl Strategy<Value = StageRequest> {
    (
        0..KINDS.len(),
        prop::option::of(0..ShotKind::ALL.len()),
        any::<bool>(),
        0.0f64..15.0,
        0..ASPECTS.len(),
        any::<bool>(),
        0usize..3000,
        "s[0-9]{1,3}",
    )
        .prop_map(
            |(k, sk, hero, duration_s, a, needs_continuity, chars, id)| {
                let kind = KINDS[k];
                StageRequest {
                    stage: StageId(format!("{id}.{}", kind.as_str())),
                    kind,
                    shot_kind: sk.map(|i| ShotKind::ALL[i]),
                    hero,
                    duration_s,
                    aspect: ASPECTS[a],
                    needs_continuity,
                    shot: None,
                    chars,
                }
            },
        )
}

/// The builtin registry with arbitrary flags (rollout, and whether the creator is allowlisted)
fn registry(creator: String) -> impl Strategy<Value = Registry> {
    let n = Registry::builtin().models.len();
    prop::collection::vec(prop::option::of((0u8..=100, any::<bool>())), n).prop_map(move |flags| {
        let mut r = Registry::builtin();
        for (m, f) in r.models.iter_mut().zip(flags) {
            m.flag = f.map(|(rollout_percent, allow)| FeatureFlag {
                name: format!("{}-flag", m.id),
                rollout_percent,
                allowlist: if allow { vec![creator.clone()] } else { vec![] },
            });
        }
        r
    })
}

fn memory() -> impl Strategy<Value = MemoryContext> {
    let models: Vec<String> = Registry::builtin()
        .models
        .iter()
        .map(|m| m.id.to_string())
        .collect();
    prop::collection::vec(
        (
            0..models.len(),
            0..ShotKind::ALL.len(),
            0..TARGETS.len(),
            0u32..40,
            0.0f64..1.0,
        ),
        0..12,
    )
    .prop_map(move |stats| MemoryContext {
        outcomes: stats
            .into_iter()
            .map(|(m, k, t, n, mean)| {
                common::stat(&models[m], ShotKind::ALL[k], TARGETS[t], n, mean)
            })
            .collect(),
        ..MemoryContext::default()
    })
}

fn setup() -> impl Strategy<Value = (Registry, StageRequest, RoutingContext)> {
    "[a-z]{1,8}".prop_flat_map(|creator| {
        (
            registry(creator.clone()),
            request(),
            0.0f64..12.0,
            0.0f64..3000.0,
            0..TARGETS.len(),
            memory(),
        )
            .prop_map(move |(r, req, budget_usd, deadline_s, t, memory)| {
                let ctx = RoutingContext {
                    creator: CreatorId(creator.clone()),
                    outcome_target: TARGETS[t],
                    budget_usd,
                    deadline_s,
                    memory,
                };
                (r, req, ctx)
            })
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn the_same_inputs_give_the_same_decision((registry, req, ctx) in setup()) {
        let a = route_stage(&registry, &req, &ctx);
        let b = route_stage(&registry, &req, &ctx);
        prop_assert_eq!(&a, &b);
        // Also from independent copies (nothing hidden in the inputs' identity or capacity).
        let (reg2, req2, ctx2) = (registry.clone(), req.clone(), ctx.clone());
        prop_assert_eq!(a, route_stage(&reg2, &req2, &ctx2));
    }

    #[test]
    fn every_candidate_can_make_the_stage_within_budget_and_its_flag((registry, req, ctx) in setup()) {
        let capable: Vec<_> = registry.with_capability(req.kind.capability()).collect();
        match route_stage(&registry, &req, &ctx) {
            Ok(d) => {
                prop_assert!(!d.candidates.is_empty());
                for c in &d.candidates {
                    let spec = registry.get(&c.model).unwrap();
                    prop_assert_eq!(spec.capability, req.kind.capability());
                    prop_assert!(spec.max_duration_s <= 0.0 || req.duration_s <= spec.max_duration_s);
                    prop_assert!(spec.aspects.is_empty() || spec.aspects.contains(&req.aspect));
                    prop_assert!(c.cost_usd <= ctx.budget_usd, "{} > {}", c.cost_usd, ctx.budget_usd);
                    if let Some(flag) = &spec.flag {
                        prop_assert!(flag.verdict(&ctx.creator).admits());
                    }
                    for s in [c.scores.quality, c.scores.continuity, c.scores.cost, c.scores.latency, c.scores.outcome] {
                        prop_assert!((0.0..=1.0).contains(&s));
                    }
                }
                // Every capable model is either a candidate or excluded, exactly once.
                prop_assert_eq!(d.candidates.len() + d.excluded.len(), capable.len());
                for m in &capable {
                    let n = d.candidates.iter().filter(|c| c.model == m.id).count()
                        + d.excluded.iter().filter(|(x, _)| *x == m.id).count();
                    prop_assert_eq!(n, 1);
                    let refused = m.flag.as_ref().is_some_and(|f| !f.verdict(&ctx.creator).admits());
                    if refused {
                        prop_assert!(d.excluded.iter().any(|(x, _)| *x == m.id));
                    }
                }
                prop_assert!(!d.reason.is_empty());
                prop_assert!(d.reason.starts_with(d.candidates[0].model.as_str()));
            }
            Err(studio::routing::RoutingError::NoModel { stage, .. }) => {
                prop_assert_eq!(stage, req.stage.clone());
                // Really nothing eligible: every capable model fails a check.
                // A model for reference images fits only a keyframe or motion of a shot that has some.
                let refs = match req.kind {
                    StageKind::Keyframe | StageKind::Motion => req
                        .shot
                        .as_ref()
                        .and_then(|s| ctx.memory.shot_references.get(s))
                        .copied()
                        .unwrap_or(0),
                    _ => 0,
                };
                for m in &capable {
                    let cost = m.cost_usd(req.duration_s, req.chars);
                    let for_refs = studio::providers::references::needs_references(m.provider, &m.provider_model, req.kind);
                    let fits = !(for_refs && refs == 0)
                        && (m.max_duration_s <= 0.0 || req.duration_s <= m.max_duration_s)
                        && (m.aspects.is_empty() || m.aspects.contains(&req.aspect))
                        && m.flag.as_ref().is_none_or(|f| f.verdict(&ctx.creator).admits())
                        && cost <= ctx.budget_usd;
                    prop_assert!(!fits, "{} was eligible", m.id);
                }
            }
        }
    }

    #[test]
    fn the_winner_is_in_the_top_quality_tier((registry, req, ctx) in setup()) {
        if let Ok(d) = route_stage(&registry, &req, &ctx) {
            let rule = RankRule::for_stage(&req);
            let best = d.candidates.iter().map(|c| c.scores.quality).fold(f64::MIN, f64::max);
            prop_assert!(best - d.candidates[0].scores.quality <= rule.quality_epsilon + FLOAT_SLACK);
        }
    }

    #[test]
    fn rank_order_is_a_permutation(scores in prop::collection::vec(prop::array::uniform5(0.0f64..1.0), 0..12)) {
        let ids: Vec<studio::ids::ModelId> = (0..scores.len()).map(|i| format!("m{i:02}").as_str().into()).collect();
        let s: Vec<studio::routing::Scores> = scores
            .iter()
            .map(|[q, c, k, l, o]| studio::routing::Scores { quality: *q, continuity: *c, cost: *k, latency: *l, outcome: *o })
            .collect();
        let items: Vec<_> = ids.iter().zip(s.iter()).collect();
        let mut order = rank_order(&items, &RankRule::default());
        order.sort_unstable();
        prop_assert_eq!(order, (0..scores.len()).collect::<Vec<_>>());
    }

    #[test]
    fn a_plan_never_spends_more_than_the_budget(
        reqs in prop::collection::vec(request(), 1..25),
        budget in 0.0f64..30.0,
        deadline in 0.0f64..2000.0,
        creator in "[a-z]{1,8}",
    ) {
        let registry = Registry::builtin();
        let ctx = RoutingContext { budget_usd: budget, deadline_s: deadline, ..common::ctx(&creator, budget, deadline) };
        let a = route_plan(&registry, &reqs, &ctx);
        prop_assert_eq!(&a, &route_plan(&registry, &reqs, &ctx));
        if let Ok(plan) = a {
            prop_assert_eq!(plan.decisions.len(), reqs.len());
            prop_assert!(plan.total_cost_usd <= budget + 1e-9, "{} > {}", plan.total_cost_usd, budget);
            for (req, d) in reqs.iter().zip(&plan.decisions) {
                prop_assert_eq!(&d.stage, &req.stage);
                let c = d.chosen().unwrap();
                prop_assert!(c.cost_usd <= d.budget_usd);
                prop_assert_eq!(registry.get(&c.model).unwrap().capability, req.kind.capability());
            }
            let shares: f64 = plan.shares.iter().map(|s| s.usd).sum();
            prop_assert!(shares <= budget + 1e-9);
        }
    }
}
