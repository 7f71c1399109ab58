//! How much prompt and text a brief makes once planned, measured from the brief alone: what
//! validation holds against the caps of `limits`, and what the plan counts on.

use super::limits::MIN_SPLIT_CLIP_S;
use super::types::{Brief, Shot};

/// What the keyframe prompt adds for one cast member: `. `, the name, `: `, the description
/// (trimmed, as the plan writes it)
pub fn cast_note_chars(name: &str, description: &str) -> usize {
    4usize
        .saturating_add(name.chars().count())
        .saturating_add(description.trim().chars().count())
}

/// The length in characters of the keyframe prompt the plan builds for `shot` from the brief
/// alone (its prompt, then name and description of each cast member the brief has)
pub fn keyframe_prompt_chars(brief: &Brief, shot: &Shot) -> usize {
    shot.cast
        .iter()
        .filter_map(|id| brief.cast.iter().find(|m| &m.id == id))
        .map(|m| cast_note_chars(&m.name, &m.description))
        .fold(trimmed_chars(&shot.prompt), usize::saturating_add)
}

/// The characters of prompt and text the plan of `brief` carries, from the brief alone: per
/// shot its keyframe prompt, its motion prompt (once per part it may be split into) and its line
/// (spoken by the dialogue stage, and captioned by the assembly with the speaker's name); the
/// voiceover (spoken, and captioned) and the score mood
pub fn plan_text_chars(brief: &Brief) -> usize {
    let shots = brief.shots.iter().map(|shot| {
        let line = shot.dialogue.as_ref().map_or(0, |d| {
            let speaker = brief
                .cast
                .iter()
                .find(|c| c.id == d.character)
                .map_or(&d.character, |c| &c.name);
            trimmed_chars(&d.line)
                .saturating_mul(2)
                .saturating_add(speaker.chars().count())
        });
        keyframe_prompt_chars(brief, shot)
            .saturating_add(
                trimmed_chars(&shot.prompt).saturating_mul(motion_parts(shot.duration_s)),
            )
            .saturating_add(line)
    });
    let job = [
        brief
            .voiceover
            .as_ref()
            .map_or(0, |v| trimmed_chars(&v.text).saturating_mul(2)),
        brief.score.as_ref().map_or(0, |s| trimmed_chars(&s.mood)),
    ];
    shots.chain(job).fold(0, usize::saturating_add)
}

/// The most parts a shot of `duration_s` is split into (each with its own motion prompt)
pub fn motion_parts(duration_s: f64) -> usize {
    if duration_s.is_finite() && duration_s > MIN_SPLIT_CLIP_S {
        // `as` saturates; validation bounds durations far below that.
        (duration_s / MIN_SPLIT_CLIP_S).ceil() as usize
    } else {
        1
    }
}

fn trimmed_chars(s: &str) -> usize {
    s.trim().chars().count()
}
