//! What ffprobe says about an input: whether it is media we can use, and how long it is.

use serde_json::Value;

/// The arguments of a probe
pub fn probe_args(path: &str) -> Vec<String> {
    [
        "-v",
        "error",
        "-show_streams",
        "-show_format",
        "-of",
        "json",
        path,
    ]
    .map(String::from)
    .to_vec()
}

/// What a probe found
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MediaInfo {
    /// The container, as ffprobe names it (`mov,mp4,m4a,3gp,3g2,mj2`, `wav`, ...)
    pub format: String,
    /// The length in seconds, when known
    pub duration_s: Option<f64>,
    /// The first real video stream's size (cover art in audio files does not count)
    pub video: Option<(u32, u32)>,
    /// Whether there is an audio stream
    pub audio: bool,
}

/// Reads ffprobe's JSON (`None`: not something ffprobe understood as media)
pub fn parse(json: &str) -> Option<MediaInfo> {
    let v: Value = serde_json::from_str(json).ok()?;
    let format = v.get("format")?;
    let format_name = format.get("format_name")?.as_str()?.to_string();
    let mut info = MediaInfo {
        format: format_name,
        ..MediaInfo::default()
    };
    let seconds = |x: Option<&Value>| {
        x.and_then(Value::as_str)
            .and_then(|s| s.parse::<f64>().ok())
            .filter(|d| d.is_finite() && *d > 0.0)
    };
    let mut longest_stream: Option<f64> = None;
    for s in v.get("streams")?.as_array()? {
        let attached_pic = s
            .pointer("/disposition/attached_pic")
            .and_then(Value::as_i64)
            .unwrap_or(0)
            == 1;
        match s.get("codec_type").and_then(Value::as_str) {
            Some("video") if !attached_pic && info.video.is_none() => {
                let dim = |k: &str| {
                    s.get(k)
                        .and_then(Value::as_u64)
                        .and_then(|n| u32::try_from(n).ok())
                        .filter(|n| *n > 0)
                };
                if let (Some(w), Some(h)) = (dim("width"), dim("height")) {
                    info.video = Some((w, h));
                }
            }
            Some("audio") => info.audio = true,
            _ => continue,
        }
        if let Some(d) = seconds(s.get("duration")) {
            longest_stream = Some(longest_stream.map_or(d, |l: f64| l.max(d)));
        }
    }
    info.duration_s = seconds(format.get("duration")).or(longest_stream);
    Some(info)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_video_and_audio() {
        let json = r#"{"streams": [
            {"index": 0, "codec_type": "video", "width": 320, "height": 180, "duration": "1.500000",
             "disposition": {"attached_pic": 0}},
            {"index": 1, "codec_type": "audio", "duration": "1.520000"}
          ],
          "format": {"format_name": "mov,mp4,m4a,3gp,3g2,mj2", "duration": "1.520000"}}"#;
        let info = parse(json).unwrap();
        assert_eq!(info.video, Some((320, 180)));
        assert!(info.audio);
        assert_eq!(info.duration_s, Some(1.52));
    }

    #[test]
    fn cover_art_is_not_video() {
        let json = r#"{"streams": [
            {"codec_type": "audio", "duration": "3.0"},
            {"codec_type": "video", "width": 500, "height": 500, "disposition": {"attached_pic": 1}}
          ], "format": {"format_name": "mp3"}}"#;
        let info = parse(json).unwrap();
        assert_eq!(info.video, None);
        assert_eq!(
            info.duration_s,
            Some(3.0),
            "the stream's length when the format has none"
        );
    }

    #[test]
    fn empty_answers_are_not_media() {
        assert_eq!(parse("{\n\n}"), None);
        assert_eq!(parse("not json"), None);
        let nothing = parse(r#"{"streams": [], "format": {"format_name": "tty"}}"#).unwrap();
        assert_eq!(nothing.video, None);
        assert!(!nothing.audio);
    }
}
