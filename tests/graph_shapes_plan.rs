//! The creator's Memory Graph visibly shapes every render: the same brief planned for two
//! creators gets each one's look, hook, master shape, variant order and speech language, and
//! every stage records which Graph rows shaped it; pacing is measured against the creator's own
//! format, and a brief may leave its pacing to that format.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;

use common::{World, example_brief};
use studio::brief::{
    AspectRatio, Brief, Energy, Pacing, Platform, ShotKind, pacing_warnings, pacing_warnings_for,
    parse_brief, require_pacing, validate_brief,
};
use studio::job::{Effect, Input, JobStatus, StageInputs};
use studio::memory::graph::{AudienceSignal, FormatDna, FormatPacing, VisualFingerprint};
use studio::memory::{CastLook, MemoryContext};
use studio::plan::{GraphRow, Plan, PlanOptions, StageKind, StageSpec, StageWork, build};

/// A creator who grades teal-orange, opens on a question, and is watched on YouTube in the US
fn demo() -> MemoryContext {
    MemoryContext {
        fingerprint: Some(VisualFingerprint {
            palette: vec!["#1b2a3c".into(), "#e07a2f".into()],
            grade: Some("teal-orange".into()),
            lens: Some("35mm anamorphic".into()),
            lighting: Some("low-key, practicals".into()),
        }),
        format_dna: Some(dna(
            "short_doc",
            5.2,
            Energy::SlowBurn,
            "cold open on a question",
        )),
        audience: Some(AudienceSignal {
            primary_platform: Some(Platform::Youtube),
            regions: vec!["US".into(), "GB".into()],
            interests: vec![],
        }),
        looks: BTreeMap::from([(
            "keeper".to_owned(),
            CastLook {
                description: "silver braid, red oilskin".into(),
                reference_images: vec![],
            },
        )]),
        ..MemoryContext::default()
    }
}

/// A creator who shoots bleach bypass on a 16mm zoom, opens mid-action, and is watched on
/// TikTok in German-speaking countries
fn rival() -> MemoryContext {
    MemoryContext {
        fingerprint: Some(VisualFingerprint {
            palette: vec!["#f2f2f2".into(), "#0b0b0b".into(), "#c8102e".into()],
            grade: Some("bleach bypass".into()),
            lens: Some("16mm zoom".into()),
            lighting: Some("high-key daylight".into()),
        }),
        format_dna: Some(dna(
            "short_doc",
            1.8,
            Energy::Punchy,
            "start mid-action, no intro",
        )),
        audience: Some(AudienceSignal {
            primary_platform: Some(Platform::Tiktok),
            regions: vec!["DE".into(), "AT".into()],
            interests: vec!["sea".into()],
        }),
        ..MemoryContext::default()
    }
}

fn dna(format: &str, avg_shot_s: f64, energy: Energy, hook: &str) -> FormatDna {
    FormatDna {
        format: format.into(),
        pacing: FormatPacing { avg_shot_s, energy },
        shot_mix: BTreeMap::new(),
        hook_style: Some(hook.into()),
    }
}

fn stage<'a>(plan: &'a Plan, id: &str) -> &'a StageSpec {
    plan.stages
        .iter()
        .find(|s| s.id.as_str() == id)
        .unwrap_or_else(|| panic!("no stage {id}"))
}

fn prompt_of(spec: &StageSpec) -> (&str, Option<&str>) {
    match &spec.work {
        StageWork::Keyframe {
            prompt,
            negative_prompt,
            ..
        }
        | StageWork::Motion {
            prompt,
            negative_prompt,
            ..
        } => (prompt, negative_prompt.as_deref()),
        other => panic!("{} has no image prompt: {other:?}", spec.id),
    }
}

fn rows(spec: &StageSpec) -> Vec<String> {
    spec.shaped_by.iter().map(ToString::to_string).collect()
}

fn assembly(plan: &Plan) -> &studio::plan::AssemblySpec {
    match &plan.stages.last().unwrap().work {
        StageWork::Assembly(a) => a,
        other => panic!("the last stage is {other:?}"),
    }
}

const DEMO_LOOK: &str = "Look: teal-orange grade; palette #1b2a3c, #e07a2f; 35mm anamorphic \
                         lens; lighting low-key, practicals.";
