//! Holds JSON values to the OpenAPI document's schemas with the `jsonschema` crate (JSON Schema
//! 2020-12, the dialect of OpenAPI 3.1), resolving `$ref`s inside the document.

use serde_json::Value;

/// Checks `value` against `schema` (which may `$ref` into `doc`); returns every mismatch with
/// its JSON path (one line naming the problem when the schema itself does not compile)
pub fn check(doc: &Value, schema: &Value, value: &Value) -> Vec<String> {
    // The document is the root resource, so `#/components/...` resolves; the schema to apply is
    // put beside it and referenced from the root. OpenAPI's own keywords at the root (`openapi`,
    // `paths`, ...) are unknown to JSON Schema and ignored.
    let mut root = doc.clone();
    if let Value::Object(map) = &mut root {
        map.insert("x-check".into(), schema.clone());
        map.insert("$ref".into(), Value::String("#/x-check".into()));
        map.insert(
            "$schema".into(),
            Value::String("https://json-schema.org/draft/2020-12/schema".into()),
        );
    }
    let validator = match jsonschema::options()
        .should_validate_formats(false)
        .build(&root)
    {
        Ok(v) => v,
        Err(e) => return vec![format!("the schema does not compile: {e}")],
    };
    validator
        .iter_errors(value)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

fn resolve<'a>(doc: &'a Value, reference: &str) -> Option<&'a Value> {
    doc.pointer(reference.strip_prefix('#')?)
}

/// The JSON schema of one documented response: `paths[path][method].responses[status]`, through
/// `$ref`s to `components/responses`
pub fn response_schema<'a>(
    doc: &'a Value,
    path: &str,
    method: &str,
    status: u16,
) -> Option<&'a Value> {
    let mut response = doc
        .get("paths")?
        .get(path)?
        .get(method)?
        .get("responses")?
        .get(status.to_string())?;
    while let Some(reference) = response.get("$ref").and_then(Value::as_str) {
        response = resolve(doc, reference)?;
    }
    response
        .get("content")?
        .get("application/json")?
        .get("schema")
}

/// A component schema by name
pub fn component<'a>(doc: &'a Value, name: &str) -> Option<&'a Value> {
    doc.get("components")?.get("schemas")?.get(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn references_into_the_document_resolve_and_mismatches_are_named() {
        let doc = json!({"components": {"schemas": {
            "N": {"type": ["integer", "null"]},
            "Closed": {"type": "object", "additionalProperties": false, "properties": {"a": {"type": "string"}}},
        }}});
        let schema = json!({
            "type": "object",
            "required": ["a", "b"],
            "properties": {
                "a": {"type": "string", "enum": ["x", "y"], "pattern": "^[a-z](?![\\s\\S])"},
                "b": {"type": "array", "items": {"$ref": "#/components/schemas/N"}},
            },
        });
        assert!(check(&doc, &schema, &json!({"a": "x", "b": [1, null]})).is_empty());
        assert_eq!(
            check(&doc, &schema, &json!({"a": "z", "b": [1.5]})).len(),
            2
        );
        assert_eq!(check(&doc, &schema, &json!({"b": []})).len(), 1);
        assert_eq!(check(&doc, &schema, &json!("nope")).len(), 1);
        let closed = json!({"$ref": "#/components/schemas/Closed"});
        assert!(check(&doc, &closed, &json!({"a": "x"})).is_empty());
        assert_eq!(check(&doc, &closed, &json!({"a": "x", "c": 1})).len(), 1);
    }

    /// The document the Worker serves compiles, and the sample brief is valid by it
    #[test]
    fn the_served_document_compiles() {
        let doc: Value = serde_json::from_str(include_str!("../../actors/assets/openapi.json"))
            .expect("openapi.json");
        let brief: Value =
            serde_json::from_str(include_str!("../../examples/brief.json")).expect("brief.json");
        let schema = component(&doc, "Brief").expect("Brief");
        assert_eq!(check(&doc, schema, &brief), Vec::<String>::new());
        let mut bad = brief.clone();
        bad["project_id"] = json!("");
        assert!(!check(&doc, schema, &bad).is_empty());
    }
}
