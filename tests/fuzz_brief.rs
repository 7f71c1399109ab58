//! Fuzzing the brief boundary (issue 10): whatever body `POST /v1/renders` receives, the parser
//! and validator (`parse_brief`, and `validate_brief` for typed briefs) never panic, every
//! refusal is a clean error naming a field (or, for a body that is not JSON, saying why), and
//! every brief they accept plans within the size limits.
//!
//! Quick by default (`cargo test`); `PROPTEST_CASES=100000 cargo test --test fuzz_brief` runs
//! long.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::{Number, Value};
use studio::brief::limits::{MAX_KEYFRAME_PROMPT_CHARS, MAX_PLAN_TEXT_CHARS, MAX_STAGE_TEXT_CHARS};
use studio::brief::{Brief, BriefError, parse_brief, validate_brief};
use studio::memory::{CastLook, MemoryContext};
use studio::plan::{PlanOptions, StageWork, build};

#[path = "support/fuzz.rs"]
#[allow(dead_code)]
mod fuzz;
use fuzz::config;

/// An object key, biased toward this domain's
fn key() -> impl Strategy<Value = String> + Clone {
    fuzz::key(KEYS)
}

/// Arbitrary JSON, biased toward this domain's keys and values
fn json() -> impl Strategy<Value = Value> {
    fuzz::json(number(), text(), key(), 4, 6)
}

const EXAMPLE: &str = include_str!("../examples/brief.json");

/// The longest error message the API may echo (serde quotes offending values; they are cut)
const MAX_MESSAGE_CHARS: usize = 1_000;

fn example() -> Value {
    serde_json::from_str(EXAMPLE).unwrap()
}

/// A refusal is clean: a stable code, a message, a field path for everything but a body that
/// is not JSON, and it serialises for the API
fn check_refusal(err: &BriefError) -> Result<(), TestCaseError> {
    let message = err.to_string();
    prop_assert!(!message.trim().is_empty());
    prop_assert!(!err.code().is_empty());
    prop_assert!(
        message.chars().count() <= MAX_MESSAGE_CHARS,
        "message of {} chars",
        message.chars().count()
    );
    match err {
        BriefError::Syntax { message } => prop_assert!(!message.is_empty()),
        _ => {
            let field = err.field().unwrap_or_default();
            prop_assert!(!field.is_empty(), "no field in {err:?}");
        }
    }
    prop_assert!(serde_json::to_value(err).is_ok());
    Ok(())
}

/// An accepted brief plans within the limits, with and without long locked looks
fn check_accepted(brief: &Brief) -> Result<(), TestCaseError> {
    let mut looks = MemoryContext::default();
    for m in &brief.cast {
        looks.looks.insert(
            m.id.clone(),
            CastLook {
                description: "\u{1D11E}".repeat(2_000),
                reference_images: vec![format!("looks/{}.png", m.id)],
            },
        );
    }
    for memory in [MemoryContext::default(), looks] {
        let plan = build(brief, &memory, PlanOptions::default());
        let mut total = 0usize;
        for stage in &plan.stages {
            let text = match &stage.work {
                StageWork::Keyframe { prompt, .. } => {
                    prop_assert!(prompt.chars().count() <= MAX_KEYFRAME_PROMPT_CHARS);
                    prompt.chars().count()
                }
                StageWork::Motion { prompt, .. } => prompt.chars().count(),
                StageWork::Speech { text, .. } => text.chars().count(),
                StageWork::Score { mood } => mood.chars().count(),
                StageWork::Frame { .. } | StageWork::Assembly(_) => 0,
            };
            prop_assert!(text <= MAX_STAGE_TEXT_CHARS);
            total += text;
        }
        prop_assert!(total <= MAX_PLAN_TEXT_CHARS);
    }
    Ok(())
}

fn check_body(body: &[u8]) -> Result<(), TestCaseError> {
    match parse_brief(body) {
        Ok(v) => check_accepted(&v.brief),
        Err(e) => check_refusal(&e),
    }
}

