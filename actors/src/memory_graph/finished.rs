//! From the job's [`RenderSummary`] (and its brief) to the graph's [`FinishedRender`].
//!
//! The summary says which model made each stage, of which shot kind, at what cost; it does not
//! carry the shot's prompt, length, hero flag or cast, nor when the job was created. Those are in
//! the brief, which the object reads from the job's journal (its first entry, `Created`). When
//! the journal cannot be read the render is still recorded from the summary alone: models and
//! kinds (what routing's outcome statistics need) are there, prompts (what similarity needs) are
//! not.

use studio::brief::{Brief, ShotKind};
use studio::ids::{ModelId, ShotId};
use studio::job::{JobStatus, RenderSummary, StageSummary};
use studio::memory::{FinishedRender, FinishedShot};
use studio::plan::StageKind;
use studio::time::{Millis, Timestamp};

/// What the job's journal told us about the render
pub(crate) struct Origin<'a> {
    /// The brief as the job was created with it
    pub brief: &'a Brief,
    /// When the job was created
    pub created_at: Timestamp,
}

/// Why a summary is not recorded
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum NotRecorded {
    /// Only a succeeded render has a video that can earn outcomes
    NotSucceeded(JobStatus),
}

impl std::fmt::Display for NotRecorded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NotSucceeded(status) => write!(
                f,
                "the render {}; only succeeded renders are recorded",
                status.as_str()
            ),
        }
    }
}

/// Whether a summary is one the graph records (checked before the journal is read)
pub(crate) fn recordable(summary: &RenderSummary) -> Result<(), NotRecorded> {
    if summary.status == JobStatus::Succeeded {
        Ok(())
    } else {
        Err(NotRecorded::NotSucceeded(summary.status))
    }
}

/// The model that made a shot: its motion stage's, or its keyframe's for a still-only shot
fn shot_model<'a>(stages: &[&'a StageSummary]) -> Option<&'a ModelId> {
    let by_kind = |kind: StageKind| {
        stages
            .iter()
            .find(|s| s.kind == kind)
            .and_then(|s| s.model.as_ref())
    };
    by_kind(StageKind::Motion).or_else(|| by_kind(StageKind::Keyframe))
}