const RIVAL_LOOK: &str = "Look: bleach bypass grade; palette #f2f2f2, #0b0b0b, #c8102e; 16mm \
                          zoom lens; lighting high-key daylight.";

#[test]
fn the_same_brief_gets_each_creators_look_on_every_image_and_video_prompt() {
    let brief = example_brief();
    let a = build(&brief, &demo(), PlanOptions::default());
    let b = build(&brief, &rival(), PlanOptions::default());
    assert_eq!(a.stages.len(), b.stages.len());
    let mut generation = 0;
    for (sa, sb) in a.stages.iter().zip(&b.stages) {
        assert_eq!(sa.id, sb.id);
        if !matches!(sa.kind, StageKind::Keyframe | StageKind::Motion) {
            continue;
        }
        generation += 1;
        let (pa, na) = prompt_of(sa);
        let (pb, nb) = prompt_of(sb);
        assert!(pa.ends_with(DEMO_LOOK), "{}: {pa}", sa.id);
        assert!(pb.ends_with(RIVAL_LOOK), "{}: {pb}", sb.id);
        assert!(!pa.contains("bleach bypass") && !pb.contains("teal-orange"));
        // The shot's own words lead, the look follows.
        let shot = brief
            .shots
            .iter()
            .find(|s| Some(&s.id) == sa.shot.as_ref())
            .unwrap();
        assert!(pa.starts_with(shot.prompt.trim()) && pb.starts_with(shot.prompt.trim()));
        // Each look has its own negative prompt, from its own lighting.
        let (na, nb) = (na.unwrap(), nb.unwrap());
        assert!(na.contains("flat even lighting"), "{na}");
        assert!(nb.contains("murky shadows"), "{nb}");
        assert!(sa.shaped_by.contains(&GraphRow::Fingerprint), "{}", sa.id);
        assert!(sb.shaped_by.contains(&GraphRow::Fingerprint), "{}", sb.id);
    }
    assert_eq!(generation, 24, "12 keyframes and 12 motions");
    // A creator with no fingerprint gets the shot's words alone, and no negative prompt.
    let plain = build(&brief, &MemoryContext::default(), PlanOptions::default());
    let (p, n) = prompt_of(stage(&plain, "s03.motion"));
    assert_eq!(p, brief.shots[2].prompt.trim());
    assert_eq!(n, None);
    assert!(plain.stages.iter().all(|s| s.shaped_by.is_empty()));
}

#[test]
fn the_formats_hook_shapes_the_first_shot_only() {
    let brief = example_brief();
    for (memory, hook) in [
        (demo(), "Opening hook: cold open on a question."),
        (rival(), "Opening hook: start mid-action, no intro."),
    ] {
        let plan = build(&brief, &memory, PlanOptions::default());
        for id in ["s01.keyframe", "s01.motion"] {
            let (prompt, _) = prompt_of(stage(&plan, id));
            assert!(prompt.contains(hook), "{id}: {prompt}");
            // Before the look: the hook is about what this shot shows.
            assert!(prompt.find(hook) < prompt.find("Look:"), "{prompt}");
            assert!(rows(stage(&plan, id)).contains(&"format_dna:short_doc".to_owned()));
        }
        for id in ["s02.keyframe", "s02.motion", "s12.motion"] {
            let (prompt, _) = prompt_of(stage(&plan, id));
            assert!(!prompt.contains("Opening hook"), "{id}: {prompt}");
            assert!(!rows(stage(&plan, id)).contains(&"format_dna:short_doc".to_owned()));
        }
    }
}

