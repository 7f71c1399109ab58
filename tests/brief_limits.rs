//! Size limits of a brief (issue 10): every text field and list is capped, with the field named;
//! the keyframe prompt of a shot and the plan's text as a whole are bounded, so no brief expands
//! into a plan (and a job object) of hundreds of megabytes, whatever the memory graph adds.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::{Value, json};
use studio::brief::limits::{
    MAX_CAST, MAX_CAST_DESCRIPTION_CHARS, MAX_CAST_NAME_CHARS, MAX_CAST_PER_SHOT,
    MAX_DIALOGUE_LINE_CHARS, MAX_FORMAT_CHARS, MAX_ID_LEN, MAX_KEYFRAME_PROMPT_CHARS,
    MAX_LOGLINE_CHARS, MAX_MASTER_DURATION_S, MAX_PLAN_TEXT_CHARS, MAX_PLATFORMS, MAX_PROMPT_CHARS,
    MAX_QUOTED_MESSAGE_CHARS, MAX_SCORE_MOOD_CHARS, MAX_SHOTS, MAX_STAGE_TEXT_CHARS,
    MAX_TIMELINE_CLIPS, MAX_UTF8_BYTES_PER_CHAR, MAX_VOICE_CHARS, MAX_VOICEOVER_TEXT_CHARS,
    MAX_WEBHOOK_URL_CHARS,
};
use studio::brief::text_size::{cast_note_chars, keyframe_prompt_chars, plan_text_chars};
use studio::brief::{
    Brief, BriefError, CastMember, DialogueLine, Shot, ShotKind, parse_brief, validate_brief,
};
use studio::ids::ShotId;
use studio::memory::{CastLook, MemoryContext};
use studio::plan::{Plan, PlanOptions, StageWork, build};

const EXAMPLE: &str = include_str!("../examples/brief.json");

fn example() -> Value {
    serde_json::from_str(EXAMPLE).unwrap()
}

fn parse(v: &Value) -> Result<Brief, BriefError> {
    parse_brief(v.to_string().as_bytes()).map(|v| v.brief)
}

/// `n` characters; a 4-byte character (U+1D11E) so a byte-counting check would refuse early
fn chars(n: usize) -> String {
    "\u{1D11E}".repeat(n)
}

/// `n` characters of an id
fn id(n: usize) -> String {
    "i".repeat(n)
}

/// The field a refused brief names, after `edit` of the example
fn refused_field(edit: impl FnOnce(&mut Value)) -> String {
    let mut v = example();
    edit(&mut v);
    let err = parse(&v).expect_err("refused");
    assert_eq!(err.code(), "brief_invalid", "{err}");
    err.field().unwrap_or_default().to_owned()
}

fn accepted(edit: impl FnOnce(&mut Value)) {
    let mut v = example();
    edit(&mut v);
    if let Err(e) = parse(&v) {
        panic!("refused: {e}");
    }
}

/// A field setter given a length
type Setter = fn(&mut Value, usize);

/// (field path, limit, setter): each text field of the brief
fn text_fields() -> Vec<(&'static str, usize, Setter)> {
    vec![
        ("project_id", MAX_ID_LEN, |v, n| {
            v["project_id"] = json!(id(n))
        }),
        ("logline", MAX_LOGLINE_CHARS, |v, n| {
            v["logline"] = json!(chars(n))
        }),
        ("format", MAX_FORMAT_CHARS, |v, n| {
            v["format"] = json!(chars(n))
        }),
        ("cast[2].id", MAX_ID_LEN, |v, n| {
            v["cast"].as_array_mut().unwrap().push(json!({
                "id": id(n), "name": "Extra", "description": "a passer-by"
            }));
        }),
        ("cast[0].name", MAX_CAST_NAME_CHARS, |v, n| {
            v["cast"][0]["name"] = json!(chars(n))
        }),
        ("cast[0].description", MAX_CAST_DESCRIPTION_CHARS, |v, n| {
            v["cast"][0]["description"] = json!(chars(n))
        }),
        ("shots[0].id", MAX_ID_LEN, |v, n| {
            v["shots"][0]["id"] = json!(id(n))
        }),
        ("shots[3].prompt", MAX_PROMPT_CHARS, |v, n| {
            v["shots"][3]["prompt"] = json!(chars(n))
        }),
        ("shots[3].dialogue.line", MAX_DIALOGUE_LINE_CHARS, |v, n| {
            v["shots"][3]["dialogue"]["line"] = json!(chars(n))
        }),
        ("voiceover.text", MAX_VOICEOVER_TEXT_CHARS, |v, n| {
            v["voiceover"]["text"] = json!(chars(n))
        }),
        ("voiceover.voice", MAX_VOICE_CHARS, |v, n| {
            v["voiceover"]["voice"] = json!(chars(n))
        }),
        ("score.mood", MAX_SCORE_MOOD_CHARS, |v, n| {
            v["score"]["mood"] = json!(chars(n))
        }),
        ("webhook_url", MAX_WEBHOOK_URL_CHARS, |v, n| {
            let base = "https://hooks.example.com/";
            v["webhook_url"] = json!(format!("{base}{}", "p".repeat(n - base.len())));
        }),
    ]
}

