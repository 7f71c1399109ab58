//! A small JSON Schema checker for the OpenAPI document's schemas: `$ref` (local), `type` (one
//! or a list, `null` included), `required`, `properties`, `additionalProperties` (as a schema),
//! `items`, `enum`, `const`, `allOf` (every branch), `anyOf` / `oneOf` (at least one branch). Enough to hold real
//! responses to the document; no network, no formats.

use serde_json::Value;

/// Checks `value` against `schema` (which may `$ref` into `doc`); returns every mismatch with
/// its JSON path
pub fn check(doc: &Value, schema: &Value, value: &Value) -> Vec<String> {
    let mut errors = Vec::new();
    walk(doc, schema, value, "$", 0, &mut errors);
    errors
}

fn resolve<'a>(doc: &'a Value, reference: &str) -> Option<&'a Value> {
    doc.pointer(reference.strip_prefix('#')?)
}

fn type_matches(name: &str, value: &Value) -> bool {
    match name {
        "null" => value.is_null(),
        "boolean" => value.is_boolean(),
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "number" => value.is_number(),
        "integer" => {
            value.is_i64() || value.is_u64() || value.as_f64().is_some_and(|f| f.fract() == 0.0)
        }
        _ => false,
    }
}

fn walk(
    doc: &Value,
    schema: &Value,
    value: &Value,
    path: &str,
    depth: u32,
    errors: &mut Vec<String>,
) {
    if depth > 64 {
        errors.push(format!("{path}: schema nesting too deep"));
        return;
    }
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        match resolve(doc, reference) {
            Some(target) => walk(doc, target, value, path, depth + 1, errors),
            None => errors.push(format!("{path}: unresolved $ref {reference}")),
        }
        return;
    }
    if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        for branch in all {
            walk(doc, branch, value, path, depth + 1, errors);
        }
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(branches) = schema.get(key).and_then(Value::as_array) {
            let fits = branches.iter().any(|b| {
                let mut e = Vec::new();
                walk(doc, b, value, path, depth + 1, &mut e);
                e.is_empty()
            });
            if !fits {
                errors.push(format!("{path}: matches no branch of {key}: {value}"));
            }
        }
    }
    if let Some(t) = schema.get("type") {
        let names: Vec<&str> = match t {
            Value::String(s) => vec![s.as_str()],
            Value::Array(list) => list.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        if !names.is_empty() && !names.iter().any(|n| type_matches(n, value)) {
            errors.push(format!("{path}: expected {names:?}, got {value}"));
            return;
        }
    }
    if let Some(options) = schema.get("enum").and_then(Value::as_array)
        && !options.contains(value)
    {
        errors.push(format!("{path}: {value} is not one of {options:?}"));
    }
    if let Some(expected) = schema.get("const")
        && expected != value
    {
        errors.push(format!("{path}: expected {expected}, got {value}"));
    }
    if let Value::Object(map) = value {
        if let Some(required) = schema.get("required").and_then(Value::as_array) {
            for name in required.iter().filter_map(Value::as_str) {
                if !map.contains_key(name) {
                    errors.push(format!("{path}: missing required `{name}`"));
                }
            }
        }
        let properties = schema.get("properties").and_then(Value::as_object);
        for (name, v) in map {
            let child = format!("{path}.{name}");
            match properties.and_then(|p| p.get(name)) {
                Some(s) => walk(doc, s, v, &child, depth + 1, errors),
                None => match schema.get("additionalProperties") {
                    Some(Value::Bool(false)) => {
                        errors.push(format!("{path}: unexpected property `{name}`"));
                    }
                    Some(s @ Value::Object(_)) => walk(doc, s, v, &child, depth + 1, errors),
                    _ => {}
                },
            }
        }
    }
    if let (Value::Array(items), Some(item_schema)) = (value, schema.get("items")) {
        for (i, item) in items.iter().enumerate() {
            walk(
                doc,
                item_schema,
                item,
                &format!("{path}[{i}]"),
                depth + 1,
                errors,
            );
        }
    }
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
    fn the_subset_catches_what_it_claims() {
        let doc = json!({"components": {"schemas": {"N": {"type": ["integer", "null"]}}}});
        let schema = json!({
            "type": "object",
            "required": ["a", "b"],
            "properties": {
                "a": {"type": "string", "enum": ["x", "y"]},
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
    }
}
