//! `actors/assets/openapi.json`, the document the Worker serves, is exactly what the types
//! derive (`studio::api::openapi::document`): change a type, a limit or an operation and this
//! fails until the file is regenerated with
//! `UPDATE_OPENAPI=1 cargo test -p studio --test openapi_document`.

use std::path::PathBuf;

use serde_json::Value;
use studio::api::openapi::{document, document_text};

fn checked_in() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("actors/assets/openapi.json")
}

#[test]
fn the_served_document_is_the_derived_one() {
    let derived = document_text().expect("the document builds");
    let path = checked_in();
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, &derived).expect("write openapi.json");
    }
    let file = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        file == derived,
        "actors/assets/openapi.json is not what the types derive: regenerate it with \
         `UPDATE_OPENAPI=1 cargo test -p studio --test openapi_document`"
    );
}

fn pointer<'a>(doc: &'a Value, reference: &str) -> Option<&'a Value> {
    doc.pointer(reference.strip_prefix('#')?)
}

fn refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get("$ref") {
                out.push(r.clone());
            }
            map.values().for_each(|v| refs(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

#[test]
fn every_reference_resolves() {
    let doc = document().expect("the document builds");
    let mut all = Vec::new();
    refs(&doc, &mut all);
    assert!(all.len() > 50);
    for r in &all {
        assert!(pointer(&doc, r).is_some(), "dangling $ref {r}");
    }
}

/// The validators' limits reach the schema (a few, by value, so a dropped attribute fails)
#[test]
fn the_brief_schema_carries_the_validators_limits() {
    let doc = document().expect("the document builds");
    let brief = &doc["components"]["schemas"]["Brief"];
    let props = &brief["properties"];
    assert_eq!(props["shots"]["minItems"], 1);
    assert_eq!(props["shots"]["maxItems"], 2000);
    assert_eq!(props["platforms"]["minItems"], 1);
    assert_eq!(props["deadline_s"]["minimum"], 1);
    assert_eq!(props["deadline_s"]["maximum"], 7 * 24 * 3600);
    assert_eq!(props["budget_usd"]["exclusiveMinimum"], 0);
    assert_eq!(props["webhook_url"]["maxLength"], 2048);
    assert!(
        props["project_id"]["pattern"].is_string(),
        "{}",
        props["project_id"]
    );
    assert_eq!(props["project_id"]["minLength"], 1);
    let captions = pointer(&doc, props["captions"]["$ref"].as_str().unwrap_or("#/none"))
        .or_else(|| {
            props["captions"]["allOf"][0]["$ref"]
                .as_str()
                .and_then(|r| pointer(&doc, r))
        })
        .expect("Captions");
    assert_eq!(captions["additionalProperties"], false);
    let shot = pointer(&doc, "#/components/schemas/Shot").expect("Shot");
    assert_eq!(shot["properties"]["cast"]["uniqueItems"], true);
    assert_eq!(shot["properties"]["duration_s"]["maximum"], 300.0);
    let edit = pointer(&doc, "#/components/schemas/MemoryEdit").expect("MemoryEdit");
    assert_eq!(edit["additionalProperties"], false);
}
