//! From a channel's history to what the graph learns: the format of each video, per-format
//! figures and assumed pacing, the audience's platform, regions and language.
//!
//! Deterministic: videos are deduplicated by id (first occurrence kept), then taken in id order,
//! and every figure is rounded to 3 decimals, so the same history gives the same priors however
//! its pages were ordered.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::analytics::VideoMetrics;
use super::history::ChannelHistory;
use super::youtube::{Frame, Video, VideoId};
use crate::brief::{Energy, Platform};
use crate::memory::graph::FormatPacing;
use crate::memory::graph::{ChannelPriors, FormatPrior};

/// Format of imported Shorts when the import names none
pub const SHORTS_FORMAT: &str = "shorts";
/// Format of imported long-form videos when the import names none
pub const LONG_FORM_FORMAT: &str = "long_form";
/// A video this short is a Short unless its frame is known to be wide, seconds
pub const SHORT_MAX_S: f64 = 60.0;
/// Since 2024-10-15 an upright (square or taller) video up to this long is a Short, seconds
pub const LONG_SHORT_MAX_S: f64 = 180.0;
/// The day three-minute Shorts began; YouTube did not reclassify earlier uploads
pub const LONG_SHORTS_SINCE: &str = "2024-10-15";
/// Most regions kept
pub const MAX_REGIONS: usize = 5;
/// Least share of views that makes a country a region (the top country always is one)
pub const MIN_REGION_SHARE: f64 = 0.05;
/// Language tags that name no language (`zxx`: no linguistic content; `und`: undetermined)
const NO_LANGUAGE: [&str; 2] = ["zxx", "und"];

/// Assumed pacing by average video length: (longest mean length in seconds, mean shot length
/// in seconds, energy).
///
/// YouTube reports no cuts, so shot length cannot be measured from an import. Until the
/// creator sets a format's pacing by hand (which an import then never overwrites) it is assumed
/// from the videos' mean length, on the rule of thumb that shorter videos are cut faster:
/// vertical short-form is cut every 2 to 3 seconds, explainers and vlogs hold a shot 4 to 5,
/// long essays longer. These are our assumptions, not data: `channel.formats[].pacing` says
/// which pacing an import wrote, and the measured figures sit beside it.
pub const ASSUMED_PACING: [(f64, f64, Energy); 4] = [
    (SHORT_MAX_S, 2.0, Energy::Punchy),
    (LONG_SHORT_MAX_S, 3.0, Energy::Punchy),
    (600.0, 4.5, Energy::Steady),
    (f64::INFINITY, 6.0, Energy::SlowBurn),
];

/// Videos an import did not learn from, by reason
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Skipped {
    /// Broadcasts that are live or upcoming (`snippet.liveBroadcastContent`)
    pub live: u32,
    /// Zero-length videos (`P0D`: not processed yet)
    pub no_length: u32,
    /// Repeats of an id earlier in the body (overlapping pages)
    pub duplicate: u32,
}

/// What one import learned: the graph object merges it with [`super::apply_import`]
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ChannelImport {
    /// Videos learned from
    pub videos: u32,
    /// Videos left out
    pub skipped: Skipped,
    /// The priors of this import alone
    pub learned: ChannelPriors,
}

/// Whether a video is a Short
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Short,
    LongForm,
}

impl Kind {
    fn format(self) -> &'static str {
        match self {
            Self::Short => SHORTS_FORMAT,
            Self::LongForm => LONG_FORM_FORMAT,
        }
    }

    fn platform(self) -> Platform {
        match self {
            Self::Short => Platform::YoutubeShorts,
            Self::LongForm => Platform::Youtube,
        }
    }
}

/// YouTube's rule (<https://support.google.com/youtube/answer/15424877>): an upload of up to
/// 60 seconds in a square or vertical frame is a Short, and since 2024-10-15 one of up to three
/// minutes. The frame is only known from `fileDetails` (owner-only); without it a video up to
/// 60 s is taken for a Short and a longer one for long-form, because an unknown frame cannot
/// show that a one-to-three-minute video is vertical.
fn kind(video: &Video) -> Kind {
    let d = video.duration_s;
    let recent = video
        .published
        .as_deref()
        .is_some_and(|day| day >= LONG_SHORTS_SINCE);
    match video.frame {
        Some(Frame::Wide) => Kind::LongForm,
        Some(Frame::Upright) if d <= SHORT_MAX_S || (d <= LONG_SHORT_MAX_S && recent) => {
            Kind::Short
        }
        None if d <= SHORT_MAX_S => Kind::Short,
        Some(Frame::Upright) | None => Kind::LongForm,
    }
}

/// The pacing assumed for a mean video length
pub fn assumed_pacing(avg_duration_s: f64) -> FormatPacing {
    let (_, avg_shot_s, energy) = ASSUMED_PACING
        .iter()
        .copied()
        .find(|(longest, _, _)| avg_duration_s <= *longest)
        .unwrap_or((f64::INFINITY, 6.0, Energy::SlowBurn));
    FormatPacing { avg_shot_s, energy }
}

