//! Frame shapes, output sizes and safe areas: where text may go in each frame.
//!
//! Vertical platforms lay their own UI over the video (the top ~10% carries the account row,
//! the bottom ~20% the caption and buttons), so the badge and burned captions stay inside the
//! area left free. Landscape and square frames only keep a title-safe margin.

use serde::{Deserialize, Serialize};

/// A frame shape of an output
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Aspect {
    /// 16:9, landscape (YouTube, the web)
    #[serde(rename = "16:9")]
    Landscape,
    /// 9:16, vertical (Shorts, Reels, TikTok)
    #[serde(rename = "9:16")]
    Vertical,
    /// 1:1, square (feeds)
    #[serde(rename = "1:1")]
    Square,
    /// 4:5, portrait (Instagram and Facebook feeds)
    #[serde(rename = "4:5")]
    Portrait,
    /// 4:3, classic
    #[serde(rename = "4:3")]
    Classic,
}

impl Aspect {
    /// Every shape, in the order they are documented
    pub const ALL: [Aspect; 5] = [
        Aspect::Landscape,
        Aspect::Vertical,
        Aspect::Square,
        Aspect::Portrait,
        Aspect::Classic,
    ];

    /// Parses the wire form (`"16:9"`)
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }

    /// The wire form, e.g. `"9:16"`
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Landscape => "16:9",
            Self::Vertical => "9:16",
            Self::Square => "1:1",
            Self::Portrait => "4:5",
            Self::Classic => "4:3",
        }
    }

    /// The form used in file names, e.g. `"9x16"` (a colon is not welcome in URLs or paths)
    pub fn file_tag(self) -> &'static str {
        match self {
            Self::Landscape => "16x9",
            Self::Vertical => "9x16",
            Self::Square => "1x1",
            Self::Portrait => "4x5",
            Self::Classic => "4x3",
        }
    }
}

/// How an assembly is encoded
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Quality {
    /// 360p, fast: a draft to review
    Preview,
    /// 1080p: what gets published
    #[default]
    Hd,
}

impl Quality {
    /// Parses the wire form
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "preview" => Some(Self::Preview),
            "hd" => Some(Self::Hd),
            _ => None,
        }
    }

    /// The x264 constant rate factor: previews trade quality for size and speed
    pub fn crf(self) -> u32 {
        match self {
            Self::Preview => 30,
            Self::Hd => 21,
        }
    }
}

/// An output's size in pixels (always even: yuv420p needs it)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Frame {
    /// Width
    pub width: u32,
    /// Height
    pub height: u32,
}

impl Frame {
    /// The shorter side, which text sizes follow so they read the same in every shape
    pub fn short_side(self) -> u32 {
        self.width.min(self.height)
    }
}

/// The size of an output of this shape at this quality
pub fn frame(aspect: Aspect, quality: Quality) -> Frame {
    let (width, height) = match (quality, aspect) {
        (Quality::Hd, Aspect::Landscape) => (1920, 1080),
        (Quality::Hd, Aspect::Vertical) => (1080, 1920),
        (Quality::Hd, Aspect::Square) => (1080, 1080),
        (Quality::Hd, Aspect::Portrait) => (1080, 1350),
        (Quality::Hd, Aspect::Classic) => (1440, 1080),
        (Quality::Preview, Aspect::Landscape) => (640, 360),
        (Quality::Preview, Aspect::Vertical) => (360, 640),
        (Quality::Preview, Aspect::Square) => (360, 360),
        (Quality::Preview, Aspect::Portrait) => (360, 450),
        (Quality::Preview, Aspect::Classic) => (480, 360),
    };
    Frame { width, height }
}

/// Margins, in pixels, that text keeps away from each edge
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SafeArea {
    /// From the top edge
    pub top: u32,
    /// From the bottom edge
    pub bottom: u32,
    /// From the left edge
    pub left: u32,
    /// From the right edge
    pub right: u32,
}

impl SafeArea {
    /// The width text may use
    pub fn inner_width(self, f: Frame) -> u32 {
        f.width.saturating_sub(self.left + self.right)
    }
}

