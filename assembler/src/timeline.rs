//! The submitted timeline, and its validation into typed form.
//!
//! Validation walks the JSON by hand rather than through serde so every refusal names the exact
//! field (`timeline.clips[2].duration_s`), which is what the Worker logs and a person fixes.
//! Unknown fields are ignored: the planner's timeline may carry more than the assembler uses.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::frame::{Aspect, Quality};

/// The longest cut the assembler accepts, in seconds (an hour; renders are minutes)
pub const MAX_DURATION_S: f64 = 3600.0;

/// The most clips, or dialogue lines, in one timeline: the orchestrator's longest brief (one clip
/// and at most one line per shot) with room to spare. Neither the ffmpeg command lines nor the
/// files one ffmpeg process opens grow with it: past the pipeline's chunk size, clips are
/// rendered into intermediate segments and lines premixed in groups, so no process takes more
/// than a chunk of them as inputs (a 2,000-input process would pass the usual limit of 1,024 open
/// files and Linux's 128 KiB cap on one argument).
pub const MAX_ITEMS: usize = 2000;

/// The most variants: one per frame shape (a shape listed twice is refused anyway)
pub const MAX_VARIANTS: usize = Aspect::ALL.len();

/// The most further segments of one line (the score): every segment is an input of the one
/// audio mix process, so this bounds that process's command line and open files
pub const MAX_SEGMENTS: usize = 500;

/// A validated submission
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Submission {
    /// What to assemble
    pub timeline: Timeline,
    /// Where the terminal state is POSTed
    pub callback_url: Option<String>,
}

/// What to assemble
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Timeline {
    /// The master's frame shape
    pub master: Aspect,
    /// One further output per shape, in this order
    pub variants: Vec<Aspect>,
    /// Burn "Made with CreatorStudio" into every output
    pub badge: bool,
    /// Encoding quality
    pub quality: Quality,
    /// Burn captions into the video outputs
    pub burn_captions: bool,
    /// The cut's length: every output is exactly this long
    pub duration_s: f64,
    /// Shot clips in edit order
    pub clips: Vec<Clip>,
    /// Dialogue lines, each placed at its start
    pub dialogue: Vec<Line>,
    /// The voiceover
    pub voiceover: Option<Line>,
    /// The music bed
    pub score: Option<Line>,
    /// A still request: make only this frame of the (single) clip
    #[serde(default)]
    pub still: Option<Still>,
}

/// Which frame a still request wants
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Still {
    /// The clip's last frame: the first frame of the next part of a shot too long for one call
    LastFrame,
}

/// A further file that continues a line (a score longer than one music call)
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Segment {
    /// The stage that made it, named in messages
    pub stage: String,
    /// Where to fetch it
    pub url: String,
    /// Where it starts in the cut: the segment before it fades out over its first `crossfade_s`
    pub start_s: f64,
    /// How long it plays (looped when the file is shorter)
    pub duration_s: f64,
}

/// One shot clip
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Clip {
    /// The shot's id, named in messages
    pub shot: String,
    /// Where to fetch it
    pub url: String,
    /// Where it starts in the cut (informational: clips play back to back in order)
    pub start_s: f64,
    /// How long it plays: trimmed, or held on its last frame when shorter
    pub duration_s: f64,
}

/// One audio input: a dialogue line, the voiceover or the score
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Line {
    /// The stage that made it, named in messages
    pub stage: String,
    /// Where to fetch it
    pub url: String,
    /// Where it starts in the cut
    pub start_s: f64,
    /// What is said (captions)
    pub text: Option<String>,
    /// Who says it (the captions' voice span)
    pub speaker: Option<String>,
    /// How long it should play (the score: a music model's clip is often shorter than the cut,
    /// so it is looped to fill this); `None` plays the file once
    #[serde(default)]
    pub duration_s: Option<f64>,
    /// Further files that continue it, each crossfaded into the one before
    #[serde(default)]
    pub segments: Vec<Segment>,
    /// How long each join of `segments` crossfades, seconds
    #[serde(default)]
    pub crossfade_s: f64,
}

