//! How long things take on screen: the shortest a shot of a kind reads, and how long a line
//! takes to say. Ra's pacing notes and the plan's timings both count on these.

use crate::brief::types::ShotKind;

/// Natural speaking rate used to time dialogue and narration, words per second
pub const WORDS_PER_SECOND: f64 = 2.5;

/// The shortest a shot of this kind reads on screen, seconds
pub fn min_duration_s(kind: ShotKind) -> f64 {
    match kind {
        ShotKind::Establishing => 3.0,
        ShotKind::Crowd => 2.5,
        ShotKind::Dialogue => 2.0,
        ShotKind::CloseUp | ShotKind::Action => 1.5,
        ShotKind::BRoll => 1.0,
    }
}

/// How long a line takes to say at [`WORDS_PER_SECOND`]
pub fn speaking_time_s(text: &str) -> f64 {
    text.split_whitespace().count() as f64 / WORDS_PER_SECOND
}
