//! Outcome data beyond the target's metric: clicks steer the call-to-action shot, watch time
//! steers pacing, the Graph's rows are embedded (and re-embedded when they change), and similar
//! past shots count as evidence for the models that made them.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/routing.rs"]
mod common;
#[path = "common/mod.rs"]
mod job_common;

use studio::brief::ra::NoteTopic;
use studio::brief::{Brief, OutcomeTarget, ShotKind};
use studio::ids::{JobId, ModelId, ShotId};
use studio::job::Input;
use studio::memory::metric::{CLICK_THROUGH_PRIOR, Metric};
use studio::memory::{
    DEFAULT_SIMILAR, Embedder, FinishedRender, FinishedShot, GraphRow, MemoryContext, MemoryGraph,
    NgramEmbedder, apply_edit, build_context, cosine, parse_edit, parse_outcomes, record_outcomes,
    record_render, refresh_row_embeddings, stale_row_texts, watch_pacing_note,
};
use studio::routing::outcome::evidence_for_stage;
use studio::routing::{Decision, Registry, RoutingContext, route_stage};
use studio::time::Timestamp;

fn chosen(d: &Decision) -> String {
    d.candidates
        .first()
        .map(|c| c.model.to_string())
        .unwrap_or_default()
}

fn outcome_score(d: &Decision, model: &str) -> f64 {
    d.candidates
        .iter()
        .find(|c| c.model.as_str() == model)
        .map(|c| c.scores.outcome)
        .unwrap_or(f64::NAN)
}

/// A finished render of `format` for `target` whose shots are (id, kind, model, prompt, seconds)
fn render(
    job: &str,
    format: &str,
    target: OutcomeTarget,
    shots: &[(&str, ShotKind, &str, &str, f64)],
) -> FinishedRender {
    FinishedRender {
        job: JobId(job.into()),
        format: format.into(),
        outcome_target: target,
        cost_usd: 10.0,
        finished_at: Timestamp(1_700_000_000_000),
        shots: shots
            .iter()
            .map(|(id, kind, model, prompt, duration_s)| FinishedShot {
                shot: ShotId((*id).into()),
                kind: *kind,
                model: ModelId((*model).into()),
                prompt: (*prompt).into(),
                duration_s: *duration_s,
                hero: false,
                cast: vec![],
            })
            .collect(),
    }
}

fn report(g: &mut MemoryGraph, job: &str, body: &str) {
    record_outcomes(g, &JobId(job.into()), &parse_outcomes(body).unwrap()).unwrap();
}

/// The example brief made for conversions, its last shot (the call to action) a dialogue shot
/// without cast, like its shot s04
fn conversion_brief() -> Brief {
    let mut b = common::lighthouse();
    b.outcome_target = OutcomeTarget::Conversions;
    let last = b.shots.last_mut().unwrap();
    last.kind = ShotKind::Dialogue;
    last.cast.clear();
    b
}

fn ctx_for(creator: &str, target: OutcomeTarget, memory: MemoryContext) -> RoutingContext {
    let mut ctx = common::ctx(creator, 1.5, 900.0);
    ctx.outcome_target = target;
    ctx.memory = memory;
    ctx
}

// A dialogue shot without cast at $1.50: sora-2 and kling-2.1 are near-tied on every dimension
// but outcome, and kling-2.1 wins with no data (see tests/routing_outcomes.rs).

