//! The text form of each Graph row, and of a brief, as the embedder reads them.
//!
//! Each text names what the row is and its values in plain words, so rows about the same things
//! share words and n-grams (and meaning, for a model embedder): `visual fingerprint: palette
//! #0b1d3a #f2c14e; grade teal-orange; lens 35mm anamorphic`. A row's text changes exactly when
//! a value that matters to it changes, which is how [`crate::memory::row_embed`] tells a stale
//! vector from a fresh one.

use std::fmt::Write as _;

use crate::brief::{Brief, Energy, OutcomeTarget, Platform, ShotKind};
use crate::memory::graph::{
    AudienceSignal, FormatDna, RenderOutcome, RenderRow, VisualFingerprint,
};
use crate::memory::metric::{click_through, watch_share};

/// `visual fingerprint: palette #0b1d3a #f2c14e; grade teal-orange; lens 35mm anamorphic;
/// lighting low-key`
pub fn fingerprint_text(f: &VisualFingerprint) -> String {
    let mut parts = Vec::new();
    if !f.palette.is_empty() {
        parts.push(format!("palette {}", f.palette.join(" ")));
    }
    for (label, value) in [
        ("grade", &f.grade),
        ("lens", &f.lens),
        ("lighting", &f.lighting),
    ] {
        if let Some(v) = value {
            parts.push(format!("{label} {v}"));
        }
    }
    format!("visual fingerprint: {}", parts.join("; "))
}

/// `format vlog: shots of 3.5 s on average, punchy energy; shot mix close up 40%, b roll 60%;
/// hook cold open on a question`
pub fn format_text(f: &FormatDna) -> String {
    let mut s = format!(
        "format {}: shots of {:.1} s on average, {} energy",
        words(&f.format),
        f.pacing.avg_shot_s,
        energy_words(f.pacing.energy)
    );
    if !f.shot_mix.is_empty() {
        let mix: Vec<String> = f
            .shot_mix
            .iter()
            .map(|(kind, share)| format!("{} {:.0}%", kind_words(*kind), share * 100.0))
            .collect();
        let _ = write!(s, "; shot mix {}", mix.join(", "));
    }
    if let Some(hook) = &f.hook_style {
        let _ = write!(s, "; hook {hook}");
    }
    s
}

/// `audience: watches on tiktok; regions US, UK; interests coffee, travel`
pub fn audience_text(a: &AudienceSignal) -> String {
    let mut parts = Vec::new();
    if let Some(p) = a.primary_platform {
        parts.push(format!("watches on {}", platform_words(p)));
    }
    if !a.regions.is_empty() {
        parts.push(format!("regions {}", a.regions.join(", ")));
    }
    if !a.interests.is_empty() {
        parts.push(format!("interests {}", a.interests.join(", ")));
    }
    format!("audience: {}", parts.join("; "))
}

/// A render's outcome with what it was made for: `vlog render for watch time, 90 s cut: 12000
/// views; watched 38 s on average (42%); 3 s retention 71%; click-through 3.5%; 14 conversions`
pub fn outcome_text(render: &RenderRow, outcome: &RenderOutcome, duration_s: f64) -> String {
    let mut s = format!(
        "{} render for {}",
        words(&render.format),
        target_words(render.outcome_target)
    );
    if duration_s > 0.0 {
        let _ = write!(s, ", {duration_s:.0} s cut");
    }
    let mut figures = Vec::new();
    if let Some(v) = outcome.views {
        figures.push(format!("{v} views"));
    }
    if let Some(w) = outcome.avg_watch_s {
        match watch_share(outcome, duration_s) {
            Some(share) => figures.push(format!(
                "watched {w:.0} s on average ({:.0}%)",
                share * 100.0
            )),
            None => figures.push(format!("watched {w:.0} s on average")),
        }
    }
    if let Some(r) = outcome.retention_3s {
        figures.push(format!("3 s retention {:.0}%", r * 100.0));
    }
    if let Some(ctr) = click_through(outcome) {
        figures.push(format!("click-through {:.1}%", ctr * 100.0));
    } else if let Some(c) = outcome.clicks {
        figures.push(format!("{c} clicks"));
    }
    if let Some(c) = outcome.conversions {
        figures.push(format!("{c} conversions"));
    }
    if !figures.is_empty() {
        let _ = write!(s, ": {}", figures.join("; "));
    }
    s
}

/// What a brief is, in the same words as the rows: `short doc for watch time on youtube, tiktok:
/// The last lighthouse keeper...`; its vector is compared with the rows' (see
/// [`crate::memory::MemoryContext::related_rows`])
pub fn brief_text(brief: &Brief) -> String {
    let platforms: Vec<&str> = brief.platforms.iter().map(|p| platform_words(*p)).collect();
    format!(
        "{} for {} on {}: {}",
        words(&brief.format),
        target_words(brief.outcome_target),
        platforms.join(", "),
        brief.logline
    )
}

/// `short_doc` -> `short doc`
fn words(name: &str) -> String {
    name.replace(['_', '-'], " ")
}

fn kind_words(kind: ShotKind) -> String {
    words(kind.as_str())
}

fn energy_words(e: Energy) -> &'static str {
    match e {
        Energy::SlowBurn => "slow burn",
        Energy::Steady => "steady",
        Energy::Punchy => "punchy",
    }
}

fn target_words(t: OutcomeTarget) -> &'static str {
    match t {
        OutcomeTarget::WatchTime => "watch time",
        OutcomeTarget::Conversions => "conversions",
        OutcomeTarget::Impressions => "impressions",
        OutcomeTarget::Signups => "sign-ups",
    }
}

fn platform_words(p: Platform) -> &'static str {
    match p {
        Platform::Youtube => "youtube",
        Platform::YoutubeShorts => "youtube shorts",
        Platform::Tiktok => "tiktok",
        Platform::Reels => "reels",
        Platform::X => "x",
        Platform::Linkedin => "linkedin",
    }
}
