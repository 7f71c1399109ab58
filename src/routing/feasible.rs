//! What a brief can become before anything is spent: how the plan splits what is longer than
//! one call makes, and what the cheapest plan costs.
//!
//! - [`split_limits`]: the longest clip and the longest music one call of the registry makes for
//!   this creator. The planner splits longer shots into parts (and needs a model that cuts the
//!   frames between them) and longer scores into segments.
//! - [`cheapest_plan`]: the plan of a brief with every stage on its cheapest eligible model
//!   (capability, duration, frame shape, feature flags; the budget ignored). Its cost is the
//!   least budget the brief can render with, which the API checks at create, and it fails only
//!   when some stage has no model at all.
//!
//! Costs are summed in micro-dollars per stage, exactly as the job sums its floors, so a brief
//! accepted at create passes the job's own "over budget before starting" check.

use serde::{Deserialize, Serialize};

use crate::brief::{AspectRatio, Brief};
use crate::ids::{CreatorId, ModelId, StageId};
use crate::job::Micros;
use crate::memory::MemoryContext;
use crate::memory::graph::AudienceSignal;
use crate::plan::{self, Capability, PlanOptions, StageKind, StageSpec};
use crate::routing::score::check;
use crate::routing::{ModelSpec, Registry, RoutingContext, RoutingError};

/// The split limits of a plan: what one call makes at most (`None`: no limit, or nothing to
/// split into)
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct SplitLimits {
    /// Longest clip one video call makes; `None` when the registry cannot cut frames, so a long
    /// shot is not split (and routing says no model can make it)
    pub max_clip_s: Option<f64>,
    /// Longest music one call makes
    pub max_music_s: Option<f64>,
}

fn admits(spec: &ModelSpec, creator: Option<&CreatorId>) -> bool {
    match (&spec.flag, creator) {
        (None, _) => true,
        // Without a creator (no one to ask the flag about), any model might be theirs.
        (Some(_), None) => true,
        (Some(flag), Some(c)) => flag.verdict(c).admits(),
    }
}

/// The longest output one call of a model of `capability` makes (for `aspect`, for `creator`);
/// `None` when one of them has no limit or none qualifies
pub fn longest_call_s(
    registry: &Registry,
    capability: Capability,
    aspect: Option<AspectRatio>,
    creator: Option<&CreatorId>,
) -> Option<f64> {
    let mut longest: Option<f64> = None;
    for m in registry.with_capability(capability) {
        if !admits(m, creator) {
            continue;
        }
        if let Some(a) = aspect
            && !m.aspects.is_empty()
            && !m.aspects.contains(&a)
        {
            continue;
        }
        if m.max_duration_s <= 0.0 {
            return None;
        }
        longest = Some(longest.map_or(m.max_duration_s, |l| l.max(m.max_duration_s)));
    }
    longest
}

/// The split limits of a brief's plan on `registry` (see [`SplitLimits`])
pub fn split_limits(
    registry: &Registry,
    master: AspectRatio,
    creator: Option<&CreatorId>,
) -> SplitLimits {
    let cuts_frames = registry
        .with_capability(Capability::Frame)
        .any(|m| admits(m, creator));
    SplitLimits {
        max_clip_s: if cuts_frames {
            longest_call_s(registry, Capability::Video, Some(master), creator)
        } else {
            None
        },
        max_music_s: longest_call_s(registry, Capability::Music, None, creator),
    }
}

/// The master's frame shape as the planner takes it for `audience` (see `plan::audience`): the
/// brief's `master_aspect`, else the audience's primary platform's, else the first platform's
pub fn master_aspect(brief: &Brief, audience: Option<&AudienceSignal>) -> AspectRatio {
    plan::audience::outputs(brief, audience).master
}

