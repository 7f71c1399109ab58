//! Captions: cues from the dialogue and voiceover text, as WebVTT and as lines to burn in.
//!
//! A dialogue cue runs from the line's start for its measured audio length; the voiceover's text
//! is split into sentences spread over its audio in proportion to their length (speech rate is
//! roughly constant in characters, so this keeps each sentence near its words). Everything is
//! clamped to the timeline: nothing is shown past the end of the cut.

use crate::timeline::Timeline;

/// How long text is read when its audio length is unknown, per character (about 13 chars/s)
const SECONDS_PER_CHAR: f64 = 0.075;

/// The shortest cue worth showing, in seconds
const MIN_CUE_S: f64 = 0.05;

/// One caption
#[derive(Debug, Clone, PartialEq)]
pub struct Cue {
    /// When it appears, seconds into the cut
    pub start_s: f64,
    /// When it disappears
    pub end_s: f64,
    /// What is said
    pub text: String,
    /// Who says it (dialogue only)
    pub speaker: Option<String>,
}

/// Builds the cues, in start order. `dialogue_s[i]` is the measured length of dialogue line `i`
/// and `voiceover_s` that of the voiceover (`None`: unknown, estimated from the text).
pub fn build_cues(t: &Timeline, dialogue_s: &[Option<f64>], voiceover_s: Option<f64>) -> Vec<Cue> {
    let mut cues = Vec::new();
    for (i, line) in t.dialogue.iter().enumerate() {
        let Some(text) = line
            .text
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        else {
            continue;
        };
        let length = dialogue_s
            .get(i)
            .copied()
            .flatten()
            .filter(|d| d.is_finite() && *d > 0.0)
            .unwrap_or_else(|| estimate(text));
        push(
            &mut cues,
            t.duration_s,
            line.start_s,
            line.start_s + length,
            text,
            line.speaker.clone(),
        );
    }
    if let Some(vo) = &t.voiceover
        && let Some(text) = vo.text.as_deref().map(str::trim).filter(|s| !s.is_empty())
    {
        let sentences = split_sentences(text);
        let total_chars: usize = sentences.iter().map(|s| s.chars().count()).sum();
        let length = voiceover_s
            .filter(|d| d.is_finite() && *d > 0.0)
            .unwrap_or_else(|| estimate(text));
        let mut at = vo.start_s;
        for sentence in sentences {
            let share = sentence.chars().count() as f64 / total_chars.max(1) as f64;
            let end = at + length * share;
            push(&mut cues, t.duration_s, at, end, &sentence, None);
            at = end;
        }
    }
    cues.sort_by(|a, b| a.start_s.total_cmp(&b.start_s));
    cues
}

fn push(
    cues: &mut Vec<Cue>,
    duration_s: f64,
    start: f64,
    end: f64,
    text: &str,
    speaker: Option<String>,
) {
    let start = round_ms(start.max(0.0));
    let end = round_ms(end.min(duration_s));
    if end - start >= MIN_CUE_S {
        cues.push(Cue {
            start_s: start,
            end_s: end,
            text: text.to_string(),
            speaker,
        });
    }
}

fn estimate(text: &str) -> f64 {
    (text.chars().count() as f64 * SECONDS_PER_CHAR).max(1.0)
}

fn round_ms(s: f64) -> f64 {
    (s * 1000.0).round() / 1000.0
}

/// Splits text into sentences: after `.`, `!`, `?` or `…` followed by whitespace, and at line
/// breaks. Whitespace is collapsed; empty sentences are dropped.
pub fn split_sentences(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for paragraph in text.lines() {
        let mut current = String::new();
        let mut chars = paragraph.chars().peekable();
        while let Some(c) = chars.next() {
            current.push(c);
            let ends = matches!(c, '.' | '!' | '?' | '…');
            if ends && chars.peek().is_none_or(|n| n.is_whitespace()) {
                // Keep runs of closing punctuation ("?!", "...") together
                flush(&mut out, &mut current);
            }
        }
        flush(&mut out, &mut current);
    }
    out
}

fn flush(out: &mut Vec<String>, current: &mut String) {
    let s = current.split_whitespace().collect::<Vec<_>>().join(" ");
    current.clear();
    if s.is_empty() {
        return;
    }
    // A lone run of punctuation belongs to the sentence before it
    if s.chars().all(|c| matches!(c, '.' | '!' | '?' | '…'))
        && let Some(last) = out.last_mut()
    {
        last.push_str(&s);
        return;
    }
    out.push(s);
}

/// Formats seconds as a WebVTT timestamp, `HH:MM:SS.mmm`
pub fn timestamp(s: f64) -> String {
    let ms = (s.max(0.0) * 1000.0).round() as u64;
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        ms / 3_600_000,
        (ms / 60_000) % 60,
        (ms / 1000) % 60,
        ms % 1000
    )
}

/// The WebVTT file of the cues (`None` when there are none: no captions file at all)
pub fn webvtt(cues: &[Cue]) -> Option<String> {
    if cues.is_empty() {
        return None;
    }
    let mut out = String::from("WEBVTT\n");
    for (i, cue) in cues.iter().enumerate() {
        out.push('\n');
        out.push_str(&format!(
            "{}\n{} --> {}\n",
            i + 1,
            timestamp(cue.start_s),
            timestamp(cue.end_s)
        ));
        let text = escape(&cue.text.split_whitespace().collect::<Vec<_>>().join(" "));
        match &cue.speaker {
            Some(who) => {
                let who = escape(who.trim()).replace(['\n', '\r'], " ");
                out.push_str(&format!("<v {who}>{text}</v>\n"));
            }
            None => {
                out.push_str(&text);
                out.push('\n');
            }
        }
    }
    Some(out)
}

