//! Brief validation names the field; pacing push-back is a warning, never an error.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::{Value, json};
use studio::brief::{BriefError, MAX_SHOTS, parse_brief, validate_brief};

const EXAMPLE: &str = include_str!("../examples/brief.json");

fn example() -> Value {
    serde_json::from_str(EXAMPLE).unwrap()
}

/// Parses the example after `edit`; returns the error's field and message
fn error_after(edit: impl FnOnce(&mut Value)) -> (Option<String>, String, &'static str) {
    let mut v = example();
    edit(&mut v);
    let err = parse_brief(v.to_string().as_bytes()).expect_err("refused");
    (err.field().map(str::to_owned), err.to_string(), err.code())
}

fn field_of(edit: impl FnOnce(&mut Value)) -> String {
    error_after(edit).0.unwrap_or_default()
}

#[test]
fn the_example_is_valid_and_well_paced() {
    let b = parse_brief(EXAMPLE.as_bytes()).unwrap();
    assert_eq!(b.brief.shots.len(), 12);
    assert!(b.warnings.is_empty(), "{:?}", b.warnings);
}

#[test]
fn shape_errors_name_the_field() {
    assert_eq!(
        field_of(|v| v["shots"][3]["duration_s"] = json!("six")),
        "shots[3].duration_s"
    );
    assert_eq!(
        field_of(|v| v["shots"][2]["kind"] = json!("montage")),
        "shots[2].kind"
    );
    assert_eq!(
        field_of(|v| v["outcome_target"] = json!("likes")),
        "outcome_target"
    );
    assert_eq!(
        field_of(|v| v["platforms"][1] = json!("myspace")),
        "platforms[1]"
    );
    assert_eq!(
        field_of(|v| v["pacing"]["energy"] = json!("frantic")),
        "pacing.energy"
    );
    assert_eq!(
        field_of(|v| v["shots"][1]["cast"] = json!(["keeper", 5])),
        "shots[1].cast[1]"
    );
    assert_eq!(
        field_of(|v| v["shots"][3]["dialogue"]["line"] = json!(null)),
        "shots[3].dialogue.line"
    );
    assert_eq!(field_of(|v| v["deadline_s"] = json!(-5)), "deadline_s");
    assert_eq!(
        field_of(|v| v["voiceover"] = json!("narrate it")),
        "voiceover"
    );
    let (field, msg, code) = error_after(|v| v["shots"][2]["kind"] = json!("montage"));
    assert_eq!(field.as_deref(), Some("shots[2].kind"));
    assert!(
        msg.contains("unknown variant `montage`") && msg.contains("establishing"),
        "{msg}"
    );
    assert_eq!(code, "brief_type");
}

#[test]
fn missing_fields_are_named() {
    let (field, _, code) = error_after(|v| {
        v.as_object_mut().unwrap().remove("shots");
    });
    assert_eq!(
        (field.as_deref(), code),
        (Some("shots"), "brief_missing_field")
    );
    assert_eq!(
        field_of(|v| {
            v["shots"][4].as_object_mut().unwrap().remove("prompt");
        }),
        "shots[4].prompt"
    );
    assert_eq!(
        field_of(|v| {
            v["pacing"]
                .as_object_mut()
                .unwrap()
                .remove("target_duration_s");
        }),
        "pacing.target_duration_s"
    );
}

#[test]
fn not_json_and_not_an_object() {
    let err = parse_brief(b"{\"shots\": [").unwrap_err();
    assert!(matches!(err, BriefError::Syntax { .. }));
    assert_eq!(err.field(), None);
    let err = parse_brief(b"[1, 2]").unwrap_err();
    assert_eq!(err.field(), Some("(body)"));
}

#[test]
fn meaning_errors_name_the_field() {
    assert_eq!(
        field_of(|v| v["shots"][3]["duration_s"] = json!(-1.0)),
        "shots[3].duration_s"
    );
    assert_eq!(
        field_of(|v| v["shots"][3]["duration_s"] = json!(0)),
        "shots[3].duration_s"
    );
    assert_eq!(field_of(|v| v["budget_usd"] = json!(0)), "budget_usd");
    assert_eq!(field_of(|v| v["budget_usd"] = json!(-3.5)), "budget_usd");
    assert_eq!(field_of(|v| v["deadline_s"] = json!(0)), "deadline_s");
    assert_eq!(field_of(|v| v["shots"] = json!([])), "shots");
    assert_eq!(
        field_of(|v| v["shots"][0]["prompt"] = json!("   ")),
        "shots[0].prompt"
    );
    assert_eq!(
        field_of(|v| v["shots"][2]["cast"] = json!(["ghost"])),
        "shots[2].cast[0]"
    );
    assert_eq!(
        field_of(|v| v["shots"][3]["dialogue"]["character"] = json!("gull2")),
        "shots[3].dialogue.character"
    );
    assert_eq!(
        field_of(|v| v["webhook_url"] = json!("ftp://hooks.example.com")),
        "webhook_url"
    );
    assert_eq!(
        field_of(|v| v["webhook_url"] = json!("https://")),
        "webhook_url"
    );
    assert_eq!(
        field_of(|v| v["shots"][0]["id"] = json!("s.01")),
        "shots[0].id"
    );
    assert_eq!(field_of(|v| v["platforms"] = json!([])), "platforms");
    assert_eq!(
        field_of(|v| v["score"]["duration_s"] = json!(0)),
        "score.duration_s"
    );
    assert_eq!(
        field_of(|v| v["cast"][1]["id"] = json!("keeper")),
        "cast[1].id"
    );
    let (field, msg, code) = error_after(|v| v["shots"][5]["id"] = json!("s01"));
    assert_eq!(field.as_deref(), Some("shots[5].id"));
    assert!(
        msg.contains("duplicate shot id `s01` (first at shots[0])"),
        "{msg}"
    );
    assert_eq!(code, "brief_invalid");
    let mut v = example();
    v["webhook_url"] = json!("https://hooks.example.com/renders?x=1");
    assert!(parse_brief(v.to_string().as_bytes()).is_ok());
}