/// The options the planner needs for a brief on a registry, before the creator's audience is
/// known (at create)
pub fn plan_options(
    registry: &Registry,
    brief: &Brief,
    creator: Option<&CreatorId>,
    badge: bool,
) -> PlanOptions {
    plan_options_for(registry, brief, None, creator, badge)
}

/// The options the planner needs for a brief on a registry for this audience: the longest clip
/// is the longest any model makes in the master's shape, which the audience may choose
pub fn plan_options_for(
    registry: &Registry,
    brief: &Brief,
    audience: Option<&AudienceSignal>,
    creator: Option<&CreatorId>,
    badge: bool,
) -> PlanOptions {
    let limits = split_limits(registry, master_aspect(brief, audience), creator);
    PlanOptions {
        badge,
        max_clip_s: limits.max_clip_s,
        max_music_s: limits.max_music_s,
    }
}

/// The cheapest plan of a brief
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheapestPlan {
    /// What it costs: the least budget the brief renders with
    pub cost: Micros,
    /// Stages in the plan
    pub stages: usize,
    /// The most expensive stage on its cheapest model, for the message
    pub dearest: Option<(StageId, ModelId, Micros)>,
}

/// The cheapest eligible model of one stage, ignoring the budget
fn cheapest_model<'a>(
    registry: &'a Registry,
    stage: &StageSpec,
    ctx: &RoutingContext,
) -> Result<(&'a ModelSpec, Micros), RoutingError> {
    let req = stage.routing_request();
    let mut why = Vec::new();
    let mut best: Option<(&ModelSpec, Micros)> = None;
    for m in registry.with_capability(stage.kind.capability()) {
        match check(m, &req, ctx, f64::INFINITY) {
            Ok(e) => {
                let cost = Micros::from_usd(e.cost_usd);
                if best.is_none_or(|(_, c)| cost < c) {
                    best = Some((m, cost));
                }
            }
            Err(w) => why.push(format!("{}: {w}", m.id)),
        }
    }
    best.ok_or_else(|| RoutingError::NoModel {
        stage: stage.id.clone(),
        why: if why.is_empty() {
            format!(
                "no model in registry v{} has capability {:?}",
                registry.version,
                stage.kind.capability()
            )
        } else {
            why.join("; ")
        },
    })
}

/// The brief's plan with every stage on its cheapest model; `creator` evaluates feature flags
/// (without one, flagged models count as available).
///
/// # Errors
///
/// [`RoutingError::NoModel`] for the first stage no model can make at any price.
pub fn cheapest_plan(
    registry: &Registry,
    brief: &Brief,
    creator: Option<&CreatorId>,
) -> Result<CheapestPlan, RoutingError> {
    let options = plan_options(registry, brief, creator, false);
    let plan = plan::build(brief, &MemoryContext::default(), options);
    let ctx = RoutingContext {
        // A creator no flag's allowlist names and whose bucket is outside every rollout would be
        // wrong here: without a creator, flags are not applied at all (see `admits`).
        creator: creator.cloned().unwrap_or_else(|| CreatorId(String::new())),
        outcome_target: brief.outcome_target,
        budget_usd: f64::INFINITY,
        deadline_s: brief.deadline_s as f64,
        memory: MemoryContext::default(),
    };
    let registry_for_check = match creator {
        Some(_) => registry.clone(),
        None => {
            let mut r = registry.clone();
            for m in &mut r.models {
                m.flag = None;
            }
            r
        }
    };
    let mut cost = Micros::ZERO;
    let mut dearest: Option<(StageId, ModelId, Micros)> = None;
    for stage in &plan.stages {
        let (model, c) = cheapest_model(&registry_for_check, stage, &ctx)?;
        cost = cost.plus(c);
        if dearest.as_ref().is_none_or(|(_, _, d)| c > *d) && stage.kind != StageKind::Assembly {
            dearest = Some((stage.id.clone(), model.id.clone(), c));
        }
    }
    Ok(CheapestPlan {
        cost,
        stages: plan.stages.len(),
        dearest,
    })
}
