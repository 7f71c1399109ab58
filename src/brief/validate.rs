//! Brief validation: raw JSON in, a checked [`ValidatedBrief`] or a [`BriefError`] naming the
//! offending field out.
//!
//! Two layers, both reporting the first problem in document order with a field path such as
//! `shots[3].duration_s`:
//!
//! 1. shape: serde errors (wrong JSON type, unknown enum value, missing field) are located by
//!    `diagnose`, which walks the JSON value along the brief's schema, because serde_json's own
//!    errors only carry a line and column;
//! 2. meaning: [`validate_brief`] checks what types cannot say (unique shot ids, known cast ids,
//!    positive finite durations, a budget, at most [`MAX_SHOTS`] shots, http(s) webhooks), and
//!    the size of everything: each text field, each list, each keyframe prompt and the plan's
//!    text as a whole (the limits are in [`super::limits`]; lengths count characters).
//!
//! Ra's pacing push-back ([`PacingWarning`]) comes from [`pacing`] and never blocks a render.
//! At create, [`parse_render_brief`] adds the one check that needs the model registry
//! ([`feasible`]): a brief is refused only when it truly cannot be rendered. A brief without
//! `pacing` also needs the creator's Memory Graph: [`require_pacing`] refuses it (naming
//! `pacing`) unless its `format` names a format the Graph has ([`format_pacing`]).

pub mod cast_from_graph;
mod diagnose;
pub mod feasible;
pub mod format_pacing;
pub mod pacing;
pub mod screen_time;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::limits::{
    MAX_CAST, MAX_CAST_DESCRIPTION_CHARS, MAX_CAST_NAME_CHARS, MAX_CAST_PER_SHOT,
    MAX_DIALOGUE_LINE_CHARS, MAX_FORMAT_CHARS, MAX_KEYFRAME_PROMPT_CHARS, MAX_LOGLINE_CHARS,
    MAX_PLAN_TEXT_CHARS, MAX_PLATFORMS, MAX_PROMPT_CHARS, MAX_QUOTED_MESSAGE_CHARS,
    MAX_SCORE_MOOD_CHARS, MAX_TIMELINE_CLIPS, MAX_VOICE_CHARS, MAX_VOICEOVER_TEXT_CHARS,
    MAX_WEBHOOK_URL_CHARS, MIN_SPLIT_CLIP_S,
};
use super::text_size::{keyframe_prompt_chars, motion_parts, plan_text_chars};
use super::types::Brief;

pub use super::limits::{
    MAX_DEADLINE_S, MAX_ID_LEN, MAX_MASTER_DURATION_S, MAX_SHOT_DURATION_S, MAX_SHOTS,
};
pub use super::ra::PacingWarning;
pub use cast_from_graph::{cast_from_graph, graph_cast_ids};
pub use format_pacing::require_pacing;
pub use pacing::{pacing_warnings, pacing_warnings_for};

/// Why a brief was refused; every variant but `Syntax` names the field (`shots[3].duration_s`)
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum BriefError {
    /// The body is not JSON at all
    #[error("body is not valid JSON: {message}")]
    Syntax {
        /// serde_json's words, with line and column
        message: String,
    },
    /// A required field is absent
    #[error("{field}: missing required field")]
    Missing {
        /// Path of the missing field
        field: String,
    },
    /// A field has the wrong JSON type or a value outside its enumeration
    #[error("{field}: {message}")]
    Type {
        /// Path of the field
        field: String,
        /// What was expected
        message: String,
    },
    /// A field is well-formed but not acceptable
    #[error("{field}: {message}")]
    Invalid {
        /// Path of the field
        field: String,
        /// What is wrong, for a person
        message: String,
    },
}

impl BriefError {
    /// The path of the offending field, when there is one
    pub fn field(&self) -> Option<&str> {
        match self {
            Self::Syntax { .. } => None,
            Self::Missing { field } | Self::Type { field, .. } | Self::Invalid { field, .. } => {
                Some(field)
            }
        }
    }

    /// A stable machine-readable code for the API's error body
    pub fn code(&self) -> &'static str {
        match self {
            Self::Syntax { .. } => "brief_syntax",
            Self::Missing { .. } => "brief_missing_field",
            Self::Type { .. } => "brief_type",
            Self::Invalid { .. } => "brief_invalid",
        }
    }

    fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// `message`, cut to [`MAX_QUOTED_MESSAGE_CHARS`] characters (with `...` when cut)
