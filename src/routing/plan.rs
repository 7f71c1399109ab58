//! Routing a whole plan: budget split, surplus to the stages that matter, deadline check.
//!
//! 1. [`allocate_budget`] gives each stage its share of `ctx.budget_usd` (the brief's budget).
//! 2. Every stage is routed within its share.
//! 3. What the chosen models leave unspent is the *surplus*. It is offered, greedily and in this
//!    order, to stages no model could make within their share, then to hero shots, then to the
//!    other stages that had a model excluded as over budget (each group in plan order): the stage
//!    is routed again within `its cost + surplus`, and the surplus shrinks by what it spent more.
//!    So the chosen models never cost more than the brief's budget in total.
//! 4. The projected wall time is compared with the deadline (see [`Projection`]). When it does not
//!    fit, every stage is routed again with latency ranked above cost ([`RankRule::latency_first`]),
//!    within `min(its budget, its cost + surplus)`, so among near-ties the faster model wins. The
//!    result says whether that made it fit ([`DeadlineCheck`]); missing the deadline is reported,
//!    not an error: the creator may still want the video.
//!
//! Any stage still without a model fails the plan with [`RoutingError::NoModel`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::ids::ModelId;
use crate::plan::StageKind;
use crate::routing::budget::StageBudget;
use crate::routing::budget::{BudgetShare, Importance, allocate_budget, importance_of};
use crate::routing::rank::RankRule;
use crate::routing::route::route_stage_with;
use crate::routing::{Decision, Registry, RoutingContext, RoutingError, StageRequest};

/// The routed plan
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanRouting {
    /// The registry version every decision was made with
    pub registry_version: u32,
    /// The initial budget split, in plan order
    pub shares: Vec<BudgetShare>,
    /// One decision per stage, in plan order
    pub decisions: Vec<Decision>,
    /// Projected cost of the chosen models, USD
    pub total_cost_usd: f64,
    /// How the projected wall time compares with the deadline
    pub deadline: DeadlineCheck,
}

/// Projected wall time of a routed plan, from the chosen models' p50 latencies.
///
/// `critical_path_ms` is the longest chain: max over shots of keyframe + motion (speech and
/// music stages are chains of their own), plus assembly. It assumes unlimited parallelism, which
/// a 500-shot plan on a model that takes 4 tasks at once does not have, so `throughput_ms` adds
/// the bound from provider concurrency: max over models of `ceil(stages / concurrency) x p50`,
/// plus assembly. The projection is the larger of the two.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Projection {
    /// Longest chain of stages, ms
    pub critical_path_ms: u64,
    /// Concurrency bound, ms
    pub throughput_ms: u64,
    /// The brief's deadline, ms
    pub deadline_ms: u64,
}

impl Projection {
    /// The projected wall time: the larger of the two bounds
    pub fn projected_ms(&self) -> u64 {
        self.critical_path_ms.max(self.throughput_ms)
    }

    /// Whether the projection is inside the deadline
    pub fn fits(&self) -> bool {
        self.projected_ms() <= self.deadline_ms
    }
}

/// The deadline check of a routed plan
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum DeadlineCheck {
    /// The plan as routed fits
    Fits {
        /// The projection
        projection: Projection,
    },
    /// The first routing did not fit; preferring faster models among near-ties made it fit
    FitsAfterSpeedUp {
        /// Before the speed-up
        before: Projection,
        /// After it
        after: Projection,
    },
    /// Even with faster models among near-ties the projection exceeds the deadline
    Misses {
        /// Before the speed-up
        before: Projection,
        /// After it (the routing returned)
        after: Projection,
    },
}

impl DeadlineCheck {
    /// Whether the returned routing is projected to meet the deadline
    pub fn fits(&self) -> bool {
        match self {
            Self::Fits { .. } | Self::FitsAfterSpeedUp { .. } => true,
            Self::Misses { .. } => false,
        }
    }
}

