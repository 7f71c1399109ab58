//! Text and colour helpers: caption clean-up, line wrapping, fonts and the task's palette.

use std::path::Path;

/// DejaVu Sans, from Debian's `fonts-dejavu-core`
const FONT: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
/// DejaVu Sans Bold, from Debian's `fonts-dejavu-core`
const FONT_BOLD: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf";

/// The drawtext option that picks the font: the DejaVu file when it is installed, else
/// fontconfig's default sans face
pub fn font(bold: bool) -> String {
    let file = if bold { FONT_BOLD } else { FONT };
    if Path::new(file).is_file() {
        format!("fontfile={file}")
    } else if bold {
        "font=Sans\\:bold".to_string()
    } else {
        "font=Sans".to_string()
    }
}

/// One line of caption text: control characters dropped, whitespace collapsed, provider
/// parameter flags (`--ratio 16:9`, as Seedance reads them from the prompt) removed, and at
/// most `max_chars` characters (an ellipsis marks the cut)
pub fn clean(text: &str, max_chars: usize) -> String {
    let mut words = Vec::new();
    let mut skip_value = false;
    for w in text.split_whitespace() {
        if skip_value {
            skip_value = false;
            continue;
        }
        if w.len() > 2 && w.starts_with("--") && w[2..].chars().all(|c| c.is_ascii_alphabetic()) {
            skip_value = true;
            continue;
        }
        words.push(w);
    }
    let joined: String = words
        .join(" ")
        .chars()
        .filter(|c| !c.is_control())
        .collect();
    if joined.chars().count() <= max_chars {
        return joined;
    }
    let mut cut: String = joined.chars().take(max_chars.saturating_sub(1)).collect();
    cut = cut.trim_end().to_string();
    cut.push('…');
    cut
}

/// Wraps `text` into lines of at most `width` characters (long words are split), keeping at
/// most `max_lines` lines; an ellipsis marks text that did not fit
pub fn wrap(text: &str, width: usize, max_lines: usize) -> Vec<String> {
    let width = width.max(4);
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let mut word: Vec<char> = word.chars().collect();
        loop {
            let used = line.chars().count();
            let room = if used == 0 {
                width
            } else {
                width.saturating_sub(used + 1)
            };
            if word.len() <= room {
                if used > 0 {
                    line.push(' ');
                }
                line.extend(word.iter());
                break;
            }
            if used > 0 {
                lines.push(std::mem::take(&mut line));
                continue;
            }
            // A word longer than a whole line: split it
            let rest = word.split_off(width);
            lines.push(word.iter().collect());
            word = rest;
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    if lines.len() > max_lines.max(1) {
        lines.truncate(max_lines.max(1));
        if let Some(last) = lines.last_mut() {
            let mut chars: Vec<char> = last.chars().collect();
            chars.truncate(width.saturating_sub(1));
            *last = chars.into_iter().collect::<String>().trim_end().to_string();
            last.push('…');
        }
    }
    lines
}

/// The average advance of DejaVu Sans (a little over half the font size), of its bold face
const ADVANCE: f64 = 0.56;
const ADVANCE_BOLD: f64 = 0.66;

/// How many characters of DejaVu Sans at `font_px` fit in `width_px`
pub fn chars_per_line(width_px: u32, font_px: u32) -> usize {
    let per_char = (f64::from(font_px.max(1)) * ADVANCE).max(1.0);
    ((f64::from(width_px) / per_char).floor() as usize).max(4)
}

/// The largest font size up to `max_px` (at least `min_px`) at which `text` in DejaVu Sans Bold
/// fits in `width_px`
pub fn fit_bold(text: &str, width_px: u32, max_px: u32, min_px: u32) -> u32 {
    let chars = text.chars().count().max(1) as f64;
    let fits = (f64::from(width_px) / (chars * ADVANCE_BOLD)).floor() as u32;
    fits.clamp(min_px, max_px.max(min_px))
}

/// An RGB colour from hue (degrees), saturation and lightness (0..=1)
pub fn hsl(hue: f64, sat: f64, light: f64) -> [u8; 3] {
    let h = hue.rem_euclid(360.0) / 60.0;
    let c = (1.0 - (2.0 * light - 1.0).abs()) * sat;
    let x = c * (1.0 - (h % 2.0 - 1.0).abs());
    let (r, g, b) = match h as u32 {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    let m = light - c / 2.0;
    let to = |v: f64| ((v + m) * 255.0).round().clamp(0.0, 255.0) as u8;
    [to(r), to(g), to(b)]
}

/// The two gradient colours and the gradient's direction of a look seed
pub struct Palette {
    /// The first colour, `0xRRGGBB`
    pub c0: String,
    /// The second colour, `0xRRGGBB`
    pub c1: String,
    /// Which corner the gradient starts from (0..4)
    pub corner: u8,
}

/// The palette of a look seed: a dark and a lighter colour some way round the hue circle
pub fn palette(seed: u64) -> Palette {
    let hue = (seed % 360) as f64;
    let shift = 35.0 + ((seed >> 12) % 60) as f64;
    let hex = |c: [u8; 3]| format!("0x{:02x}{:02x}{:02x}", c[0], c[1], c[2]);
    Palette {
        c0: hex(hsl(hue, 0.55, 0.24)),
        c1: hex(hsl(hue + shift, 0.6, 0.52)),
        corner: ((seed >> 24) % 4) as u8,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_words_and_splits_long_ones() {
        let lines = wrap("a lighthouse keeper climbs the spiral stairs", 12, 10);
        assert_eq!(
            lines,
            vec!["a lighthouse", "keeper", "climbs the", "spiral", "stairs"]
        );
        assert_eq!(wrap("abcdefghij", 4, 10), vec!["abcd", "efgh", "ij"]);
        let cut = wrap("one two three four five six", 7, 2);
        assert_eq!(cut.len(), 2);
        assert!(cut[1].ends_with('…'));
        assert!(wrap("", 10, 3).is_empty());
    }

    #[test]
    fn cleans_flags_and_controls() {
        assert_eq!(
            clean("a cat\non a mat --ratio 16:9 --duration 5", 100),
            "a cat on a mat"
        );
        assert_eq!(clean("x --- y", 100), "x --- y");
        assert_eq!(clean("abcdefghij", 5), "abcd…");
    }

    #[test]
    fn colours() {
        assert_eq!(hsl(0.0, 1.0, 0.5), [255, 0, 0]);
        assert_eq!(hsl(120.0, 1.0, 0.5), [0, 255, 0]);
        assert_eq!(hsl(240.0, 1.0, 0.5), [0, 0, 255]);
        let p = palette(7);
        assert!(p.c0.starts_with("0x") && p.c0.len() == 8);
        assert_ne!(palette(1).c0, palette(2).c0);
    }
}
