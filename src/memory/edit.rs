//! `PUT /v1/memory`: what a creator may set in their graph, validated field by field.
//!
//! The body is a partial document; every top-level key is optional:
//!
//! ```json
//! {
//!   "voices": {"narrator": "21m00Tcm4TlvDq8ikWAM", "old_voice": null},
//!   "looks": {"keeper": {"description": "yellow oilskin", "reference_images": ["looks/keeper.png"]}},
//!   "fingerprint": {"palette": ["#1b2a3c"], "grade": "teal-orange", "lens": "35mm", "lighting": "low-key"},
//!   "formats": {"short_doc": {"pacing": {"avg_shot_s": 5.2, "energy": "slow_burn"},
//!                             "shot_mix": {"establishing": 0.3, "close_up": 0.7},
//!                             "hook_style": "cold open on a question"}},
//!   "audience": {"primary_platform": "tiktok", "regions": ["DE"], "interests": ["sea"]}
//! }
//! ```
//!
//! A look's `reference_images` are R2 keys that get signed and sent to providers, so each must
//! be the creator's own upload: a well-formed key under `creators/{creator}/`
//! ([`crate::api::media::creator_owns_key`]). The creator is the graph's owner, so
//! [`apply_edit`] checks it, before it changes anything, as it checks the row limits.
//!
//! Merge semantics, one level deep: a key that is present replaces that row, `null` deletes it,
//! an absent key leaves it alone (`voices.narrator` is one row; `fingerprint` is one row).
//! [`parse_edit`] checks everything before [`apply_edit`] changes anything, so a refused edit
//! leaves the graph as it was.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::api::media;
use crate::brief::{Energy, Platform, ShotKind};
use crate::ids::CreatorId;
use crate::memory::error::MemoryError;
use crate::memory::graph::{
    AudienceSignal, FormatDna, FormatPacing, Look, MemoryGraph, VisualFingerprint, Voice,
};
use crate::memory::json::{self, Obj, ident, join, object, text, token};

/// Most voice rows a graph keeps
pub const MAX_VOICES: usize = 256;
/// Most look rows a graph keeps
pub const MAX_LOOKS: usize = 256;
/// Most format rows a graph keeps
pub const MAX_FORMATS: usize = 64;
/// Most reference images per look
pub const MAX_REFERENCE_IMAGES: usize = 8;
/// How far the shot mix may be from summing to 1 (rounding in hand-written fractions)
pub const SHOT_MIX_TOLERANCE: f64 = 0.02;

/// What to do with one row
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", content = "row", rename_all = "snake_case")]
pub enum Change<T> {
    /// Insert or replace
    Set(T),
    /// Delete
    Clear,
}

/// A validated edit
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct MemoryEdit {
    /// Voice rows by name
    pub voices: BTreeMap<String, Change<String>>,
    /// Look rows by cast id
    pub looks: BTreeMap<String, Change<Look>>,
    /// The fingerprint row, when the edit touches it
    pub fingerprint: Option<Change<VisualFingerprint>>,
    /// Format rows by format name
    pub formats: BTreeMap<String, Change<FormatDna>>,
    /// The audience row, when the edit touches it
    pub audience: Option<Change<AudienceSignal>>,
}

/// A row an operation wrote or deleted: what the Durable Object must persist
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "table", content = "key", rename_all = "snake_case")]
pub enum RowKey {
    /// `voices` by name
    Voice(String),
    /// `looks` by cast id
    Look(String),
    /// The single fingerprint row
    Fingerprint,
    /// `formats` by name
    Format(String),
    /// The single audience row
    Audience,
    /// `renders` by job id, with its `shots`
    Render(String),
    /// `outcomes` by job id, with its `shot_outcomes`
    Outcome(String),
    /// Every folded aggregate row (`folded`, `folded_formats`; small, rewritten together)
    Folded,
    /// The channel import's priors (`channel`, `channel_formats`; small, rewritten together)
    Channel,
}

/// One row written or deleted
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", content = "row", rename_all = "snake_case")]
pub enum RowChange {
    /// Inserted or replaced
    Upsert(RowKey),
    /// Deleted (deleting a row that was not there is still reported: idempotent for the store)
    Delete(RowKey),
}

const TOP_LEVEL: [&str; 5] = ["voices", "looks", "fingerprint", "formats", "audience"];

