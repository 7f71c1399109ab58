//! The creator never sees a model in their memory graph or in a brief's context: no shot's
//! model, no per-model statistic, no embedder's name, checked against every model, provider and
//! flag name of every built-in registry version. Support staff see all of it, and the creator
//! still sees every row that shapes a render.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/memory.rs"]
mod common;
mod creator_words;

use creator_words::assert_clean;
use serde_json::Value;
use studio::brief::{Brief, OutcomeTarget, ShotKind};
use studio::ids::{JobId, ModelId};
use studio::memory::graph::FoldedOutcome;
use studio::memory::{
    Audience, CreatorContext, DEFAULT_SIMILAR, GraphView, MemoryContext, MemoryGraph,
    NgramEmbedder, apply_edit, build_context, parse_edit, parse_outcomes, record_outcomes,
    record_render, refresh_row_embeddings,
};

fn brief() -> Brief {
    serde_json::from_str(include_str!("../examples/brief.json")).unwrap()
}

/// A graph with a voice, a format, two recorded renders on three models with outcomes, folded
/// evidence of two models for the same shot kind, and row embeddings
fn graph() -> MemoryGraph {
    let mut g = MemoryGraph::new("demo".into());
    let edit = parse_edit(
        r##"{"voices": {"narrator": "voice-narr"},
            "formats": {"short_doc": {"pacing": {"avg_shot_s": 5, "energy": "slow_burn"}}},
            "fingerprint": {"palette": ["#102030"], "grade": "teal-orange"}}"##,
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
                "aerial dawn over a lighthouse",
            ),
            ("b", ShotKind::CloseUp, "kling-2.1", "an old keeper's hands"),
        ],
    );
    let r2 = common::render(
        "rnd_2",
        &[("a", ShotKind::CloseUp, "sora-2", "a lamp's brass clockwork")],
    );
    record_render(&mut g, &r1, &e).unwrap();
    record_render(&mut g, &r2, &e).unwrap();
    for job in ["rnd_1", "rnd_2"] {
        let report = parse_outcomes(r#"{"views": 100, "avg_watch_s": 30}"#).unwrap();
        record_outcomes(&mut g, &JobId(job.into()), &report).unwrap();
    }
    for (model, renders, sum) in [("kling-2.1", 3, 1.5), ("veo-3", 2, 0.5)] {
        g.folded.push(FoldedOutcome {
            model: ModelId(model.into()),
            shot_kind: ShotKind::CloseUp,
            target: OutcomeTarget::WatchTime,
            renders,
            sum_of_means: sum,
        });
    }
    refresh_row_embeddings(&mut g, &e);
    g
}

fn context(g: &MemoryGraph) -> MemoryContext {
    let ctx = build_context(g, &brief(), &NgramEmbedder::default(), DEFAULT_SIMILAR);
    assert!(!ctx.outcomes.is_empty(), "premise: per-model statistics");
    assert!(!ctx.similar.is_empty(), "premise: similar past shots");
    ctx
}

/// Every object key anywhere in `v`
fn keys(v: &Value) -> Vec<String> {
    match v {
        Value::Object(m) => m
            .iter()
            .flat_map(|(k, v)| std::iter::once(k.clone()).chain(keys(v)))
            .collect(),
        Value::Array(items) => items.iter().flat_map(keys).collect(),
        _ => Vec::new(),
    }
}

/// Every key and string anywhere in `v`, a line each (JSON's own `false` is not a provider's name)
fn words(v: &Value) -> String {
    fn walk(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                for (k, v) in m {
                    out.push(k.clone());
                    walk(v, out);
                }
            }
            Value::Array(items) => items.iter().for_each(|v| walk(v, out)),
            Value::String(s) => out.push(s.clone()),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(v, &mut out);
    out.join("\n")
}

fn assert_no_model_field(what: &str, v: &Value) {
    let found: Vec<String> = keys(v)
        .into_iter()
        .filter(|k| k.contains("model"))
        .collect();
    assert!(found.is_empty(), "{what} has {found:?}: {v}");
}

