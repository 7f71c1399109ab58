//! A voice for every speaker, kept: Ra casts a library voice that fits each speaker the Graph
//! has none for, records it so the character keeps it, says so in a note, and never gives two
//! characters one voice unless the brief does. Clones come from checked audio samples.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;

use common::{World, created, example_brief};
use studio::brief::ra::NoteTopic;
use studio::brief::{Brief, Voiceover};
use studio::ids::CreatorId;
use studio::job::{Effect, StageInputs};
use studio::memory::graph::{MemoryGraph, Voice};
use studio::memory::voice_cast::{
    Casting, NotCastReason, cast_voices, library_unavailable, note_body, speakers_to_cast,
};
use studio::memory::voice_samples::parse_samples;
use studio::memory::{MemoryContext, MemoryError, NgramEmbedder, build_context};
use studio::providers::ProviderConfig;
use studio::providers::ProviderKind;
use studio::providers::elevenlabs_voices::{LibraryVoice, clone_request};
use studio::routing::Registry;

fn voice(id: &str, name: &str, labels: &[(&str, &str)], description: &str) -> LibraryVoice {
    LibraryVoice {
        voice_id: id.into(),
        name: name.into(),
        category: Some("premade".into()),
        labels: labels
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect::<BTreeMap<_, _>>(),
        description: Some(description.into()),
    }
}

/// A library in the API's vocabulary (labels `gender`, `age`, `accent`, `descriptive`,
/// `use_case`), as `GET /v2/voices` answers
fn library() -> Vec<LibraryVoice> {
    vec![
        voice(
            "v_rachel",
            "Rachel",
            &[
                ("gender", "female"),
                ("age", "young"),
                ("accent", "american"),
                ("use_case", "narration"),
            ],
            "Calm and clear.",
        ),
        voice(
            "v_dorothy",
            "Dorothy",
            &[
                ("gender", "female"),
                ("age", "old"),
                ("accent", "british"),
                ("descriptive", "warm"),
                ("use_case", "narration"),
            ],
            "A warm grandmother.",
        ),
        voice(
            "v_george",
            "George",
            &[
                ("gender", "male"),
                ("age", "old"),
                ("accent", "british"),
                ("descriptive", "deep"),
                ("use_case", "narration"),
            ],
            "Deep and gravelly.",
        ),
        voice(
            "v_sam",
            "Sam",
            &[
                ("gender", "male"),
                ("age", "young"),
                ("accent", "american"),
                ("descriptive", "raspy"),
                ("use_case", "characters"),
            ],
            "A raspy young man.",
        ),
        voice(
            "v_charlotte",
            "Charlotte",
            &[
                ("gender", "female"),
                ("age", "middle_aged"),
                ("accent", "swedish"),
                ("use_case", "characters"),
            ],
            "Husky and playful.",
        ),
    ]
}

fn demo_graph() -> MemoryGraph {
    MemoryGraph::new(CreatorId("demo".into()))
}

/// The example brief with a second speaking character, the gull, on shot s07
fn two_speakers() -> Brief {
    let mut brief = example_brief();
    brief.cast[1].description = "one-legged herring gull, a gruff old male sea bird".into();
    brief.shots[6].dialogue = Some(studio::brief::DialogueLine {
        character: "gull".into(),
        line: "Squawk. Not on my watch.".into(),
    });
    brief
}

