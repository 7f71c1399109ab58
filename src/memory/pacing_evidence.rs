//! How long this creator's audience watches videos of a format, and Ra's pacing note when a cut
//! runs well beyond it.
//!
//! The evidence ([`pacing_evidence`], in `MemoryContext::pacing_evidence`) comes from the
//! creator's newest [`RECENT_RENDERS`] recorded renders of the brief's format that have a
//! reported `avg_watch_s`: their mean watch time, their mean length, and the mean share of each
//! video watched (`avg_watch_s` / the render's length, at most 1). A render's length is the sum
//! of its shots' lengths, which is what the assembler cut (renders recorded without their brief
//! have no shot lengths and are left out).
//!
//! The note ([`watch_pacing_note`]): when at least [`MIN_RENDERS`] such renders say the audience
//! watches `w` seconds and the brief's cut (the sum of its shots) runs at least
//! [`WELL_BEYOND`] times `w`, Ra suggests a length of about `1.2 w` rounded to 5 s: a little
//! more than they watch, so the ending still lands for most of them. "Director, your last 6 vlog
//! videos were watched for 38 s on average; this cut runs 90 s. I'd tighten it to about 45 s."

use std::collections::HashMap;

use crate::brief::Brief;
use crate::brief::ra::{NoteTopic, RaNote};
use crate::ids::JobId;
use crate::memory::context::{MemoryContext, PacingEvidence};
use crate::memory::graph::MemoryGraph;
use crate::memory::metric::watch_share;

/// How many of the newest renders of the format the evidence reads: recent videos say more
/// about today's audience than old ones
pub const RECENT_RENDERS: usize = 10;
/// Renders of evidence before Ra says anything about length
pub const MIN_RENDERS: u32 = 3;
/// How many times the watch time a cut must run before Ra calls it long
pub const WELL_BEYOND: f64 = 2.0;
/// Headroom of the suggested length over the watch time
pub const SUGGESTED_HEADROOM: f64 = 1.2;

/// Each recorded render's length: the sum of its shots' lengths, by job
pub fn render_durations(graph: &MemoryGraph) -> HashMap<&JobId, f64> {
    let mut out: HashMap<&JobId, f64> = HashMap::new();
    for s in &graph.shots {
        if s.duration_s.is_finite() && s.duration_s > 0.0 {
            *out.entry(&s.job).or_insert(0.0) += s.duration_s;
        }
    }
    out
}

/// The watch evidence for `format` from the newest renders of it (see the module doc)
pub fn pacing_evidence(graph: &MemoryGraph, format: &str) -> Option<PacingEvidence> {
    if graph.outcomes.is_empty() {
        return None;
    }
    let durations = render_durations(graph);
    let outcomes: HashMap<&JobId, _> = graph.outcomes.iter().map(|o| (&o.job, o)).collect();
    let (mut n, mut watched, mut length, mut share) = (0u32, 0.0, 0.0, 0.0);
    // Renders are kept oldest first: walk back from the newest.
    for render in graph.renders.iter().rev().filter(|r| r.format == format) {
        if n as usize >= RECENT_RENDERS {
            break;
        }
        let Some(outcome) = outcomes.get(&render.job) else {
            continue;
        };
        let Some(&duration) = durations.get(&render.job) else {
            continue;
        };
        let (Some(w), Some(s)) = (outcome.avg_watch_s, watch_share(outcome, duration)) else {
            continue;
        };
        n += 1;
        watched += w;
        length += duration;
        share += s;
    }
    (n > 0).then(|| {
        let k = f64::from(n);
        PacingEvidence {
            format: format.to_owned(),
            renders: n,
            avg_watch_s: watched / k,
            avg_duration_s: length / k,
            avg_watch_share: share / k,
        }
    })
}

/// Ra's note when the brief's cut runs well beyond what this creator's audience watches of the
/// format (see the module doc); `None` without enough evidence or when the cut is near it
pub fn watch_pacing_note(brief: &Brief, memory: &MemoryContext) -> Option<RaNote> {
    let ev = memory.pacing_evidence.as_ref()?;
    if ev.renders < MIN_RENDERS || ev.format != brief.format {
        return None;
    }
    let watched = ev.avg_watch_s;
    let cut: f64 = brief.shots.iter().map(|s| s.duration_s).sum();
    if !(watched > 0.0 && cut.is_finite() && cut >= WELL_BEYOND * watched) {
        return None;
    }
    let suggested = ((watched * SUGGESTED_HEADROOM / 5.0).round() * 5.0).max(5.0);
    if suggested >= cut {
        return None;
    }
    Some(RaNote::new(
        NoteTopic::Pacing,
        &format!(
            "your last {} {} videos were watched for {watched:.0} s on average; this cut runs \
             {cut:.0} s. I'd tighten it to about {suggested:.0} s.",
            ev.renders,
            ev.format.replace(['_', '-'], " ")
        ),
    ))
}