#[test]
fn the_sample_brief_is_within_every_limit() {
    let b = parse_brief(EXAMPLE.as_bytes()).unwrap().brief;
    assert!(plan_text_chars(&b) < MAX_PLAN_TEXT_CHARS / 100);
    for shot in &b.shots {
        assert!(keyframe_prompt_chars(&b, shot) < MAX_KEYFRAME_PROMPT_CHARS / 4);
    }
}

#[test]
fn every_text_field_is_capped_and_named() {
    for (field, max, set) in text_fields() {
        accepted(|v| set(v, max));
        let named = refused_field(|v| set(v, max + 1));
        assert_eq!(named, field, "limit {max}");
        let mut v = example();
        set(&mut v, max + 1);
        let message = parse(&v).unwrap_err().to_string();
        assert!(
            message.contains(&format!("at most {max} characters")),
            "{message}"
        );
    }
}

#[test]
fn lengths_count_characters_not_bytes() {
    // 2,000 four-byte characters are 8,000 bytes: accepted as 2,000 characters.
    accepted(|v| v["shots"][0]["prompt"] = json!(chars(MAX_PROMPT_CHARS)));
    assert_eq!(chars(MAX_PROMPT_CHARS).len(), 4 * MAX_PROMPT_CHARS);
    // Mixed widths count the same.
    let mixed: String = "aé\u{1D11E}".repeat(MAX_PROMPT_CHARS / 3);
    accepted(|v| v["shots"][0]["prompt"] = json!(mixed));
}

#[test]
fn a_dialogue_character_longer_than_any_id_is_named() {
    assert_eq!(
        refused_field(|v| v["shots"][3]["dialogue"]["character"] = json!(id(MAX_ID_LEN + 1))),
        "shots[3].dialogue.character"
    );
    assert_eq!(
        refused_field(|v| v["shots"][1]["cast"][0] = json!(id(MAX_ID_LEN + 1))),
        "shots[1].cast[0]"
    );
}

#[test]
fn platforms_are_capped() {
    let all = json!([
        "youtube",
        "youtube_shorts",
        "tiktok",
        "reels",
        "x",
        "linkedin"
    ]);
    assert_eq!(all.as_array().unwrap().len(), MAX_PLATFORMS);
    accepted(|v| v["platforms"] = all.clone());
    assert_eq!(
        refused_field(|v| v["platforms"] = json!(vec!["youtube"; MAX_PLATFORMS + 1])),
        "platforms"
    );
}

fn with_cast(v: &mut Value, n: usize) {
    v["cast"] = Value::Array(
        (0..n)
            .map(|i| json!({"id": format!("c{i}"), "name": format!("C{i}"), "description": "x"}))
            .collect(),
    );
    // Keep the example's shots valid: they name keeper and gull.
    v["cast"][0]["id"] = json!("keeper");
    v["cast"][1]["id"] = json!("gull");
}

