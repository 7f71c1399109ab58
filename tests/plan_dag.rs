//! The plan: per shot keyframe -> motion, dialogue, voiceover, score, assembly over everything.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;

use studio::brief::{AspectRatio, Platform, parse_brief};
use studio::ids::StageId;
use studio::memory::{CastLook, MemoryContext};
use studio::plan::{PlanOptions, StageKind, StageWork, build};

const EXAMPLE: &str = include_str!("../examples/brief.json");

fn brief() -> studio::brief::Brief {
    parse_brief(EXAMPLE.as_bytes()).unwrap().brief
}

fn ids(p: &studio::plan::Plan) -> Vec<&str> {
    p.stages.iter().map(|s| s.id.as_str()).collect()
}

#[test]
fn the_example_becomes_a_dag_in_dispatch_order() {
    let plan = build(&brief(), &MemoryContext::default(), PlanOptions::default());
    let ids = ids(&plan);
    assert_eq!(ids.len(), 12 * 2 + 2 + 3);
    assert_eq!(
        &ids[..5],
        &[
            "s01.keyframe",
            "s01.motion",
            "s02.keyframe",
            "s02.motion",
            "s03.keyframe"
        ]
    );
    assert!(ids.contains(&"s04.dialogue") && ids.contains(&"s08.dialogue"));
    assert_eq!(&ids[ids.len() - 3..], &["voiceover", "score", "assembly"]);
    // ids are unique, orders increase, and every dependency comes first
    let unique: BTreeSet<_> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len());
    let mut seen = BTreeSet::new();
    for (i, s) in plan.stages.iter().enumerate() {
        assert_eq!(s.order as usize, i);
        for d in &s.deps {
            assert!(seen.contains(d), "{} depends on later {}", s.id, d);
        }
        seen.insert(s.id.clone());
    }
}

#[test]
fn motion_waits_for_its_own_keyframe_and_assembly_for_everything() {
    let plan = build(&brief(), &MemoryContext::default(), PlanOptions::default());
    for s in &plan.stages {
        match s.kind {
            StageKind::Motion => {
                let shot = s.shot.as_ref().unwrap();
                assert_eq!(s.deps, vec![StageId(format!("{shot}.keyframe"))]);
            }
            StageKind::Assembly => assert_eq!(s.deps.len(), plan.stages.len() - 1),
            StageKind::Keyframe | StageKind::Dialogue | StageKind::Voiceover | StageKind::Score => {
                assert!(s.deps.is_empty(), "{} waits for nothing", s.id);
            }
            StageKind::Frame => panic!("{}: no shot is split without a clip limit", s.id),
        }
    }
}

#[test]
fn assembly_outputs_the_master_and_one_variant_per_other_aspect() {
    let mut b = brief();
    let plan = build(
        &b,
        &MemoryContext::default(),
        PlanOptions {
            badge: true,
            ..PlanOptions::default()
        },
    );
    let StageWork::Assembly(a) = &plan.stages.last().unwrap().work else {
        panic!()
    };
    assert_eq!(a.master, AspectRatio::Landscape);
    assert_eq!(a.variants, vec![AspectRatio::Portrait, AspectRatio::Square]);
    assert!(a.badge);
    assert_eq!(a.shots.len(), 12);
    assert_eq!(a.duration_s, 62.0);
    assert_eq!(
        a.shots[3].dialogue.as_ref().map(StageId::as_str),
        Some("s04.dialogue")
    );
    b.platforms = vec![Platform::Tiktok, Platform::Reels, Platform::YoutubeShorts];
    let plan = build(&b, &MemoryContext::default(), PlanOptions::default());
    let StageWork::Assembly(a) = &plan.stages.last().unwrap().work else {
        panic!()
    };
    assert_eq!((a.master, a.variants.len()), (AspectRatio::Portrait, 0));
    assert!(
        plan.stages
            .iter()
            .all(|s| s.aspect == AspectRatio::Portrait)
    );
}

#[test]
fn memory_locks_looks_and_voices() {
    let mut memory = MemoryContext::default();
    memory.looks.insert(
        "keeper".into(),
        CastLook {
            description: "silver braid, red oilskin".into(),
            reference_images: vec!["refs/keeper-1.png".into()],
        },
    );
    memory
        .voices
        .insert("keeper".into(), "el_voice_keeper".into());
    memory
        .voices
        .insert("narrator".into(), "el_voice_narrator".into());
    let plan = build(&brief(), &memory, PlanOptions::default());
    let stage = |id: &str| plan.stages.iter().find(|s| s.id.as_str() == id).unwrap();
    let StageWork::Keyframe {
        prompt,
        reference_images,
        ..
    } = &stage("s02.keyframe").work
    else {
        panic!()
    };
    assert!(
        prompt.contains("Ines: silver braid, red oilskin"),
        "{prompt}"
    );
    assert_eq!(reference_images, &vec!["refs/keeper-1.png".to_string()]);
    assert!(stage("s02.keyframe").needs_continuity);
    let StageWork::Keyframe { prompt, .. } = &stage("s07.keyframe").work else {
        panic!()
    };
    assert!(
        prompt.contains("Captain: one-legged herring gull"),
        "the brief's look when none is locked: {prompt}"
    );
    let StageWork::Speech { voice_id, .. } = &stage("s04.dialogue").work else {
        panic!()
    };
    assert_eq!(voice_id.as_deref(), Some("el_voice_keeper"));
    let StageWork::Speech { voice_id, .. } = &stage("voiceover").work else {
        panic!()
    };
    assert_eq!(voice_id.as_deref(), Some("el_voice_narrator"));
}