#[test]
fn clicks_steer_the_call_to_action_shot_and_only_it() {
    let mut g = MemoryGraph::new("clicker".into());
    for i in 0..12 {
        let job = format!("ad_{i}");
        let r = render(
            &job,
            "ad",
            OutcomeTarget::Conversions,
            &[
                ("a", ShotKind::Establishing, "veo-3", "a sunny kitchen", 5.0),
                (
                    "b",
                    ShotKind::Dialogue,
                    "sora-2",
                    "a chef says try it now",
                    5.0,
                ),
            ],
        );
        record_render(&mut g, &r, &NgramEmbedder::default()).unwrap();
        // Click-through 5% (five times the prior); conversions exactly at the prior (neutral).
        report(
            &mut g,
            &job,
            r#"{"views": 1000, "clicks": 50, "conversions": 10}"#,
        );
    }
    let brief = conversion_brief();
    let memory = build_context(&g, &brief, &NgramEmbedder::default(), 0);
    assert_eq!(memory.cta_shot, Some(ShotId::from("s12")));
    let ctr = memory
        .click_through
        .iter()
        .find(|s| s.model.as_str() == "sora-2" && s.shot_kind == ShotKind::Dialogue)
        .expect("sora-2's call-to-action shots have click-through");
    assert_eq!(ctr.renders, 12);
    assert!((ctr.mean - 0.05).abs() < 1e-12, "{ctr:?}");
    // The first shot of each render is no call to action: it has no click-through.
    assert!(
        memory
            .click_through
            .iter()
            .all(|s| s.model.as_str() != "veo-3")
    );

    let registry = Registry::builtin_version(5).unwrap();
    let ctx = ctx_for("clicker", OutcomeTarget::Conversions, memory);
    let cta = common::motion("s12", ShotKind::Dialogue, false, 5.0, false);
    let other = common::motion("s04", ShotKind::Dialogue, false, 5.0, false);
    let on_cta = route_stage(&registry, &cta, &ctx).unwrap();
    let on_other = route_stage(&registry, &other, &ctx).unwrap();
    assert_eq!(chosen(&on_cta), "sora-2", "{}", on_cta.reason);
    assert_eq!(chosen(&on_other), "kling-2.1", "{}", on_other.reason);

    let ev = evidence_for_stage(
        &ctx.memory,
        ctx.outcome_target,
        &ModelId::from("sora-2"),
        &cta,
    )
    .unwrap();
    assert_eq!(ev.metric, Metric::ClickThrough);
    assert_eq!(ev.prior, CLICK_THROUGH_PRIOR);
    assert_eq!(ev.renders, 12);
    // Shrunk like the others: (12 x 0.05 + 5 x 0.01) / 17.
    assert!((ev.estimate - (12.0 * 0.05 + 5.0 * 0.01) / 17.0).abs() < 1e-12);
    assert!(
        ev.note(&ModelId::from("sora-2"))
            .contains("click-through rate")
    );
    // Elsewhere the target's metric: conversions at the prior, a neutral score.
    let ev = evidence_for_stage(
        &ctx.memory,
        ctx.outcome_target,
        &ModelId::from("sora-2"),
        &other,
    )
    .unwrap();
    assert_eq!(ev.metric, Metric::ConversionRate);
    assert!((ev.score - 0.5).abs() < 1e-9, "{ev:?}");

    // A watch-time brief has no call to action: the same shot is routed without clicks.
    let mut watch = conversion_brief();
    watch.outcome_target = OutcomeTarget::WatchTime;
    let memory = build_context(&g, &watch, &NgramEmbedder::default(), 0);
    assert_eq!(memory.cta_shot, None);
    let ctx = ctx_for("clicker", OutcomeTarget::WatchTime, memory);
    let d = route_stage(&registry, &cta, &ctx).unwrap();
    assert_eq!(chosen(&d), "kling-2.1", "{}", d.reason);
}