/// Keys a brief has, so arbitrary objects often look like (parts of) briefs
const KEYS: &[&str] = &[
    "project_id",
    "logline",
    "format",
    "outcome_target",
    "deadline_s",
    "budget_usd",
    "platforms",
    "pacing",
    "target_duration_s",
    "energy",
    "cast",
    "id",
    "name",
    "description",
    "shots",
    "kind",
    "prompt",
    "duration_s",
    "hero",
    "dialogue",
    "character",
    "line",
    "voiceover",
    "text",
    "voice",
    "score",
    "mood",
    "webhook_url",
    "captions",
    "burn",
];

/// Strings that are values somewhere in a brief, or nearly
const WORDS: &[&str] = &[
    "",
    " ",
    "youtube",
    "tiktok",
    "x",
    "watch_time",
    "slow_burn",
    "punchy",
    "establishing",
    "close_up",
    "dialogue",
    "keeper",
    "gull",
    "narrator",
    "s01",
    "https://hooks.example.com/x",
    "http://",
    "ftp://x",
    "16:9",
    "NaN",
    "Infinity",
    "-0",
    "\u{0}",
    "\u{202E}evil",
    "\u{1D11E}",
    "e\u{301}",
];

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(WORDS).prop_map(str::to_owned),
        any::<String>(),
        "\\PC{0,40}",
        // Around the limits, in 1- to 4-byte characters
        (
            prop::sample::select(&['a', 'é', '\u{1D11E}', ' ', '\n', '\u{0}'][..]),
            prop::sample::select(
                &[
                    63usize, 64, 65, 99, 100, 101, 499, 500, 501, 999, 1_000, 1_001, 1_999, 2_000,
                    2_001, 2_048, 2_049, 4_999, 5_000, 5_001,
                ][..]
            ),
        )
            .prop_map(|(c, n)| c.to_string().repeat(n)),
    ]
}

fn number() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_filter_map("finite", |f| Number::from_f64(f).map(Value::Number)),
        prop::sample::select(
            &[
                0.0,
                -0.0,
                1e-320,
                5e-324,
                f64::MAX,
                f64::MIN,
                300.0,
                300.0001,
                604_800.0
            ][..]
        )
        .prop_filter_map("finite", |f| Number::from_f64(f).map(Value::Number)),
        (0u64..=2_000).prop_map(Value::from),
    ]
}

/// Raw JSON tokens serde_json may or may not take (out-of-range and non-JSON numbers too)
const TOKENS: &[&str] = &[
    "NaN",
    "-NaN",
    "Infinity",
    "-Infinity",
    "1e999",
    "-1e999",
    "1e-400",
    "-0",
    "-0.0",
    "0.1e1",
    "18446744073709551616",
    "-9223372036854775809",
    "1.7976931348623157e308",
    "4.9e-324",
    "00",
    "1.",
    ".5",
    "+1",
    "0x10",
    "\"6\"",
    "[]",
    "{}",
    "null",
    "true",
    "\"\\ud800\"",
    "\"\\u0000\"",
];

/// Every path of a JSON value (`[]` the root), containers and leaves
fn paths(v: &Value) -> Vec<Vec<PathStep>> {
    fn walk(v: &Value, at: &mut Vec<PathStep>, out: &mut Vec<Vec<PathStep>>) {
        out.push(at.clone());
        match v {
            Value::Object(m) => {
                for (k, child) in m {
                    at.push(PathStep::Key(k.clone()));
                    walk(child, at, out);
                    at.pop();
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    at.push(PathStep::Index(i));
                    walk(child, at, out);
                    at.pop();
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(v, &mut Vec::new(), &mut out);
    out
}

#[derive(Debug, Clone)]
enum PathStep {
    Key(String),
    Index(usize),
}

fn pick<'a>(i: &Index, all: &'a [Vec<PathStep>]) -> &'a [PathStep] {
    i.get::<Vec<PathStep>>(all)
}

fn at_mut<'a>(v: &'a mut Value, path: &[PathStep]) -> Option<&'a mut Value> {
    path.iter().try_fold(v, |v, step| match step {
        PathStep::Key(k) => v.get_mut(k.as_str()),
        PathStep::Index(i) => v.get_mut(*i),
    })
}