#[test]
fn the_cast_is_capped() {
    accepted(|v| with_cast(v, MAX_CAST));
    let (field, message) = {
        let mut v = example();
        with_cast(&mut v, MAX_CAST + 1);
        let err = parse(&v).unwrap_err();
        (err.field().unwrap().to_owned(), err.to_string())
    };
    assert_eq!(field, "cast");
    assert!(message.contains(&format!("at most {MAX_CAST} cast members, got 33")));
}

#[test]
fn cast_per_shot_is_capped() {
    // keeper, gull, c2, c3, ...
    let names = |n: usize| {
        let ids = (0..n).map(|i| match i {
            0 => "keeper".to_owned(),
            1 => "gull".to_owned(),
            i => format!("c{i}"),
        });
        json!(ids.collect::<Vec<_>>())
    };
    accepted(|v| {
        with_cast(v, MAX_CAST);
        v["shots"][2]["cast"] = names(MAX_CAST_PER_SHOT);
    });
    let mut v = example();
    with_cast(&mut v, MAX_CAST);
    v["shots"][2]["cast"] = names(MAX_CAST_PER_SHOT + 1);
    let err = parse(&v).unwrap_err();
    assert_eq!(err.field(), Some("shots[2].cast"));
    assert!(
        err.to_string()
            .contains("at most 8 cast members per shot, got 9"),
        "{err}"
    );
}

#[test]
fn a_cast_member_named_twice_in_a_shot_is_refused_with_its_position() {
    let mut v = example();
    v["shots"][3]["cast"] = json!(["keeper", "gull", "keeper"]);
    let err = parse(&v).unwrap_err();
    assert_eq!(err.field(), Some("shots[3].cast[2]"));
    assert!(
        err.to_string()
            .contains("duplicate cast id `keeper` (first at shots[3].cast[0])"),
        "{err}"
    );
    // The same member in different shots is of course fine.
    accepted(|v| v["shots"][0]["cast"] = json!(["keeper"]));
}

/// The keyframe prompt of shots[3] (keeper, gull) set to exactly `n` characters through its
/// prompt and both descriptions at their limit
fn keyframe_of(v: &mut Value, n: usize) {
    let description = chars(MAX_CAST_DESCRIPTION_CHARS);
    let notes = cast_note_chars("Ines", &description) + cast_note_chars("Captain", &description);
    let prompt = n - notes;
    assert!(prompt <= MAX_PROMPT_CHARS);
    v["cast"][0]["description"] = json!(description);
    v["cast"][1]["description"] = json!(description);
    v["shots"][3]["prompt"] = json!(chars(prompt));
}

#[test]
fn a_keyframe_prompt_over_its_cap_is_refused_naming_the_shots_cast() {
    // Each field within its limit...
    let mut v = example();
    keyframe_of(&mut v, MAX_KEYFRAME_PROMPT_CHARS);
    let b = parse(&v).unwrap();
    assert_eq!(
        keyframe_prompt_chars(&b, &b.shots[3]),
        MAX_KEYFRAME_PROMPT_CHARS
    );
    // ...and the plan builds exactly the prompt validation measured.
    let plan = build(&b, &MemoryContext::default(), PlanOptions::default());
    assert_eq!(
        keyframe(&plan, "s04").chars().count(),
        MAX_KEYFRAME_PROMPT_CHARS
    );
    // One character more is refused, naming the shot's cast (what expands the prompt).
    let mut v = example();
    keyframe_of(&mut v, MAX_KEYFRAME_PROMPT_CHARS + 1);
    let err = parse(&v).unwrap_err();
    assert_eq!(err.field(), Some("shots[3].cast"), "{err}");
    assert!(err.to_string().contains("keyframe prompt"), "{err}");
    assert!(
        err.to_string().contains(&format!(
            "would be {} characters",
            MAX_KEYFRAME_PROMPT_CHARS + 1
        )),
        "{err}"
    );
}

fn keyframe<'a>(plan: &'a Plan, shot: &str) -> &'a str {
    let id = format!("{shot}.keyframe");
    let stage = plan.stages.iter().find(|s| s.id.as_str() == id).unwrap();
    let StageWork::Keyframe { prompt, .. } = &stage.work else {
        panic!("{id} is not a keyframe")
    };
    prompt
}

