//! Reading untrusted JSON field by field, so every refusal names the field's path.
//!
//! serde's derive would reject bad bodies too, but its messages name a line and column, not
//! `looks.keeper.reference_images[1]`, which is what the API promises.

use serde_json::{Map, Value};

use crate::memory::error::MemoryError;

/// A JSON object and its path in the body
#[derive(Clone, Copy)]
pub(crate) struct Obj<'a> {
    pub map: &'a Map<String, Value>,
    pub path: &'a str,
}

/// `path.key`, or `key` at the top level
pub(crate) fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

/// Parses a body that must be one JSON object
pub(crate) fn parse_object(body: &str) -> Result<Map<String, Value>, MemoryError> {
    let value: Value = serde_json::from_str(body).map_err(|e| MemoryError::Malformed {
        message: e.to_string(),
    })?;
    match value {
        Value::Object(map) => Ok(map),
        _ => Err(MemoryError::invalid("body", "must be a JSON object")),
    }
}

/// The value as an object, or an error naming `path`
pub(crate) fn object<'a>(value: &'a Value, path: &'a str) -> Result<Obj<'a>, MemoryError> {
    match value {
        Value::Object(map) => Ok(Obj { map, path }),
        _ => Err(MemoryError::invalid(path, "must be an object")),
    }
}

impl<'a> Obj<'a> {
    /// Refuses keys outside `allowed`
    pub fn only(&self, allowed: &[&str]) -> Result<(), MemoryError> {
        match self.map.keys().find(|k| !allowed.contains(&k.as_str())) {
            Some(k) => Err(MemoryError::invalid(join(self.path, k), "unknown field")),
            None => Ok(()),
        }
    }

    /// The value at `key`, `None` when absent or null
    pub fn get(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    /// An optional non-negative integer
    pub fn count(&self, key: &str) -> Result<Option<u64>, MemoryError> {
        let Some(v) = self.get(key) else {
            return Ok(None);
        };
        v.as_u64().map(Some).ok_or_else(|| {
            MemoryError::invalid(join(self.path, key), "must be a non-negative integer")
        })
    }

    /// An optional finite number in `min..=max`
    pub fn number(&self, key: &str, min: f64, max: f64) -> Result<Option<f64>, MemoryError> {
        let Some(v) = self.get(key) else {
            return Ok(None);
        };
        match v.as_f64() {
            Some(x) if x.is_finite() && (min..=max).contains(&x) => Ok(Some(x)),
            _ => Err(MemoryError::invalid(
                join(self.path, key),
                format!("must be a number from {min} to {max}"),
            )),
        }
    }

    /// An optional non-blank string of at most `max` characters
    pub fn text(&self, key: &str, max: usize) -> Result<Option<String>, MemoryError> {
        let Some(v) = self.get(key) else {
            return Ok(None);
        };
        text(v, &join(self.path, key), max).map(Some)
    }

    /// An optional array of strings, each checked by `check`, at most `max_items` long
    pub fn strings(
        &self,
        key: &str,
        max_items: usize,
        check: impl Fn(&Value, &str) -> Result<String, MemoryError>,
    ) -> Result<Vec<String>, MemoryError> {
        let path = join(self.path, key);
        let Some(v) = self.get(key) else {
            return Ok(Vec::new());
        };
        let Value::Array(items) = v else {
            return Err(MemoryError::invalid(path, "must be an array"));
        };
        if items.len() > max_items {
            return Err(MemoryError::invalid(
                path,
                format!("at most {max_items} items"),
            ));
        }
        items
            .iter()
            .enumerate()
            .map(|(i, item)| check(item, &format!("{path}[{i}]")))
            .collect()
    }

    /// An optional enum value, parsed by its serde name
    pub fn name<T: serde::de::DeserializeOwned>(
        &self,
        key: &str,
        what: &str,
    ) -> Result<Option<T>, MemoryError> {
        let Some(v) = self.get(key) else {
            return Ok(None);
        };
        serde_json::from_value(v.clone()).map(Some).map_err(|_| {
            MemoryError::invalid(join(self.path, key), format!("must be a known {what}"))
        })
    }
}

/// A non-blank string of at most `max` characters without control characters
pub(crate) fn text(v: &Value, path: &str, max: usize) -> Result<String, MemoryError> {
    let Some(s) = v.as_str() else {
        return Err(MemoryError::invalid(path, "must be a string"));
    };
    if s.trim().is_empty() {
        return Err(MemoryError::invalid(path, "must not be blank"));
    }
    if s.chars().count() > max {
        return Err(MemoryError::invalid(
            path,
            format!("at most {max} characters"),
        ));
    }
    if s.chars().any(|c| c.is_control() && c != '\n') {
        return Err(MemoryError::invalid(
            path,
            "must not contain control characters",
        ));
    }
    Ok(s.to_owned())
}

/// An identifier: 1 to 64 of `A-Z a-z 0-9 _ -`
pub(crate) fn ident(s: &str, path: &str) -> Result<String, MemoryError> {
    let ok = !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        Ok(s.to_owned())
    } else {
        Err(MemoryError::invalid(
            path,
            "must be 1 to 64 letters, digits, '_' or '-'",
        ))
    }
}

/// A token such as a provider voice id: 1 to 128 characters, no whitespace or control characters
pub(crate) fn token(v: &Value, path: &str) -> Result<String, MemoryError> {
    let Some(s) = v.as_str() else {
        return Err(MemoryError::invalid(path, "must be a string"));
    };
    let ok = !s.is_empty()
        && s.chars().count() <= 128
        && !s.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Ok(s.to_owned())
    } else {
        Err(MemoryError::invalid(
            path,
            "must be 1 to 128 characters without spaces",
        ))
    }
}
