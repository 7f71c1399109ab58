//! `PUT /v1/memory` bodies: validated field by field, applied as row changes, refused edits
//! change nothing.

use studio::brief::{Energy, Platform, ShotKind};
use studio::memory::{MemoryError, MemoryGraph, RowChange, RowKey, apply_edit, parse_edit};

fn graph() -> MemoryGraph {
    MemoryGraph::new("demo".into())
}

fn field_of(body: &str) -> String {
    match parse_edit(body) {
        Err(MemoryError::Invalid { field, .. }) => field,
        other => panic!("expected an invalid field for {body}, got {other:?}"),
    }
}

const FULL: &str = r##"{
  "voices": {"narrator": "21m00Tcm4TlvDq8ikWAM", "keeper": "EXAVITQu4vr4xnSDxMaL"},
  "looks": {"keeper": {"description": "weathered, yellow oilskin", "reference_images": ["creators/demo/looks/keeper/1.png"]}},
  "fingerprint": {"palette": ["#1B2A3C", "#e0c068"], "grade": "bleach bypass", "lens": "35mm", "lighting": "low-key"},
  "formats": {"short_doc": {"pacing": {"avg_shot_s": 5.2, "energy": "slow_burn"},
                            "shot_mix": {"establishing": 0.25, "close_up": 0.5, "b_roll": 0.25},
                            "hook_style": "cold open on a question"}},
  "audience": {"primary_platform": "tiktok", "regions": ["DE", "NL"], "interests": ["sea", "craft"]}
}"##;

#[test]
fn a_full_edit_is_applied_as_rows() {
    let mut g = graph();
    let edit = parse_edit(FULL).unwrap();
    let changes = apply_edit(&mut g, &edit).unwrap();
    assert_eq!(g.voices.len(), 2);
    assert_eq!(g.looks.len(), 1);
    assert_eq!(g.looks[0].cast_id, "keeper");
    assert_eq!(
        g.looks[0].reference_images,
        vec!["creators/demo/looks/keeper/1.png"]
    );
    let fp = g.fingerprint.clone().unwrap();
    assert_eq!(
        fp.palette,
        vec!["#1b2a3c", "#e0c068"],
        "colours are normalised to lowercase"
    );
    let dna = &g.formats[0];
    assert_eq!(dna.format, "short_doc");
    assert_eq!(dna.pacing.energy, Energy::SlowBurn);
    assert_eq!(dna.shot_mix.get(&ShotKind::CloseUp), Some(&0.5));
    assert_eq!(
        g.audience.clone().unwrap().primary_platform,
        Some(Platform::Tiktok)
    );
    assert!(changes.contains(&RowChange::Upsert(RowKey::Voice("narrator".into()))));
    assert!(changes.contains(&RowChange::Upsert(RowKey::Fingerprint)));
    assert_eq!(changes.len(), 6);
}

#[test]
fn setting_the_same_rows_twice_keeps_one_row_each_and_null_deletes() {
    let mut g = graph();
    let edit = parse_edit(FULL).unwrap();
    apply_edit(&mut g, &edit).unwrap();
    let once = g.clone();
    apply_edit(&mut g, &edit).unwrap();
    assert_eq!(g, once);

    let edit = parse_edit(
        r#"{"voices": {"keeper": null}, "fingerprint": null, "looks": {"nobody": null}}"#,
    )
    .unwrap();
    let changes = apply_edit(&mut g, &edit).unwrap();
    assert_eq!(g.voices.len(), 1);
    assert!(g.fingerprint.is_none());
    assert!(changes.contains(&RowChange::Delete(RowKey::Voice("keeper".into()))));
    assert!(changes.contains(&RowChange::Delete(RowKey::Look("nobody".into()))));
    // Absent keys were left alone.
    assert_eq!(g.looks.len(), 1);
    assert!(g.audience.is_some());
}

