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
        }
    }
}

#[test]
fn assembly_outputs_the_master_and_one_variant_per_other_aspect() {
    let mut b = brief();
    let plan = build(&b, &MemoryContext::default(), PlanOptions { badge: true });
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