/// Why a submission was refused
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct Invalid {
    /// The field at fault, e.g. `timeline.clips[2].duration_s`
    pub field: String,
    /// What is wrong with it
    pub message: String,
}

fn invalid(field: impl Into<String>, message: impl Into<String>) -> Invalid {
    Invalid {
        field: field.into(),
        message: message.into(),
    }
}

/// Validates a submit body
pub fn parse_submission(body: &Value) -> Result<Submission, Invalid> {
    let Value::Object(body) = body else {
        return Err(invalid("body", "must be a JSON object"));
    };
    let timeline = match body.get("timeline") {
        Some(Value::Object(t)) => parse_timeline(t)?,
        Some(_) => return Err(invalid("timeline", "must be an object")),
        None => return Err(invalid("timeline", "is required")),
    };
    let callback_url = match body.get("callback_url") {
        None | Some(Value::Null) => None,
        Some(Value::String(u)) => {
            check_url(u, "callback_url")?;
            Some(u.clone())
        }
        Some(_) => return Err(invalid("callback_url", "must be a URL string or null")),
    };
    Ok(Submission {
        timeline,
        callback_url,
    })
}

fn parse_timeline(t: &Map<String, Value>) -> Result<Timeline, Invalid> {
    let master = match t.get("master") {
        Some(v) => aspect(v, "timeline.master")?,
        None => return Err(invalid("timeline.master", "is required")),
    };
    let variants = match t.get("variants") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => {
            if items.len() > MAX_VARIANTS {
                return Err(invalid("timeline.variants", "has too many entries"));
            }
            let mut out: Vec<Aspect> = Vec::new();
            for (i, v) in items.iter().enumerate() {
                let field = format!("timeline.variants[{i}]");
                let a = aspect(v, &field)?;
                if out.contains(&a) {
                    return Err(invalid(field, format!("{} is listed twice", a.as_str())));
                }
                out.push(a);
            }
            out
        }
        Some(_) => return Err(invalid("timeline.variants", "must be an array")),
    };
    // The badge discloses AI-made content: on unless asked otherwise
    let badge = opt_bool(t, "badge", "timeline.badge")?.unwrap_or(true);
    let quality = match t.get("quality") {
        None | Some(Value::Null) => Quality::Hd,
        Some(Value::String(q)) => Quality::parse(q)
            .ok_or_else(|| invalid("timeline.quality", "must be \"hd\" or \"preview\""))?,
        Some(_) => {
            return Err(invalid("timeline.quality", "must be \"hd\" or \"preview\""));
        }
    };
    let burn_captions = match t.get("captions") {
        None | Some(Value::Null) => false,
        Some(Value::Object(c)) => opt_bool(c, "burn", "timeline.captions.burn")?.unwrap_or(false),
        Some(_) => return Err(invalid("timeline.captions", "must be an object")),
    };
    let duration_s = match t.get("duration_s") {
        Some(v) => number(v, "timeline.duration_s")?,
        None => return Err(invalid("timeline.duration_s", "is required")),
    };
    if duration_s <= 0.0 {
        return Err(invalid("timeline.duration_s", "must be positive"));
    }
    if duration_s > MAX_DURATION_S {
        return Err(invalid(
            "timeline.duration_s",
            format!("must be at most {MAX_DURATION_S} s"),
        ));
    }
    let clips = match t.get("clips") {
        Some(Value::Array(items)) if items.is_empty() => {
            return Err(invalid("timeline.clips", "must not be empty"));
        }
        Some(Value::Array(items)) if items.len() > MAX_ITEMS => {
            return Err(invalid("timeline.clips", "has too many entries"));
        }
        Some(Value::Array(items)) => {
            let mut clips = Vec::with_capacity(items.len());
            let mut next_start = 0.0;
            for (i, v) in items.iter().enumerate() {
                let clip = parse_clip(v, i, next_start)?;
                next_start = clip.start_s + clip.duration_s;
                clips.push(clip);
            }
            clips
        }
        Some(_) => return Err(invalid("timeline.clips", "must be an array")),
        None => return Err(invalid("timeline.clips", "is required")),
    };
    let dialogue = match t.get("dialogue") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) if items.len() > MAX_ITEMS => {
            return Err(invalid("timeline.dialogue", "has too many entries"));
        }
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, v)| {
                parse_line(
                    v,
                    &format!("timeline.dialogue[{i}]"),
                    &format!("dialogue[{i}]"),
                    true,
                )
            })
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(invalid("timeline.dialogue", "must be an array")),
    };
    let track = |name: &str| -> Result<Option<Line>, Invalid> {
        match t.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => parse_line(v, &format!("timeline.{name}"), name, false).map(Some),
        }
    };
    let voiceover = track("voiceover")?;
    let score = track("score")?;
    let still = match t.get("still") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s == "last_frame" => Some(Still::LastFrame),
        Some(_) => return Err(invalid("timeline.still", "must be \"last_frame\" or null")),
    };
    if still.is_some() && clips.len() != 1 {
        return Err(invalid(
            "timeline.clips",
            "a still request takes exactly one clip",
        ));
    }
    Ok(Timeline {
        master,
        variants,
        badge,
        quality,
        burn_captions,
        duration_s,
        clips,
        dialogue,
        voiceover,
        score,
        still,
    })
}