pub(crate) fn clipped(message: String) -> String {
    match message.char_indices().nth(MAX_QUOTED_MESSAGE_CHARS) {
        Some((at, _)) => format!("{}...", &message[..at]),
        None => message,
    }
}

/// A brief that passed validation, with Ra's pacing notes
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValidatedBrief {
    /// The brief, unchanged
    pub brief: Brief,
    /// Pacing push-back for the creator; never blocks the render
    pub warnings: Vec<PacingWarning>,
}

/// Parses and validates a Director Brief from a request body
pub fn parse_brief(json: &[u8]) -> Result<ValidatedBrief, BriefError> {
    let syntax = |e: &dyn std::fmt::Display| BriefError::Syntax {
        message: clipped(e.to_string()),
    };
    let text = std::str::from_utf8(json)
        .map_err(|e| syntax(&format_args!("the body is not UTF-8: {e}")))?;
    // Straight from the text (the reader a stored job spec's brief is read with, so the Worker
    // carries one deserializer of `Brief`); only a brief that fails is read again as a value,
    // to tell bad JSON from a bad field and to name the field.
    let brief = match serde_json::from_str::<Brief>(text) {
        Ok(brief) => brief,
        Err(e) => {
            let value: serde_json::Value = serde_json::from_str(text).map_err(|e| syntax(&e))?;
            return Err(diagnose::diagnose(&value).unwrap_or(BriefError::Type {
                field: String::new(),
                message: clipped(e.to_string()),
            }));
        }
    };
    validate_brief(brief)
}

/// Parses a brief for a new render: [`parse_brief`], then refuses what cannot be rendered at
/// all on `registry` for `creator` (a stage no model makes, a budget below the cheapest plan;
/// see [`feasible`]), before anything is written or spent
pub fn parse_render_brief(
    json: &[u8],
    registry: &crate::routing::Registry,
    creator: &crate::ids::CreatorId,
) -> Result<ValidatedBrief, BriefError> {
    let validated = parse_brief(json)?;
    feasible::check_feasible(&validated.brief, registry, Some(creator))?;
    Ok(validated)
}

/// Checks a typed brief's meaning and collects pacing warnings
pub fn validate_brief(brief: Brief) -> Result<ValidatedBrief, BriefError> {
    check(&brief)?;
    let warnings = pacing_warnings(&brief);
    Ok(ValidatedBrief { brief, warnings })
}

fn non_blank(field: &str, s: &str) -> Result<(), BriefError> {
    if s.trim().is_empty() {
        return Err(BriefError::invalid(field, "must not be empty"));
    }
    Ok(())
}

