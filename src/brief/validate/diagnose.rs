//! Locates a serde error in a brief by walking the JSON value along the brief's schema.
//!
//! serde_json reports "invalid type: string, expected f64 at line 14 column 30"; an API client
//! needs `shots[3].duration_s`. Each leaf is deserialised on its own into the same Rust type the
//! brief uses, so the messages (and the accepted values) are exactly serde's. If the schema here
//! ever falls behind `types.rs`, [`diagnose`] returns `None` and the caller falls back to serde's
//! own message: imprecise, never wrong.

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::{BriefError, clipped};
use crate::brief::types::{
    AspectRatio, Captions, Energy, OutcomeTarget, Platform, PresentName, ShotKind,
};

type Obj = Map<String, Value>;

/// The first shape error in document order, with its field path
pub(super) fn diagnose(v: &Value) -> Option<BriefError> {
    walk_brief(v).err()
}

fn path(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_owned()
    } else {
        format!("{parent}.{key}")
    }
}

fn leaf<T: DeserializeOwned>(v: &Value, field: &str) -> Result<(), BriefError> {
    serde_json::from_value::<T>(v.clone())
        .map(|_| ())
        .map_err(|e| BriefError::Type {
            field: field.to_owned(),
            message: clipped(e.to_string()),
        })
}

fn object<'a>(v: &'a Value, field: &str) -> Result<&'a Obj, BriefError> {
    v.as_object().ok_or_else(|| BriefError::Type {
        field: if field.is_empty() {
            "(body)".into()
        } else {
            field.to_owned()
        },
        message: "expected a JSON object".into(),
    })
}

fn array<'a>(v: &'a Value, field: &str) -> Result<&'a Vec<Value>, BriefError> {
    v.as_array().ok_or_else(|| BriefError::Type {
        field: field.to_owned(),
        message: "expected a JSON array".into(),
    })
}

fn required<'a>(o: &'a Obj, parent: &str, key: &str) -> Result<&'a Value, BriefError> {
    o.get(key).ok_or_else(|| BriefError::Missing {
        field: path(parent, key),
    })
}

fn req_leaf<T: DeserializeOwned>(o: &Obj, parent: &str, key: &str) -> Result<(), BriefError> {
    leaf::<T>(required(o, parent, key)?, &path(parent, key))
}

fn opt_leaf<T: DeserializeOwned>(o: &Obj, parent: &str, key: &str) -> Result<(), BriefError> {
    match o.get(key) {
        Some(v) => leaf::<T>(v, &path(parent, key)),
        None => Ok(()),
    }
}

fn walk_brief(v: &Value) -> Result<(), BriefError> {
    let o = object(v, "")?;
    req_leaf::<String>(o, "", "project_id")?;
    req_leaf::<String>(o, "", "logline")?;
    req_leaf::<String>(o, "", "format")?;
    req_leaf::<OutcomeTarget>(o, "", "outcome_target")?;
    req_leaf::<u64>(o, "", "deadline_s")?;
    req_leaf::<f64>(o, "", "budget_usd")?;
    for (i, p) in array(required(o, "", "platforms")?, "platforms")?
        .iter()
        .enumerate()
    {
        leaf::<Platform>(p, &format!("platforms[{i}]"))?;
    }
    // Optional: a brief may leave its pacing to its format's DNA in the Memory Graph.
    if let Some(pacing) = o.get("pacing").filter(|v| !v.is_null()) {
        let pacing = object(pacing, "pacing")?;
        req_leaf::<f64>(pacing, "pacing", "target_duration_s")?;
        req_leaf::<Energy>(pacing, "pacing", "energy")?;
    }
    if let Some(aspect) = o.get("master_aspect").filter(|v| !v.is_null()) {
        leaf::<AspectRatio>(aspect, "master_aspect")?;
    }
    if let Some(cast) = o.get("cast") {
        for (i, m) in array(cast, "cast")?.iter().enumerate() {
            let at = format!("cast[{i}]");
            let m = object(m, &at)?;
            req_leaf::<String>(m, &at, "id")?;
            // Both optional: an entry with only its id is taken from the Memory Graph.
            opt_leaf::<PresentName>(m, &at, "name")?;
            opt_leaf::<String>(m, &at, "description")?;
        }
    }
    for (i, s) in array(required(o, "", "shots")?, "shots")?
        .iter()
        .enumerate()
    {
        walk_shot(s, &format!("shots[{i}]"))?;
    }
    if let Some(vo) = o.get("voiceover").filter(|v| !v.is_null()) {
        let vo = object(vo, "voiceover")?;
        req_leaf::<String>(vo, "voiceover", "text")?;
        req_leaf::<String>(vo, "voiceover", "voice")?;
    }
    if let Some(score) = o.get("score").filter(|v| !v.is_null()) {
        let score = object(score, "score")?;
        req_leaf::<String>(score, "score", "mood")?;
        req_leaf::<f64>(score, "score", "duration_s")?;
    }
    opt_leaf::<Option<String>>(o, "", "webhook_url")?;
    if let Some(captions) = o.get("captions") {
        if let Some(burn) = captions.as_object().and_then(|c| c.get("burn")) {
            leaf::<bool>(burn, "captions.burn")?;
        }
        // Anything else (not an object, an unknown key) in serde's words
        leaf::<Captions>(captions, "captions")?;
    }
    Ok(())
}

fn walk_shot(v: &Value, at: &str) -> Result<(), BriefError> {
    let s = object(v, at)?;
    req_leaf::<String>(s, at, "id")?;
    req_leaf::<ShotKind>(s, at, "kind")?;
    req_leaf::<String>(s, at, "prompt")?;
    req_leaf::<f64>(s, at, "duration_s")?;
    opt_leaf::<bool>(s, at, "hero")?;
    if let Some(cast) = s.get("cast") {
        let field = path(at, "cast");
        for (j, c) in array(cast, &field)?.iter().enumerate() {
            leaf::<String>(c, &format!("{field}[{j}]"))?;
        }
    }
    if let Some(d) = s.get("dialogue").filter(|v| !v.is_null()) {
        let field = path(at, "dialogue");
        let d = object(d, &field)?;
        req_leaf::<String>(d, &field, "character")?;
        req_leaf::<String>(d, &field, "line")?;
    }
    Ok(())
}