#[test]
fn too_many_shots() {
    let (field, msg, _) = error_after(|v| {
        let shot = v["shots"][0].clone();
        v["shots"] = Value::Array(
            (0..=MAX_SHOTS)
                .map(|i| {
                    let mut s = shot.clone();
                    s["id"] = json!(format!("x{i}"));
                    s
                })
                .collect(),
        );
    });
    assert_eq!(field.as_deref(), Some("shots"));
    assert!(
        msg.contains(&format!(
            "at most {MAX_SHOTS} shots per brief, got {}",
            MAX_SHOTS + 1
        )),
        "{msg}"
    );
}

#[test]
fn non_finite_numbers_are_refused() {
    let mut b = parse_brief(EXAMPLE.as_bytes()).unwrap().brief;
    b.shots[7].duration_s = f64::NAN;
    assert_eq!(
        validate_brief(b.clone()).unwrap_err().field(),
        Some("shots[7].duration_s")
    );
    b.shots[7].duration_s = 6.0;
    b.budget_usd = f64::INFINITY;
    let err = validate_brief(b).unwrap_err();
    assert_eq!(err.field(), Some("budget_usd"));
    assert!(err.to_string().contains("finite"));
}

#[test]
fn errors_serialise_for_the_api() {
    let err = parse_brief(br#"{"project_id": 5}"#).unwrap_err();
    let v = serde_json::to_value(&err).unwrap();
    assert_eq!(v["code"], "type");
    assert_eq!(v["field"], "project_id");
}

fn warnings_after(edit: impl FnOnce(&mut Value)) -> Vec<studio::brief::PacingWarning> {
    let mut v = example();
    edit(&mut v);
    parse_brief(v.to_string().as_bytes())
        .expect("warnings never block")
        .warnings
}

#[test]
fn a_short_establishing_shot_gets_a_note_from_ra_to_the_director() {
    let w = warnings_after(|v| {
        v["shots"][0]["duration_s"] = json!(2);
        v["shots"][1]["duration_s"] = json!(9);
    });
    assert_eq!(w.len(), 1, "{w:?}");
    assert_eq!(w[0].from, "Ra");
    assert!(w[0].message.starts_with("Director, "), "{}", w[0].message);
    assert_eq!(w[0].field, "shots[0].duration_s");
    assert_eq!(w[0].shot.as_ref().map(|s| s.as_str()), Some("s01"));
    assert!(w[0].message.contains("establishing"), "{}", w[0].message);
}

#[test]
fn a_line_longer_than_its_shot_gets_a_note() {
    let w = warnings_after(|v| {
        v["shots"][3]["duration_s"] = json!(3);
        v["shots"][2]["duration_s"] = json!(7);
    });
    assert_eq!(w.len(), 1, "{w:?}");
    assert_eq!(w[0].field, "shots[3].duration_s");
    assert!(w[0].message.contains("4.8 s to say"), "{}", w[0].message);
}

#[test]
fn a_total_far_from_the_target_gets_a_note_within_twenty_percent_does_not() {
    let w = warnings_after(|v| v["pacing"]["target_duration_s"] = json!(100));
    assert_eq!(
        w.iter().map(|w| w.field.as_str()).collect::<Vec<_>>(),
        vec!["pacing.target_duration_s"]
    );
    assert!(
        w[0].message
            .contains("62.0 s against your target of 100.0 s"),
        "{}",
        w[0].message
    );
    assert!(warnings_after(|v| v["pacing"]["target_duration_s"] = json!(70)).is_empty());
    assert!(warnings_after(|v| v["pacing"]["target_duration_s"] = json!(52)).is_empty());
}

#[test]
fn captions_of_the_wrong_shape_are_named() {
    // Found by tests/fuzz_brief.rs: the schema walk did not know `captions`, so these refusals
    // named no field.
    assert_eq!(
        field_of(|v| v["captions"] = json!({"burn": 1})),
        "captions.burn"
    );
    assert_eq!(
        field_of(|v| v["captions"] = json!({"burn": true, "x": 1})),
        "captions"
    );
    assert_eq!(field_of(|v| v["captions"] = json!("yes")), "captions");
    let mut v = example();
    v["captions"] = json!({"burn": true});
    assert!(
        parse_brief(v.to_string().as_bytes())
            .unwrap()
            .brief
            .captions
            .burn
    );
}
