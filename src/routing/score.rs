//! Eligibility and the five scores of one model for one stage (formulas in the module doc of
//! `routing`).

use crate::plan::StageKind;
use crate::providers::references;
use crate::routing::outcome::{self, NEUTRAL, OutcomeEvidence};
use crate::routing::{FlagVerdict, ModelSpec, RoutingContext, Scores, StageRequest};

/// A model that passed the eligibility checks, with what the decision reports about it
pub(crate) struct Eligible<'a> {
    pub spec: &'a ModelSpec,
    pub cost_usd: f64,
    pub flag: Option<FlagVerdict>,
}

/// Why a model of the right capability was left out
pub(crate) fn check<'a>(
    spec: &'a ModelSpec,
    req: &StageRequest,
    ctx: &RoutingContext,
    cap_usd: f64,
) -> Result<Eligible<'a>, String> {
    if spec.max_duration_s > 0.0 && req.duration_s > spec.max_duration_s {
        return Err(format!(
            "cannot make {}s in one call (max {}s)",
            fmt_num(req.duration_s),
            fmt_num(spec.max_duration_s)
        ));
    }
    if !spec.aspects.is_empty() && !spec.aspects.contains(&req.aspect) {
        return Err(format!("does not render {}", req.aspect.as_str()));
    }
    let flag = spec.flag.as_ref().map(|f| (f, f.verdict(&ctx.creator)));
    if let Some((f, verdict)) = &flag
        && !verdict.admits()
    {
        return Err(format!("behind flag {}: {}", f.name, verdict_text(verdict)));
    }
    let cost_usd = spec.cost_usd(req.duration_s, req.chars);
    // `within` is false for a NaN budget, so it excludes everything rather than nothing.
    let within = cost_usd.partial_cmp(&cap_usd).is_some_and(|o| o.is_le());
    if !within {
        return Err(format!(
            "over budget: ${cost_usd:.2} > ${:.2}",
            cap_usd.max(0.0)
        ));
    }
    if references::needs_references(spec.provider, &spec.provider_model, req.kind)
        && reference_images(req, ctx) == 0
    {
        return Err("is for a cast look's reference images; this stage has none".into());
    }
    Ok(Eligible {
        spec,
        cost_usd,
        flag: flag.map(|(_, v)| v),
    })
}

/// The five scores of an eligible model
pub(crate) fn scores(
    e: &Eligible<'_>,
    req: &StageRequest,
    ctx: &RoutingContext,
    share_usd: f64,
) -> (Scores, Option<OutcomeEvidence>) {
    let spec = e.spec;
    let refs = reference_images(req, ctx);
    let continuity = if refs > 0 {
        // Whether the references will actually be used, not whether the model could in
        // principle hold a character: the same table the adapters build their bodies from.
        references::continuity_score(spec.provider, &spec.provider_model, req.kind, refs)
    } else if !req.needs_continuity || spec.continuity {
        1.0
    } else {
        0.0
    };
    let cost = if share_usd > 0.0 {
        1.0 - e.cost_usd / share_usd
    } else if e.cost_usd <= 0.0 {
        1.0
    } else {
        0.0
    };
    let p50_s = spec.latency_p50_ms as f64 / 1000.0;
    let latency = if ctx.deadline_s > 0.0 {
        1.0 - p50_s / ctx.deadline_s
    } else {
        0.0
    };
    // Click-through on the call-to-action shot, the target's metric elsewhere, with the similar
    // past shots this model made pooled in (see `outcome::evidence_for_stage`).
    let evidence = outcome::evidence_for_stage(&ctx.memory, ctx.outcome_target, &spec.id, req);
    let prior_quality = spec.quality_for(req.shot_kind);
    // The registry's quality prior is editorial judgement; this creator's shrunk outcome
    // evidence for the model on this shot kind corrects it, so strong bad evidence can move a
    // model out of the top quality tier while thin evidence only nudges it.
    let quality = prior_quality
        + evidence
            .as_ref()
            .map_or(0.0, |ev| quality_correction(ev.score));
    let scores = Scores {
        quality: unit(quality),
        continuity,
        cost: unit(cost),
        latency: unit(latency),
        outcome: evidence.as_ref().map_or(NEUTRAL, |ev| unit(ev.score)),
    };
    (scores, evidence)
}

/// The reference images a keyframe or motion stage of a shot sends: those of the locked looks
/// of the shot's cast (see `memory::build_context`); none for any other stage
fn reference_images(req: &StageRequest, ctx: &RoutingContext) -> usize {
    match req.kind {
        StageKind::Keyframe | StageKind::Motion => req
            .shot
            .as_ref()
            .and_then(|shot| ctx.memory.shot_references.get(shot))
            .copied()
            .unwrap_or(0),
        StageKind::Frame
        | StageKind::Dialogue
        | StageKind::Voiceover
        | StageKind::Score
        | StageKind::Assembly => 0,
    }
}

/// How far one unit of outcome score (0.5 = no evidence) moves the quality score
pub(crate) const OUTCOME_QUALITY_WEIGHT: f64 = 1.0;

/// Corrections this small are left out of the quality score: evidence too thin to move a model
/// out of a near-tie band (the ranking's epsilon) leaves the editorial prior alone and only
/// breaks ties on the outcome dimension
pub(crate) const OUTCOME_DEAD_ZONE: f64 = 0.03;

/// What outcome evidence adds to the quality prior: `w * (score - 0.5)`, less the dead zone
pub(crate) fn quality_correction(outcome_score: f64) -> f64 {
    let delta = OUTCOME_QUALITY_WEIGHT * (outcome_score - NEUTRAL);
    if delta.is_nan() {
        return 0.0;
    }
    delta.signum() * (delta.abs() - OUTCOME_DEAD_ZONE).max(0.0)
}

/// The scores as they would be without this creator's outcome data: the registry's quality
/// prior and a neutral outcome (for telling whether outcome data changed a choice)
pub(crate) fn without_outcome(s: &Scores, e: &Eligible<'_>, req: &StageRequest) -> Scores {
    Scores {
        quality: unit(e.spec.quality_for(req.shot_kind)),
        outcome: NEUTRAL,
        ..s.clone()
    }
}

/// Clamps into 0..=1; NaN becomes 0 so a broken figure never wins
fn unit(x: f64) -> f64 {
    if x.is_nan() { 0.0 } else { x.clamp(0.0, 1.0) }
}

/// Why a flag admitted or refused the creator, for reasons
pub(crate) fn verdict_text(v: &FlagVerdict) -> String {
    match v {
        FlagVerdict::Allowlisted => "creator allowlisted".into(),
        FlagVerdict::InRollout {
            bucket,
            rollout_percent,
        } => {
            format!("creator in rollout (bucket {bucket} < {rollout_percent}%)")
        }
        FlagVerdict::NotInRollout {
            bucket,
            rollout_percent,
        } => {
            format!("creator not in rollout (bucket {bucket} >= {rollout_percent}%)")
        }
    }
}

/// `6` for 6.0, `6.5` for 6.5
pub(crate) fn fmt_num(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{x:.0}")
    } else {
        format!("{x:.1}")
    }
}
