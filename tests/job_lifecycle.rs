//! The happy path on the example brief, end to end in virtual time.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{World, created, example_brief};
use studio::brief::AspectRatio;
use studio::job::{Effect, JobStatus, StageInputs};

#[test]
fn example_brief_renders_to_succeeded() {
    let mut w = World::new(example_brief());
    assert_eq!(w.status(), JobStatus::Planning);
    w.run();
    let view = w.job.view();
    assert_eq!(
        view.status,
        JobStatus::Succeeded,
        "failure: {:?}",
        view.failure
    );
    // 12 shots x (keyframe, motion) + 2 dialogue lines + voiceover + score + assembly
    assert_eq!(view.progress.total, 12 * 2 + 2 + 3);
    assert_eq!(view.progress.done, view.progress.total);
    assert_eq!(view.progress.running, 0);
    assert!(
        view.master_key
            .as_deref()
            .is_some_and(|k| k.starts_with("renders/rnd_test/assembly/1/master"))
    );
    let aspects: Vec<AspectRatio> = view.variants.iter().map(|v| v.aspect).collect();
    assert_eq!(aspects, vec![AspectRatio::Portrait, AspectRatio::Square]);
    // every stage ran exactly once: nothing was submitted twice
    assert_eq!(w.submits().len() as u32, view.progress.total);
    // the cost adds up, per shot and in total, and matches the ledger lines
    let ledger: f64 = w.fake.costs.iter().map(|c| c.2).sum();
    assert!((view.cost_usd - ledger).abs() < 1e-6);
    assert!(view.cost_usd > 0.0 && view.cost_usd <= view.budget_usd);
    let per_shot: f64 = view.cost_by_shot.iter().map(|c| c.usd).sum();
    let job_level: f64 = view
        .stages
        .iter()
        .filter(|s| s.shot.is_none())
        .map(|s| s.cost_usd)
        .sum();
    assert!((per_shot + job_level - view.cost_usd).abs() < 1e-6);
    // statuses went the documented way
    let statuses: Vec<JobStatus> = view.history.iter().map(|h| h.status).collect();
    assert_eq!(
        statuses,
        vec![
            JobStatus::Queued,
            JobStatus::Planning,
            JobStatus::Rendering,
            JobStatus::Assembling,
            JobStatus::Succeeded
        ]
    );
    // the memory graph is told at the end, once
    let enrich = w
        .effects
        .iter()
        .filter(|(_, e)| matches!(e, Effect::EnrichMemory { .. }))
        .count();
    assert_eq!(enrich, 1);
    assert_eq!(w.job.next_deadline(), None);
    w.assert_replays();
}

#[test]
fn view_records_routing_decisions_and_artifacts() {
    let mut w = World::new(example_brief());
    w.run();
    let view = w.job.view();
    for s in &view.stages {
        assert!(
            !s.decision.candidates.is_empty(),
            "{} has no candidates",
            s.id
        );
        assert!(!s.decision.reason.is_empty());
        assert_eq!(
            s.model.as_ref(),
            Some(&s.decision.candidates[0].model),
            "{} left its first choice",
            s.id
        );
        assert!(s.provider_ref.is_some());
        assert!(s.seconds.is_some_and(|x| x > 0.0));
        assert!(
            s.artifacts[0]
                .key
                .starts_with(&format!("renders/rnd_test/{}/1/", s.id))
        );
    }
    let json = serde_json::to_value(&view).unwrap();
    assert_eq!(json["status"], "succeeded");
    assert!(json["stages"][0]["decision"]["candidates"][0]["scores"]["quality"].is_number());
}

#[test]
fn motion_uses_its_keyframe_and_assembly_places_everything() {
    let mut w = World::new(example_brief());
    w.run();
    let motion_inputs = w.effects.iter().find_map(|(_, e)| match e {
        Effect::Submit {
            stage,
            inputs: StageInputs::Video { image_key, .. },
            ..
        } if stage.as_str() == "s04.motion" => Some(image_key.clone()),
        _ => None,
    });
    assert_eq!(
        motion_inputs.as_deref(),
        w.stage("s04.keyframe").primary_key()
    );
    let timeline = w.effects.iter().find_map(|(_, e)| match e {
        Effect::Submit {
            inputs: StageInputs::Assembly { timeline },
            ..
        } => Some(timeline.clone()),
        _ => None,
    });
    let timeline = timeline.expect("assembly submitted");
    assert_eq!(timeline.clips.len(), 12);
    assert_eq!(timeline.dialogue.len(), 2);
    assert!(timeline.voiceover.is_some() && timeline.score.is_some());
    assert_eq!(timeline.duration_s, 62.0);
    assert_eq!(timeline.clips[3].start_s, 15.0);
    assert!(!timeline.badge, "free tier");
}

#[test]
fn paid_tier_carries_the_badge_flag() {
    let mut w = World::with(created(example_brief(), 42, true), |_| {});
    w.run();
    let badge = w.effects.iter().find_map(|(_, e)| match e {
        Effect::Submit {
            inputs: StageInputs::Assembly { timeline },
            ..
        } => Some(timeline.badge),
        _ => None,
    });
    assert_eq!(badge, Some(true));
}

#[test]
fn the_same_seed_gives_the_same_run() {
    let run = |seed| {
        let mut w = World::with(created(example_brief(), seed, false), |_| {});
        w.run();
        w.effects.clone()
    };
    assert_eq!(run(7), run(7));
}

/// A provider answering every task with a flood of outputs gets at most
/// `MAX_OUTPUTS_PER_STAGE` of them copied and kept per stage, and the render still finishes
#[test]
fn a_flood_of_outputs_is_capped_per_stage() {
    use studio::job::MAX_OUTPUTS_PER_STAGE;
    let mut w = World::new(example_brief());
    w.fake.extra_outputs = 1_000;
    w.run();
    let view = w.job.view();
    assert_eq!(view.status, JobStatus::Succeeded, "{:?}", view.failure);
    let most = view.stages.iter().map(|s| s.artifacts.len()).max();
    assert_eq!(most, Some(MAX_OUTPUTS_PER_STAGE));
}