#[test]
fn bad_values_are_refused_naming_the_field() {
    assert_eq!(field_of(r#"{"voice": {}}"#), "voice");
    assert_eq!(field_of(r#"{"voices": []}"#), "voices");
    assert_eq!(
        field_of(r#"{"voices": {"narrator": "has space"}}"#),
        "voices.narrator"
    );
    assert_eq!(
        field_of(r#"{"voices": {"narrator": 5}}"#),
        "voices.narrator"
    );
    assert_eq!(
        field_of(r#"{"voices": {"bad name": "x"}}"#),
        "voices.bad name"
    );
    assert_eq!(
        field_of(r#"{"looks": {"keeper": {"reference_images": []}}}"#),
        "looks.keeper.description"
    );
    assert_eq!(
        field_of(r#"{"looks": {"keeper": {"description": "  "}}}"#),
        "looks.keeper.description"
    );
    assert_eq!(
        field_of(
            r#"{"looks": {"keeper": {"description": "x", "reference_images": ["a.png", "../etc/passwd"]}}}"#
        ),
        "looks.keeper.reference_images[1]"
    );
    assert_eq!(
        field_of(r#"{"looks": {"keeper": {"description": "x", "colour": "red"}}}"#),
        "looks.keeper.colour"
    );
    assert_eq!(
        field_of(r##"{"fingerprint": {"palette": ["#12345g"]}}"##),
        "fingerprint.palette[0]"
    );
    assert_eq!(
        field_of(r#"{"fingerprint": {"grade": 3}}"#),
        "fingerprint.grade"
    );
    assert_eq!(field_of(r#"{"formats": {"ad": {}}}"#), "formats.ad.pacing");
    assert_eq!(
        field_of(r#"{"formats": {"ad": {"pacing": {"avg_shot_s": 0, "energy": "punchy"}}}}"#),
        "formats.ad.pacing.avg_shot_s"
    );
    assert_eq!(
        field_of(r#"{"formats": {"ad": {"pacing": {"avg_shot_s": 2, "energy": "frantic"}}}}"#),
        "formats.ad.pacing.energy"
    );
    assert_eq!(
        field_of(
            r#"{"formats": {"ad": {"pacing": {"avg_shot_s": 2, "energy": "punchy"}, "shot_mix": {"action": 0.5}}}}"#
        ),
        "formats.ad.shot_mix"
    );
    assert_eq!(
        field_of(
            r#"{"formats": {"ad": {"pacing": {"avg_shot_s": 2, "energy": "punchy"}, "shot_mix": {"montage": 1}}}}"#
        ),
        "formats.ad.shot_mix.montage"
    );
    assert_eq!(
        field_of(
            r#"{"formats": {"ad": {"pacing": {"avg_shot_s": 2, "energy": "punchy"}, "shot_mix": {"action": 1.5}}}}"#
        ),
        "formats.ad.shot_mix.action"
    );
    assert_eq!(
        field_of(r#"{"audience": {"primary_platform": "myspace"}}"#),
        "audience.primary_platform"
    );
    assert_eq!(
        field_of(r#"{"audience": {"regions": "DE"}}"#),
        "audience.regions"
    );
    assert_eq!(field_of(r#"[1, 2]"#), "body");
    assert!(matches!(
        parse_edit("{not json"),
        Err(MemoryError::Malformed { .. })
    ));
    let err = parse_edit(r#"{"voices": {"narrator": "has space"}}"#).unwrap_err();
    assert_eq!(err.field(), Some("voices.narrator"));
    assert!(err.to_string().starts_with("voices.narrator: "), "{err}");
}

#[test]
fn an_edit_over_a_row_limit_changes_nothing() {
    let mut g = graph();
    let voices: Vec<String> = (0..300).map(|i| format!("\"v{i}\": \"id{i}\"")).collect();
    let body = format!("{{\"voices\": {{{}}}}}", voices.join(","));
    let edit = parse_edit(&body).unwrap();
    let err = apply_edit(&mut g, &edit).unwrap_err();
    assert_eq!(err.field(), Some("voices"));
    assert_eq!(g, graph());
}

#[test]
fn an_empty_edit_is_a_no_op() {
    let mut g = graph();
    assert_eq!(
        apply_edit(&mut g, &parse_edit("{}").unwrap()).unwrap(),
        vec![]
    );
    assert_eq!(g, graph());
}