/// Parses and validates a `PUT /v1/memory` body
///
/// # Errors
///
/// [`MemoryError::Malformed`] when it is not JSON, [`MemoryError::Invalid`] naming the first
/// offending field otherwise.
pub fn parse_edit(body: &str) -> Result<MemoryEdit, MemoryError> {
    let map = json::parse_object(body)?;
    let top = Obj {
        map: &map,
        path: "",
    };
    top.only(&TOP_LEVEL)?;
    let mut edit = MemoryEdit::default();
    if let Some(v) = map.get("voices") {
        edit.voices = rows(v, "voices", token)?;
    }
    if let Some(v) = map.get("looks") {
        edit.looks = rows(v, "looks", look)?;
    }
    if let Some(v) = map.get("fingerprint") {
        edit.fingerprint = Some(single(v, |v| fingerprint(v, "fingerprint"))?);
    }
    if let Some(v) = map.get("formats") {
        edit.formats = rows(v, "formats", format_dna)?;
    }
    if let Some(v) = map.get("audience") {
        edit.audience = Some(single(v, |v| audience(v, "audience"))?);
    }
    Ok(edit)
}

/// Applies a validated edit; returns the rows to persist
///
/// # Errors
///
/// [`MemoryError::Invalid`] (and no change) when the edit would take a table over its row limit,
/// or names a reference image that is not the graph owner's ([`owned_reference_images`]).
pub fn apply_edit(
    graph: &mut MemoryGraph,
    edit: &MemoryEdit,
) -> Result<Vec<RowChange>, MemoryError> {
    owned_reference_images(&graph.creator, edit)?;
    let voices_after = count_after(graph.voices.iter().map(|v| v.name.as_str()), &edit.voices);
    if voices_after > MAX_VOICES {
        return Err(MemoryError::invalid(
            "voices",
            format!("at most {MAX_VOICES} voices"),
        ));
    }
    let looks_after = count_after(graph.looks.iter().map(|l| l.cast_id.as_str()), &edit.looks);
    if looks_after > MAX_LOOKS {
        return Err(MemoryError::invalid(
            "looks",
            format!("at most {MAX_LOOKS} looks"),
        ));
    }
    let formats_after = count_after(
        graph.formats.iter().map(|f| f.format.as_str()),
        &edit.formats,
    );
    if formats_after > MAX_FORMATS {
        return Err(MemoryError::invalid(
            "formats",
            format!("at most {MAX_FORMATS} formats"),
        ));
    }

    let mut changes = Vec::new();
    for (name, change) in &edit.voices {
        let row = change_row(change, |voice_id| Voice {
            name: name.clone(),
            voice_id: voice_id.clone(),
        });
        changes.push(upsert_by(
            &mut graph.voices,
            row,
            |v| v.name == *name,
            RowKey::Voice(name.clone()),
        ));
    }
    for (cast_id, change) in &edit.looks {
        let row = change_row(change, Look::clone);
        changes.push(upsert_by(
            &mut graph.looks,
            row,
            |l| l.cast_id == *cast_id,
            RowKey::Look(cast_id.clone()),
        ));
    }
    for (format, change) in &edit.formats {
        let row = change_row(change, FormatDna::clone);
        changes.push(upsert_by(
            &mut graph.formats,
            row,
            |f| f.format == *format,
            RowKey::Format(format.clone()),
        ));
    }
    if let Some(change) = &edit.fingerprint {
        graph.fingerprint = change_row(change, VisualFingerprint::clone);
        changes.push(row_change(change, RowKey::Fingerprint));
    }
    if let Some(change) = &edit.audience {
        graph.audience = change_row(change, AudienceSignal::clone);
        changes.push(row_change(change, RowKey::Audience));
    }
    Ok(changes)
}

/// Every reference image of every look the edit sets must be under the creator's own prefix:
/// another creator's uploads or any render's frames would otherwise be signed and handed to a
/// provider on this creator's behalf
///
/// # Errors
///
/// [`MemoryError::Invalid`] naming the first foreign key, e.g. `looks.keeper.reference_images[1]`.
pub fn owned_reference_images(creator: &CreatorId, edit: &MemoryEdit) -> Result<(), MemoryError> {
    for (cast_id, change) in &edit.looks {
        let look = match change {
            Change::Set(look) => look,
            Change::Clear => continue,
        };
        let field = join(&join("looks", cast_id), "reference_images");
        if let Some(i) = look
            .reference_images
            .iter()
            .position(|key| !media::creator_owns_key(creator, key))
        {
            let prefix = media::creator_prefix(creator).unwrap_or_else(|| "creators/".into());
            return Err(MemoryError::invalid(
                format!("{field}[{i}]"),
                format!(
                    "must be one of your own uploads: a key under {prefix} of letters, digits, \
                     '.', '-' and '_' between slashes, without empty, '.' or '..' segments"
                ),
            ));
        }
    }
    Ok(())
}

fn count_after<'a, T>(
    existing: impl Iterator<Item = &'a str>,
    edit: &BTreeMap<String, Change<T>>,
) -> usize {
    let mut keys: BTreeSet<&str> = existing.collect();
    for (k, change) in edit {
        match change {
            Change::Set(_) => keys.insert(k.as_str()),
            Change::Clear => keys.remove(k.as_str()),
        };
    }
    keys.len()
}