#[test]
fn the_audience_decides_the_master_and_the_variants_order() {
    let brief = example_brief(); // youtube, tiktok, x
    let a = build(&brief, &demo(), PlanOptions::default());
    let b = build(&brief, &rival(), PlanOptions::default());
    assert_eq!(assembly(&a).master, AspectRatio::Landscape);
    assert_eq!(
        assembly(&a).variants,
        vec![AspectRatio::Portrait, AspectRatio::Square]
    );
    assert_eq!(assembly(&b).master, AspectRatio::Portrait);
    assert_eq!(
        assembly(&b).variants,
        vec![AspectRatio::Landscape, AspectRatio::Square]
    );
    // Every shot is generated in the master's shape.
    assert!(a.stages.iter().all(|s| s.aspect == AspectRatio::Landscape));
    assert!(b.stages.iter().all(|s| s.aspect == AspectRatio::Portrait));
    // YouTube is the brief's own first platform: the demo audience changed nothing there, the
    // rival's did, and the stages say so.
    assert!(!rows(stage(&a, "assembly")).contains(&"audience".to_owned()));
    assert_eq!(rows(stage(&b, "assembly")), vec!["audience"]);
    assert_eq!(
        rows(stage(&b, "s01.keyframe")),
        vec!["format_dna:short_doc", "fingerprint", "audience"]
    );
    assert_eq!(
        rows(stage(&a, "s01.keyframe")),
        vec!["format_dna:short_doc", "fingerprint"]
    );
    assert_eq!(
        rows(stage(&a, "s02.keyframe")),
        vec!["look:keeper", "fingerprint"]
    );

    // A brief that fixes its master keeps it; the audience then decides which variant leads.
    let mut fixed = brief.clone();
    fixed.master_aspect = Some(AspectRatio::Square);
    let plan = build(&fixed, &rival(), PlanOptions::default());
    assert_eq!(assembly(&plan).master, AspectRatio::Square);
    assert_eq!(
        assembly(&plan).variants,
        vec![AspectRatio::Portrait, AspectRatio::Landscape]
    );
    let plan = build(&fixed, &MemoryContext::default(), PlanOptions::default());
    assert_eq!(
        assembly(&plan).variants,
        vec![AspectRatio::Landscape, AspectRatio::Portrait]
    );
    // Shots are split by the longest clip a model makes in the master's shape: the one the
    // audience chose.
    let registry = studio::routing::Registry::builtin();
    for memory in [demo(), rival()] {
        let plan = build(&brief, &memory, PlanOptions::default());
        let master = assembly(&plan).master;
        assert_eq!(
            studio::routing::feasible::master_aspect(&brief, memory.audience.as_ref()),
            master
        );
        let options = studio::routing::plan_options_for(
            &registry,
            &brief,
            memory.audience.as_ref(),
            None,
            false,
        );
        let limits = studio::routing::split_limits(&registry, master, None);
        assert_eq!(options.max_clip_s, limits.max_clip_s);
    }
    // The audience never adds an output the brief does not publish.
    let mut only_youtube = brief.clone();
    only_youtube.platforms = vec![Platform::Youtube];
    let plan = build(&only_youtube, &rival(), PlanOptions::default());
    assert_eq!(assembly(&plan).master, AspectRatio::Landscape);
    assert!(assembly(&plan).variants.is_empty());
}

#[test]
fn speech_takes_the_audiences_language_and_the_graphs_voice() {
    let brief = example_brief();
    let mut memory = rival();
    memory
        .voices
        .insert("narrator".into(), "el_voice_narrator".into());
    let plan = build(&brief, &memory, PlanOptions::default());
    for id in ["s04.dialogue", "s08.dialogue", "voiceover"] {
        let StageWork::Speech { language, .. } = &stage(&plan, id).work else {
            panic!("{id} is not speech")
        };
        assert_eq!(language.as_deref(), Some("de"), "{id}");
    }
    assert_eq!(
        rows(stage(&plan, "voiceover")),
        vec!["voice:narrator", "audience"]
    );
    assert_eq!(rows(stage(&plan, "s04.dialogue")), vec!["audience"]);
    let plan = build(&brief, &demo(), PlanOptions::default());
    let StageWork::Speech { language, .. } = &stage(&plan, "voiceover").work else {
        panic!()
    };
    assert_eq!(language.as_deref(), Some("en"));
    // An audience split across languages enforces none.
    let mut mixed = rival();
    if let Some(a) = mixed.audience.as_mut() {
        a.regions = vec!["DE".into(), "FR".into()];
    }
    let plan = build(&brief, &mixed, PlanOptions::default());
    let StageWork::Speech { language, .. } = &stage(&plan, "voiceover").work else {
        panic!()
    };
    assert_eq!(*language, None);
}

