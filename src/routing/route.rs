//! Routing one stage: eligibility, scores, ranking, and the recorded decision.

use crate::ids::ModelId;
use crate::routing::budget::StageBudget;
use crate::routing::outcome::OutcomeEvidence;
use crate::routing::rank::{RankRule, rank_order};
use crate::routing::reason::{self, Ranked};
use crate::routing::score::{self, verdict_text};
use crate::routing::{Candidate, Decision, Registry, RoutingContext, RoutingError, StageRequest};

/// Routes one stage: the eligible models of `registry`, best first, with every exclusion and a
/// readable reason. Pure: the same arguments always give the same decision.
///
/// # Errors
///
/// [`RoutingError::NoModel`] when no model of the registry passes the eligibility checks.
pub fn route_stage(
    registry: &Registry,
    req: &StageRequest,
    ctx: &RoutingContext,
) -> Result<Decision, RoutingError> {
    let budget = StageBudget {
        cap_usd: ctx.budget_usd,
        share_usd: ctx.budget_usd,
    };
    route_stage_with(registry, req, ctx, &RankRule::for_stage(req), budget)
}

/// [`route_stage`] under an explicit rule (the plan uses the latency-first variant near deadlines)
/// and budget; `ctx.budget_usd` is not read
pub(crate) fn route_stage_with(
    registry: &Registry,
    req: &StageRequest,
    ctx: &RoutingContext,
    rule: &RankRule,
    budget: StageBudget,
) -> Result<Decision, RoutingError> {
    let capability = req.kind.capability();
    let mut excluded: Vec<(ModelId, String)> = Vec::new();
    let mut eligible = Vec::new();
    for spec in registry.with_capability(capability) {
        match score::check(spec, req, ctx, budget.cap_usd) {
            Ok(e) => eligible.push(e),
            Err(why) => excluded.push((spec.id.clone(), why)),
        }
    }
    if eligible.is_empty() {
        let why = if excluded.is_empty() {
            format!(
                "no model in registry v{} has capability {capability:?}",
                registry.version
            )
        } else {
            excluded
                .iter()
                .map(|(m, why)| format!("{m}: {why}"))
                .collect::<Vec<_>>()
                .join("; ")
        };
        return Err(RoutingError::NoModel {
            stage: req.stage.clone(),
            why,
        });
    }

    let scored: Vec<_> = eligible
        .iter()
        .map(|e| score::scores(e, req, ctx, budget.share_usd))
        .collect();
    let items: Vec<_> = eligible
        .iter()
        .zip(&scored)
        .map(|(e, (s, _))| (&e.spec.id, s))
        .collect();
    let order = rank_order(&items, rule);

    // The same ranking without this creator's outcome data (prior quality, neutral outcome): if
    // its winner differs, outcome data changed the choice and the reason says so.
    let neutral: Vec<_> = scored
        .iter()
        .zip(&eligible)
        .map(|((s, _), e)| score::without_outcome(s, e, req))
        .collect();
    let neutral_items: Vec<_> = eligible
        .iter()
        .zip(&neutral)
        .map(|(e, s)| (&e.spec.id, s))
        .collect();
    let without_outcome = rank_order(&neutral_items, rule).first().copied();

    let mut notes = Vec::new();
    for e in &eligible {
        if let (Some(flag), Some(verdict)) = (&e.spec.flag, &e.flag) {
            notes.push(format!(
                "{} behind flag {}: {}",
                e.spec.id,
                flag.name,
                verdict_text(verdict)
            ));
        }
    }
    for (e, (_, ev)) in eligible.iter().zip(&scored) {
        if let Some(ev) = ev {
            notes.push(evidence_note(&e.spec.id, ev));
        }
    }

    let candidates: Vec<Candidate> = order
        .iter()
        .filter_map(|&i| {
            let e = eligible.get(i)?;
            let (scores, _) = scored.get(i)?;
            Some(Candidate {
                model: e.spec.id.clone(),
                scores: scores.clone(),
                cost_usd: e.cost_usd,
                latency_ms: e.spec.latency_p50_ms,
            })
        })
        .collect();

    let winner = order.first().copied();
    let ranked = Ranked {
        req,
        budget,
        rule,
        items: &items,
        order: &order,
        winner_flag: winner
            .and_then(|w| eligible.get(w))
            .and_then(|e| Some((e.spec.flag.as_ref()?, e.flag.as_ref()?))),
        outcome_changed: match (winner, without_outcome) {
            (Some(w), Some(n)) if w != n => Some(reason::OutcomeChange {
                winner: scored.get(w).and_then(|(_, ev)| ev.as_ref()),
                displaced: eligible.get(n).map(|e| &e.spec.id),
                displaced_evidence: scored.get(n).and_then(|(_, ev)| ev.as_ref()),
            }),
            _ => None,
        },
    };
    let reason = reason::line(&ranked, &candidates);
    let said = reason::for_director(&ranked, &candidates);

    Ok(Decision {
        stage: req.stage.clone(),
        candidates,
        excluded,
        reason,
        registry_version: registry.version,
        budget_usd: budget.cap_usd,
        notes,
        said,
    })
}

fn evidence_note(model: &ModelId, ev: &OutcomeEvidence) -> String {
    ev.note(model)
}