#[test]
fn each_speaker_gets_the_voice_that_fits_its_description() {
    let mut g = demo_graph();
    let brief = two_speakers();
    let speakers = speakers_to_cast(&g, &brief);
    let names: Vec<&str> = speakers.iter().map(|s| s.name.as_str()).collect();
    // Dialogue in shot order, then the narrator.
    assert_eq!(names, ["keeper", "gull", "narrator"]);
    assert!(speakers[2].narrator && !speakers[0].narrator);
    let (castings, changes) = cast_voices(&mut g, &speakers, &library()).unwrap();
    let ids: Vec<Option<&str>> = castings.iter().map(Casting::voice_id).collect();
    // Ines, "weathered woman in her sixties": female and old. The gull: male and old. The
    // narrator: a narration voice no one else has.
    assert_eq!(ids, [Some("v_dorothy"), Some("v_george"), Some("v_rachel")]);
    assert_eq!(changes.len(), 3);
    let rows: Vec<(&str, &str)> = g
        .voices
        .iter()
        .map(|v| (v.name.as_str(), v.voice_id.as_str()))
        .collect();
    assert_eq!(
        rows,
        [
            ("keeper", "v_dorothy"),
            ("gull", "v_george"),
            ("narrator", "v_rachel")
        ]
    );
    let Casting::Cast { fits, .. } = &castings[0] else {
        panic!("{castings:?}")
    };
    assert!(fits.contains(&"female".to_owned()) && fits.contains(&"old".to_owned()));
}

#[test]
fn the_next_render_keeps_the_voices_and_casts_nothing() {
    let mut g = demo_graph();
    let brief = two_speakers();
    let speakers = speakers_to_cast(&g, &brief);
    cast_voices(&mut g, &speakers, &library()).unwrap();
    assert!(speakers_to_cast(&g, &brief).is_empty());
    // A second cast of the same speakers (a re-issued request, a render racing this one)
    // finds the rows and changes nothing.
    let (castings, changes) = cast_voices(&mut g, &speakers, &library()).unwrap();
    assert!(castings.is_empty() && changes.is_empty());
    let ctx = build_context(&g, &brief, &NgramEmbedder::default(), 0);
    assert_eq!(
        ctx.voices.get("keeper").map(String::as_str),
        Some("v_dorothy")
    );
    assert_eq!(
        ctx.voices.get("narrator").map(String::as_str),
        Some("v_rachel")
    );
}

#[test]
fn two_characters_never_share_a_voice_unless_the_brief_says_so() {
    // Only one free voice: the second speaker stays uncast rather than share it.
    let mut g = demo_graph();
    g.voices.push(Voice {
        name: "old_host".into(),
        voice_id: "v_george".into(),
    });
    let one = vec![library()[2].clone(), library()[3].clone()];
    let speakers = speakers_to_cast(&g, &two_speakers());
    let (castings, _) = cast_voices(&mut g, &speakers, &one).unwrap();
    assert_eq!(
        castings[0].voice_id(),
        Some("v_sam"),
        "George is the old host's"
    );
    assert!(matches!(
        &castings[1],
        Casting::NotCast {
            reason: NotCastReason::NoFreeVoice,
            ..
        }
    ));
    let ids: Vec<&str> = g.voices.iter().map(|v| v.voice_id.as_str()).collect();
    assert_eq!(ids, ["v_george", "v_sam"]);

    // The brief shares one on purpose: the keeper narrates, so narration is the keeper's voice.
    let mut brief = example_brief();
    brief.voiceover = Some(Voiceover {
        text: "Some lights are kept for the people who keep them.".into(),
        voice: "keeper".into(),
    });
    let mut g = demo_graph();
    let speakers = speakers_to_cast(&g, &brief);
    assert_eq!(speakers.len(), 1, "{speakers:?}");
    cast_voices(&mut g, &speakers, &library()).unwrap();
    let ctx = build_context(&g, &brief, &NgramEmbedder::default(), 0);
    assert_eq!(ctx.voices.len(), 1);
}

#[test]
fn ra_says_what_was_cast_to_the_director_naming_no_provider_or_model() {
    let mut g = demo_graph();
    let speakers = speakers_to_cast(&g, &two_speakers());
    let (mut castings, _) = cast_voices(&mut g, &speakers, &library()).unwrap();
    castings.extend(library_unavailable(&speakers));
    let mut words: Vec<String> = ProviderKind::ALL
        .iter()
        .map(|p| p.as_str().to_owned())
        .collect();
    for v in 1..=Registry::LATEST_VERSION {
        for m in Registry::builtin_version(v).unwrap().models {
            words.push(m.id.to_string());
            words.push(m.provider_model.clone());
        }
    }
    for c in &castings {
        let note = studio::brief::ra::RaNote::new(NoteTopic::Voice, &note_body(c));
        assert!(note.text.starts_with("Director, "), "{}", note.text);
        let lower = note.text.to_ascii_lowercase();
        for w in &words {
            assert!(
                !lower.contains(&w.to_ascii_lowercase()),
                "{w} in {}",
                note.text
            );
        }
    }
    let first = note_body(&castings[0]);
    assert!(
        first.starts_with("I cast Dorothy for Ines (keeper): "),
        "{first}"
    );
}

