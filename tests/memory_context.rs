//! The context for a brief: locks for its cast, format DNA, outcome statistics, similar shots;
//! and the embedder and nearest-neighbour search behind it.

#[path = "support/memory.rs"]
mod common;

use proptest::prelude::*;
use studio::brief::{Brief, OutcomeTarget, ShotKind};
use studio::ids::JobId;
use studio::memory::{
    DEFAULT_SIMILAR, Embedder, MemoryGraph, NgramEmbedder, Precomputed, apply_edit, build_context,
    cosine, parse_edit, parse_outcomes, record_outcomes, record_render, top_k,
};

fn brief() -> Brief {
    serde_json::from_str(include_str!("../examples/brief.json")).unwrap()
}

fn graph() -> MemoryGraph {
    let mut g = MemoryGraph::new("demo".into());
    let edit = parse_edit(
        r#"{
      "voices": {"narrator": "voice-narr", "keeper": "voice-keeper", "someone_else": "voice-x"},
      "looks": {"keeper": {"description": "yellow oilskin, grey braid", "reference_images": ["creators/demo/looks/keeper.png"]},
                "villain": {"description": "not in this brief"}},
      "formats": {"short_doc": {"pacing": {"avg_shot_s": 5, "energy": "slow_burn"}, "hook_style": "cold open"},
                  "ad": {"pacing": {"avg_shot_s": 2, "energy": "punchy"}}}
    }"#,
    )
    .unwrap();
    apply_edit(&mut g, &edit).unwrap();
    let e = NgramEmbedder::default();
    let r1 = common::render(
        "rnd_1",
        &[
            (
                "a",
                ShotKind::Establishing,
                "veo-3",
                "aerial dawn over a basalt headland with a lighthouse",
            ),
            (
                "b",
                ShotKind::CloseUp,
                "kling-2.1",
                "a cat sleeping on a warm windowsill",
            ),
            (
                "c",
                ShotKind::CloseUp,
                "kling-2.1",
                "hands kneading bread dough",
            ),
        ],
    );
    let r2 = common::render(
        "rnd_2",
        &[
            (
                "a",
                ShotKind::CloseUp,
                "kling-2.1",
                "an old woman winding lamp clockwork, brass gears",
            ),
            (
                "b",
                ShotKind::Action,
                "sora-2",
                "sports car drifting on a wet track",
            ),
        ],
    );
    record_render(&mut g, &r1, &e).unwrap();
    record_render(&mut g, &r2, &e).unwrap();
    let o1 = parse_outcomes(
        r#"{"views": 100, "retention_3s": 0.5, "shots": [{"shot_id": "b", "retention_3s": 0.9}]}"#,
    )
    .unwrap();
    record_outcomes(&mut g, &JobId("rnd_1".into()), &o1).unwrap();
    let o2 = parse_outcomes(r#"{"views": 100, "retention_3s": 0.6}"#).unwrap();
    record_outcomes(&mut g, &JobId("rnd_2".into()), &o2).unwrap();
    g
}

#[test]
fn the_context_locks_the_briefs_cast_and_voices_only() {
    let ctx = build_context(
        &graph(),
        &brief(),
        &NgramEmbedder::default(),
        DEFAULT_SIMILAR,
    );
    assert_eq!(ctx.voices.len(), 2);
    assert_eq!(
        ctx.voices.get("narrator").map(String::as_str),
        Some("voice-narr")
    );
    assert_eq!(
        ctx.voices.get("keeper").map(String::as_str),
        Some("voice-keeper")
    );
    assert_eq!(ctx.looks.len(), 1);
    let keeper = ctx.looks.get("keeper").unwrap();
    assert_eq!(
        keeper.reference_images,
        vec!["creators/demo/looks/keeper.png"]
    );
    let dna = ctx.format_dna.unwrap();
    assert_eq!(dna.format, "short_doc");
    assert_eq!(dna.hook_style.as_deref(), Some("cold open"));
}