/// The safe area of a frame of this shape: fractions of the height (top, bottom) and width (sides)
pub fn safe_area(aspect: Aspect, f: Frame) -> SafeArea {
    let (top, bottom, side) = match aspect {
        // Platform UI covers the top ~10% and the bottom ~20% of vertical video
        Aspect::Vertical => (0.10, 0.20, 0.06),
        // 4:5 feed posts get a lighter overlay than full-screen vertical
        Aspect::Portrait => (0.08, 0.15, 0.05),
        Aspect::Square => (0.06, 0.12, 0.05),
        // Title-safe margins for landscape players
        Aspect::Landscape | Aspect::Classic => (0.05, 0.10, 0.05),
    };
    SafeArea {
        top: even(f64::from(f.height) * top),
        bottom: even(f64::from(f.height) * bottom),
        left: even(f64::from(f.width) * side),
        right: even(f64::from(f.width) * side),
    }
}

/// The badge's font size: small, but legible on a phone
pub fn badge_font_px(f: Frame) -> u32 {
    (f64::from(f.short_side()) * 0.036).round().max(12.0) as u32
}

/// The burned captions' font size
pub fn caption_font_px(f: Frame) -> u32 {
    (f64::from(f.short_side()) * 0.055).round().max(16.0) as u32
}

/// Rounds to the nearest even number of pixels
fn even(px: f64) -> u32 {
    let n = px.round().max(0.0) as u32;
    n + (n % 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_per_shape_and_quality() {
        let hd = |a| frame(a, Quality::Hd);
        let pv = |a| frame(a, Quality::Preview);
        assert_eq!(
            hd(Aspect::Landscape),
            Frame {
                width: 1920,
                height: 1080
            }
        );
        assert_eq!(
            hd(Aspect::Vertical),
            Frame {
                width: 1080,
                height: 1920
            }
        );
        assert_eq!(
            hd(Aspect::Square),
            Frame {
                width: 1080,
                height: 1080
            }
        );
        assert_eq!(
            pv(Aspect::Landscape),
            Frame {
                width: 640,
                height: 360
            }
        );
        assert_eq!(
            pv(Aspect::Vertical),
            Frame {
                width: 360,
                height: 640
            }
        );
        assert_eq!(
            pv(Aspect::Square),
            Frame {
                width: 360,
                height: 360
            }
        );
        for a in Aspect::ALL {
            for q in [Quality::Hd, Quality::Preview] {
                let f = frame(a, q);
                assert_eq!(f.width % 2, 0, "{a:?} {q:?}");
                assert_eq!(f.height % 2, 0, "{a:?} {q:?}");
            }
        }
    }

    #[test]
    fn parses_wire_forms() {
        for a in Aspect::ALL {
            assert_eq!(Aspect::parse(a.as_str()), Some(a));
            let json = serde_json::to_string(&a).unwrap();
            assert_eq!(json, format!("\"{}\"", a.as_str()));
        }
        assert_eq!(Aspect::parse("21:9"), None);
        assert_eq!(Aspect::Vertical.file_tag(), "9x16");
        assert_eq!(Quality::parse("preview"), Some(Quality::Preview));
        assert_eq!(Quality::parse("4k"), None);
        assert_eq!(Quality::Preview.crf(), 30);
        assert_eq!(Quality::Hd.crf(), 21);
    }

    #[test]
    fn vertical_safe_area_keeps_clear_of_platform_bands() {
        let f = frame(Aspect::Vertical, Quality::Hd);
        let s = safe_area(Aspect::Vertical, f);
        assert_eq!(s.top, 192);
        assert_eq!(s.bottom, 384);
        assert!(s.left > 0 && s.right > 0);
        let p = frame(Aspect::Vertical, Quality::Preview);
        let sp = safe_area(Aspect::Vertical, p);
        assert_eq!((sp.top, sp.bottom), (64, 128));
        let l = safe_area(Aspect::Landscape, frame(Aspect::Landscape, Quality::Hd));
        assert_eq!((l.top, l.bottom, l.left, l.right), (54, 108, 96, 96));
        for a in Aspect::ALL {
            let s = safe_area(a, frame(a, Quality::Preview));
            for m in [s.top, s.bottom, s.left, s.right] {
                assert_eq!(m % 2, 0);
            }
        }
    }

    #[test]
    fn text_sizes_follow_the_short_side() {
        let pv = frame(Aspect::Vertical, Quality::Preview);
        let hd = frame(Aspect::Landscape, Quality::Hd);
        assert_eq!(badge_font_px(pv), 13);
        assert_eq!(caption_font_px(pv), 20);
        assert_eq!(badge_font_px(hd), 39);
        assert_eq!(caption_font_px(hd), 59);
    }
}
