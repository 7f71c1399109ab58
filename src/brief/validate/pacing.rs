//! Ra's pacing push-back: notes from Ra to the creator (the "Director"), never errors; written
//! with [`crate::brief::ra::pacing`], so each is from Ra and opens with "Director, ".
//!
//! The thresholds are editing rules of thumb, not physics: an establishing shot needs about three
//! seconds for a viewer to read the place, a line of dialogue needs its words at a natural
//! speaking rate (about 2.5 words per second), and a cut that lands far from the intended length
//! usually means a shot list that was not timed.

use super::screen_time::{min_duration_s, speaking_time_s};
use crate::brief::ra::{self, PacingWarning};
use crate::brief::types::{Brief, Energy, Shot};
use crate::ids::ShotId;
use crate::memory::graph::FormatDna;

/// Who the warnings are from: Ra, speaking to the creator as "Director"
pub const AUTHOR: &str = ra::RA;
/// How far the shot list's total may drift from the pacing target before Ra says so
pub const TOTAL_TOLERANCE: f64 = 0.20;

fn note(field: String, shot: Option<&ShotId>, body: String) -> PacingWarning {
    ra::pacing(field, shot, &body)
}

fn shot_notes(i: usize, shot: &Shot, out: &mut Vec<PacingWarning>) {
    let field = format!("shots[{i}].duration_s");
    let min = min_duration_s(shot.kind);
    if shot.duration_s < min {
        out.push(note(
            field.clone(),
            Some(&shot.id),
            format!(
                "shot {} ({} shot) runs {:.1} s; it needs at least {min:.1} s to read on screen. \
                 I'd give it {:.0} s or more.",
                shot.id,
                shot.kind.as_str().replace('_', " "),
                shot.duration_s,
                min.ceil()
            ),
        ));
    }
    if let Some(d) = &shot.dialogue {
        let needed = speaking_time_s(&d.line);
        if shot.duration_s < needed {
            out.push(note(
                field,
                Some(&shot.id),
                format!(
                    "shot {} gives the line {:.1} s; it takes about {needed:.1} s to say. \
                     It will feel rushed; I'd give it {:.0} s or trim the line.",
                    shot.id,
                    shot.duration_s,
                    needed.ceil()
                ),
            ));
        }
    }
}

/// Every pacing note for a brief, in document order, measured against rules of thumb (the
/// brief alone: what is known when it is created)
pub fn pacing_warnings(b: &Brief) -> Vec<PacingWarning> {
    pacing_warnings_for(b, None)
}

/// Every pacing note for a brief, in document order; with the creator's format DNA for the
/// brief's format, the cut's rhythm is measured against the creator's own (their average shot
/// length and energy for this format, see [`super::format_pacing`]) instead of global constants
pub fn pacing_warnings_for(b: &Brief, format: Option<&FormatDna>) -> Vec<PacingWarning> {
    let mut out = Vec::new();
    for (i, shot) in b.shots.iter().enumerate() {
        shot_notes(i, shot, &mut out);
    }
    let total: f64 = b.shots.iter().map(|s| s.duration_s).sum();
    // A brief paced by its format has no target length of its own.
    let target = b.pacing.as_ref().map_or(0.0, |p| p.target_duration_s);
    if target > 0.0 && ((total - target) / target).abs() > TOTAL_TOLERANCE {
        let direction = if total > target { "over" } else { "under" };
        out.push(note(
            "pacing.target_duration_s".into(),
            None,
            format!(
                "the shots add up to {total:.1} s against your target of {target:.1} s, \
                 {:.0}% {direction}. I'd re-time the shot list or move the target.",
                ((total - target) / target).abs() * 100.0
            ),
        ));
    }
    if let Some(dna) = format {
        out.extend(super::format_pacing::format_notes(b, dna));
    } else if let Some((n, pacing)) = u32::try_from(b.shots.len())
        .ok()
        .filter(|n| *n > 0)
        .zip(b.pacing.as_ref())
    {
        let average = total / f64::from(n);
        match pacing.energy {
            Energy::Punchy if average > 6.0 => out.push(note(
                "pacing.energy".into(),
                None,
                format!(
                    "you asked for a punchy edit, but shots average {average:.1} s. \
                     Punchy cuts land every 2-4 s; I'd tighten them."
                ),
            )),
            Energy::SlowBurn if average < 2.0 => out.push(note(
                "pacing.energy".into(),
                None,
                format!(
                    "you asked for a slow burn, but shots average {average:.1} s. \
                     I'd hold some shots longer and let it breathe."
                ),
            )),
            Energy::Punchy | Energy::SlowBurn | Energy::Steady => {}
        }
    }
    if let Some(vo) = &b.voiceover {
        let needed = speaking_time_s(&vo.text);
        if needed > total {
            out.push(note(
                "voiceover.text".into(),
                None,
                format!(
                    "the narration takes about {needed:.1} s to read, longer than the \
                     {total:.1} s cut. It will run over the ending; I'd trim it."
                ),
            ));
        }
    }
    if let Some(score) = &b.score
        && score.duration_s + 0.5 < total
    {
        out.push(note(
            "score.duration_s".into(),
            None,
            format!(
                "the score is {:.1} s but the cut runs {total:.1} s; the last {:.1} s \
                 would play without music. I'd lengthen the score.",
                score.duration_s,
                total - score.duration_s
            ),
        ));
    }
    out
}
