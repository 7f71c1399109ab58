//! Fuzzing `PUT /v1/memory` (issue 10): whatever the body, `parse_edit` never panics and every
//! refusal is a clean `MemoryError` (a field path for everything but a body that is not JSON);
//! an accepted edit applies to a graph, feeds a memory context and a plan without panicking.
//!
//! Quick by default (`cargo test`); `PROPTEST_CASES=100000 cargo test --test fuzz_memory_edit`
//! runs long.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::{Number, Value, json};
use studio::brief::parse_brief;
use studio::memory::{
    DEFAULT_SIMILAR, MemoryError, MemoryGraph, NgramEmbedder, apply_edit, build_context, parse_edit,
};
use studio::plan::{PlanOptions, build};

#[path = "support/fuzz.rs"]
mod fuzz;
use fuzz::{config, pointers};

/// An object key, biased toward this domain's
fn key() -> impl Strategy<Value = String> + Clone {
    fuzz::key(KEYS)
}

/// Arbitrary JSON, biased toward this domain's keys and values
fn json() -> impl Strategy<Value = Value> {
    fuzz::json(number(), text(), key(), 4, 6)
}

const EXAMPLE_BRIEF: &str = include_str!("../examples/brief.json");

/// A full, valid edit (the shape of `tests/memory_edits.rs`)
fn full() -> Value {
    json!({
      "voices": {"narrator": "21m00Tcm4TlvDq8ikWAM", "keeper": "EXAVITQu4vr4xnSDxMaL", "old": null},
      "looks": {"keeper": {"description": "weathered, yellow oilskin", "reference_images": ["creators/fuzz/looks/keeper/1.png"]},
                "gull": {"description": "one-legged gull"}},
      "fingerprint": {"palette": ["#1B2A3C", "#e0c068"], "grade": "bleach bypass", "lens": "35mm", "lighting": "low-key"},
      "formats": {"short_doc": {"pacing": {"avg_shot_s": 5.2, "energy": "slow_burn"},
                                "shot_mix": {"establishing": 0.25, "close_up": 0.5, "b_roll": 0.25},
                                "hook_style": "cold open on a question"}},
      "audience": {"primary_platform": "tiktok", "regions": ["DE", "NL"], "interests": ["sea", "craft"]}
    })
}

fn check_refusal(err: &MemoryError) -> Result<(), TestCaseError> {
    prop_assert!(!err.to_string().trim().is_empty());
    match err {
        MemoryError::Malformed { message } => prop_assert!(!message.is_empty()),
        MemoryError::Invalid { field, message } => {
            // The path names the field; it is empty only for a top-level key that is itself
            // empty (`{"": 1}` is refused as an unknown field at path ``).
            prop_assert!(
                !field.is_empty() || message == "unknown field",
                "no field: {err:?}"
            );
            prop_assert!(!message.is_empty());
        }
        MemoryError::UnknownRender { .. } => prop_assert!(false, "an edit names no render"),
    }
    prop_assert!(serde_json::to_value(err).is_ok());
    Ok(())
}

/// Parses; an accepted edit is applied twice (the second changes nothing new), then used
fn check_body(body: &str) -> Result<(), TestCaseError> {
    let edit = match parse_edit(body) {
        Ok(edit) => edit,
        Err(e) => return check_refusal(&e),
    };
    let mut graph = MemoryGraph::new("fuzz".into());
    match apply_edit(&mut graph, &edit) {
        Ok(_) => {}
        Err(e) => return check_refusal(&e),
    }
    let once = graph.clone();
    apply_edit(&mut graph, &edit).unwrap();
    prop_assert_eq!(&graph, &once, "an edit is idempotent");
    let brief = parse_brief(EXAMPLE_BRIEF.as_bytes()).unwrap().brief;
    let context = build_context(&graph, &brief, &NgramEmbedder::default(), DEFAULT_SIMILAR);
    let _ = build(&brief, &context, PlanOptions::default());
    Ok(())
}

const KEYS: &[&str] = &[
    "voices",
    "looks",
    "fingerprint",
    "formats",
    "audience",
    "description",
    "reference_images",
    "palette",
    "grade",
    "lens",
    "lighting",
    "pacing",
    "avg_shot_s",
    "energy",
    "shot_mix",
    "hook_style",
    "establishing",
    "close_up",
    "b_roll",
    "primary_platform",
    "regions",
    "interests",
    "keeper",
    "narrator",
    "short_doc",
];