#[test]
fn routing_requests_carry_what_the_router_weighs() {
    let plan = build(&brief(), &MemoryContext::default(), PlanOptions::default());
    let motion = plan
        .stages
        .iter()
        .find(|s| s.id.as_str() == "s05.motion")
        .unwrap()
        .routing_request();
    assert_eq!(motion.kind, StageKind::Motion);
    assert!(motion.hero);
    assert_eq!(motion.duration_s, 5.0);
    assert_eq!(motion.shot.as_ref().map(|s| s.as_str()), Some("s05"));
    let dialogue = plan
        .stages
        .iter()
        .find(|s| s.id.as_str() == "s04.dialogue")
        .unwrap()
        .routing_request();
    assert_eq!(
        dialogue.chars,
        "They switch us off on Friday, Captain. Sixty years, and a letter.".len()
    );
}

#[test]
fn a_thousand_shots_plan_in_order() {
    let mut b = brief();
    let shot = b.shots[0].clone();
    b.shots = (0..1000)
        .map(|i| {
            let mut s = shot.clone();
            s.id = studio::ids::ShotId(format!("x{i:04}"));
            s
        })
        .collect();
    let plan = build(&b, &MemoryContext::default(), PlanOptions::default());
    assert_eq!(plan.stages.len(), 2000 + 3);
}

fn split_options() -> PlanOptions {
    PlanOptions {
        max_clip_s: Some(12.0),
        max_music_s: Some(240.0),
        ..PlanOptions::default()
    }
}

#[test]
fn a_shot_longer_than_one_call_becomes_parts_that_continue_each_other() {
    let mut b = brief();
    b.shots[1].duration_s = 30.0;
    let shot = b.shots[1].id.clone();
    let plan = build(&b, &MemoryContext::default(), split_options());
    let of_shot: Vec<&studio::plan::StageSpec> = plan
        .stages
        .iter()
        .filter(|s| s.shot.as_ref() == Some(&shot) && s.kind != StageKind::Dialogue)
        .collect();
    let names: Vec<&str> = of_shot.iter().map(|s| s.id.as_str()).collect();
    let expected: Vec<String> = [
        "keyframe",
        "motion",
        "p2.frame",
        "p2.motion",
        "p3.frame",
        "p3.motion",
    ]
    .iter()
    .map(|k| format!("{shot}.{k}"))
    .collect();
    assert_eq!(names, expected);
    // Three equal parts of 10 s (within 12 s), each part's first frame is the last one's end.
    for part in of_shot.iter().filter(|s| s.kind == StageKind::Motion) {
        assert!((part.duration_s - 10.0).abs() < 1e-9, "{}", part.id);
    }
    let frame = of_shot[2];
    assert_eq!(frame.deps, vec![of_shot[1].id.clone()]);
    assert!(matches!(&frame.work, StageWork::Frame { clip } if clip == &of_shot[1].id));
    assert!(
        matches!(&of_shot[3].work, StageWork::Motion { keyframe, .. } if keyframe == &frame.id)
    );
    // The cut places the parts back to back where the shot was, the line at the shot's start.
    let StageWork::Assembly(a) = &plan.stages.last().unwrap().work else {
        panic!("assembly last")
    };
    let slots: Vec<_> = a.shots.iter().filter(|s| s.shot == shot).collect();
    assert_eq!(slots.len(), 3);
    let start = b.shots[0].duration_s;
    for (n, slot) in slots.iter().enumerate() {
        assert!((slot.start_s - (start + 10.0 * n as f64)).abs() < 1e-9);
        assert!((slot.duration_s - 10.0).abs() < 1e-9);
    }
    let total: f64 = b.shots.iter().map(|s| s.duration_s).sum();
    assert!((a.duration_s - total).abs() < 1e-9);
    // Shots that fit keep their ids: nothing else changed.
    let unsplit = build(&b, &MemoryContext::default(), PlanOptions::default());
    assert_eq!(unsplit.stages.len() + 4, plan.stages.len());
}

#[test]
fn a_score_longer_than_one_call_becomes_crossfaded_segments_that_cover_it() {
    let mut b = brief();
    b.score.as_mut().unwrap().duration_s = 300.0;
    let plan = build(&b, &MemoryContext::default(), split_options());
    let scores: Vec<_> = plan
        .stages
        .iter()
        .filter(|s| s.kind == StageKind::Score)
        .collect();
    assert_eq!(
        scores.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(),
        ["score", "score.p2"]
    );
    assert!(scores.iter().all(|s| s.duration_s <= 240.0));
    let StageWork::Assembly(a) = &plan.stages.last().unwrap().work else {
        panic!("assembly last")
    };
    let x = a.score_crossfade_s.unwrap();
    assert!(x > 0.0);
    let first = a.score_duration_s.unwrap();
    let seg = &a.score_segments[0];
    // The second segment starts a crossfade before the first ends, and ends with the score.
    assert!((seg.start_s - (first - x)).abs() < 1e-9);
    assert!((seg.start_s + seg.duration_s - 300.0).abs() < 1e-9);
    assert_eq!(scores[1].duration_s, seg.duration_s);
    // A score that fits is one stage, as before.
    let (one, _) = studio::plan::score_segments(120.0, Some(240.0));
    assert_eq!(one, vec![(0.0, 120.0)]);
    let (many, x) = studio::plan::score_segments(1000.0, Some(240.0));
    assert_eq!(many.len(), 5);
    for w in many.windows(2) {
        assert!((w[1].0 - (w[0].0 + w[0].1 - x)).abs() < 1e-9);
        assert!(w[0].1 <= 240.0);
    }
}