fn change_row<T, R>(change: &Change<T>, make: impl FnOnce(&T) -> R) -> Option<R> {
    match change {
        Change::Set(v) => Some(make(v)),
        Change::Clear => None,
    }
}

fn row_change<T>(change: &Change<T>, key: RowKey) -> RowChange {
    match change {
        Change::Set(_) => RowChange::Upsert(key),
        Change::Clear => RowChange::Delete(key),
    }
}

fn upsert_by<T>(
    table: &mut Vec<T>,
    row: Option<T>,
    is_key: impl Fn(&T) -> bool,
    key: RowKey,
) -> RowChange {
    let at = table.iter().position(&is_key);
    match (row, at) {
        (Some(row), Some(i)) => {
            if let Some(slot) = table.get_mut(i) {
                *slot = row;
            }
            RowChange::Upsert(key)
        }
        (Some(row), None) => {
            table.push(row);
            RowChange::Upsert(key)
        }
        (None, _) => {
            table.retain(|r| !is_key(r));
            RowChange::Delete(key)
        }
    }
}

/// A map of rows keyed by identifier, `null` values deleting
fn rows<T>(
    value: &Value,
    path: &str,
    parse: impl Fn(&Value, &str) -> Result<T, MemoryError>,
) -> Result<BTreeMap<String, Change<T>>, MemoryError> {
    let obj = object(value, path)?;
    let mut out = BTreeMap::new();
    for (key, v) in obj.map {
        let field = join(path, key);
        let key = ident(key, &field)?;
        let change = if v.is_null() {
            Change::Clear
        } else {
            Change::Set(parse(v, &field)?)
        };
        out.insert(key, change);
    }
    Ok(out)
}

fn single<T>(
    value: &Value,
    parse: impl Fn(&Value) -> Result<T, MemoryError>,
) -> Result<Change<T>, MemoryError> {
    if value.is_null() {
        Ok(Change::Clear)
    } else {
        parse(value).map(Change::Set)
    }
}

fn look(value: &Value, path: &str) -> Result<Look, MemoryError> {
    let obj = object(value, path)?;
    obj.only(&["description", "reference_images"])?;
    let description = obj
        .text("description", 2000)?
        .ok_or_else(|| MemoryError::invalid(join(path, "description"), "missing required field"))?;
    let reference_images = obj.strings("reference_images", MAX_REFERENCE_IMAGES, r2_key)?;
    let cast_id = path.rsplit('.').next().unwrap_or(path).to_owned();
    Ok(Look {
        cast_id,
        description,
        reference_images,
    })
}

/// An R2 object key: relative, no `..` segments, no whitespace
fn r2_key(v: &Value, path: &str) -> Result<String, MemoryError> {
    let key = token(v, path)?;
    if key.starts_with('/') || key.split('/').any(|seg| seg == ".." || seg.is_empty()) {
        return Err(MemoryError::invalid(
            path,
            "must be a relative R2 key without empty or '..' segments",
        ));
    }
    Ok(key)
}

fn fingerprint(value: &Value, path: &str) -> Result<VisualFingerprint, MemoryError> {
    let obj = object(value, path)?;
    obj.only(&["palette", "grade", "lens", "lighting"])?;
    Ok(VisualFingerprint {
        palette: obj.strings("palette", 16, hex_colour)?,
        grade: obj.text("grade", 200)?,
        lens: obj.text("lens", 200)?,
        lighting: obj.text("lighting", 200)?,
    })
}

fn hex_colour(v: &Value, path: &str) -> Result<String, MemoryError> {
    let s = v.as_str().unwrap_or_default();
    let ok = s.len() == 7 && s.starts_with('#') && s.bytes().skip(1).all(|b| b.is_ascii_hexdigit());
    if ok {
        Ok(s.to_ascii_lowercase())
    } else {
        Err(MemoryError::invalid(path, "must be a colour like #1b2a3c"))
    }
}

fn format_dna(value: &Value, path: &str) -> Result<FormatDna, MemoryError> {
    let obj = object(value, path)?;
    obj.only(&["pacing", "shot_mix", "hook_style"])?;
    let pacing_path = join(path, "pacing");
    let pacing_value = obj
        .get("pacing")
        .ok_or_else(|| MemoryError::invalid(&pacing_path, "missing required field"))?;
    let pacing = object(pacing_value, &pacing_path)?;
    pacing.only(&["avg_shot_s", "energy"])?;
    let avg_shot_s = pacing.number("avg_shot_s", 0.5, 60.0)?.ok_or_else(|| {
        MemoryError::invalid(join(&pacing_path, "avg_shot_s"), "missing required field")
    })?;
    let energy: Energy = pacing
        .name("energy", "energy (slow_burn, steady, punchy)")?
        .ok_or_else(|| {
            MemoryError::invalid(join(&pacing_path, "energy"), "missing required field")
        })?;
    Ok(FormatDna {
        format: path.rsplit('.').next().unwrap_or(path).to_owned(),
        pacing: FormatPacing { avg_shot_s, energy },
        shot_mix: shot_mix(obj, path)?,
        hook_style: obj.text("hook_style", 200)?,
    })
}