const WORDS: &[&str] = &[
    "",
    " ",
    "#1b2a3c",
    "#GGGGGG",
    "#1b2a3",
    "creators/fuzz/looks/keeper/1.png",
    "/abs.png",
    "a//b",
    "../up",
    "a/../b",
    "slow_burn",
    "tiktok",
    "x",
    "\u{0}",
    "\n",
    "\u{202E}",
    "\u{1D11E}",
    "e\u{301}",
];

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(WORDS).prop_map(str::to_owned),
        any::<String>(),
        (
            prop::sample::select(&['a', 'é', '\u{1D11E}', ' ', '\n'][..]),
            prop::sample::select(&[63usize, 64, 65, 199, 200, 201, 1_999, 2_000, 2_001][..]),
        )
            .prop_map(|(c, n)| c.to_string().repeat(n)),
    ]
}

fn number() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_filter_map("finite", |f| Number::from_f64(f).map(Value::Number)),
        prop::sample::select(&[0.0, -0.0, 0.5, 1.0, 1.0000001, 60.0, 60.1, 5e-324, f64::MAX][..])
            .prop_filter_map("finite", |f| Number::from_f64(f).map(Value::Number)),
    ]
}

#[derive(Debug, Clone)]
enum Mutation {
    Set(Index, Value),
    Remove(Index),
    Add(Index, String, Value),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        3 => (any::<Index>(), json()).prop_map(|(i, v)| Mutation::Set(i, v)),
        3 => (any::<Index>(), text()).prop_map(|(i, s)| Mutation::Set(i, Value::String(s))),
        2 => (any::<Index>(), number()).prop_map(|(i, n)| Mutation::Set(i, n)),
        2 => any::<Index>().prop_map(Mutation::Remove),
        1 => (any::<Index>(), key(), json()).prop_map(|(i, k, v)| Mutation::Add(i, k, v)),
    ]
}

fn mutate(mutations: &[Mutation]) -> String {
    let mut v = full();
    for m in mutations {
        let mut all = Vec::new();
        pointers(&v, "", &mut all);
        match m {
            Mutation::Set(i, new) => {
                if let Some(slot) = v.pointer_mut(i.get::<String>(&all)) {
                    *slot = new.clone();
                }
            }
            Mutation::Remove(i) => {
                let p = i.get::<String>(&all);
                if let Some((parent, last)) = p.rsplit_once('/')
                    && let Some(parent) = v.pointer_mut(parent)
                {
                    let last = last.replace("~1", "/").replace("~0", "~");
                    match parent {
                        Value::Object(m) => {
                            m.remove(&last);
                        }
                        Value::Array(a) => {
                            if let Ok(j) = last.parse::<usize>()
                                && j < a.len()
                            {
                                a.remove(j);
                            }
                        }
                        _ => {}
                    }
                }
            }
            Mutation::Add(i, k, new) => {
                if let Some(Value::Object(m)) = v.pointer_mut(i.get::<String>(&all)) {
                    m.insert(k.clone(), new.clone());
                }
            }
        }
    }
    v.to_string()
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn arbitrary_strings_never_panic(body in "\\PC{0,256}") {
        check_body(&body)?;
    }

    #[test]
    fn arbitrary_bytes_as_lossy_text_never_panic(body in prop::collection::vec(any::<u8>(), 0..256)) {
        check_body(&String::from_utf8_lossy(&body))?;
    }

    #[test]
    fn arbitrary_json_never_panics(v in json()) {
        check_body(&v.to_string())?;
    }

    #[test]
    fn arbitrary_objects_with_edit_keys_never_panic(
        kv in prop::collection::vec((key(), json()), 0..8)
    ) {
        check_body(&Value::Object(kv.into_iter().collect()).to_string())?;
    }

    #[test]
    fn mutated_edits_never_panic(mutations in prop::collection::vec(mutation(), 1..5)) {
        check_body(&mutate(&mutations))?;
    }

    #[test]
    fn truncated_edits_never_panic(cut in any::<Index>(), junk in "\\PC{0,8}") {
        let text = full().to_string();
        let mut at = cut.index(text.len() + 1);
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        check_body(&format!("{}{junk}", &text[..at]))?;
    }
}

#[test]
fn the_full_edit_passes_the_fuzz_checks() {
    assert!(parse_edit(&full().to_string()).is_ok());
    check_body(&mutate(&[])).unwrap();
}