/// At most `max` characters (Unicode scalar values, not bytes)
fn at_most(field: &str, s: &str, max: usize) -> Result<(), BriefError> {
    // Stop counting once over: the answer is the same and a huge field costs no more.
    let n = s.chars().take(max.saturating_add(1)).count();
    if n > max {
        return Err(BriefError::invalid(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    Ok(())
}

/// Not blank, and at most `max` characters
fn text(field: &str, s: &str, max: usize) -> Result<(), BriefError> {
    non_blank(field, s)?;
    at_most(field, s, max)
}

fn at_most_items(field: &str, len: usize, max: usize, what: &str) -> Result<(), BriefError> {
    if len > max {
        return Err(BriefError::invalid(
            field,
            format!("at most {max} {what}, got {len}"),
        ));
    }
    Ok(())
}

fn positive_finite(field: &str, v: f64) -> Result<(), BriefError> {
    if !v.is_finite() {
        return Err(BriefError::invalid(field, "must be a finite number"));
    }
    if v <= 0.0 {
        return Err(BriefError::invalid(
            field,
            format!("must be greater than 0, got {v}"),
        ));
    }
    Ok(())
}

fn at_most_seconds(field: &str, v: f64, max: f64) -> Result<(), BriefError> {
    if v > max {
        return Err(BriefError::invalid(
            field,
            format!("may be at most {max} s, got {v}"),
        ));
    }
    Ok(())
}

/// Ids travel into stage ids (`s04.motion`) and R2 keys, so they stay URL- and key-safe
fn safe_id(field: &str, id: &str) -> Result<(), BriefError> {
    text(field, id, MAX_ID_LEN)?;
    if !id
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err(BriefError::invalid(
            field,
            format!("`{id}` may only contain letters, digits, `_` and `-`"),
        ));
    }
    Ok(())
}

fn check(b: &Brief) -> Result<(), BriefError> {
    text("project_id", b.project_id.as_str(), MAX_ID_LEN)?;
    text("logline", &b.logline, MAX_LOGLINE_CHARS)?;
    text("format", &b.format, MAX_FORMAT_CHARS)?;
    if b.deadline_s == 0 {
        return Err(BriefError::invalid(
            "deadline_s",
            "must be greater than 0 seconds",
        ));
    }
    if b.deadline_s > MAX_DEADLINE_S {
        return Err(BriefError::invalid(
            "deadline_s",
            format!("must be at most {MAX_DEADLINE_S} seconds (7 days)"),
        ));
    }
    positive_finite("budget_usd", b.budget_usd)?;
    if b.platforms.is_empty() {
        return Err(BriefError::invalid(
            "platforms",
            "name at least one platform",
        ));
    }
    at_most_items("platforms", b.platforms.len(), MAX_PLATFORMS, "platforms")?;
    if let Some(pacing) = &b.pacing {
        positive_finite("pacing.target_duration_s", pacing.target_duration_s)?;
        at_most_seconds(
            "pacing.target_duration_s",
            pacing.target_duration_s,
            MAX_MASTER_DURATION_S,
        )?;
    }

    at_most_items("cast", b.cast.len(), MAX_CAST, "cast members")?;
    let mut cast_ids: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, member) in b.cast.iter().enumerate() {
        safe_id(&format!("cast[{i}].id"), &member.id)?;
        if let Some(first) = cast_ids.insert(member.id.as_str(), i) {
            return Err(BriefError::invalid(
                format!("cast[{i}].id"),
                format!("duplicate cast id `{}` (first at cast[{first}])", member.id),
            ));
        }
        // Only the id: the member is the Memory Graph's, filled in at create (`cast_from_graph`).
        if !member.from_graph() {
            text(
                &format!("cast[{i}].name"),
                &member.name,
                MAX_CAST_NAME_CHARS,
            )?;
        }
        at_most(
            &format!("cast[{i}].description"),
            &member.description,
            MAX_CAST_DESCRIPTION_CHARS,
        )?;
    }

    if b.shots.is_empty() {
        return Err(BriefError::invalid(
            "shots",
            "a brief needs at least one shot",
        ));
    }
    if b.shots.len() > MAX_SHOTS {
        return Err(BriefError::invalid(
            "shots",
            format!("at most {MAX_SHOTS} shots per brief, got {}", b.shots.len()),
        ));
    }
    let mut shot_ids: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, shot) in b.shots.iter().enumerate() {
        let at = |f: &str| format!("shots[{i}].{f}");
        safe_id(&at("id"), shot.id.as_str())?;
        if let Some(first) = shot_ids.insert(shot.id.as_str(), i) {
            return Err(BriefError::invalid(
                at("id"),
                format!("duplicate shot id `{}` (first at shots[{first}])", shot.id),
            ));
        }
        text(&at("prompt"), &shot.prompt, MAX_PROMPT_CHARS)?;
        positive_finite(&at("duration_s"), shot.duration_s)?;
        if shot.duration_s > MAX_SHOT_DURATION_S {
            return Err(BriefError::invalid(
                at("duration_s"),
                format!(
                    "a shot may be at most {MAX_SHOT_DURATION_S} s, got {}",
                    shot.duration_s
                ),
            ));
        }
        at_most_items(
            &at("cast"),
            shot.cast.len(),
            MAX_CAST_PER_SHOT,
            "cast members per shot",
        )?;
        for (j, member) in shot.cast.iter().enumerate() {
            at_most(&format!("shots[{i}].cast[{j}]"), member, MAX_ID_LEN)?;
            if !cast_ids.contains_key(member.as_str()) {
                return Err(BriefError::invalid(
                    format!("shots[{i}].cast[{j}]"),
                    format!("`{member}` is not in the brief's cast"),
                ));
            }
            // A repeat would only repeat the member's description in the prompt: refused rather
            // than silently dropped, so the brief the job keeps is the brief the app sent.
            if let Some(first) = shot.cast.iter().take(j).position(|m| m == member) {
                return Err(BriefError::invalid(
                    format!("shots[{i}].cast[{j}]"),
                    format!("duplicate cast id `{member}` (first at shots[{i}].cast[{first}])"),
                ));
            }
        }
        let keyframe = keyframe_prompt_chars(b, shot);
        if keyframe > MAX_KEYFRAME_PROMPT_CHARS {
            return Err(BriefError::invalid(
                at("cast"),
                format!(
                    "the keyframe prompt (the prompt, then each cast member's name and \
                     description) would be {keyframe} characters, at most \
                     {MAX_KEYFRAME_PROMPT_CHARS}: shorten the prompt or the descriptions, or \
                     name fewer cast members"
                ),
            ));
        }
        if let Some(d) = &shot.dialogue {
            at_most(&at("dialogue.character"), &d.character, MAX_ID_LEN)?;
            if !cast_ids.contains_key(d.character.as_str()) {
                return Err(BriefError::invalid(
                    at("dialogue.character"),
                    format!("`{}` is not in the brief's cast", d.character),
                ));
            }
            text(&at("dialogue.line"), &d.line, MAX_DIALOGUE_LINE_CHARS)?;
        }
    }

    if let Some(vo) = &b.voiceover {
        text("voiceover.text", &vo.text, MAX_VOICEOVER_TEXT_CHARS)?;
        text("voiceover.voice", &vo.voice, MAX_VOICE_CHARS)?;
    }
    if let Some(score) = &b.score {
        text("score.mood", &score.mood, MAX_SCORE_MOOD_CHARS)?;
        positive_finite("score.duration_s", score.duration_s)?;
        at_most_seconds("score.duration_s", score.duration_s, MAX_MASTER_DURATION_S)?;
    }
    // Every field is within its limit here, so the total is bounded too; checked as a whole
    // because many shots repeating long cast descriptions add up.
    let total = plan_text_chars(b);
    if total > MAX_PLAN_TEXT_CHARS {
        return Err(BriefError::invalid(
            "shots",
            format!(
                "the plan's prompts and texts would be {total} characters, at most \
                 {MAX_PLAN_TEXT_CHARS}: shorten prompts or cast descriptions"
            ),
        ));
    }
    // The cut is the shots back to back; an assembly makes at most an hour (a millisecond of
    // slack for the sum's rounding: 2,000 shots of 1.8 s add up to a hair over 3,600).
    let cut_s: f64 = b.shots.iter().map(|s| s.duration_s).sum();
    if cut_s > MAX_MASTER_DURATION_S + 0.001 {
        return Err(BriefError::invalid(
            "shots",
            format!(
                "the shots add up to {cut_s:.1} s, and a cut may be at most \
                 {MAX_MASTER_DURATION_S} s: fewer or shorter shots"
            ),
        ));
    }
    // Every clip is an item of the assembly's timeline: a brief whose shots split into more
    // clips than an assembly takes could never finish, so it is refused before anything is
    // spent. Counted with the most parts a shot can be split into.
    let clips = b
        .shots
        .iter()
        .map(|s| motion_parts(s.duration_s))
        .fold(0, usize::saturating_add);
    if clips > MAX_TIMELINE_CLIPS {
        return Err(BriefError::invalid(
            "shots",
            format!(
                "the shots would make {clips} clips (a shot longer than {MIN_SPLIT_CLIP_S} s may \
                 be split into parts), at most {MAX_TIMELINE_CLIPS} fit one assembly: fewer or \
                 shorter shots"
            ),
        ));
    }
    if let Some(url) = &b.webhook_url {
        check_webhook_url(url)?;
    }
    Ok(())
}

fn check_webhook_url(url: &str) -> Result<(), BriefError> {
    at_most("webhook_url", url, MAX_WEBHOOK_URL_CHARS)?;
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| BriefError::invalid("webhook_url", "must be an http:// or https:// URL"))?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if host.is_empty() || host.contains(char::is_whitespace) {
        return Err(BriefError::invalid("webhook_url", "must name a host"));
    }
    Ok(())
}