#[test]
fn support_sees_the_final_prompt_and_the_rows_that_shaped_it() {
    let plan = build(&example_brief(), &rival(), PlanOptions::default());
    let shaping = stage(&plan, "s01.motion").shaping();
    let json = serde_json::to_value(&shaping).unwrap();
    let prompt = json["prompt"].as_str().unwrap();
    assert!(
        prompt.starts_with("aerial dawn over a basalt headland"),
        "{prompt}"
    );
    assert!(prompt.contains("Opening hook: start mid-action, no intro."));
    assert!(prompt.ends_with(RIVAL_LOOK));
    assert!(
        json["negative_prompt"]
            .as_str()
            .unwrap()
            .contains("watermark")
    );
    assert_eq!(json["aspect"], "9:16");
    assert_eq!(
        json["shaped_by"],
        serde_json::json!(["format_dna:short_doc", "fingerprint", "audience"])
    );
    let speech = serde_json::to_value(stage(&plan, "voiceover").shaping()).unwrap();
    assert_eq!(speech["language"], "de");
    // Stage specs stored before this field existed still load.
    let mut old = serde_json::to_value(stage(&plan, "s02.keyframe")).unwrap();
    old.as_object_mut().unwrap().remove("shaped_by");
    old["work"]
        .as_object_mut()
        .unwrap()
        .remove("negative_prompt");
    let spec: StageSpec = serde_json::from_value(old).unwrap();
    assert!(spec.shaped_by.is_empty());
}

#[test]
fn the_job_submits_the_final_prompt_and_negative_prompt() {
    let mut w = World::manual(example_brief());
    let (fx, _) = w.poke(Input::MemoryContext { context: rival() });
    assert_eq!(w.status(), JobStatus::Rendering);
    let keyframe = fx
        .iter()
        .find_map(|e| match e {
            Effect::Submit { stage, inputs, .. } if stage.as_str() == "s01.keyframe" => {
                Some(inputs.clone())
            }
            _ => None,
        })
        .expect("s01.keyframe is submitted when planned");
    let StageInputs::Image {
        prompt,
        negative_prompt,
        aspect,
        ..
    } = keyframe
    else {
        panic!("{keyframe:?}")
    };
    assert!(
        prompt.contains("Opening hook: start mid-action"),
        "{prompt}"
    );
    assert!(prompt.ends_with(RIVAL_LOOK), "{prompt}");
    assert!(negative_prompt.unwrap().contains("murky shadows"));
    assert_eq!(aspect, AspectRatio::Portrait);
}

/// A vlog brief: eight quick shots and one long hold
fn vlog() -> Brief {
    let mut b = example_brief();
    b.format = "vlog".into();
    b.shots.truncate(9);
    for s in &mut b.shots {
        s.duration_s = 2.0;
        s.dialogue = None;
        s.kind = ShotKind::BRoll;
    }
    b.shots[3].duration_s = 9.0;
    b.voiceover = None;
    b.score = None;
    b.pacing = Some(Pacing {
        target_duration_s: 25.0,
        energy: Energy::Punchy,
    });
    b
}

#[test]
fn pacing_notes_are_measured_against_the_creators_own_format() {
    let b = vlog();
    let quick = dna("vlog", 2.1, Energy::Punchy, "a question to camera");
    let notes = pacing_warnings_for(&b, Some(&quick));
    let hold = notes
        .iter()
        .find(|n| n.field == "shots[3].duration_s")
        .expect("the long hold stands out against 2.1 s shots");
    assert_eq!(hold.from, "Ra");
    assert_eq!(
        hold.message,
        "Director, your vlogs cut every 2.1 s; shot s04 holds 9 s. I'd trim it to 5 s."
    );
    assert_eq!(hold.shot.as_ref().map(|s| s.as_str()), Some("s04"));
    // The same shot list for a creator whose vlogs hold 6 s: the hold is theirs, the rest is
    // quick for them.
    let slow = dna("vlog", 6.0, Energy::Punchy, "a question to camera");
    let notes = pacing_warnings_for(&b, Some(&slow));
    assert!(
        notes.iter().all(|n| n.field != "shots[3].duration_s"),
        "{notes:?}"
    );
    let average = notes
        .iter()
        .find(|n| n.field == "shots")
        .expect("{notes:?}");
    assert!(
        average
            .message
            .starts_with("Director, your vlogs hold 6.0 s a shot; these average 2.8 s."),
        "{}",
        average.message
    );
    // A brief asking for another energy than the format's is told so, once.
    let calm = dna("vlog", 2.1, Energy::SlowBurn, "a question to camera");
    let energy: Vec<_> = pacing_warnings_for(&b, Some(&calm))
        .into_iter()
        .filter(|n| n.field == "pacing.energy")
        .collect();
    assert_eq!(energy.len(), 1);
    assert!(
        energy[0]
            .message
            .contains("your vlogs are usually slow-burn")
    );
    // Without the format, the global rule of thumb: punchy at 2.8 s on average says nothing.
    assert!(
        pacing_warnings(&b)
            .iter()
            .all(|n| n.field != "shots[3].duration_s")
    );
}