/// Routes every stage of a plan. `ctx.budget_usd` is the brief's whole budget and
/// `ctx.deadline_s` its deadline; the algorithm is in the module doc.
///
/// # Errors
///
/// [`RoutingError::NoModel`] for the first stage (in plan order) that no model can make even
/// with the surplus.
pub fn route_plan(
    registry: &Registry,
    stages: &[StageRequest],
    ctx: &RoutingContext,
) -> Result<PlanRouting, RoutingError> {
    let shares = allocate_budget(registry, stages, ctx.budget_usd);
    let total = shares
        .iter()
        .map(|s| s.usd)
        .sum::<f64>()
        .min(ctx.budget_usd.max(0.0));

    let mut results: Vec<Result<Decision, RoutingError>> = stages
        .iter()
        .zip(&shares)
        .map(|(req, share)| {
            let budget = StageBudget {
                cap_usd: share.usd,
                share_usd: share.usd,
            };
            route_stage_with(registry, req, ctx, &RankRule::for_stage(req), budget)
        })
        .collect();
    let mut surplus = total - results.iter().map(chosen_cost).sum::<f64>();

    for i in surplus_order(stages, &results) {
        let (Some(req), Some(share), Some(slot)) =
            (stages.get(i), shares.get(i), results.get_mut(i))
        else {
            continue;
        };
        let current = chosen_cost(slot);
        let budget = StageBudget {
            cap_usd: current + surplus.max(0.0),
            share_usd: share.usd,
        };
        if let Ok(better) = route_stage_with(registry, req, ctx, &RankRule::for_stage(req), budget)
        {
            surplus -= cost_of(&better) - current;
            *slot = Ok(better);
        }
    }

    if results.iter().any(Result::is_err)
        && let Some(rerouted) = route_from_floors(registry, stages, ctx, &shares)
    {
        results = rerouted;
        surplus = total - results.iter().map(chosen_cost).sum::<f64>();
    }

    let mut decisions = Vec::with_capacity(results.len());
    for result in results {
        decisions.push(result?);
    }

    let before = project(registry, stages, &decisions, ctx.deadline_s);
    let deadline = if before.fits() {
        DeadlineCheck::Fits { projection: before }
    } else {
        for ((req, share), slot) in stages.iter().zip(&shares).zip(decisions.iter_mut()) {
            let current = cost_of(slot);
            let cap_usd = slot.budget_usd.min(current + surplus.max(0.0));
            let budget = StageBudget {
                cap_usd,
                share_usd: share.usd,
            };
            let rule = RankRule::for_stage(req).latency_first();
            if let Ok(faster) = route_stage_with(registry, req, ctx, &rule, budget) {
                surplus -= cost_of(&faster) - current;
                *slot = faster;
            }
        }
        let after = project(registry, stages, &decisions, ctx.deadline_s);
        if after.fits() {
            DeadlineCheck::FitsAfterSpeedUp { before, after }
        } else {
            DeadlineCheck::Misses { before, after }
        }
    };

    Ok(PlanRouting {
        registry_version: registry.version,
        shares,
        total_cost_usd: decisions.iter().map(cost_of).sum(),
        decisions,
        deadline,
    })
}

/// The fallback when the shares and the surplus leave a stage without a model although the
/// budget covers the cheapest plan: every stage gets its cheapest eligible model's cost (its
/// floor) plus its share of what the budget has beyond the floors, so every stage can be
/// routed and the chosen models still cost at most the budget. `None` when the floors exceed
/// the budget (or a stage has no model at any price): the plan cannot be routed.
fn route_from_floors(
    registry: &Registry,
    stages: &[StageRequest],
    ctx: &RoutingContext,
    shares: &[BudgetShare],
) -> Option<Vec<Result<Decision, RoutingError>>> {
    let unbounded = StageBudget {
        cap_usd: f64::INFINITY,
        share_usd: f64::INFINITY,
    };
    let mut floors = Vec::with_capacity(stages.len());
    for req in stages {
        let d = route_stage_with(registry, req, ctx, &RankRule::for_stage(req), unbounded).ok()?;
        let floor = d
            .candidates
            .iter()
            .map(|c| c.cost_usd)
            .min_by(f64::total_cmp)?;
        floors.push(floor);
    }
    let budget = ctx.budget_usd.max(0.0);
    let slack = budget - floors.iter().sum::<f64>();
    if slack.is_nan() || slack < 0.0 {
        return None;
    }
    let share_sum: f64 = shares.iter().map(|s| s.usd).sum();
    Some(
        stages
            .iter()
            .zip(shares)
            .zip(&floors)
            .map(|((req, share), floor)| {
                let extra = if share_sum > 0.0 {
                    slack * share.usd / share_sum
                } else {
                    0.0
                };
                // A hair of room so rounding never excludes the floor model itself.
                let budget = StageBudget {
                    cap_usd: floor + extra + 1e-9,
                    share_usd: share.usd.max(*floor),
                };
                route_stage_with(registry, req, ctx, &RankRule::for_stage(req), budget)
            })
            .collect(),
    )
}