/// One change to the example
#[derive(Debug, Clone)]
enum Mutation {
    /// Put a value at a path
    Set(Index, Value),
    /// Remove what is at a path
    Remove(Index),
    /// Put a raw token at a path (textually, so it may not be JSON at all)
    Raw(Index, &'static str),
    /// Add a key to the object at (or around) a path
    Add(Index, String, Value),
    /// Add (or replace) a brief's key at the top level
    AddTop(&'static str, Value),
    /// Repeat an array element (at or around a path) `n` times
    Repeat(Index, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (any::<Index>(), json()).prop_map(|(i, v)| Mutation::Set(i, v)),
        3 => (any::<Index>(), text()).prop_map(|(i, s)| Mutation::Set(i, Value::String(s))),
        3 => (any::<Index>(), number()).prop_map(|(i, n)| Mutation::Set(i, n)),
        2 => any::<Index>().prop_map(Mutation::Remove),
        2 => (any::<Index>(), prop::sample::select(TOKENS)).prop_map(|(i, t)| Mutation::Raw(i, t)),
        1 => (any::<Index>(), key(), json()).prop_map(|(i, k, v)| Mutation::Add(i, k, v)),
        1 => (prop::sample::select(KEYS), json()).prop_map(|(k, v)| Mutation::AddTop(k, v)),
        1 => (any::<Index>(), prop_oneof![1usize..4, Just(1_001usize)])
            .prop_map(|(i, n)| Mutation::Repeat(i, n)),
    ]
}

/// Applies mutations to the example; returns the body
fn mutate(mutations: &[Mutation]) -> Vec<u8> {
    let mut v = example();
    let mut raw: Option<&'static str> = None;
    for m in mutations {
        let all = paths(&v);
        match m {
            Mutation::Set(i, new) => {
                if let Some(slot) = at_mut(&mut v, pick(i, &all)) {
                    *slot = new.clone();
                }
            }
            Mutation::Remove(i) => {
                let path = pick(i, &all);
                if let Some((last, parent)) = path.split_last()
                    && let Some(parent) = at_mut(&mut v, parent)
                {
                    match (parent, last) {
                        (Value::Object(m), PathStep::Key(k)) => {
                            m.remove(k);
                        }
                        (Value::Array(a), PathStep::Index(j)) if *j < a.len() => {
                            a.remove(*j);
                        }
                        _ => {}
                    }
                }
            }
            Mutation::Raw(i, token) => {
                // A placeholder string, replaced in the text below
                if let Some(slot) = at_mut(&mut v, pick(i, &all)) {
                    *slot = Value::String("@@RAW@@".into());
                    raw = Some(token);
                }
            }
            Mutation::Add(i, k, new) => {
                let path = pick(i, &all).to_vec();
                let mut target = path.as_slice();
                loop {
                    match at_mut(&mut v, target) {
                        Some(Value::Object(m)) => {
                            m.insert(k.clone(), new.clone());
                            break;
                        }
                        _ => match target.split_last() {
                            Some((_, parent)) => target = parent,
                            None => break,
                        },
                    }
                }
            }
            Mutation::AddTop(k, new) => {
                if let Value::Object(m) = &mut v {
                    m.insert((*k).to_owned(), new.clone());
                }
            }
            Mutation::Repeat(i, n) => {
                let path = pick(i, &all).to_vec();
                let mut target = path.as_slice();
                loop {
                    match at_mut(&mut v, target) {
                        Some(Value::Array(a)) => {
                            if let Some(first) = a.first().cloned() {
                                a.extend(std::iter::repeat_n(first, *n));
                            }
                            break;
                        }
                        _ => match target.split_last() {
                            Some((_, parent)) => target = parent,
                            None => break,
                        },
                    }
                }
            }
        }
    }
    let text = v.to_string();
    match raw {
        Some(token) => text.replacen("\"@@RAW@@\"", token, 1).into_bytes(),
        None => text.into_bytes(),
    }
}

/// The example as a typed brief with its numbers and strings replaced
#[derive(Debug, Clone)]
enum TypedChange {
    Number(Index, f64),
    Text(Index, String),
    Deadline(u64),
    DuplicateCast(Index),
}

fn typed_change() -> impl Strategy<Value = TypedChange> {
    let float = prop_oneof![
        any::<f64>(),
        prop::sample::select(
            &[
                f64::NAN,
                -f64::NAN,
                f64::INFINITY,
                f64::NEG_INFINITY,
                0.0,
                -0.0,
                f64::MIN_POSITIVE,
                5e-324,
                f64::MAX,
                f64::EPSILON,
                300.0,
                1e15,
            ][..]
        ),
    ];
    prop_oneof![
        (any::<Index>(), float).prop_map(|(i, f)| TypedChange::Number(i, f)),
        (any::<Index>(), text()).prop_map(|(i, s)| TypedChange::Text(i, s)),
        any::<u64>().prop_map(TypedChange::Deadline),
        any::<Index>().prop_map(TypedChange::DuplicateCast),
    ]
}

fn apply_typed(b: &mut Brief, change: &TypedChange) {
    match change {
        TypedChange::Number(i, f) => {
            let mut slots: Vec<&mut f64> = vec![&mut b.budget_usd];
            if let Some(pacing) = b.pacing.as_mut() {
                slots.push(&mut pacing.target_duration_s);
            }
            slots.extend(b.shots.iter_mut().map(|s| &mut s.duration_s));
            if let Some(score) = b.score.as_mut() {
                slots.push(&mut score.duration_s);
            }
            let n = slots.len();
            *slots.swap_remove(i.index(n)) = *f;
        }
        TypedChange::Text(i, s) => {
            let mut slots: Vec<&mut String> =
                vec![&mut b.project_id.0, &mut b.logline, &mut b.format];
            for m in &mut b.cast {
                slots.extend([&mut m.id, &mut m.name, &mut m.description]);
            }
            for shot in &mut b.shots {
                slots.extend([&mut shot.id.0, &mut shot.prompt]);
                slots.extend(shot.cast.iter_mut());
                if let Some(d) = shot.dialogue.as_mut() {
                    slots.extend([&mut d.character, &mut d.line]);
                }
            }
            if let Some(vo) = b.voiceover.as_mut() {
                slots.extend([&mut vo.text, &mut vo.voice]);
            }
            if let Some(score) = b.score.as_mut() {
                slots.push(&mut score.mood);
            }
            let n = slots.len();
            *slots.swap_remove(i.index(n)) = s.clone();
        }
        TypedChange::Deadline(d) => b.deadline_s = *d,
        TypedChange::DuplicateCast(i) => {
            let shot = i.get_mut(&mut b.shots);
            if let Some(first) = shot.cast.first().cloned() {
                shot.cast.push(first);
            }
        }
    }
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn arbitrary_bytes_never_panic(body in prop::collection::vec(any::<u8>(), 0..512)) {
        check_body(&body)?;
    }

    #[test]
    fn arbitrary_text_never_panics(body in "\\PC{0,256}") {
        check_body(body.as_bytes())?;
    }

    #[test]
    fn arbitrary_json_never_panics(v in json()) {
        check_body(v.to_string().as_bytes())?;
    }

    #[test]
    fn arbitrary_json_objects_with_brief_keys_never_panic(
        kv in prop::collection::vec((key(), json()), 0..12)
    ) {
        let v = Value::Object(kv.into_iter().collect());
        check_body(v.to_string().as_bytes())?;
    }

    #[test]
    fn mutated_examples_never_panic(mutations in prop::collection::vec(mutation(), 1..5)) {
        check_body(&mutate(&mutations))?;
    }

    #[test]
    fn truncated_and_spliced_examples_never_panic(cut in any::<Index>(), junk in "\\PC{0,8}") {
        let text = EXAMPLE.as_bytes();
        let at = cut.index(text.len() + 1);
        let mut body = text[..at].to_vec();
        body.extend_from_slice(junk.as_bytes());
        check_body(&body)?;
    }

    #[test]
    fn typed_briefs_with_any_numbers_and_strings_never_panic(
        changes in prop::collection::vec(typed_change(), 1..6)
    ) {
        let mut b = serde_json::from_str::<Brief>(EXAMPLE).unwrap();
        for c in &changes {
            apply_typed(&mut b, c);
        }
        match validate_brief(b) {
            Ok(v) => check_accepted(&v.brief)?,
            Err(e) => check_refusal(&e)?,
        }
    }
}

#[test]
fn the_example_passes_the_fuzz_checks() {
    check_body(EXAMPLE.as_bytes()).unwrap();
    check_body(&mutate(&[])).unwrap();
}
