//! What the fuzzing property tests share: case counts, arbitrary JSON biased toward a domain's
//! keys and values, and JSON pointers to every value of a tree.

use proptest::prelude::*;
use serde_json::{Map, Value};

/// `PROPTEST_CASES` when set, else `default` (kept small so `cargo test` stays quick)
pub fn config(default: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default);
    ProptestConfig {
        cases,
        ..ProptestConfig::default()
    }
}

/// An object key: mostly one of `keys`, sometimes anything
pub fn key(keys: &'static [&'static str]) -> impl Strategy<Value = String> + Clone {
    prop_oneof![
        4 => prop::sample::select(keys).prop_map(str::to_owned),
        1 => any::<String>(),
    ]
}

/// Arbitrary JSON up to `depth` levels, arrays of fewer than `max_items`, from these leaves
pub fn json(
    number: impl Strategy<Value = Value> + 'static,
    text: impl Strategy<Value = String> + 'static,
    key: impl Strategy<Value = String> + Clone + 'static,
    depth: u32,
    max_items: usize,
) -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        number,
        text.prop_map(Value::String),
    ];
    leaf.prop_recursive(depth, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..max_items).prop_map(Value::Array),
            prop::collection::vec((key.clone(), inner), 0..8)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// Every value of a tree, as JSON pointers
pub fn pointers(v: &Value, at: &str, out: &mut Vec<String>) {
    out.push(at.to_owned());
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                let k = k.replace('~', "~0").replace('/', "~1");
                pointers(child, &format!("{at}/{k}"), out);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                pointers(child, &format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}