fn shot_mix(obj: Obj<'_>, path: &str) -> Result<BTreeMap<ShotKind, f64>, MemoryError> {
    let mix_path = join(path, "shot_mix");
    let Some(v) = obj.get("shot_mix") else {
        return Ok(BTreeMap::new());
    };
    let mix = object(v, &mix_path)?;
    let mut out = BTreeMap::new();
    for key in mix.map.keys() {
        let field = join(&mix_path, key);
        let kind = ShotKind::ALL
            .into_iter()
            .find(|k| k.as_str() == key)
            .ok_or_else(|| MemoryError::invalid(&field, "not a shot kind"))?;
        let share = mix
            .number(key, 0.0, 1.0)?
            .ok_or_else(|| MemoryError::invalid(&field, "must be a number from 0 to 1"))?;
        out.insert(kind, share);
    }
    let sum: f64 = out.values().sum();
    if !out.is_empty() && (sum - 1.0).abs() > SHOT_MIX_TOLERANCE {
        return Err(MemoryError::invalid(
            mix_path,
            format!("shares must sum to 1 (they sum to {sum:.3})"),
        ));
    }
    Ok(out)
}

fn audience(value: &Value, path: &str) -> Result<AudienceSignal, MemoryError> {
    let obj = object(value, path)?;
    obj.only(&["primary_platform", "regions", "interests"])?;
    let short = |v: &Value, p: &str| text(v, p, 64);
    Ok(AudienceSignal {
        primary_platform: obj.name::<Platform>("primary_platform", "platform")?,
        regions: obj.strings("regions", 32, short)?,
        interests: obj.strings("interests", 32, short)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edit_with_images(images: &[&str]) -> String {
        serde_json::json!({"looks": {"keeper": {"description": "yellow oilskin", "reference_images": images}}})
            .to_string()
    }

    fn apply(creator: &str, body: &str) -> (MemoryGraph, Result<Vec<RowChange>, MemoryError>) {
        let mut graph = MemoryGraph::new(creator.into());
        let result = parse_edit(body).and_then(|edit| apply_edit(&mut graph, &edit));
        (graph, result)
    }

    #[test]
    fn own_uploads_are_accepted() {
        let (graph, result) = apply(
            "demo",
            &edit_with_images(&["creators/demo/looks/keeper-1.png", "creators/demo/k.v2.jpg"]),
        );
        assert!(result.is_ok(), "{result:?}");
        assert_eq!(graph.looks[0].reference_images.len(), 2);
    }

    #[test]
    fn foreign_and_tricky_keys_are_400_naming_the_field_and_change_nothing() {
        for (images, at) in [
            (vec!["creators/rival/looks/keeper.png"], 0),
            (
                vec![
                    "creators/demo/ok.png",
                    "renders/rnd_1/s01.keyframe/1/out.png",
                ],
                1,
            ),
            (vec!["looks/keeper.png"], 0),
            (vec!["creators/demo/%2e%2e/rival/x.png"], 0),
            (vec!["creators/demo/..%2Frival/x.png"], 0),
            (vec!["creators/demo/a\\b.png"], 0),
            (vec!["creators/demo/./x.png"], 0),
            (vec!["creators/demo"], 0),
            (vec!["creators/demox/x.png"], 0),
        ] {
            let (graph, result) = apply("demo", &edit_with_images(&images));
            match result {
                Err(MemoryError::Invalid { field, message }) => {
                    assert_eq!(
                        field,
                        format!("looks.keeper.reference_images[{at}]"),
                        "{images:?}"
                    );
                    assert!(message.contains("creators/demo/"), "{message}");
                }
                other => panic!("{images:?}: {other:?}"),
            }
            assert!(graph.looks.is_empty(), "{images:?}: nothing changed");
        }
    }

    #[test]
    fn traversal_and_absolute_keys_are_refused_while_parsing() {
        for bad in [
            "/creators/demo/x.png",
            "creators/demo/../rival/x.png",
            "creators/demo//x.png",
        ] {
            let err = parse_edit(&edit_with_images(&[bad])).unwrap_err();
            assert!(
                matches!(&err, MemoryError::Invalid { field, .. } if field == "looks.keeper.reference_images[0]"),
                "{bad}: {err:?}"
            );
        }
    }

    #[test]
    fn clearing_a_look_needs_no_ownership() {
        let (_, result) = apply("demo", r#"{"looks": {"keeper": null}}"#);
        assert!(result.is_ok(), "{result:?}");
    }
}