#[test]
fn the_job_measures_pacing_once_the_graph_answers() {
    let mut w = World::manual(vlog());
    assert!(
        w.job
            .spec()
            .warnings
            .iter()
            .all(|n| !n.message.contains("your vlogs")),
        "the brief alone knows no format"
    );
    let context = MemoryContext {
        format_dna: Some(dna("vlog", 2.1, Energy::Punchy, "a question to camera")),
        ..MemoryContext::default()
    };
    w.poke(Input::MemoryContext { context });
    let notes = &w.job.spec().warnings;
    assert!(
        notes.iter().any(|n| n.message
            == "Director, your vlogs cut every 2.1 s; shot s04 holds 9 s. I'd trim it to 5 s."),
        "{notes:?}"
    );
}

fn without_pacing() -> serde_json::Value {
    let mut v: serde_json::Value = serde_json::from_str(common::EXAMPLE).unwrap();
    v.as_object_mut().unwrap().remove("pacing");
    v
}

#[test]
fn a_brief_naming_a_graph_format_needs_no_pacing() {
    let body = serde_json::to_vec(&without_pacing()).unwrap();
    let brief = parse_brief(&body).unwrap().brief;
    assert_eq!(brief.pacing, None);
    let format = dna(
        "short_doc",
        5.2,
        Energy::SlowBurn,
        "cold open on a question",
    );
    require_pacing(&brief, Some(&format)).unwrap();
    // The job plans it with the format's DNA and renders.
    let mut w = World::manual(brief);
    w.poke(Input::MemoryContext {
        context: MemoryContext {
            format_dna: Some(format),
            ..MemoryContext::default()
        },
    });
    assert_eq!(w.status(), JobStatus::Rendering);
    assert!(
        w.job
            .spec()
            .warnings
            .iter()
            .all(|n| n.field != "pacing.target_duration_s")
    );
}

#[test]
fn a_brief_without_pacing_or_a_graph_format_is_refused_naming_pacing() {
    let body = serde_json::to_vec(&without_pacing()).unwrap();
    let brief = parse_brief(&body).unwrap().brief;
    let err = require_pacing(&brief, None).unwrap_err();
    assert_eq!(err.field(), Some("pacing"));
    assert_eq!(err.code(), "brief_invalid");
    assert!(
        err.to_string().contains("`short_doc` has no format DNA"),
        "{err}"
    );
    // A brief that gives its pacing needs no format.
    require_pacing(&example_brief(), None).unwrap();
    // A pacing that is there is still checked.
    let mut v = without_pacing();
    v["pacing"] = serde_json::json!({"target_duration_s": 0, "energy": "steady"});
    let err = parse_brief(&serde_json::to_vec(&v).unwrap()).unwrap_err();
    assert_eq!(err.field(), Some("pacing.target_duration_s"));
    v["pacing"] = serde_json::json!({"energy": "steady"});
    let err = parse_brief(&serde_json::to_vec(&v).unwrap()).unwrap_err();
    assert_eq!(err.field(), Some("pacing.target_duration_s"));
    // `master_aspect` names its field too.
    let mut v = without_pacing();
    v["master_aspect"] = serde_json::json!("4:3");
    let err = parse_brief(&serde_json::to_vec(&v).unwrap()).unwrap_err();
    assert_eq!(err.field(), Some("master_aspect"));
    assert!(validate_brief(example_brief()).is_ok());
}