fn parse_clip(v: &Value, i: usize, default_start: f64) -> Result<Clip, Invalid> {
    let base = format!("timeline.clips[{i}]");
    let Value::Object(c) = v else {
        return Err(invalid(base, "must be an object"));
    };
    let shot = opt_string(c, "shot", &format!("{base}.shot"))?
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| format!("#{}", i + 1));
    let url = url(c, &base)?;
    let start_s = match c.get("start_s") {
        None | Some(Value::Null) => default_start,
        Some(v) => non_negative(v, &format!("{base}.start_s"))?,
    };
    let duration_field = format!("{base}.duration_s");
    let duration_s = match c.get("duration_s") {
        Some(v) => number(v, &duration_field)?,
        None => return Err(invalid(duration_field, "is required")),
    };
    if duration_s <= 0.0 {
        return Err(invalid(duration_field, "must be positive"));
    }
    Ok(Clip {
        shot,
        url,
        start_s,
        duration_s,
    })
}

fn parse_line(
    v: &Value,
    base: &str,
    default_stage: &str,
    start_required: bool,
) -> Result<Line, Invalid> {
    let Value::Object(c) = v else {
        return Err(invalid(base, "must be an object"));
    };
    let stage = opt_string(c, "stage", &format!("{base}.stage"))?
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| default_stage.to_string());
    let url = url(c, base)?;
    let start_field = format!("{base}.start_s");
    let start_s = match c.get("start_s") {
        None | Some(Value::Null) if start_required => {
            return Err(invalid(start_field, "is required"));
        }
        None | Some(Value::Null) => 0.0,
        Some(v) => non_negative(v, &start_field)?,
    };
    let text = opt_string(c, "text", &format!("{base}.text"))?.filter(|s| !s.trim().is_empty());
    let speaker =
        opt_string(c, "speaker", &format!("{base}.speaker"))?.filter(|s| !s.trim().is_empty());
    let duration_field = format!("{base}.duration_s");
    let duration_s = match c.get("duration_s") {
        None | Some(Value::Null) => None,
        Some(v) => Some(non_negative(v, &duration_field)?).filter(|d| *d > 0.0),
    };
    let (segments, crossfade_s) = parse_segments(c, base, start_s, duration_s)?;
    Ok(Line {
        stage,
        url,
        start_s,
        text,
        speaker,
        duration_s,
        segments,
        crossfade_s,
    })
}