/// Characters of prompt and text in every stage: (per stage, total)
fn plan_text(plan: &Plan) -> (Vec<usize>, usize, usize) {
    let mut per_generation_stage = Vec::new();
    let mut total_chars = 0;
    let mut total_bytes = 0;
    let mut count = |s: &str, per: &mut usize| {
        *per += s.chars().count();
        total_chars += s.chars().count();
        total_bytes += s.len();
    };
    for stage in &plan.stages {
        let mut per = 0;
        match &stage.work {
            StageWork::Keyframe { prompt, .. } | StageWork::Motion { prompt, .. } => {
                count(prompt, &mut per)
            }
            StageWork::Speech { text, .. } => count(text, &mut per),
            StageWork::Score { mood } => count(mood, &mut per),
            StageWork::Frame { .. } => {}
            StageWork::Assembly(spec) => {
                // Captions: every line with its speaker, and the narration.
                let v = serde_json::to_value(spec).unwrap();
                for slot in v["shots"].as_array().unwrap() {
                    for key in ["text", "speaker"] {
                        count(slot["line"][key].as_str().unwrap_or_default(), &mut per);
                    }
                }
                count(v["voiceover_text"].as_str().unwrap_or_default(), &mut per);
                continue;
            }
        }
        per_generation_stage.push(per);
    }
    (per_generation_stage, total_chars, total_bytes)
}

/// A brief at the limits: 32 cast members with the longest names and descriptions, `shots`
/// shots of 4-byte characters, every tenth at the keyframe cap, the others with `prompt`
/// characters of prompt and one member, every one with a line
fn maximal(shots: usize, prompt: usize) -> Brief {
    let mut b = parse_brief(EXAMPLE.as_bytes()).unwrap().brief;
    b.cast = (0..MAX_CAST)
        .map(|i| CastMember {
            id: format!("c{i:02}{}", id(MAX_ID_LEN - 3)),
            name: chars(MAX_CAST_NAME_CHARS),
            description: chars(MAX_CAST_DESCRIPTION_CHARS),
        })
        .collect();
    let note = cast_note_chars(&b.cast[0].name, &b.cast[0].description);
    // As long as a cut may be, shared by the shots
    let duration_s = (MAX_MASTER_DURATION_S / shots as f64).min(6.0);
    b.shots = (0..shots)
        .map(|i| {
            // Three members and a prompt fill the keyframe cap exactly.
            let at_cap = i % 10 == 0;
            let cast: Vec<String> = (0..if at_cap { 3 } else { 1 })
                .map(|j| b.cast[(i + j) % MAX_CAST].id.clone())
                .collect();
            let prompt = if at_cap {
                MAX_KEYFRAME_PROMPT_CHARS - 3 * note
            } else {
                prompt
            };
            Shot {
                id: ShotId(format!("s{i:04}{}", id(MAX_ID_LEN - 5))),
                kind: ShotKind::Dialogue,
                prompt: chars(prompt),
                duration_s,
                hero: false,
                cast: cast.clone(),
                dialogue: Some(DialogueLine {
                    character: cast[0].clone(),
                    line: chars(MAX_DIALOGUE_LINE_CHARS / 5),
                }),
            }
        })
        .collect();
    b.voiceover.as_mut().unwrap().text = chars(MAX_VOICEOVER_TEXT_CHARS);
    b.score.as_mut().unwrap().mood = chars(MAX_SCORE_MOOD_CHARS);
    b
}

/// Locked looks longer than the brief's descriptions for every member (the memory graph allows
/// 2,000 characters), with reference images
fn long_looks(b: &Brief) -> MemoryContext {
    let mut memory = MemoryContext::default();
    for member in &b.cast {
        memory.looks.insert(
            member.id.clone(),
            CastLook {
                description: chars(2_000),
                reference_images: vec![format!("looks/{}.png", member.id)],
            },
        );
    }
    memory
}