#[test]
fn the_creators_graph_names_no_model_and_keeps_every_row() {
    let g = graph();
    let creator = serde_json::to_value(GraphView::of(&g, Audience::Creator)).unwrap();
    assert_clean("the creator's graph", &words(&creator));
    assert_no_model_field("the creator's graph", &creator);
    // Still every row that shapes a render
    assert_eq!(creator["shots"].as_array().unwrap().len(), 3, "{creator}");
    assert_eq!(creator["renders"].as_array().unwrap().len(), 2);
    assert_eq!(creator["outcomes"].as_array().unwrap().len(), 2);
    assert_eq!(creator["voices"][0]["voice_id"], "voice-narr");
    assert_eq!(creator["fingerprint"]["grade"], "teal-orange");
    assert!(!creator["row_embeddings"].as_array().unwrap().is_empty());
    let shot = &creator["shots"][0];
    assert_eq!(shot["prompt"], "aerial dawn over a lighthouse", "{shot}");
    assert_eq!(shot["kind"], "establishing", "{shot}");
}

#[test]
fn folded_evidence_is_summed_over_models_for_the_creator() {
    let g = graph();
    let creator = serde_json::to_value(GraphView::of(&g, Audience::Creator)).unwrap();
    let folded = creator["folded"].as_array().unwrap();
    assert_eq!(folded.len(), 1, "{creator}");
    assert_eq!(folded[0]["shot_kind"], "close_up");
    assert_eq!(folded[0]["target"], "watch_time");
    assert_eq!(folded[0]["renders"], 5);
    assert!((folded[0]["sum_of_means"].as_f64().unwrap() - 2.0).abs() < 1e-12);
}

#[test]
fn support_sees_every_model() {
    let g = graph();
    let support = serde_json::to_value(GraphView::of(&g, Audience::Support)).unwrap();
    let models: Vec<&str> = support["shots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["model"].as_str().unwrap())
        .collect();
    assert_eq!(models, ["veo-3", "kling-2.1", "sora-2"]);
    assert_eq!(support["folded"].as_array().unwrap().len(), 2);
    assert_eq!(support["folded"][1]["model"], "veo-3");
    assert!(
        support["shots"][0]["embedding_model"].is_string(),
        "{support}"
    );
    assert!(
        support["row_embeddings"][0]["embedding_model"].is_string(),
        "{support}"
    );
}

#[test]
fn the_creators_context_names_no_model_and_keeps_what_shapes_the_render() {
    let g = graph();
    let ctx = context(&g);
    let creator = serde_json::to_value(CreatorContext::of(&ctx)).unwrap();
    assert_clean("the creator's context", &words(&creator));
    assert_no_model_field("the creator's context", &creator);
    assert!(creator.get("outcomes").is_none(), "{creator}");
    assert!(creator.get("click_through").is_none(), "{creator}");
    assert_eq!(creator["voices"]["narrator"], "voice-narr");
    assert_eq!(creator["format_dna"]["format"], "short_doc");
    assert_eq!(creator["fingerprint"]["grade"], "teal-orange");
    let similar = creator["similar"].as_array().unwrap();
    assert_eq!(similar.len(), ctx.similar.len());
    for (shown, full) in similar.iter().zip(&ctx.similar) {
        assert_eq!(shown["shot"], full.shot.as_str());
        let shown = shown["matches"].as_array().unwrap();
        assert_eq!(shown.len(), full.matches.len());
        for (m, f) in shown.iter().zip(&full.matches) {
            assert_eq!(m["job"], f.job.as_str());
            assert_eq!(m["shot"], f.shot.as_str());
            assert_eq!(m["similarity"].as_f64(), Some(f.similarity));
        }
    }
    assert_eq!(
        creator["related_rows"].as_array().unwrap().len(),
        ctx.related_rows.len()
    );
}

#[test]
fn audiences_parse_by_name_only() {
    for a in [Audience::Creator, Audience::Support] {
        assert_eq!(Audience::parse(a.as_str()), Some(a));
    }
    assert_eq!(Audience::parse("Creator"), None);
    assert_eq!(Audience::parse(""), None);
}
