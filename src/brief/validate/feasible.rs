//! The last check at create: can this brief be rendered at all, and within its budget?
//!
//! What is longer than one call makes is split by the planner (long shots into continuous parts,
//! long scores into crossfaded segments), so only two things are refused here, before anything
//! is written or spent: a stage no model of the registry can make at any price, and a budget
//! below the cheapest plan's cost ([`cheapest_plan`]), named with the minimum.

use crate::brief::{BriefError, types::Brief};
use crate::ids::CreatorId;
use crate::routing::{Registry, RoutingError, cheapest_plan};

/// The field a stage of the plan comes from: `shots[3]` for a shot's stages, `score`,
/// `voiceover`, `platforms` (the assembly)
fn field_of(brief: &Brief, stage: &str) -> String {
    let head = stage.split('.').next().unwrap_or(stage);
    if let Some(i) = brief.shots.iter().position(|s| s.id.as_str() == head) {
        return format!("shots[{i}]");
    }
    match head {
        "score" => "score.duration_s".into(),
        "voiceover" => "voiceover.text".into(),
        _ => "platforms".into(),
    }
}

/// Refuses a brief that cannot be rendered on `registry` for `creator`, or not within its
/// budget; the message names the minimum budget
pub fn check_feasible(
    brief: &Brief,
    registry: &Registry,
    creator: Option<&CreatorId>,
) -> Result<(), BriefError> {
    let cheapest = cheapest_plan(registry, brief, creator).map_err(|e| match e {
        RoutingError::NoModel { stage, why } => BriefError::Invalid {
            field: field_of(brief, stage.as_str()),
            message: format!("no model can make {stage} at any price: {why}"),
        },
    })?;
    let budget = crate::job::Micros::from_usd(brief.budget_usd);
    if cheapest.cost > budget {
        let dearest = cheapest
            .dearest
            .as_ref()
            .map(|(stage, model, c)| format!("; the dearest stage is {stage} ({c} on {model})"))
            .unwrap_or_default();
        // Rounded up to the cent, so the figure named is enough.
        let minimum = (cheapest.cost.0.div_ceil(10_000)) as f64 / 100.0;
        return Err(BriefError::Invalid {
            field: "budget_usd".into(),
            message: format!(
                "the cheapest plan for this brief ({} stages, each on its cheapest model) costs \
                 more than the {budget} budget: the minimum budget is ${minimum:.2}{dearest}",
                cheapest.stages
            ),
        });
    }
    Ok(())
}
