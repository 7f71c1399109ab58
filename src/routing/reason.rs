//! Why a decision chose what it chose, twice: [`line`] for a support person, naming the models
//! (`veo-3: best quality for establishing (0.95); hero shot; $2.40 within $6.10 share`), and
//! [`for_director`] in Ra's voice for the creator, naming no model, provider or flag
//! (`Director, for the motion of this establishing shot I chose the option with the strongest
//! result. It's a hero shot, so I let it spend more.`).

use crate::brief::ShotKind;
use crate::brief::ra;
use crate::ids::ModelId;
use crate::plan::StageKind;
use crate::routing::budget::StageBudget;
use crate::routing::budget::{Importance, importance_of};
use crate::routing::outcome::OutcomeEvidence;
use crate::routing::rank::{Dimension, RankRule, deciding_dimension};
use crate::routing::score::{fmt_num, verdict_text};
use crate::routing::{Candidate, FeatureFlag, FlagVerdict, Scores, StageRequest};

/// What the reason is written from
pub(crate) struct Ranked<'a> {
    pub req: &'a StageRequest,
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
        let evidence = |ev: &OutcomeEvidence| ev.summary();
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

/// What a stage makes, as Ra says it to the Director: `the motion of this close-up`
fn director_subject(kind: StageKind, shot_kind: Option<ShotKind>) -> String {
    let what = match kind {
        StageKind::Keyframe => "the first frame",
        StageKind::Motion => "the motion",
        StageKind::Frame => "the join",
        StageKind::Dialogue => "the spoken line",
        StageKind::Voiceover => "the narration",
        StageKind::Score => "the score",
        StageKind::Assembly => "the final cut",
    };
    let shot = shot_kind.map(|k| match k {
        ShotKind::Establishing => "establishing shot",
        ShotKind::CloseUp => "close-up",
        ShotKind::BRoll => "b-roll shot",
        ShotKind::Dialogue => "dialogue shot",
        ShotKind::Action => "action shot",
        ShotKind::Crowd => "crowd shot",
    });
    match shot {
        Some(shot) => format!("{what} of this {shot}"),
        None => what.to_owned(),
    }
}

/// The decision in Ra's words for the Director: the same deciding dimension, importance and
/// budget facts as [`line`], with no model, provider, score or flag in it
pub(crate) fn for_director(r: &Ranked<'_>, candidates: &[Candidate]) -> String {
    let subject = director_subject(r.req.kind, r.req.shot_kind);
    let Some(winner) = candidates.first() else {
        return ra::say(&format!("nothing I have can make {subject}."));
    };
    let why = match (candidates.get(1), r.order.get(1)) {
        (Some(_), Some(&runner_idx)) => match deciding_dimension(r.items, runner_idx, r.rule) {
            Some(Dimension::Quality) => {
                format!("for {subject} I chose the option with the strongest result.")
            }
            Some(Dimension::Continuity) => format!(
                "for {subject} I chose an option that takes your cast's reference images, so \
                 they stay themselves from shot to shot."
            ),
            Some(Dimension::Cost) => format!(
                "for {subject} the best options were level on quality, so I took the one that \
                 costs less (${:.2}).",
                winner.cost_usd
            ),
            Some(Dimension::Latency) => format!(
                "for {subject} the best options were level on quality, so I took the faster one."
            ),
            Some(Dimension::Outcome) => {
                format!("for {subject} I chose what has worked best with your audience before.")
            }
            None => format!(
                "for {subject} the top options were neck and neck, so I went with my first pick."
            ),
        },
        _ => format!("for {subject} only one option fits your constraints, so that's the one."),
    };
    let mut parts = vec![why];
    match importance_of(r.req) {
        Importance::Hero => parts.push("It's a hero shot, so I let it spend more.".into()),
        Importance::Filler => parts.push("It's filler, so I kept it lean.".into()),
        Importance::Standard => {}
    }
    let share = r.budget.share_usd.max(0.0);
    if winner.cost_usd > share {
        parts.push(format!(
            "It costs ${:.2}, ${:.2} over its share; I borrowed that from savings elsewhere in \
             the plan.",
            winner.cost_usd,
            winner.cost_usd - share
        ));
    }
    if r.outcome_changed.is_some() {
        parts.push("How your past renders did changed my pick here.".into());
    }
    ra::say(&parts.join(" "))
}