/// Escapes what WebVTT cue text treats as markup
fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Wraps text into lines of at most `max_chars` characters, breaking at spaces (a single word
/// longer than that gets a line of its own)
pub fn wrap(text: &str, max_chars: usize) -> Vec<String> {
    let max_chars = max_chars.max(1);
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let needed = if line.is_empty() {
            word.chars().count()
        } else {
            line.chars().count() + 1 + word.chars().count()
        };
        if needed > max_chars && !line.is_empty() {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::{Aspect, Quality};
    use crate::timeline::{Clip, Line};

    fn line(stage: &str, start_s: f64, text: Option<&str>, speaker: Option<&str>) -> Line {
        Line {
            stage: stage.into(),
            url: "http://h/x".into(),
            start_s,
            text: text.map(Into::into),
            speaker: speaker.map(Into::into),
            duration_s: None,
            segments: Vec::new(),
            crossfade_s: 0.0,
        }
    }

    fn timeline() -> Timeline {
        Timeline {
            master: Aspect::Landscape,
            variants: vec![],
            badge: true,
            quality: Quality::Preview,
            burn_captions: false,
            duration_s: 10.0,
            clips: vec![Clip {
                shot: "s01".into(),
                url: "http://h/c".into(),
                start_s: 0.0,
                duration_s: 10.0,
            }],
            dialogue: vec![
                line(
                    "s02.dialogue",
                    1.5,
                    Some("They switch us off on Friday."),
                    Some("Ines"),
                ),
                line(
                    "s03.dialogue",
                    6.25,
                    Some("Not if <we> & they agree."),
                    None,
                ),
                line("s04.dialogue", 8.0, None, Some("Ines")),
            ],
            voiceover: None,
            score: None,
            still: None,
        }
    }

    #[test]
    fn formats_timestamps() {
        assert_eq!(timestamp(0.0), "00:00:00.000");
        assert_eq!(timestamp(1.5), "00:00:01.500");
        assert_eq!(timestamp(61.0456), "00:01:01.046");
        assert_eq!(timestamp(3723.004), "01:02:03.004");
    }

    #[test]
    fn dialogue_cues_start_at_their_lines_for_their_measured_length() {
        let t = timeline();
        let cues = build_cues(&t, &[Some(1.768), Some(5.0), Some(1.0)], None);
        assert_eq!(cues.len(), 2, "a line without text has no cue");
        assert_eq!(cues[0].start_s, 1.5);
        assert_eq!(cues[0].end_s, 3.268);
        assert_eq!(cues[1].start_s, 6.25);
        assert_eq!(cues[1].end_s, 10.0, "clamped to the timeline");
        let vtt = webvtt(&cues).unwrap();
        assert_eq!(
            vtt,
            "WEBVTT\n\n1\n00:00:01.500 --> 00:00:03.268\n<v Ines>They switch us off on Friday.</v>\n\n\
             2\n00:00:06.250 --> 00:00:10.000\nNot if &lt;we&gt; &amp; they agree.\n"
        );
    }

    #[test]
    fn voiceover_sentences_share_its_length_by_characters() {
        let mut t = timeline();
        t.dialogue.clear();
        t.voiceover = Some(line(
            "voiceover",
            2.0,
            Some("One two. Three four five six!  Ok?"),
            None,
        ));
        let cues = build_cues(&t, &[], Some(6.0));
        let texts: Vec<_> = cues.iter().map(|c| c.text.as_str()).collect();
        assert_eq!(texts, ["One two.", "Three four five six!", "Ok?"]);
        // 8 + 20 + 3 = 31 characters over 6 s from 2.0 s
        assert_eq!(cues[0].start_s, 2.0);
        assert_eq!(cues[0].end_s, 3.548);
        assert_eq!(cues[1].start_s, 3.548);
        assert_eq!(cues[1].end_s, 7.419);
        assert_eq!(cues[2].end_s, 8.0);
    }

    #[test]
    fn no_text_means_no_captions() {
        let mut t = timeline();
        for l in &mut t.dialogue {
            l.text = None;
        }
        assert!(webvtt(&build_cues(&t, &[Some(1.0); 3], None)).is_none());
    }

    #[test]
    fn unknown_lengths_are_estimated_and_late_cues_dropped() {
        let mut t = timeline();
        t.dialogue[1].start_s = 10.0;
        let cues = build_cues(&t, &[None, None, None], None);
        assert_eq!(cues.len(), 1);
        assert_eq!(
            cues[0].end_s, 3.675,
            "29 characters at {SECONDS_PER_CHAR} s"
        );
    }

    #[test]
    fn splits_sentences() {
        assert_eq!(
            split_sentences("Hello there... Is it 3.5 now?! Yes\nNew line. "),
            ["Hello there...", "Is it 3.5 now?!", "Yes", "New line."]
        );
        assert!(split_sentences("  ").is_empty());
    }

    #[test]
    fn wraps_at_spaces() {
        assert_eq!(
            wrap("They switch us off on Friday.", 12),
            ["They switch", "us off on", "Friday."]
        );
        assert_eq!(
            wrap("Supercalifragilistic word", 5),
            ["Supercalifragilistic", "word"]
        );
        assert_eq!(wrap("short", 40), ["short"]);
    }
}
