//! Recording finished renders (exactly once per job) and outcome reports (validated, merged).

#[path = "support/memory.rs"]
mod common;

use studio::brief::ShotKind::{BRoll, CloseUp, Establishing};
use studio::ids::JobId;
use studio::memory::{
    MemoryError, MemoryGraph, NgramEmbedder, OutcomesRecorded, RenderRecorded, parse_outcomes,
    record_outcomes, record_render,
};

fn recorded() -> MemoryGraph {
    let mut g = MemoryGraph::new("demo".into());
    let r = common::render(
        "rnd_1",
        &[
            (
                "s01",
                Establishing,
                "veo-3",
                "aerial dawn over a basalt headland",
            ),
            ("s02", CloseUp, "kling-2.1", "hands winding brass clockwork"),
        ],
    );
    record_render(&mut g, &r, &NgramEmbedder::default()).unwrap();
    g
}

fn field_of(body: &str) -> String {
    match parse_outcomes(body) {
        Err(MemoryError::Invalid { field, .. }) => field,
        other => panic!("expected an invalid field for {body}, got {other:?}"),
    }
}

#[test]
fn a_render_is_recorded_once_with_its_shots_models_and_embeddings() {
    let mut g = MemoryGraph::new("demo".into());
    let r = common::render("rnd_1", &[("s01", Establishing, "veo-3", "aerial dawn")]);
    let first = record_render(&mut g, &r, &NgramEmbedder::default()).unwrap();
    assert!(matches!(first, RenderRecorded::Recorded { shots: 1, .. }));
    assert_eq!(g.renders.len(), 1);
    assert_eq!(g.shots[0].model.as_str(), "veo-3");
    let e = g.shots[0].embedding.as_ref().unwrap();
    assert_eq!(e.model, "local-ngram-256");
    let norm: f32 = e.vector.iter().map(|x| x * x).sum::<f32>().sqrt();
    assert!((norm - 1.0).abs() < 1e-5);

    let after_first = g.clone();
    // The effect is re-issued after a crash, even with a different body: nothing changes.
    let mut again = r.clone();
    again
        .shots
        .push(common::render("x", &[("s02", BRoll, "pika-2.2", "more")]).shots[0].clone());
    assert_eq!(
        record_render(&mut g, &r, &NgramEmbedder::default()).unwrap(),
        RenderRecorded::AlreadyRecorded
    );
    assert_eq!(
        record_render(&mut g, &again, &NgramEmbedder::default()).unwrap(),
        RenderRecorded::AlreadyRecorded
    );
    assert_eq!(g, after_first);
}

#[test]
fn a_malformed_render_is_refused_and_writes_nothing() {
    let mut g = MemoryGraph::new("demo".into());
    let dup = common::render(
        "rnd_1",
        &[("s01", BRoll, "veo-3", "a"), ("s01", BRoll, "veo-3", "b")],
    );
    let err = record_render(&mut g, &dup, &NgramEmbedder::default()).unwrap_err();
    assert_eq!(err.field(), Some("shots[1].shot"));
    let mut bad = common::render("rnd_2", &[("s01", BRoll, "veo-3", "a")]);
    bad.cost_usd = f64::NAN;
    assert_eq!(
        record_render(&mut g, &bad, &NgramEmbedder::default())
            .unwrap_err()
            .field(),
        Some("cost_usd")
    );
    let empty = common::render(" ", &[]);
    assert_eq!(
        record_render(&mut g, &empty, &NgramEmbedder::default())
            .unwrap_err()
            .field(),
        Some("job")
    );
    assert_eq!(g, MemoryGraph::new("demo".into()));
}