/// A line's `segments` and `crossfade_s`: each segment starts where the one before it ends,
/// less the crossfade, so the joins overlap by exactly the crossfade
fn parse_segments(
    c: &Map<String, Value>,
    base: &str,
    start_s: f64,
    duration_s: Option<f64>,
) -> Result<(Vec<Segment>, f64), Invalid> {
    let items = match c.get("segments") {
        None | Some(Value::Null) => return Ok((Vec::new(), 0.0)),
        Some(Value::Array(items)) if items.is_empty() => return Ok((Vec::new(), 0.0)),
        Some(Value::Array(items)) if items.len() > MAX_SEGMENTS => {
            return Err(invalid(format!("{base}.segments"), "has too many entries"));
        }
        Some(Value::Array(items)) => items,
        Some(_) => return Err(invalid(format!("{base}.segments"), "must be an array")),
    };
    let crossfade_field = format!("{base}.crossfade_s");
    let crossfade_s = match c.get("crossfade_s") {
        None | Some(Value::Null) => 0.0,
        Some(v) => non_negative(v, &crossfade_field)?,
    };
    let Some(mut end) = duration_s.map(|d| start_s + d) else {
        return Err(invalid(
            format!("{base}.duration_s"),
            "is required when the line has segments",
        ));
    };
    let mut out = Vec::with_capacity(items.len());
    for (i, v) in items.iter().enumerate() {
        let at = format!("{base}.segments[{i}]");
        let Value::Object(seg) = v else {
            return Err(invalid(at, "must be an object"));
        };
        let stage = opt_string(seg, "stage", &format!("{at}.stage"))?
            .filter(|s| !s.trim().is_empty())
            .unwrap_or_else(|| format!("segment {}", i + 2));
        let url = url(seg, &at)?;
        let start_field = format!("{at}.start_s");
        let start = match seg.get("start_s") {
            Some(v) => non_negative(v, &start_field)?,
            None => return Err(invalid(start_field, "is required")),
        };
        let duration_field = format!("{at}.duration_s");
        let duration = match seg.get("duration_s") {
            Some(v) => number(v, &duration_field)?,
            None => return Err(invalid(duration_field, "is required")),
        };
        if duration <= crossfade_s {
            return Err(invalid(duration_field, "must be longer than the crossfade"));
        }
        // A tolerance of a millisecond for the planner's float sums.
        if (start - (end - crossfade_s)).abs() > 1e-3 {
            return Err(invalid(
                start_field,
                format!(
                    "must be where the part before ends less the crossfade ({:.3})",
                    end - crossfade_s
                ),
            ));
        }
        end = start + duration;
        out.push(Segment {
            stage,
            url,
            start_s: start,
            duration_s: duration,
        });
    }
    Ok((out, crossfade_s))
}

fn url(c: &Map<String, Value>, base: &str) -> Result<String, Invalid> {
    let field = format!("{base}.url");
    match c.get("url") {
        Some(Value::String(u)) => {
            check_url(u, &field)?;
            Ok(u.clone())
        }
        None | Some(Value::Null) => Err(invalid(field, "is required")),
        Some(_) => Err(invalid(field, "must be a string")),
    }
}

/// Accepts absolute http(s) URLs with a host
fn check_url(u: &str, field: &str) -> Result<(), Invalid> {
    let lower = u.get(..8).unwrap_or(u).to_ascii_lowercase();
    let rest = if lower.starts_with("https://") {
        &u[8..]
    } else if lower.starts_with("http://") {
        &u[7..]
    } else {
        return Err(invalid(field, "must be an http or https URL"));
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    if host.is_empty() || u.chars().any(char::is_whitespace) {
        return Err(invalid(field, "must be an absolute http or https URL"));
    }
    Ok(())
}

fn aspect(v: &Value, field: &str) -> Result<Aspect, Invalid> {
    v.as_str().and_then(Aspect::parse).ok_or_else(|| {
        invalid(
            field,
            "must be one of \"16:9\", \"9:16\", \"1:1\", \"4:5\", \"4:3\"",
        )
    })
}

fn number(v: &Value, field: &str) -> Result<f64, Invalid> {
    match v.as_f64() {
        Some(n) if n.is_finite() => Ok(n),
        _ => Err(invalid(field, "must be a number")),
    }
}

fn non_negative(v: &Value, field: &str) -> Result<f64, Invalid> {
    let n = number(v, field)?;
    if n < 0.0 {
        return Err(invalid(field, "must not be negative"));
    }
    Ok(n)
}

fn opt_bool(c: &Map<String, Value>, key: &str, field: &str) -> Result<Option<bool>, Invalid> {
    match c.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(invalid(field, "must be true or false")),
    }
}

