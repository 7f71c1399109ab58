//! What a channel import leaves in the graph besides format DNA and audience rows: the
//! channel's priors, one row per format plus a single channel row (tables `channel_formats`
//! and `channel` of the `MemoryGraph` object).

use serde::{Deserialize, Serialize};

use super::{FormatDna, FormatPacing};
use crate::brief::Platform;

/// What imports learned about the creator's channel (the graph's `channel`)
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ChannelPriors {
    /// The language the channel speaks (BCP-47, `en-US`)
    #[serde(default)]
    pub language: Option<String>,
    /// Where the channel's views are: `youtube` (long-form) or `youtube_shorts`
    #[serde(default)]
    pub primary_platform: Option<Platform>,
    /// The countries most views come from (ISO 3166-1 alpha-2), most views first
    #[serde(default)]
    pub regions: Vec<String>,
    /// Per format, what its videos did: primary key `format`, sorted by it
    #[serde(default)]
    pub formats: Vec<FormatPrior>,
}

impl ChannelPriors {
    /// The prior of a format
    pub fn format(&self, format: &str) -> Option<&FormatPrior> {
        self.formats.iter().find(|f| f.format == format)
    }
}

/// What one format's videos did, the outcome priors routing and pacing can start from: primary
/// key `format`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FormatPrior {
    /// The format (`shorts`, `long_form`, or the import's `format`)
    pub format: String,
    /// Videos it was learned from
    pub videos: u32,
    /// Their mean length, seconds (from `contentDetails.duration`)
    pub avg_duration_s: f64,
    /// Their mean lifetime views (`statistics.viewCount`), when given
    #[serde(default)]
    pub avg_views: Option<f64>,
    /// Likes and comments per view, over the videos that show their likes
    #[serde(default)]
    pub engagement_rate: Option<f64>,
    /// Mean percentage of a video watched (Analytics `averageViewPercentage`), weighted by views
    #[serde(default)]
    pub avg_view_percentage: Option<f64>,
    /// Mean watch time per view, seconds (Analytics `averageViewDuration`), weighted by views
    #[serde(default)]
    pub avg_view_duration_s: Option<f64>,
    /// The pacing written into the format's DNA: assumed from the length, not measured (see
    /// `analyze::assumed_pacing`)
    pub pacing: FormatPacing,
}

impl FormatPrior {
    /// The format DNA an import writes for this format
    pub fn dna(&self) -> FormatDna {
        FormatDna {
            format: self.format.clone(),
            pacing: self.pacing.clone(),
            shot_mix: Default::default(),
            hook_style: None,
        }
    }
}
