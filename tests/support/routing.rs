//! Shared fixtures of the routing and memory tests (included with `#[path]`; not a test itself).
#![allow(dead_code)]

use studio::brief::{AspectRatio, Brief, OutcomeTarget, ShotKind};
use studio::ids::{CreatorId, ModelId, ShotId, StageId};
use studio::memory::{MemoryContext, OutcomeStat};
use studio::plan::StageKind;
use studio::routing::{RoutingContext, StageRequest};

/// The example brief of the repository
pub fn lighthouse() -> Brief {
    serde_json::from_str(include_str!("../../examples/brief.json")).expect("example brief parses")
}

/// The stages of a brief as the planner lays them out: keyframe and motion per shot, dialogue
/// where a shot has a line, voiceover, score, assembly
pub fn stage_requests(brief: &Brief) -> Vec<StageRequest> {
    let aspect = brief
        .platforms
        .first()
        .map_or(AspectRatio::Landscape, |p| p.aspect());
    let mut out = Vec::new();
    for shot in &brief.shots {
        let needs_continuity = !shot.cast.is_empty();
        for (kind, duration_s) in [
            (StageKind::Keyframe, 0.0),
            (StageKind::Motion, shot.duration_s),
        ] {
            out.push(StageRequest {
                stage: StageId(format!("{}.{}", shot.id, kind.as_str())),
                kind,
                shot_kind: Some(shot.kind),
                hero: shot.hero,
                duration_s,
                aspect,
                needs_continuity,
                shot: Some(shot.id.clone()),
                chars: 0,
            });
        }
        if let Some(line) = &shot.dialogue {
            out.push(StageRequest {
                stage: StageId(format!("{}.dialogue", shot.id)),
                kind: StageKind::Dialogue,
                shot_kind: Some(shot.kind),
                hero: shot.hero,
                duration_s: 0.0,
                aspect,
                needs_continuity: true,
                shot: Some(shot.id.clone()),
                chars: line.line.chars().count(),
            });
        }
    }
    if let Some(vo) = &brief.voiceover {
        out.push(job_stage(
            "voiceover",
            StageKind::Voiceover,
            0.0,
            aspect,
            vo.text.chars().count(),
        ));
    }
    if let Some(score) = &brief.score {
        out.push(job_stage(
            "score",
            StageKind::Score,
            score.duration_s,
            aspect,
            0,
        ));
    }
    out.push(job_stage("assembly", StageKind::Assembly, 0.0, aspect, 0));
    out
}

fn job_stage(
    id: &str,
    kind: StageKind,
    duration_s: f64,
    aspect: AspectRatio,
    chars: usize,
) -> StageRequest {
    StageRequest {
        stage: StageId(id.into()),
        kind,
        shot_kind: None,
        hero: false,
        duration_s,
        aspect,
        needs_continuity: false,
        shot: None,
        chars,
    }
}

/// One motion stage
pub fn motion(id: &str, kind: ShotKind, hero: bool, duration_s: f64, cast: bool) -> StageRequest {
    StageRequest {
        stage: StageId(format!("{id}.motion")),
        kind: StageKind::Motion,
        shot_kind: Some(kind),
        hero,
        duration_s,
        aspect: AspectRatio::Landscape,
        needs_continuity: cast,
        shot: Some(ShotId(id.into())),
        chars: 0,
    }
}

/// A routing context with no memory
pub fn ctx(creator: &str, budget_usd: f64, deadline_s: f64) -> RoutingContext {
    RoutingContext {
        creator: CreatorId(creator.into()),
        outcome_target: OutcomeTarget::WatchTime,
        budget_usd,
        deadline_s,
        memory: MemoryContext::default(),
    }
}

/// An outcome statistic
pub fn stat(
    model: &str,
    kind: ShotKind,
    target: OutcomeTarget,
    renders: u32,
    mean: f64,
) -> OutcomeStat {
    OutcomeStat {
        model: ModelId(model.into()),
        shot_kind: kind,
        target,
        renders,
        mean,
    }
}

/// A creator id whose rollout bucket satisfies `pred`
pub fn creator_where(pred: impl Fn(u8) -> bool) -> CreatorId {
    (0..10_000)
        .map(|i| CreatorId(format!("creator-{i}")))
        .find(|c| pred(studio::routing::rollout_bucket(c)))
        .expect("some creator matches")
}
