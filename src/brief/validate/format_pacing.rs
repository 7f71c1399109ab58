//! Pacing by the creator's own format: a brief may leave its pacing to the format DNA of the
//! Memory Graph, and every shot list is measured against how this creator cuts this format.
//!
//! "Punchy cuts land every 2-4 s" is a rule of thumb for anyone; a creator whose vlogs cut every
//! 2.1 s has a better one. With format DNA (`formats.{format}.pacing: {avg_shot_s, energy}`) the
//! notes compare the shot list with that average:
//!
//! - the cut as a whole: shots averaging more than [`AVERAGE_TOLERANCE`] off the creator's
//!   average for the format;
//! - single shots: one held [`OUTLIER_FACTOR`] times the average (and at least
//!   [`MIN_OUTLIER_GAP_S`] longer), or flashing by in a [`OUTLIER_FACTOR`]th of it, with a length
//!   Ra would give it instead (never shorter than the shot kind needs to read, nor than its line
//!   takes to say); not the shots that drift the way the whole cut does, which one note covers;
//! - the energy: a brief asking for another energy than the format's, said once.

use super::BriefError;
use super::screen_time::{min_duration_s, speaking_time_s};
use crate::brief::ra;
use crate::brief::ra::PacingWarning;
use crate::brief::types::{Brief, Energy, Shot};
use crate::memory::graph::FormatDna;

/// How far the shot list's average may drift from the format's before Ra says so (a share)
pub const AVERAGE_TOLERANCE: f64 = 0.5;
/// A shot this many times the format's average (or that fraction of it) stands out
pub const OUTLIER_FACTOR: f64 = 2.5;
/// A long shot stands out only when it is also this much longer than the average, seconds: at a
/// 1 s average, a 2.5 s shot is no outlier
pub const MIN_OUTLIER_GAP_S: f64 = 2.0;

/// Refuses a brief that gives no pacing and names no format the creator's Memory Graph has;
/// `format` is the Graph's format DNA for the brief's `format`, when it has one
pub fn require_pacing(brief: &Brief, format: Option<&FormatDna>) -> Result<(), BriefError> {
    match (&brief.pacing, format) {
        (Some(_), _) | (None, Some(_)) => Ok(()),
        (None, None) => Err(BriefError::Invalid {
            field: "pacing".into(),
            message: format!(
                "give the pacing ({{\"target_duration_s\", \"energy\"}}), or name in `format` a \
                 format of your Memory Graph: `{}` has no format DNA there",
                brief.format
            ),
        }),
    }
}

/// The notes that measure `b` against the creator's format DNA, in document order
pub fn format_notes(b: &Brief, dna: &FormatDna) -> Vec<PacingWarning> {
    let avg = dna.pacing.avg_shot_s;
    let mut out = Vec::new();
    if !(avg.is_finite() && avg > 0.0) {
        return out;
    }
    let yours = your_format(&dna.format);
    let n = b.shots.len().max(1) as f64;
    let average = b.shots.iter().map(|s| s.duration_s).sum::<f64>() / n;
    let drift = (average - avg) / avg;
    // When the whole cut drifts one way, that is one note, not one per shot that drifts with it.
    let (long_ones, short_ones) = (drift <= AVERAGE_TOLERANCE, drift >= -AVERAGE_TOLERANCE);
    for (i, shot) in b.shots.iter().enumerate() {
        if let Some(note) = shot_note(i, shot, avg, &yours, (long_ones, short_ones)) {
            out.push(note);
        }
    }
    if drift > AVERAGE_TOLERANCE {
        out.push(ra::pacing(
            "shots",
            None,
            &format!(
                "{yours} cut every {avg:.1} s; these shots average {average:.1} s. I'd tighten \
                 them toward your rhythm."
            ),
        ));
    } else if drift < -AVERAGE_TOLERANCE {
        out.push(ra::pacing(
            "shots",
            None,
            &format!(
                "{yours} hold {avg:.1} s a shot; these average {average:.1} s. I'd let them \
                 breathe closer to your rhythm."
            ),
        ));
    }
    if let Some(asked) = b.pacing.as_ref().map(|p| p.energy)
        && asked != dna.pacing.energy
    {
        out.push(ra::pacing(
            "pacing.energy",
            None,
            &format!(
                "you asked for a {} cut; {yours} are usually {}. I'll cut this one as you \
                 asked.",
                energy_words(asked),
                energy_words(dna.pacing.energy)
            ),
        ));
    }
    out
}

/// A note on one shot far from the format's average; `(long, short)` says which of the two
/// kinds of outlier to name
fn shot_note(
    i: usize,
    shot: &Shot,
    avg: f64,
    yours: &str,
    (long, short): (bool, bool),
) -> Option<PacingWarning> {
    let d = shot.duration_s;
    // What the shot needs whatever the rhythm: time to read, and time for its line.
    let floor = min_duration_s(shot.kind).max(
        shot.dialogue
            .as_ref()
            .map_or(0.0, |l| speaking_time_s(&l.line)),
    );
    let field = format!("shots[{i}].duration_s");
    if long && d > avg * OUTLIER_FACTOR && d > avg + MIN_OUTLIER_GAP_S {
        let trim = (avg * 2.0).max(floor).ceil();
        (trim < d).then(|| {
            ra::pacing(
                field,
                Some(&shot.id),
                &format!(
                    "{yours} cut every {avg:.1} s; shot {} holds {d:.0} s. I'd trim it to \
                     {trim:.0} s.",
                    shot.id
                ),
            )
        })
    } else if short && d < avg / OUTLIER_FACTOR {
        let hold = (avg / 2.0).max(floor).ceil();
        (hold > d).then(|| {
            ra::pacing(
                field,
                Some(&shot.id),
                &format!(
                    "{yours} hold {avg:.1} s a shot; shot {} flashes by in {d:.1} s. I'd hold it \
                     {hold:.0} s.",
                    shot.id
                ),
            )
        })
    } else {
        None
    }
}

/// "your vlogs", "your short docs"
fn your_format(format: &str) -> String {
    let name = format.trim().replace('_', " ");
    if name.ends_with('s') {
        format!("your {name}")
    } else {
        format!("your {name}s")
    }
}

fn energy_words(e: Energy) -> &'static str {
    match e {
        Energy::SlowBurn => "slow-burn",
        Energy::Steady => "steady",
        Energy::Punchy => "punchy",
    }
}