fn opt_string(c: &Map<String, Value>, key: &str, field: &str) -> Result<Option<String>, Invalid> {
    match c.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(invalid(field, "must be a string")),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn body() -> Value {
        json!({
            "timeline": {
                "master": "16:9",
                "variants": ["9:16", "1:1"],
                "badge": true,
                "quality": "preview",
                "captions": {"burn": true},
                "duration_s": 4.5,
                "clips": [
                    {"shot": "s01", "key": "k1", "url": "http://127.0.0.1:9/c1", "start_s": 0.0, "duration_s": 1.5},
                    {"shot": "s02", "key": "k2", "url": "https://r2.example/c2?sig=x", "start_s": 1.5, "duration_s": 3.0}
                ],
                "dialogue": [
                    {"stage": "s02.dialogue", "key": "k3", "url": "http://h/d", "start_s": 1.5,
                     "text": "They switch us off on Friday.", "speaker": "Ines"}
                ],
                "voiceover": {"stage": "voiceover", "url": "http://h/vo", "start_s": 0.0, "text": "Hello."},
                "score": null
            },
            "callback_url": "https://w.example/v1/callbacks/assembler/j/s/1?exp=1&token=t"
        })
    }

    /// The field named when `edit` is applied to the valid body
    fn refused(edit: impl FnOnce(&mut Value)) -> String {
        let mut b = body();
        edit(&mut b);
        parse_submission(&b).unwrap_err().field
    }

    #[test]
    fn accepts_the_documented_shape() {
        let s = parse_submission(&body()).unwrap();
        let t = &s.timeline;
        assert_eq!(t.master, Aspect::Landscape);
        assert_eq!(t.variants, vec![Aspect::Vertical, Aspect::Square]);
        assert!(t.badge && t.burn_captions);
        assert_eq!(t.quality, Quality::Preview);
        assert_eq!(t.clips[1].shot, "s02");
        assert_eq!(t.dialogue[0].speaker.as_deref(), Some("Ines"));
        assert_eq!(
            t.voiceover.as_ref().unwrap().text.as_deref(),
            Some("Hello.")
        );
        assert!(t.score.is_none());
        assert!(s.callback_url.is_some());
    }

    #[test]
    fn defaults_fill_optional_fields() {
        let s = parse_submission(&json!({"timeline": {
            "master": "9:16", "duration_s": 2,
            "clips": [{"url": "http://h/a", "duration_s": 1}, {"url": "http://h/b", "duration_s": 1}]
        }}))
        .unwrap();
        let t = s.timeline;
        assert_eq!(t.quality, Quality::Hd);
        assert!(t.badge);
        assert!(!t.burn_captions);
        assert!(t.variants.is_empty() && t.dialogue.is_empty());
        assert_eq!(t.clips[0].shot, "#1");
        assert_eq!(t.clips[1].start_s, 1.0);
        assert_eq!(s.callback_url, None);
    }

    #[test]
    fn refusals_name_the_field() {
        type Edit = Box<dyn FnOnce(&mut Value)>;
        let cases: Vec<(&str, Edit)> = vec![
            (
                "timeline.clips[1].duration_s",
                Box::new(|b| b["timeline"]["clips"][1]["duration_s"] = json!(0)),
            ),
            (
                "timeline.clips[0].duration_s",
                Box::new(|b| b["timeline"]["clips"][0]["duration_s"] = json!(-1.0)),
            ),
            (
                "timeline.clips[0].url",
                Box::new(|b| {
                    b["timeline"]["clips"][0]
                        .as_object_mut()
                        .unwrap()
                        .remove("url");
                }),
            ),
            (
                "timeline.clips[0].url",
                Box::new(|b| b["timeline"]["clips"][0]["url"] = json!("ftp://x/y")),
            ),
            (
                "timeline.clips",
                Box::new(|b| b["timeline"]["clips"] = json!([])),
            ),
            (
                "timeline.master",
                Box::new(|b| b["timeline"]["master"] = json!("21:9")),
            ),
            (
                "timeline.variants[1]",
                Box::new(|b| b["timeline"]["variants"][1] = json!("9:16")),
            ),
            (
                "timeline.quality",
                Box::new(|b| b["timeline"]["quality"] = json!("4k")),
            ),
            (
                "timeline.duration_s",
                Box::new(|b| b["timeline"]["duration_s"] = json!(0)),
            ),
            (
                "timeline.duration_s",
                Box::new(|b| b["timeline"]["duration_s"] = json!("5")),
            ),
            (
                "timeline.dialogue[0].start_s",
                Box::new(|b| b["timeline"]["dialogue"][0]["start_s"] = json!(-2)),
            ),
            (
                "timeline.dialogue[0].url",
                Box::new(|b| b["timeline"]["dialogue"][0]["url"] = json!(7)),
            ),
            (
                "timeline.voiceover.url",
                Box::new(|b| b["timeline"]["voiceover"]["url"] = Value::Null),
            ),
            (
                "timeline.score",
                Box::new(|b| b["timeline"]["score"] = json!("x")),
            ),
            (
                "timeline.captions.burn",
                Box::new(|b| b["timeline"]["captions"]["burn"] = json!("yes")),
            ),
            (
                "callback_url",
                Box::new(|b| b["callback_url"] = json!("not a url")),
            ),
        ];
        for (field, edit) in cases {
            assert_eq!(refused(edit), field);
        }
        assert_eq!(parse_submission(&json!([])).unwrap_err().field, "body");
        assert_eq!(parse_submission(&json!({})).unwrap_err().field, "timeline");
        let e = parse_submission(
            &json!({"timeline": {"master": "16:9", "duration_s": 1, "clips": [
            {"shot": "s01", "url": "http://h/a", "duration_s": 0}]}}),
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "timeline.clips[0].duration_s: must be positive"
        );
    }

    /// A body of `n` one-second clips and `n` dialogue lines
    fn long(n: usize) -> Value {
        let clips: Vec<Value> = (0..n)
            .map(|i| json!({"shot": format!("s{i:04}"), "url": format!("http://h/c{i}"), "duration_s": 1.0}))
            .collect();
        let lines: Vec<Value> = (0..n)
            .map(|i| json!({"url": format!("http://h/d{i}"), "start_s": i as f64}))
            .collect();
        json!({"timeline": {"master": "16:9", "duration_s": n as f64, "clips": clips, "dialogue": lines}})
    }

    #[test]
    fn takes_two_thousand_clips_and_lines_and_no_more() {
        let t = parse_submission(&long(MAX_ITEMS)).unwrap().timeline;
        assert_eq!((t.clips.len(), t.dialogue.len()), (2000, 2000));
        let mut b = long(MAX_ITEMS);
        b["timeline"]["clips"]
            .as_array_mut()
            .unwrap()
            .push(json!({"url": "http://h/one-more", "duration_s": 1.0}));
        let e = parse_submission(&b).unwrap_err();
        assert_eq!(e.field, "timeline.clips");
        assert_eq!(e.message, "has too many entries");
        let mut b = long(MAX_ITEMS);
        b["timeline"]["dialogue"]
            .as_array_mut()
            .unwrap()
            .push(json!({"url": "http://h/one-more", "start_s": 0.0}));
        assert_eq!(parse_submission(&b).unwrap_err().field, "timeline.dialogue");
        // One variant per shape at most
        let mut b = body();
        b["timeline"]["variants"] = json!(["9:16", "1:1", "4:5", "4:3", "16:9", "9:16"]);
        assert_eq!(parse_submission(&b).unwrap_err().field, "timeline.variants");
    }

    #[test]
    fn accepts_extra_shapes() {
        let mut b = body();
        b["timeline"]["variants"] = json!(["4:5", "4:3"]);
        let t = parse_submission(&b).unwrap().timeline;
        assert_eq!(t.variants, vec![Aspect::Portrait, Aspect::Classic]);
    }
}
