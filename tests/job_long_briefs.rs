//! What is longer than one call makes is split, not refused: a long shot renders as parts that
//! continue each other (each part's first frame is the last frame of the one before, cut by our
//! assembler), a long score as segments the assembler crossfades; and the five-minute
//! faceless brief (60 shots of 5 s, a 300 s score) plans, renders and assembles.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{World, created, small_brief, synthetic_brief};
use studio::brief::{Score, parse_render_brief};
use studio::ids::CreatorId;
use studio::job::{Effect, JobStatus, StageInputs};
use studio::plan::{StageKind, Still};
use studio::routing::{Registry, cheapest_plan};

/// The inputs of a stage's only submit
fn submit_inputs(w: &World, stage: &str) -> [StageInputs; 1] {
    let all: Vec<StageInputs> = w
        .effects
        .iter()
        .filter_map(|(_, e)| match e {
            Effect::Submit {
                stage: s, inputs, ..
            } if s.as_str() == stage => Some(inputs.clone()),
            _ => None,
        })
        .collect();
    all.try_into()
        .unwrap_or_else(|v: Vec<_>| panic!("{stage}: {} submits", v.len()))
}

#[test]
fn a_shot_longer_than_any_model_makes_renders_as_continuous_parts() {
    let mut brief = small_brief(2);
    brief.deadline_s = 86_400;
    brief.shots[1].duration_s = 30.0;
    let mut w = World::with(created(brief, 11, false), |_| {});
    w.run();
    assert_eq!(
        w.status(),
        JobStatus::Succeeded,
        "{:?}",
        w.job.view().failure
    );
    let shot = w.job.spec().brief.shots[1].id.to_string();
    let frame = format!("{shot}.p2.frame");
    assert_eq!(w.stage(&frame).spec.kind, StageKind::Frame);
    assert_eq!(
        w.stage(&frame).spec.deps[0].as_str(),
        format!("{shot}.motion")
    );
    // The frame is a still request to our assembler of the previous part's clip...
    let first_clip = w
        .stage(&format!("{shot}.motion"))
        .primary_key()
        .unwrap()
        .to_owned();
    let [StageInputs::Assembly { timeline }] = submit_inputs(&w, &frame) else {
        panic!("one still request")
    };
    assert_eq!(timeline.still, Some(Still::LastFrame));
    assert_eq!(timeline.clips.len(), 1);
    assert_eq!(timeline.clips[0].key, first_clip);
    // ... and the next part starts from it.
    let frame_key = w.stage(&frame).primary_key().unwrap().to_owned();
    let [
        StageInputs::Video {
            image_key,
            duration_s,
            ..
        },
    ] = submit_inputs(&w, &format!("{shot}.p2.motion"))
    else {
        panic!("one video submit")
    };
    assert_eq!(image_key, frame_key);
    assert!(duration_s <= 12.0);
    // The cut holds every part in order, and is as long as the shot list.
    let [StageInputs::Assembly { timeline }] = submit_inputs(&w, "assembly") else {
        panic!("one assembly")
    };
    let parts: Vec<_> = timeline
        .clips
        .iter()
        .filter(|c| c.shot.as_str() == shot)
        .collect();
    assert_eq!(parts.len(), 3);
    let total: f64 = w.job.spec().brief.shots.iter().map(|s| s.duration_s).sum();
    assert!((timeline.duration_s - total).abs() < 1e-9);
    w.check();
    w.assert_replays();
}

/// The product's headline case: a five-minute faceless-format brief
fn five_minutes() -> studio::brief::Brief {
    let mut brief = synthetic_brief(60, 60.0);
    brief.format = "faceless".into();
    brief.cast.clear();
    for shot in &mut brief.shots {
        shot.cast.clear();
        shot.dialogue = None;
    }
    brief.score = Some(Score {
        mood: "slow ambient pulse".into(),
        duration_s: 300.0,
    });
    brief
}

#[test]
fn the_five_minute_brief_plans_renders_and_assembles_a_300_second_cut() {
    let brief = five_minutes();
    let mut w = World::with(created(brief, 21, true), |_| {});
    w.run();
    assert_eq!(
        w.status(),
        JobStatus::Succeeded,
        "{:?}",
        w.job.view().failure
    );
    let [StageInputs::Assembly { timeline }] = submit_inputs(&w, "assembly") else {
        panic!("one assembly")
    };
    assert_eq!(timeline.clips.len(), 60);
    assert!((timeline.duration_s - 300.0).abs() < 1e-9);
    let score = timeline.score.as_ref().unwrap();
    assert_eq!(score.segments.len(), 1);
    let x = score.crossfade_s.unwrap();
    let seg = &score.segments[0];
    assert!((seg.start_s + seg.duration_s - 300.0).abs() < 1e-9);
    assert!((score.duration_s.unwrap() - x - seg.start_s).abs() < 1e-9);
    for stage in ["score", "score.p2"] {
        let [StageInputs::Music { duration_s, .. }] = submit_inputs(&w, stage) else {
            panic!("one music submit for {stage}")
        };
        assert!(duration_s <= 240.0, "{stage}: {duration_s}");
    }
    w.check();
}

#[test]
fn create_refuses_only_a_budget_below_the_cheapest_plan_and_names_the_minimum() {
    let registry = Registry::builtin_version(5).unwrap();
    let creator = CreatorId("demo".into());
    let brief = five_minutes();
    let cheapest = cheapest_plan(&registry, &brief, Some(&creator)).unwrap();
    let body = |budget: f64| {
        let mut b = brief.clone();
        b.budget_usd = budget;
        serde_json::to_vec(&b).unwrap()
    };
    let min = cheapest.cost.usd();
    let err = parse_render_brief(&body(min * 0.9), &registry, &creator).unwrap_err();
    assert_eq!(err.field(), Some("budget_usd"));
    let minimum = format!("${:.2}", (cheapest.cost.0.div_ceil(10_000)) as f64 / 100.0);
    assert!(err.to_string().contains(&minimum), "{err} names {minimum}");
    // At the named minimum it is accepted, and the job plans within it: nothing accepted here
    // fails later as over budget before starting.
    let at_min: f64 = minimum.trim_start_matches('$').parse().unwrap();
    let ok = parse_render_brief(&body(at_min), &registry, &creator).unwrap();
    let mut w = World::with(created(ok.brief, 4, false), |_| {});
    w.run();
    assert_eq!(
        w.status(),
        JobStatus::Succeeded,
        "{:?}",
        w.job.view().failure
    );
    assert!(w.job.header().spent <= w.job.header().budget);
    // A shot of 300 s and a 300 s score are not refused: they are split.
    let mut long = small_brief(1);
    long.shots[0].duration_s = 300.0;
    long.budget_usd = 1_000.0;
    long.score = Some(Score {
        mood: "drone".into(),
        duration_s: 300.0,
    });
    let json = serde_json::to_vec(&long).unwrap();
    parse_render_brief(&json, &registry, &creator).unwrap();
}