#[test]
fn outcomes_are_validated_naming_the_field() {
    assert_eq!(field_of(r#"{"views": -1}"#), "views");
    assert_eq!(field_of(r#"{"views": 1.5}"#), "views");
    assert_eq!(field_of(r#"{"views": "many"}"#), "views");
    assert_eq!(field_of(r#"{"avg_watch_s": -2}"#), "avg_watch_s");
    assert_eq!(field_of(r#"{"retention_3s": 1.2}"#), "retention_3s");
    assert_eq!(field_of(r#"{"clicks": -4}"#), "clicks");
    assert_eq!(field_of(r#"{"conversions": true}"#), "conversions");
    assert_eq!(field_of(r#"{"likes": 3}"#), "likes");
    assert_eq!(field_of(r#"{"shots": {}}"#), "shots");
    assert_eq!(
        field_of(r#"{"shots": [{"retention_3s": 0.5}]}"#),
        "shots[0].shot_id"
    );
    assert_eq!(
        field_of(r#"{"shots": [{"shot_id": "s01"}, {"shot_id": 7}]}"#),
        "shots[1].shot_id"
    );
    assert_eq!(
        field_of(r#"{"shots": [{"shot_id": "s01"}, {"shot_id": "s01"}]}"#),
        "shots[1].shot_id"
    );
    assert_eq!(
        field_of(r#"{"shots": [{"shot_id": "s01", "retention_3s": -0.1}]}"#),
        "shots[0].retention_3s"
    );
    assert_eq!(
        field_of(r#"{"shots": [{"shot_id": "s01", "conversions": 0.5}]}"#),
        "shots[0].conversions"
    );
    assert_eq!(
        field_of(r#"{"shots": [{"shot_id": "s01", "views": 1}]}"#),
        "shots[0].views"
    );
    assert!(matches!(
        parse_outcomes("nope"),
        Err(MemoryError::Malformed { .. })
    ));
    // Everything but the ids is optional.
    assert!(parse_outcomes("{}").is_ok());
    assert!(parse_outcomes(r#"{"views": null, "shots": [{"shot_id": "s01"}]}"#).is_ok());
}

#[test]
fn outcomes_merge_and_the_same_report_twice_changes_nothing() {
    let mut g = recorded();
    let job = JobId("rnd_1".into());
    let report = parse_outcomes(
        r#"{"views": 1000, "retention_3s": 0.7, "shots": [{"shot_id": "s01", "retention_3s": 0.8}]}"#,
    )
    .unwrap();
    assert!(matches!(
        record_outcomes(&mut g, &job, &report).unwrap(),
        OutcomesRecorded::Updated { .. }
    ));
    let once = g.clone();
    assert_eq!(
        record_outcomes(&mut g, &job, &report).unwrap(),
        OutcomesRecorded::Unchanged
    );
    assert_eq!(g, once);

    // A later report updates what it carries and keeps the rest.
    let later = parse_outcomes(r#"{"views": 5000, "conversions": 12}"#).unwrap();
    assert!(matches!(
        record_outcomes(&mut g, &job, &later).unwrap(),
        OutcomesRecorded::Updated { .. }
    ));
    let row = &g.outcomes[0];
    assert_eq!(
        (row.views, row.retention_3s, row.conversions),
        (Some(5000), Some(0.7), Some(12))
    );
    assert_eq!(g.shot_outcomes.len(), 1);
}

#[test]
fn outcomes_for_unknown_renders_or_shots_are_refused() {
    let mut g = recorded();
    let before = g.clone();
    let report = parse_outcomes(r#"{"views": 10}"#).unwrap();
    assert_eq!(
        record_outcomes(&mut g, &JobId("rnd_404".into()), &report),
        Err(MemoryError::UnknownRender {
            job: JobId("rnd_404".into())
        })
    );
    let report =
        parse_outcomes(r#"{"views": 10, "shots": [{"shot_id": "s01"}, {"shot_id": "s99"}]}"#)
            .unwrap();
    let err = record_outcomes(&mut g, &JobId("rnd_1".into()), &report).unwrap_err();
    assert_eq!(err.field(), Some("shots[1].shot_id"));
    assert_eq!(g, before, "a refused report writes nothing");
}

/// The creator's outcome statistics for a watch-time brief: (model, shot kind) -> (renders, mean)
fn watch_time_stats(
    g: &MemoryGraph,
) -> std::collections::BTreeMap<(String, studio::brief::ShotKind), (u32, f64)> {
    let mut brief: studio::brief::Brief =
        serde_json::from_str(include_str!("../examples/brief.json")).unwrap();
    brief.outcome_target = studio::brief::OutcomeTarget::WatchTime;
    let context = studio::memory::build_context(g, &brief, &NgramEmbedder::default(), 0);
    context
        .outcomes
        .iter()
        .map(|s| ((s.model.0.clone(), s.shot_kind), (s.renders, s.mean)))
        .collect()
}

#[test]
fn compaction_folds_the_oldest_renders_and_keeps_their_outcome_evidence() {
    use studio::memory::{MAX_FULL_RENDERS, RowChange, RowKey};
    let extra = 20;
    let mut g = MemoryGraph::new("demo".into());
    let mut expected: std::collections::BTreeMap<&str, Vec<f64>> = Default::default();
    for i in 0..MAX_FULL_RENDERS + extra {
        let model = if i % 2 == 0 { "veo-3" } else { "kling-2.1" };
        let job = format!("rnd_{i:04}");
        let mut r = common::render(&job, &[("s01", CloseUp, model, "hands winding clockwork")]);
        r.finished_at = studio::time::Timestamp(1_700_000_000_000 + i as u64 * 1000);
        let recorded = record_render(&mut g, &r, &NgramEmbedder::default()).unwrap();
        if i == MAX_FULL_RENDERS {
            // The first render over the cap folds the oldest one, and says so.
            let RenderRecorded::Recorded { changes, .. } = recorded else {
                panic!("not recorded");
            };
            assert!(changes.contains(&RowChange::Delete(RowKey::Render("rnd_0000".into()))));
            assert!(changes.contains(&RowChange::Upsert(RowKey::Folded)));
        }
        let retention = 0.2 + (i % 7) as f64 * 0.1;
        let report = parse_outcomes(&format!(r#"{{"retention_3s": {retention}}}"#)).unwrap();
        record_outcomes(&mut g, &JobId(job), &report).unwrap();
        expected.entry(model).or_default().push(retention);
    }
    assert_eq!(g.renders.len(), MAX_FULL_RENDERS);
    assert_eq!(g.shots.len(), MAX_FULL_RENDERS);
    assert!(g.render(&JobId("rnd_0000".into())).is_none());
    assert!(g.outcomes.iter().all(|o| o.job.as_str() >= "rnd_0020"));
    assert_eq!(g.folded_formats.len(), 1);
    assert_eq!(g.folded_formats[0].renders, extra as u32);
    // Every render's evidence is still in the statistics, folded or not.
    let stats = watch_time_stats(&g);
    for (model, values) in &expected {
        let (renders, mean) = stats[&(model.to_string(), CloseUp)];
        assert_eq!(renders as usize, values.len(), "{model}");
        let want = values.iter().sum::<f64>() / values.len() as f64;
        assert!((mean - want).abs() < 1e-9, "{model}: {mean} vs {want}");
    }
    // A folded render's outcomes can no longer be reported.
    let report = parse_outcomes(r#"{"retention_3s": 0.9}"#).unwrap();
    assert!(record_outcomes(&mut g, &JobId("rnd_0000".into()), &report).is_err());
}

#[test]
fn compaction_caps_the_shots_kept_in_full() {
    use studio::memory::MAX_FULL_SHOTS;
    let mut g = MemoryGraph::new("demo".into());
    let ids: Vec<String> = (0..100).map(|i| format!("s{i:03}")).collect();
    let shots: Vec<(&str, studio::brief::ShotKind, &str, &str)> = ids
        .iter()
        .map(|id| (id.as_str(), BRoll, "pika-2.2", "rain on a tin roof"))
        .collect();
    let renders = MAX_FULL_SHOTS / 100 + 5;
    for i in 0..renders {
        let mut r = common::render(&format!("rnd_{i:04}"), &shots);
        r.finished_at = studio::time::Timestamp(1_700_000_000_000 + i as u64);
        record_render(&mut g, &r, &NgramEmbedder::default()).unwrap();
    }
    assert_eq!(g.shots.len(), MAX_FULL_SHOTS);
    assert_eq!(g.renders.len(), MAX_FULL_SHOTS / 100);
    // No outcomes were reported: nothing to keep but the counts.
    assert!(g.folded.is_empty());
    assert_eq!(g.folded_formats[0].renders, 5);
    // The newest render is never folded, however large.
    let many: Vec<String> = (0..MAX_FULL_SHOTS + 1).map(|i| format!("x{i}")).collect();
    let big: Vec<(&str, studio::brief::ShotKind, &str, &str)> = many
        .iter()
        .map(|id| (id.as_str(), BRoll, "pika-2.2", "rain"))
        .collect();
    let mut r = common::render("rnd_big", &big);
    r.finished_at = studio::time::Timestamp(1_800_000_000_000);
    record_render(&mut g, &r, &NgramEmbedder::default()).unwrap();
    assert_eq!(g.renders.len(), 1);
    assert!(g.render(&JobId("rnd_big".into())).is_some());
}