#[test]
fn a_render_says_it_cast_and_its_lines_speak_with_the_voice() {
    let brief = two_speakers();
    // What the graph object answers a job: it casts, then builds the context.
    let mut g = demo_graph();
    let speakers = speakers_to_cast(&g, &brief);
    let (castings, _) = cast_voices(&mut g, &speakers, &library()).unwrap();
    let mut context: MemoryContext = build_context(&g, &brief, &NgramEmbedder::default(), 0);
    context.casting = castings;
    let mut world = World::with(created(brief, 7, false), |fake| fake.memory = context);
    world.run();
    let said = &world.job.header().said;
    let voices: Vec<&str> = said
        .iter()
        .filter(|n| n.topic == NoteTopic::Voice)
        .map(|n| n.text.as_str())
        .collect();
    assert_eq!(voices.len(), 3, "{said:?}");
    assert!(
        voices[0].starts_with("Director, I cast Dorothy for Ines"),
        "{voices:?}"
    );
    assert!(said.iter().all(|n| n.from == "Ra"));
    let spoken: BTreeMap<String, Option<String>> = world
        .effects
        .iter()
        .filter_map(|(_, e)| match e {
            Effect::Submit {
                stage,
                inputs: StageInputs::Speech { voice_id, .. },
                ..
            } => Some((stage.to_string(), voice_id.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(spoken["s04.dialogue"].as_deref(), Some("v_dorothy"));
    assert_eq!(spoken["s07.dialogue"].as_deref(), Some("v_george"));
    assert_eq!(spoken["voiceover"].as_deref(), Some("v_rachel"));
}

#[test]
fn a_clone_is_made_only_from_audio_samples() {
    let wav = b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00";
    let samples = parse_samples(Some("audio/wav"), wav).unwrap();
    assert_eq!(samples.len(), 1);
    let mut body = Vec::new();
    for (i, part) in [&wav[..], b"ID3\x04\x00\x00\x00\x00\x00\x00"]
        .iter()
        .enumerate()
    {
        body.extend_from_slice(
            format!(
                "--b0undary\r\ncontent-disposition: form-data; name=\"files\"; filename=\"s{i}\"\r\ncontent-type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(part);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(b"--b0undary--\r\n");
    let two = parse_samples(Some("multipart/form-data; boundary=b0undary"), &body).unwrap();
    let types: Vec<&str> = two.iter().map(|s| s.content_type.as_str()).collect();
    assert_eq!(types, ["audio/wav", "audio/mpeg"]);
    // Not audio, whatever the header says: a 400 naming the sample.
    let err = parse_samples(Some("audio/wav"), b"\x89PNG\r\n\x1a\n").unwrap_err();
    assert!(matches!(err, MemoryError::Invalid { field, .. } if field == "samples[0]"));
    let err = parse_samples(Some("multipart/form-data"), &body).unwrap_err();
    assert!(matches!(err, MemoryError::Invalid { field, .. } if field == "Content-Type"));

    let req = clone_request(
        &ProviderConfig::new("https://api.elevenlabs.io", "k"),
        "demo-keeper",
        "voice of the keeper",
        &two,
    );
    assert_eq!(req.url, "https://api.elevenlabs.io/v1/voices/add");
    assert_eq!(req.header("xi-api-key"), Some("k"));
    let text = String::from_utf8_lossy(&req.body);
    assert_eq!(text.matches("name=\"files\"").count(), 2);
    assert!(text.contains("name=\"name\"\r\n\r\ndemo-keeper\r\n"));
}