#[test]
fn weak_click_through_pushes_a_model_off_the_call_to_action_shot() {
    let mut g = MemoryGraph::new("weak".into());
    for i in 0..12 {
        let job = format!("ad_{i}");
        let r = render(
            &job,
            "ad",
            OutcomeTarget::Signups,
            &[("z", ShotKind::Dialogue, "kling-2.1", "sign up today", 5.0)],
        );
        record_render(&mut g, &r, &NgramEmbedder::default()).unwrap();
        report(&mut g, &job, r#"{"views": 1000, "clicks": 1}"#);
    }
    let mut brief = conversion_brief();
    brief.outcome_target = OutcomeTarget::Signups;
    let memory = build_context(&g, &brief, &NgramEmbedder::default(), 0);
    let ctx = ctx_for("weak", OutcomeTarget::Signups, memory);
    let registry = Registry::builtin_version(5).unwrap();
    let cta = route_stage(
        &registry,
        &common::motion("s12", ShotKind::Dialogue, false, 5.0, false),
        &ctx,
    )
    .unwrap();
    assert_eq!(chosen(&cta), "sora-2", "{}", cta.reason);
    assert!(
        outcome_score(&cta, "kling-2.1") < 0.4,
        "{:?}",
        cta.candidates
    );
}

/// A creator whose `n` vlogs of 60 s were watched for 38 s on average
fn vlog_graph(n: usize) -> MemoryGraph {
    let mut g = MemoryGraph::new("vlogger".into());
    for i in 0..n {
        let job = format!("vlog_{i}");
        let shots: Vec<(String, ShotKind, &str, &str, f64)> = (0..4)
            .map(|s| {
                (
                    format!("s{s}"),
                    ShotKind::BRoll,
                    "kling-2.1",
                    "a morning walk to the cafe",
                    15.0,
                )
            })
            .collect();
        let shots: Vec<_> = shots
            .iter()
            .map(|(id, k, m, p, d)| (id.as_str(), *k, *m, *p, *d))
            .collect();
        record_render(
            &mut g,
            &render(&job, "vlog", OutcomeTarget::WatchTime, &shots),
            &NgramEmbedder::default(),
        )
        .unwrap();
        // 36, 38, 40, ... watched: 38 on average for 3 renders.
        let watched = 36.0 + 2.0 * (i % 3) as f64;
        report(&mut g, &job, &format!(r#"{{"avg_watch_s": {watched}}}"#));
    }
    g
}

/// The example brief as a vlog whose shots add up to `total_s`
fn vlog_brief(total_s: f64) -> Brief {
    let mut b = common::lighthouse();
    b.format = "vlog".into();
    let each = total_s / b.shots.len() as f64;
    b.shots.iter_mut().for_each(|s| s.duration_s = each);
    b
}

#[test]
fn watch_time_shapes_a_pacing_note_from_ra() {
    let g = vlog_graph(6);
    let long = vlog_brief(90.0);
    let memory = build_context(&g, &long, &NgramEmbedder::default(), 0);
    let ev = memory
        .pacing_evidence
        .as_ref()
        .expect("vlogs have watch times");
    assert_eq!((ev.format.as_str(), ev.renders), ("vlog", 6));
    assert!((ev.avg_watch_s - 38.0).abs() < 1e-9, "{ev:?}");
    assert!((ev.avg_duration_s - 60.0).abs() < 1e-9, "{ev:?}");
    assert!((ev.avg_watch_share - 38.0 / 60.0).abs() < 1e-9, "{ev:?}");

    let note = watch_pacing_note(&long, &memory).expect("90 s is well beyond 38 s");
    assert_eq!(note.from, "Ra");
    assert_eq!(
        note.text,
        "Director, your last 6 vlog videos were watched for 38 s on average; this cut runs 90 s. \
         I'd tighten it to about 45 s."
    );

    // A cut near what they watch: nothing to say.
    let short = vlog_brief(60.0);
    let memory = build_context(&g, &short, &NgramEmbedder::default(), 0);
    assert!(watch_pacing_note(&short, &memory).is_none());

    // Two renders are not enough evidence to push back on.
    let thin = vlog_graph(2);
    let memory = build_context(&thin, &long, &NgramEmbedder::default(), 0);
    assert_eq!(memory.pacing_evidence.as_ref().map(|e| e.renders), Some(2));
    assert!(watch_pacing_note(&long, &memory).is_none());

    // Another format's audience says nothing about this one.
    let other = common::lighthouse();
    let memory = build_context(&g, &other, &NgramEmbedder::default(), 0);
    assert!(memory.pacing_evidence.is_none());
}

#[test]
fn the_pacing_note_reaches_the_director_when_the_job_plans() {
    let g = vlog_graph(6);
    let brief = vlog_brief(90.0);
    let memory = build_context(&g, &brief, &NgramEmbedder::default(), 0);
    let mut w = job_common::World::manual(brief);
    w.poke(Input::MemoryContext { context: memory });
    let said = w.job.view().said;
    let note = said
        .iter()
        .find(|n| n.topic == NoteTopic::Pacing && n.text.contains("watched for 38 s"))
        .unwrap_or_else(|| panic!("no watch-time note in {said:#?}"));
    assert!(
        note.text.ends_with("I'd tighten it to about 45 s."),
        "{}",
        note.text
    );

    // Planned without that history: no such note.
    let mut w = job_common::World::manual(vlog_brief(90.0));
    w.poke(Input::MemoryContext {
        context: MemoryContext::default(),
    });
    assert!(
        w.job
            .view()
            .said
            .iter()
            .all(|n| !n.text.contains("were watched for")),
        "{:#?}",
        w.job.view().said
    );
}

#[test]
fn graph_rows_are_embedded_and_re_embedded_when_they_change() {
    let e = NgramEmbedder::default();
    let mut g = MemoryGraph::new("rows".into());
    let edit = parse_edit(
        r##"{"fingerprint": {"palette": ["#0b1d3a", "#f2c14e"], "grade": "teal-orange", "lens": "35mm anamorphic"},
            "formats": {"vlog": {"pacing": {"avg_shot_s": 4, "energy": "punchy"}, "hook_style": "cold open on a question"}},
            "audience": {"primary_platform": "tiktok", "regions": ["US"], "interests": ["coffee"]}}"##,
    )
    .unwrap();
    apply_edit(&mut g, &edit).unwrap();
    assert_eq!(stale_row_texts(&g, e.id()).len(), 3);
    let changed = refresh_row_embeddings(&mut g, &e);
    assert_eq!(
        changed,
        vec![
            GraphRow::Fingerprint,
            GraphRow::Format("vlog".into()),
            GraphRow::Audience
        ]
    );
    let fp = g
        .row_embeddings
        .iter()
        .find(|r| r.row == GraphRow::Fingerprint)
        .unwrap()
        .clone();
    assert_eq!(
        fp.text,
        "visual fingerprint: palette #0b1d3a #f2c14e; grade teal-orange; lens 35mm anamorphic"
    );
    assert_eq!(fp.embedding.model, e.id());
    assert_eq!(Some(fp.embedding.vector.clone()), e.embed(&fp.text));
    // Nothing changed: nothing to re-embed or write.
    assert!(stale_row_texts(&g, e.id()).is_empty());
    assert!(refresh_row_embeddings(&mut g, &e).is_empty());

    // An edit of the grade re-embeds the fingerprint, and only it.
    let edit = parse_edit(
        r##"{"fingerprint": {"palette": ["#0b1d3a", "#f2c14e"], "grade": "bleach bypass", "lens": "35mm anamorphic"}}"##,
    )
    .unwrap();
    apply_edit(&mut g, &edit).unwrap();
    assert_eq!(
        refresh_row_embeddings(&mut g, &e),
        vec![GraphRow::Fingerprint]
    );
    let fresh = g
        .row_embeddings
        .iter()
        .find(|r| r.row == GraphRow::Fingerprint)
        .unwrap();
    assert!(fresh.text.contains("grade bleach bypass"), "{}", fresh.text);
    assert_ne!(fresh.embedding.vector, fp.embedding.vector);

    // Outcomes are rows too: reported, embedded; reported again with new figures, re-embedded.
    let r = render(
        "vlog_1",
        "vlog",
        OutcomeTarget::WatchTime,
        &[(
            "s1",
            ShotKind::BRoll,
            "kling-2.1",
            "latte art close up",
            30.0,
        )],
    );
    record_render(&mut g, &r, &e).unwrap();
    assert!(
        refresh_row_embeddings(&mut g, &e).is_empty(),
        "no outcome yet"
    );
    report(&mut g, "vlog_1", r#"{"views": 900, "avg_watch_s": 12}"#);
    let out = GraphRow::Outcome(JobId("vlog_1".into()));
    assert_eq!(refresh_row_embeddings(&mut g, &e), vec![out.clone()]);
    let text = |g: &MemoryGraph| {
        g.row_embeddings
            .iter()
            .find(|r| r.row == out)
            .map(|r| r.text.clone())
            .unwrap_or_default()
    };
    assert_eq!(
        text(&g),
        "vlog render for watch time, 30 s cut: 900 views; watched 12 s on average (40%)"
    );
    report(&mut g, "vlog_1", r#"{"clicks": 27}"#);
    assert_eq!(refresh_row_embeddings(&mut g, &e), vec![out.clone()]);
    assert!(text(&g).ends_with("; click-through 3.0%"), "{}", text(&g));

    // A deleted row's vector goes with it.
    apply_edit(
        &mut g,
        &parse_edit(r#"{"formats": {"vlog": null}}"#).unwrap(),
    )
    .unwrap();
    assert_eq!(
        refresh_row_embeddings(&mut g, &e),
        vec![GraphRow::Format("vlog".into())]
    );
    assert!(
        g.row_embeddings
            .iter()
            .all(|r| r.row != GraphRow::Format("vlog".into()))
    );

    // Rows are named on the wire (the graph view, the context) by table and key.
    assert_eq!(
        serde_json::to_value(&out).unwrap(),
        serde_json::json!({"table": "outcomes", "key": "vlog_1"})
    );
    assert_eq!(
        serde_json::to_value(GraphRow::Fingerprint).unwrap(),
        serde_json::json!({"table": "fingerprint"})
    );
    // Graphs and contexts stored before these fields existed read back with them empty.
    let old: MemoryGraph = serde_json::from_str(r#"{"creator": "rows"}"#).unwrap();
    assert!(old.row_embeddings.is_empty());
    let old: MemoryContext = serde_json::from_str(r#"{"outcomes": [], "similar": [{"shot": "s01", "matches": [{"job": "j", "shot": "a", "kind": "b_roll", "model": "veo-3", "similarity": 0.9}]}]}"#).unwrap();
    assert!(old.cta_shot.is_none() && old.click_through.is_empty());
    assert!(old.pacing_evidence.is_none() && old.related_rows.is_empty());
    let m = &old.similar[0].matches[0];
    assert_eq!((m.click_through, m.render_similarity), (None, None));

    // A vector of another embedder is stale: the configured one replaces it.
    let other = NgramEmbedder::new(64);
    assert_eq!(
        stale_row_texts(&g, other.id()).len(),
        g.row_embeddings.len()
    );
    assert_eq!(refresh_row_embeddings(&mut g, &other).len(), 3);
    assert!(
        g.row_embeddings
            .iter()
            .all(|r| r.embedding.model == other.id())
    );
}

#[test]
fn the_context_finds_the_rows_and_renders_nearest_the_brief() {
    let e = NgramEmbedder::default();
    let mut g = MemoryGraph::new("near".into());
    let edit = parse_edit(
        r##"{"fingerprint": {"palette": ["#112233"], "grade": "warm film", "lens": "50mm"},
            "formats": {"short_doc": {"pacing": {"avg_shot_s": 5, "energy": "slow_burn"}},
                        "unboxing": {"pacing": {"avg_shot_s": 2, "energy": "punchy"}}}}"##,
    )
    .unwrap();
    apply_edit(&mut g, &edit).unwrap();
    for (job, format, target) in [
        ("doc_1", "short_doc", OutcomeTarget::WatchTime),
        ("box_1", "unboxing", OutcomeTarget::Conversions),
    ] {
        let r = render(
            job,
            format,
            target,
            &[(
                "a",
                ShotKind::Establishing,
                "veo-3",
                "aerial dawn over a basalt headland, lighthouse",
                6.0,
            )],
        );
        record_render(&mut g, &r, &e).unwrap();
        report(&mut g, job, r#"{"views": 1000, "retention_3s": 0.7}"#);
    }
    refresh_row_embeddings(&mut g, &e);

    let brief = common::lighthouse(); // a short doc for watch time
    let memory = build_context(&g, &brief, &e, DEFAULT_SIMILAR);
    let top: Vec<&GraphRow> = memory.related_rows.iter().map(|r| &r.row).collect();
    assert!(!top.is_empty());
    assert!(
        memory
            .related_rows
            .windows(2)
            .all(|w| w[0].similarity >= w[1].similarity)
    );
    let rank = |row: &GraphRow| top.iter().position(|r| *r == row).unwrap_or(usize::MAX);
    assert!(
        rank(&GraphRow::Outcome(JobId("doc_1".into())))
            < rank(&GraphRow::Outcome(JobId("box_1".into()))),
        "{:#?}",
        memory.related_rows
    );
    assert!(
        rank(&GraphRow::Format("short_doc".into())) < rank(&GraphRow::Format("unboxing".into())),
        "{:#?}",
        memory.related_rows
    );

    // Each similar past shot knows how alike its video is to this brief.
    let s01 = &memory.similar.first().unwrap().matches;
    let sim = |job: &str| {
        s01.iter()
            .find(|m| m.job.as_str() == job)
            .and_then(|m| m.render_similarity)
            .unwrap()
    };
    assert!(sim("doc_1") > sim("box_1"), "{s01:#?}");
    let brief_vector = e
        .embed(&studio::memory::row_text::brief_text(&brief))
        .unwrap();
    let doc = g
        .row_embeddings
        .iter()
        .find(|r| r.row == GraphRow::Outcome(JobId("doc_1".into())))
        .unwrap();
    assert!((sim("doc_1") - f64::from(cosine(&brief_vector, &doc.embedding.vector))).abs() < 1e-6);
}

/// A creator whose sora-2 close-ups of a woman talking to a gull at a window held viewers
fn similar_graph(retention: f64) -> MemoryGraph {
    let e = NgramEmbedder::default();
    let mut g = MemoryGraph::new("similar".into());
    for i in 0..DEFAULT_SIMILAR {
        let job = format!("doc_{i}");
        let r = render(
            &job,
            "short_doc",
            OutcomeTarget::WatchTime,
            &[
                (
                    "a",
                    ShotKind::CloseUp,
                    "sora-2",
                    "Ines at the window talking to the gull on the sill, rain",
                    5.0,
                ),
                (
                    "b",
                    ShotKind::BRoll,
                    "kling-2.1",
                    "stacked crates in a warehouse",
                    5.0,
                ),
            ],
        );
        record_render(&mut g, &r, &e).unwrap();
        report(
            &mut g,
            &job,
            &format!(r#"{{"views": 1000, "retention_3s": {retention}}}"#),
        );
    }
    refresh_row_embeddings(&mut g, &e);
    g
}

#[test]
fn similar_past_shots_count_for_the_models_that_made_them() {
    let registry = Registry::builtin_version(5).unwrap();
    let brief = common::lighthouse();
    let s04 = common::motion("s04", ShotKind::Dialogue, false, 5.0, false);
    let sora = ModelId::from("sora-2");

    let g = similar_graph(0.9);
    let memory = build_context(&g, &brief, &NgramEmbedder::default(), DEFAULT_SIMILAR);
    // The past close-ups are not dialogue shots: sora-2 has no (model, kind) statistic here.
    assert!(
        memory
            .outcomes
            .iter()
            .all(|s| !(s.model == sora && s.shot_kind == ShotKind::Dialogue))
    );
    let ctx = ctx_for("similar", OutcomeTarget::WatchTime, memory.clone());
    let with_similar = route_stage(&registry, &s04, &ctx).unwrap();

    let mut blind = memory;
    blind.similar.clear();
    let without = route_stage(
        &registry,
        &s04,
        &ctx_for("similar", OutcomeTarget::WatchTime, blind),
    )
    .unwrap();
    assert_eq!(chosen(&without), "kling-2.1", "{}", without.reason);
    assert_eq!(outcome_score(&without, "sora-2"), 0.5);
    assert!(
        outcome_score(&with_similar, "sora-2") > 0.52,
        "{:?}",
        with_similar.candidates
    );
    assert_eq!(chosen(&with_similar), "sora-2", "{}", with_similar.reason);

    let ev = evidence_for_stage(&ctx.memory, ctx.outcome_target, &sora, &s04).unwrap();
    let similar = ev.similar.as_ref().expect("similar shots counted");
    assert_eq!((similar.shots, similar.renders), (5, 5));
    assert!((similar.mean - 0.9).abs() < 1e-9, "{similar:?}");
    assert!(similar.weight > 1.0 && similar.weight <= 5.0, "{similar:?}");
    assert_eq!(ev.renders, 0);
    let note = ev.note(&sora);
    assert!(
        note.starts_with("sora-2: outcome 0.900 over 0 render(s) + similar past shots 0.900 over 5 shot(s) of 5 render(s)"),
        "{note}"
    );
    // The decision lists the evidence of each candidate that has some.
    assert!(
        with_similar
            .notes
            .iter()
            .any(|n| n.starts_with("sora-2: outcome")),
        "{:?}",
        with_similar.notes
    );
    // kling-2.1's similar shots (the warehouse crates) are nothing like this one.
    assert!(
        evidence_for_stage(
            &ctx.memory,
            ctx.outcome_target,
            &ModelId::from("kling-2.1"),
            &s04
        )
        .is_none()
    );

    // Similar shots that did badly count against the model.
    let g = similar_graph(0.1);
    let memory = build_context(&g, &brief, &NgramEmbedder::default(), DEFAULT_SIMILAR);
    let d = route_stage(
        &registry,
        &s04,
        &ctx_for("similar", OutcomeTarget::WatchTime, memory),
    )
    .unwrap();
    assert!(outcome_score(&d, "sora-2") < 0.5, "{:?}", d.candidates);
    assert_ne!(chosen(&d), "sora-2", "{}", d.reason);
}