/// What the history teaches
pub fn analyze(history: &ChannelHistory) -> ChannelImport {
    let mut skipped = Skipped::default();
    let mut seen = BTreeMap::new();
    for video in &history.videos {
        if seen.contains_key(&video.id) {
            skipped.duplicate += 1;
        } else if video.live {
            skipped.live += 1;
            seen.insert(video.id.clone(), None);
        } else if video.duration_s <= 0.0 {
            skipped.no_length += 1;
            seen.insert(video.id.clone(), None);
        } else {
            seen.insert(video.id.clone(), Some(video));
        }
    }
    // In id order from here on.
    let videos: Vec<&Video> = seen.into_values().flatten().collect();

    let mut by_format: BTreeMap<String, Vec<&Video>> = BTreeMap::new();
    let mut views_by_kind: BTreeMap<Kind, (u64, u32)> = BTreeMap::new();
    for video in &videos {
        let kind = kind(video);
        let format = history
            .format
            .clone()
            .unwrap_or_else(|| kind.format().to_owned());
        by_format.entry(format).or_default().push(video);
        let entry = views_by_kind.entry(kind).or_default();
        entry.0 = entry.0.saturating_add(video.views.unwrap_or(0));
        entry.1 += 1;
    }
    let formats = by_format
        .into_iter()
        .map(|(format, videos)| prior(format, &videos, &history.analytics.videos))
        .collect();
    // The platform with more views (more videos when no views are given); long-form on a tie.
    let primary_platform = views_by_kind
        .iter()
        .max_by_key(|(kind, (views, count))| (*views, *count, **kind == Kind::LongForm))
        .map(|(kind, _)| kind.platform());

    ChannelImport {
        videos: u32::try_from(videos.len()).unwrap_or(u32::MAX),
        skipped,
        learned: ChannelPriors {
            language: language(&videos),
            primary_platform,
            regions: regions(&history.analytics.countries),
            formats,
        },
    }
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn mean(values: impl Iterator<Item = f64>) -> Option<f64> {
    let (sum, n) = values.fold((0.0, 0u32), |(s, n), x| (s + x, n + 1));
    (n > 0).then(|| round3(sum / f64::from(n)))
}

/// Mean of `(value, weight)`, weighted when every pair has a weight and they sum above 0
fn weighted(pairs: &[(f64, Option<u64>)]) -> Option<f64> {
    let weights: Option<Vec<f64>> = pairs.iter().map(|(_, w)| w.map(|w| w as f64)).collect();
    match weights {
        Some(w) if w.iter().sum::<f64>() > 0.0 => {
            let total: f64 = w.iter().sum();
            let sum: f64 = pairs.iter().zip(&w).map(|((x, _), w)| x * w).sum();
            Some(round3(sum / total))
        }
        _ => mean(pairs.iter().map(|(x, _)| *x)),
    }
}

fn prior(
    format: String,
    videos: &[&Video],
    metrics: &BTreeMap<VideoId, VideoMetrics>,
) -> FormatPrior {
    let avg_duration_s = mean(videos.iter().map(|v| v.duration_s)).unwrap_or(0.0);
    let (mut engaged, mut viewed) = (0u64, 0u64);
    for v in videos {
        // Hidden like counts are absent, not zero: such videos say nothing about engagement.
        if let (Some(views), Some(likes)) = (v.views, v.likes) {
            engaged = engaged
                .saturating_add(likes)
                .saturating_add(v.comments.unwrap_or(0));
            viewed = viewed.saturating_add(views);
        }
    }
    let reported: Vec<&VideoMetrics> = videos.iter().filter_map(|v| metrics.get(&v.id)).collect();
    let pairs = |pick: fn(&VideoMetrics) -> Option<f64>| -> Vec<(f64, Option<u64>)> {
        reported
            .iter()
            .filter_map(|m| pick(m).map(|x| (x, m.views)))
            .collect()
    };
    FormatPrior {
        format,
        videos: u32::try_from(videos.len()).unwrap_or(u32::MAX),
        avg_duration_s,
        avg_views: mean(videos.iter().filter_map(|v| v.views).map(|n| n as f64)),
        engagement_rate: (viewed > 0).then(|| round3(engaged as f64 / viewed as f64)),
        avg_view_percentage: weighted(&pairs(|m| m.avg_view_percentage)),
        avg_view_duration_s: weighted(&pairs(|m| m.avg_view_duration_s)),
        pacing: assumed_pacing(avg_duration_s),
    }
}

/// The most common language of the videos; the alphabetically first on a tie
fn language(videos: &[&Video]) -> Option<String> {
    let mut counts: BTreeMap<&str, u32> = BTreeMap::new();
    for tag in videos.iter().filter_map(|v| v.language.as_deref()) {
        let primary = tag.split('-').next().unwrap_or(tag);
        if !NO_LANGUAGE.iter().any(|n| n.eq_ignore_ascii_case(primary)) {
            *counts.entry(tag).or_default() += 1;
        }
    }
    let best = counts.values().copied().max()?;
    counts
        .into_iter()
        .find(|(_, n)| *n == best)
        .map(|(tag, _)| tag.to_owned())
}

/// Countries with at least [`MIN_REGION_SHARE`] of the views, most views first, at most
/// [`MAX_REGIONS`]; the top country always, when any has views. `ZZ` (unknown) is no region.
fn regions(countries: &[(String, u64)]) -> Vec<String> {
    let total: f64 = countries.iter().map(|(_, v)| *v as f64).sum();
    if total <= 0.0 {
        return Vec::new();
    }
    let mut known: Vec<&(String, u64)> = countries
        .iter()
        .filter(|(code, views)| code != "ZZ" && *views > 0)
        .collect();
    known.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    known
        .iter()
        .enumerate()
        .filter(|(i, (_, views))| *i == 0 || *views as f64 / total >= MIN_REGION_SHARE)
        .take(MAX_REGIONS)
        .map(|(_, (code, _))| code.clone())
        .collect()
}