/// The longest fingerprint and hook the memory graph allows (16 colours, 200 characters each
/// for grade, lens, lighting and hook) on top of `memory`: every image and video prompt carries
/// the look, the first shot the hook
fn styled(mut memory: MemoryContext) -> MemoryContext {
    use studio::memory::graph::{FormatDna, FormatPacing, VisualFingerprint};
    memory.fingerprint = Some(VisualFingerprint {
        palette: vec!["#1b2a3c".into(); 16],
        grade: Some(chars(200)),
        lens: Some(chars(200)),
        lighting: Some(format!("low-key {}", chars(192))),
    });
    memory.format_dna = Some(FormatDna {
        format: "short_doc".into(),
        pacing: FormatPacing {
            avg_shot_s: 5.0,
            energy: studio::brief::Energy::Steady,
        },
        shot_mix: Default::default(),
        hook_style: Some(chars(200)),
    });
    memory
}

#[test]
fn the_plan_of_a_maximal_brief_is_bounded() {
    // The longest odd-shot prompt the plan cap lets through: find it, then check both sides.
    // At 1,000 shots the prompt is what binds; at the full MAX_SHOTS the cast descriptions
    // alone pass the plan's cap (which validation refuses just the same).
    let shots = MAX_SHOTS.min(1000);
    let fits = |prompt| validate_brief(maximal(shots, prompt)).is_ok();
    let mut lo = 1;
    let mut hi = MAX_PROMPT_CHARS;
    assert!(fits(lo) && !fits(hi));
    while hi - lo > 1 {
        let mid = (lo + hi) / 2;
        if fits(mid) { lo = mid } else { hi = mid }
    }
    let err = validate_brief(maximal(shots, hi)).unwrap_err();
    assert_eq!(err.field(), Some("shots"), "{err}");
    assert!(
        err.to_string().contains("plan's prompts and texts"),
        "{err}"
    );

    let brief = maximal(shots, lo);
    let from_brief = plan_text_chars(&brief);
    assert!(from_brief <= MAX_PLAN_TEXT_CHARS);
    assert!(
        from_brief > MAX_PLAN_TEXT_CHARS - 2 * shots,
        "the brief is at the cap: {from_brief}"
    );
    // The computed bound: the plan's text is at most MAX_PLAN_TEXT_CHARS characters, each at
    // most 4 bytes, and no generation stage carries more than MAX_STAGE_TEXT_CHARS.
    let bound_bytes = MAX_PLAN_TEXT_CHARS * MAX_UTF8_BYTES_PER_CHAR;
    assert_eq!(bound_bytes, 8_000_000);
    for memory in [
        MemoryContext::default(),
        long_looks(&brief),
        styled(long_looks(&brief)),
    ] {
        let plan = build(&brief, &memory, PlanOptions::default());
        let (per_stage, total_chars, total_bytes) = plan_text(&plan);
        assert_eq!(per_stage.len(), plan.stages.len() - 1);
        assert!(per_stage.iter().all(|&n| n <= MAX_STAGE_TEXT_CHARS));
        assert!(total_chars <= MAX_PLAN_TEXT_CHARS, "{total_chars}");
        assert!(total_bytes <= bound_bytes, "{total_bytes}");
        for shot in &brief.shots {
            assert!(keyframe(&plan, shot.id.as_str()).chars().count() <= MAX_KEYFRAME_PROMPT_CHARS);
        }
        // What validation computed is what the plan holds without the memory graph.
        if memory.looks.is_empty() {
            assert_eq!(total_chars, from_brief);
        }
    }
}

#[test]
fn locked_looks_are_used_while_they_fit_and_never_break_the_caps() {
    let b = parse_brief(EXAMPLE.as_bytes()).unwrap().brief;
    // A long look fits a shot of the example: it is used.
    let memory = long_looks(&b);
    let plan = build(&b, &memory, PlanOptions::default());
    assert!(keyframe(&plan, "s02").contains(&chars(2_000)));
    // s04 names both members: 2 x 2,000 characters of looks overflow the keyframe cap, so the
    // first look is used and the second member keeps the brief's description.
    let s04 = keyframe(&plan, "s04");
    assert!(
        s04.chars().count() <= MAX_KEYFRAME_PROMPT_CHARS,
        "{}",
        s04.len()
    );
    assert!(s04.contains("Captain: one-legged herring gull"), "{s04}");
    assert!(s04.contains(&format!("Ines: {}", chars(2_000))));
    // Reference images still come from every look.
    let stage = plan
        .stages
        .iter()
        .find(|s| s.id.as_str() == "s04.keyframe")
        .unwrap();
    let StageWork::Keyframe {
        reference_images, ..
    } = &stage.work
    else {
        panic!()
    };
    assert_eq!(reference_images.len(), 2);
}