fn cost_of(d: &Decision) -> f64 {
    d.chosen().map_or(0.0, |c| c.cost_usd)
}

fn chosen_cost(r: &Result<Decision, RoutingError>) -> f64 {
    r.as_ref().map_or(0.0, cost_of)
}

/// Failed stages, then hero stages, then stages that had a model excluded as over budget
fn surplus_order(
    stages: &[StageRequest],
    results: &[Result<Decision, RoutingError>],
) -> Vec<usize> {
    let failed = results
        .iter()
        .enumerate()
        .filter(|(_, r)| r.is_err())
        .map(|(i, _)| i);
    let heroes = stages
        .iter()
        .zip(results)
        .enumerate()
        .filter(|(_, (s, r))| r.is_ok() && importance_of(s) == Importance::Hero)
        .map(|(i, _)| i);
    let squeezed = stages
        .iter()
        .zip(results)
        .enumerate()
        .filter(|(_, (s, r))| {
            importance_of(s) != Importance::Hero
                && r.as_ref().is_ok_and(|d| {
                    d.excluded
                        .iter()
                        .any(|(_, why)| why.starts_with("over budget"))
                })
        })
        .map(|(i, _)| i);
    failed.chain(heroes).chain(squeezed).collect()
}

/// The projection of a routed plan (see [`Projection`])
pub fn project(
    registry: &Registry,
    stages: &[StageRequest],
    decisions: &[Decision],
    deadline_s: f64,
) -> Projection {
    let mut chains: BTreeMap<&str, u64> = BTreeMap::new();
    let mut per_model: BTreeMap<&ModelId, (u64, u64)> = BTreeMap::new();
    let mut assembly_ms = 0u64;
    for (req, decision) in stages.iter().zip(decisions) {
        let Some(chosen) = decision.chosen() else {
            continue;
        };
        match req.kind {
            StageKind::Assembly => assembly_ms = assembly_ms.max(chosen.latency_ms),
            // A long shot's parts and the frames between them are one chain.
            StageKind::Keyframe | StageKind::Motion | StageKind::Frame => {
                let shot = req.shot.as_ref().map_or_else(
                    || req.stage.as_str().split('.').next().unwrap_or_default(),
                    |s| s.as_str(),
                );
                let chain = chains.entry(shot).or_insert(0);
                *chain = chain.saturating_add(chosen.latency_ms);
            }
            StageKind::Dialogue | StageKind::Voiceover | StageKind::Score => {
                let chain = chains.entry(req.stage.as_str()).or_insert(0);
                *chain = (*chain).max(chosen.latency_ms);
            }
        }
        if req.kind != StageKind::Assembly {
            let entry = per_model
                .entry(&chosen.model)
                .or_insert((0, chosen.latency_ms));
            entry.0 += 1;
        }
    }
    let longest = chains.values().copied().max().unwrap_or(0);
    let throughput = per_model
        .iter()
        .map(|(model, (count, p50))| {
            let concurrency = registry
                .get(model)
                .map_or(1, |m| u64::from(m.concurrency.max(1)));
            count.div_ceil(concurrency).saturating_mul(*p50)
        })
        .max()
        .unwrap_or(0);
    Projection {
        critical_path_ms: longest.saturating_add(assembly_ms),
        throughput_ms: throughput.saturating_add(assembly_ms),
        deadline_ms: secs_to_ms(deadline_s),
    }
}

fn secs_to_ms(s: f64) -> u64 {
    // `as` saturates for floats: NaN becomes 0, too large becomes u64::MAX.
    if s.is_finite() && s > 0.0 {
        (s * 1000.0) as u64
    } else {
        0
    }
}