/// The render as the graph records it, or why not. `received_at` stands in for the finish time
/// when the journal was not available.
pub(crate) fn finished_render(
    summary: &RenderSummary,
    origin: Option<&Origin<'_>>,
    received_at: Timestamp,
) -> Result<FinishedRender, NotRecorded> {
    recordable(summary)?;
    // Shot ids in edit order: the brief's order, else the order the stages were summarised in.
    let mut order: Vec<&ShotId> = Vec::new();
    match origin {
        Some(o) => order.extend(o.brief.shots.iter().map(|s| &s.id)),
        None => {
            for shot in summary.stages.iter().filter_map(|s| s.shot.as_ref()) {
                if !order.contains(&shot) {
                    order.push(shot);
                }
            }
        }
    }
    let shots = order
        .into_iter()
        .filter_map(|id| {
            let stages: Vec<&StageSummary> = summary
                .stages
                .iter()
                .filter(|s| s.shot.as_ref() == Some(id))
                .collect();
            let model = shot_model(&stages)?.clone();
            let brief_shot = origin.and_then(|o| o.brief.shots.iter().find(|s| &s.id == id));
            let kind: ShotKind = brief_shot
                .map(|s| s.kind)
                .or_else(|| stages.iter().find_map(|s| s.shot_kind))?;
            Some(FinishedShot {
                shot: id.clone(),
                kind,
                model,
                prompt: brief_shot.map(|s| s.prompt.clone()).unwrap_or_default(),
                duration_s: brief_shot.map_or(0.0, |s| s.duration_s),
                hero: brief_shot.is_some_and(|s| s.hero),
                cast: brief_shot.map(|s| s.cast.clone()).unwrap_or_default(),
            })
        })
        .collect();
    let finished_at = match origin {
        Some(o) if summary.seconds.is_finite() && summary.seconds >= 0.0 => o
            .created_at
            .plus(Millis((summary.seconds * 1000.0).round() as u64)),
        _ => received_at,
    };
    Ok(FinishedRender {
        job: summary.job.clone(),
        format: summary.format.clone(),
        outcome_target: summary.outcome_target,
        cost_usd: summary.cost_usd,
        finished_at,
        shots,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use studio::brief::OutcomeTarget;
    use studio::ids::{CreatorId, JobId, ProjectId, StageId};

    fn stage(
        shot: &str,
        kind: StageKind,
        shot_kind: ShotKind,
        model: Option<&str>,
    ) -> StageSummary {
        StageSummary {
            stage: StageId(format!("{shot}.{}", kind.as_str())),
            kind,
            shot: Some(ShotId(shot.into())),
            shot_kind: Some(shot_kind),
            model: model.map(ModelId::from),
            cost_usd: 0.5,
            seconds: Some(3.0),
            failures: Vec::new(),
        }
    }

    fn summary(status: JobStatus) -> RenderSummary {
        RenderSummary {
            job: JobId("rnd_1".into()),
            creator: CreatorId("demo".into()),
            project: ProjectId("p".into()),
            format: "short_doc".into(),
            outcome_target: OutcomeTarget::WatchTime,
            status,
            cost_usd: 3.25,
            seconds: 42.0,
            stages: vec![
                stage(
                    "s02",
                    StageKind::Keyframe,
                    ShotKind::CloseUp,
                    Some("flux-1.1-pro"),
                ),
                stage(
                    "s02",
                    StageKind::Motion,
                    ShotKind::CloseUp,
                    Some("kling-2.1"),
                ),
                stage(
                    "s01",
                    StageKind::Keyframe,
                    ShotKind::Establishing,
                    Some("flux-1.1-pro"),
                ),
                stage(
                    "s01",
                    StageKind::Motion,
                    ShotKind::Establishing,
                    Some("veo-3"),
                ),
                stage(
                    "s03",
                    StageKind::Keyframe,
                    ShotKind::BRoll,
                    Some("flux-1.1-pro"),
                ),
                stage("s03", StageKind::Motion, ShotKind::BRoll, None),
                StageSummary {
                    stage: StageId("score".into()),
                    kind: StageKind::Score,
                    shot: None,
                    shot_kind: None,
                    model: Some(ModelId::from("minimax-music-1.5")),
                    cost_usd: 0.1,
                    seconds: Some(1.0),
                    failures: Vec::new(),
                },
            ],
            master_key: Some("renders/rnd_1/assembly/1/master.mp4".into()),
        }
    }

    fn brief() -> Brief {
        let text = include_str!("../../../examples/brief.json");
        match serde_json::from_str(text) {
            Ok(b) => b,
            Err(e) => unreachable!("sample brief: {e}"),
        }
    }

    #[test]
    fn shots_take_prompt_length_and_cast_from_the_brief_and_the_motion_model() {
        let brief = brief();
        let origin = Origin {
            brief: &brief,
            created_at: Timestamp(1_000_000),
        };
        let r = finished_render(&summary(JobStatus::Succeeded), Some(&origin), Timestamp(9))
            .unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(r.finished_at, Timestamp(1_042_000));
        assert_eq!(r.cost_usd, 3.25);
        // Brief order; s03's motion never finished, so its keyframe's model made it.
        let ids: Vec<&str> = r.shots.iter().map(|s| s.shot.as_str()).collect();
        assert_eq!(ids, ["s01", "s02", "s03"]);
        let s02 = &r.shots[1];
        assert_eq!(s02.model.as_str(), "kling-2.1");
        assert_eq!(s02.kind, ShotKind::CloseUp);
        assert_eq!(s02.duration_s, 5.0);
        assert_eq!(s02.cast, ["keeper"]);
        assert!(s02.prompt.starts_with("Ines winding the clockwork"));
        assert!(r.shots[0].hero);
        assert_eq!(r.shots[2].model.as_str(), "flux-1.1-pro");
    }

    #[test]
    fn without_the_journal_the_summary_alone_gives_models_and_kinds() {
        let r = finished_render(&summary(JobStatus::Succeeded), None, Timestamp(77))
            .unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(r.finished_at, Timestamp(77));
        let ids: Vec<&str> = r.shots.iter().map(|s| s.shot.as_str()).collect();
        assert_eq!(ids, ["s02", "s01", "s03"]);
        assert_eq!(r.shots[0].model.as_str(), "kling-2.1");
        assert!(r.shots.iter().all(|s| s.prompt.is_empty()));
    }

    #[test]
    fn only_succeeded_renders_are_recorded() {
        for status in [JobStatus::Failed, JobStatus::Cancelled] {
            assert_eq!(
                finished_render(&summary(status), None, Timestamp(0)).err(),
                Some(NotRecorded::NotSucceeded(status))
            );
        }
    }
}