#[test]
fn refusals_quote_at_most_a_bounded_part_of_the_body() {
    // Found by tests/fuzz_brief.rs: serde's messages quote the offending value whole, and the
    // API echoes the message; a 100 KB value made a 100 KB error body.
    let huge = "y".repeat(100_000);
    for (edit, field) in [
        (
            (|v: &mut Value, s: &str| v["shots"][3]["duration_s"] = json!(s))
                as fn(&mut Value, &str),
            "shots[3].duration_s",
        ),
        (|v, s| v["shots"][2]["kind"] = json!(s), "shots[2].kind"),
        (|v, s| v["platforms"][0] = json!(s), "platforms[0]"),
        (|v, s| v["outcome_target"] = json!(s), "outcome_target"),
    ] {
        let mut v = example();
        edit(&mut v, &huge);
        let err = parse(&v).unwrap_err();
        assert_eq!(err.field(), Some(field));
        let message = err.to_string();
        assert!(
            message.chars().count() <= field.len() + 2 + MAX_QUOTED_MESSAGE_CHARS + 3,
            "{} characters",
            message.chars().count()
        );
        assert!(message.ends_with("..."), "{message}");
    }
}

/// A score or master of absurd length was accepted and then split into one stage per music call
/// (6.7e16 s hung the Worker: the API tester found it); both are capped at an hour
#[test]
fn master_and_score_lengths_are_capped() {
    use studio::brief::limits::MAX_MASTER_DURATION_S;
    for field in ["score", "pacing"] {
        let key = if field == "score" {
            "duration_s"
        } else {
            "target_duration_s"
        };
        let named = refused_field(|v| v[field][key] = json!(6.7e16));
        assert_eq!(named, format!("{field}.{key}"));
        let named = refused_field(|v| v[field][key] = json!(MAX_MASTER_DURATION_S + 0.5));
        assert_eq!(named, format!("{field}.{key}"));
        accepted(|v| v[field][key] = json!(MAX_MASTER_DURATION_S));
    }
}

/// The sample brief with `n` copies of its first shot, each `duration_s` long
fn shots_of(n: usize, duration_s: f64) -> Brief {
    let mut b = parse_brief(EXAMPLE.as_bytes()).unwrap().brief;
    let first = b.shots[0].clone();
    b.shots = (0..n)
        .map(|i| Shot {
            id: ShotId(format!("s{i:04}")),
            duration_s,
            dialogue: None,
            ..first.clone()
        })
        .collect();
    b
}

#[test]
fn a_brief_whose_cut_no_assembly_could_make_is_refused_naming_the_shots() {
    // The most shots, as short as a cut of an hour allows: fits.
    let most = shots_of(MAX_SHOTS, MAX_MASTER_DURATION_S / MAX_SHOTS as f64);
    validate_brief(most).unwrap();
    // One more shot is over the shot limit.
    let err = validate_brief(shots_of(MAX_SHOTS + 1, 1.0)).unwrap_err();
    assert_eq!(err.field(), Some("shots"), "{err}");
    // Longer than an hour back to back.
    let err = validate_brief(shots_of(400, 9.5)).unwrap_err();
    assert_eq!(err.field(), Some("shots"), "{err}");
    assert!(err.to_string().contains("add up to 3800.0 s"), "{err}");
    // Within an hour, but long shots split into more clips than one assembly takes: 1,990
    // shots of 1 s and 10 of 150 s (15 parts each) make 2,140 clips.
    let mut b = shots_of(MAX_SHOTS, 1.0);
    for shot in b.shots.iter_mut().take(10) {
        shot.duration_s = 150.0;
    }
    let err = validate_brief(b).unwrap_err();
    assert_eq!(err.field(), Some("shots"), "{err}");
    assert!(
        err.to_string()
            .contains(&format!("2140 clips (a shot longer than 10 s may be split into parts), at most {MAX_TIMELINE_CLIPS}")),
        "{err}"
    );
}
