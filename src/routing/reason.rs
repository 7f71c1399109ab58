//! The one-line reason of a decision, written for a support person:
//! `veo-3: best quality for establishing (0.95); hero shot; $2.40 within $6.10 share`.

use crate::ids::ModelId;
use crate::memory::metric::metric_name;
use crate::routing::budget::{Importance, importance_of};
use crate::routing::outcome::OutcomeEvidence;
use crate::routing::rank::{Dimension, RankRule, deciding_dimension};
use crate::routing::route::StageBudget;
use crate::routing::score::{fmt_num, verdict_text};
use crate::routing::{Candidate, FeatureFlag, FlagVerdict, RoutingContext, Scores, StageRequest};

/// What the reason is written from
pub(crate) struct Ranked<'a> {
    pub req: &'a StageRequest,
    pub ctx: &'a RoutingContext,
    pub budget: StageBudget,
    pub rule: &'a RankRule,
    pub items: &'a [(&'a ModelId, &'a Scores)],
    pub order: &'a [usize],
    pub winner_flag: Option<(&'a FeatureFlag, &'a FlagVerdict)>,
    /// Set when outcome data changed the winner
    pub outcome_changed: Option<OutcomeChange<'a>>,
}

/// How outcome data changed a decision: the winner's evidence, and the model that would have
/// won without outcome data, with its evidence
pub(crate) struct OutcomeChange<'a> {
    pub winner: Option<&'a OutcomeEvidence>,
    pub displaced: Option<&'a ModelId>,
    pub displaced_evidence: Option<&'a OutcomeEvidence>,
}

pub(crate) fn line(r: &Ranked<'_>, candidates: &[Candidate]) -> String {
    let Some(winner) = candidates.first() else {
        return format!("{}: no eligible model", r.req.stage);
    };
    let subject = r.req.shot_kind.map_or(r.req.kind.as_str(), |k| k.as_str());
    let why = match (candidates.get(1), r.order.get(1)) {
        (Some(runner), Some(&runner_idx)) => {
            match deciding_dimension(r.items, runner_idx, r.rule) {
                Some(Dimension::Quality) => {
                    format!("best quality for {subject} ({:.2})", winner.scores.quality)
                }
                Some(Dimension::Continuity) => format!(
                    "keeps the cast consistent for {subject} (reference images), quality {:.2}",
                    winner.scores.quality
                ),
                Some(Dimension::Cost) => format!(
                    "cheapest of the near-equal quality models for {subject} (${:.2} vs {} ${:.2})",
                    winner.cost_usd, runner.model, runner.cost_usd
                ),
                Some(Dimension::Latency) => format!(
                    "fastest of the near-equal models for {subject} (p50 {}s vs {} {}s)",
                    fmt_num(winner.latency_ms as f64 / 1000.0),
                    runner.model,
                    fmt_num(runner.latency_ms as f64 / 1000.0)
                ),
                Some(Dimension::Outcome) => {
                    format!("best outcome data among near-equal models for {subject}")
                }
                None => format!(
                    "tied with {} on all five dimensions for {subject}",
                    runner.model
                ),
            }
        }
        _ => format!(
            "only eligible model for {subject} (quality {:.2})",
            winner.scores.quality
        ),
    };
    let mut parts = vec![format!("{}: {why}", winner.model)];
    match importance_of(r.req) {
        Importance::Hero => parts.push("hero shot".into()),
        Importance::Filler => parts.push("filler".into()),
        Importance::Standard => {}
    }
    let share = r.budget.share_usd.max(0.0);
    if winner.cost_usd <= share {
        parts.push(format!("${:.2} within ${share:.2} share", winner.cost_usd));
    } else {
        parts.push(format!(
            "${:.2}: ${share:.2} share + ${:.2} of the plan's surplus",
            winner.cost_usd,
            winner.cost_usd - share
        ));
    }
    if let Some(change) = &r.outcome_changed {
        let metric = metric_name(r.ctx.outcome_target);
        let evidence = |ev: &OutcomeEvidence| {
            format!(
                "{metric} {:.3} over {} render(s), shrunk to {:.3} (prior {:.3})",
                ev.mean, ev.renders, ev.estimate, ev.prior
            )
        };
        let over = change
            .displaced
            .map(|m| format!(" over {m}"))
            .unwrap_or_default();
        match (change.winner, change.displaced_evidence) {
            (_, Some(bad)) => parts.push(format!(
                "outcome data chose it{over}: this creator's {}",
                evidence(bad)
            )),
            (Some(good), None) => {
                parts.push(format!("outcome data chose it{over}: {}", evidence(good)))
            }
            (None, None) => parts.push(format!("outcome data on the alternatives chose it{over}")),
        }
    }
    if let Some((flag, verdict)) = r.winner_flag {
        parts.push(format!(
            "{} behind flag {}: {}",
            winner.model,
            flag.name,
            verdict_text(verdict)
        ));
    }
    parts.join("; ")
}