#[test]
fn outcome_statistics_count_renders_not_shots() {
    let ctx = build_context(
        &graph(),
        &brief(),
        &NgramEmbedder::default(),
        DEFAULT_SIMILAR,
    );
    let kling = ctx
        .outcomes
        .iter()
        .find(|s| s.model.as_str() == "kling-2.1" && s.shot_kind == ShotKind::CloseUp)
        .unwrap();
    // rnd_1: shots b (0.9, its own figure) and c (0.5, the render's): mean 0.7; rnd_2: 0.6.
    assert_eq!(kling.renders, 2);
    assert!((kling.mean - 0.65).abs() < 1e-9, "{}", kling.mean);
    assert_eq!(kling.target, OutcomeTarget::WatchTime);
    assert!(ctx.outcomes.iter().all(|s| s.renders >= 1));
    // Sorted by model then kind: deterministic for the job's journal.
    let keys: Vec<_> = ctx
        .outcomes
        .iter()
        .map(|s| (s.model.clone(), s.shot_kind))
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);

    // Conversions need views: rate = conversions / views.
    let mut b = brief();
    b.outcome_target = OutcomeTarget::Conversions;
    let mut g = graph();
    let o = parse_outcomes(r#"{"conversions": 3}"#).unwrap();
    record_outcomes(&mut g, &JobId("rnd_2".into()), &o).unwrap();
    let ctx = build_context(&g, &b, &NgramEmbedder::default(), 0);
    let sora = ctx
        .outcomes
        .iter()
        .find(|s| s.model.as_str() == "sora-2")
        .unwrap();
    assert!((sora.mean - 0.03).abs() < 1e-12);
    assert!(ctx.similar.is_empty());
}

#[test]
fn similar_past_shots_come_best_first() {
    let ctx = build_context(&graph(), &brief(), &NgramEmbedder::default(), 2);
    assert_eq!(ctx.similar.len(), 12);
    let s01 = &ctx.similar[0];
    assert_eq!(s01.shot.as_str(), "s01");
    assert_eq!(s01.matches.len(), 2);
    let best = &s01.matches[0];
    assert_eq!(
        (best.job.as_str(), best.shot.as_str()),
        ("rnd_1", "a"),
        "{:?}",
        s01.matches
    );
    assert!(best.similarity > s01.matches[1].similarity);
    assert_eq!(best.model.as_str(), "veo-3");
    assert_eq!(best.outcome, Some(0.5));
    // s02 ("Ines winding the clockwork of the lamp, brass gears") finds the clockwork shot.
    let s02 = &ctx.similar[1];
    assert_eq!(
        (s02.matches[0].job.as_str(), s02.matches[0].shot.as_str()),
        ("rnd_2", "a")
    );
}

#[test]
fn vectors_of_another_embedder_are_never_compared() {
    let mut other = Precomputed::new("@cf/baai/bge-small-en-v1.5");
    for s in brief().shots {
        other.insert(s.prompt, vec![1.0, 2.0, 3.0]);
    }
    let ctx = build_context(&graph(), &brief(), &other, 3);
    assert!(ctx.similar.is_empty());
    assert_eq!(other.embed("unknown text"), None);
    let v = other.embed(&brief().shots[0].prompt).unwrap();
    assert!(
        (cosine(&v, &v) - 1.0).abs() < 1e-6,
        "precomputed vectors are normalised"
    );
}

#[test]
fn the_local_embedder_is_deterministic_and_sees_shared_words() {
    let e = NgramEmbedder::default();
    let a = e.embed("Storm front rolling in over the sea").unwrap();
    assert_eq!(
        Some(a.clone()),
        e.embed("Storm front rolling in over the sea")
    );
    let near = e.embed("a storm rolling over the grey sea").unwrap();
    let far = e.embed("birthday cake with candles").unwrap();
    assert!(cosine(&a, &near) > cosine(&a, &far) + 0.2);
    assert_eq!(e.embed("  ...  "), None);
    assert_eq!(e.id(), "local-ngram-256");
}

proptest! {
    #[test]
    fn top_k_matches_a_full_sort(
        vectors in prop::collection::vec(prop::collection::vec(-1.0f32..1.0, 8), 0..60),
        query in prop::collection::vec(-1.0f32..1.0, 8),
        k in 0usize..10,
    ) {
        let got = top_k(&query, vectors.iter().map(Vec::as_slice), k);
        let mut all: Vec<(usize, f32)> =
            vectors.iter().enumerate().map(|(i, v)| (i, cosine(&query, v))).collect();
        all.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        all.truncate(k);
        prop_assert_eq!(got, all);
    }

    #[test]
    fn embeddings_are_unit_length_or_absent(text in ".{0,80}") {
        if let Some(v) = NgramEmbedder::default().embed(&text) {
            let norm: f32 = v.iter().map(|x| x * x).sum::<f32>().sqrt();
            prop_assert!((norm - 1.0).abs() < 1e-4);
        }
    }
}
