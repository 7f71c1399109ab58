//! One video output (the master or a variant) as ffmpeg arguments, and the poster.
//!
//! Every clip is scaled to cover the frame and centre-cropped (never letterboxed), brought to
//! 30 fps, square pixels and yuv420p so the concat filter sees identical streams, then trimmed
//! to its planned length or held on its last frame when it is shorter. The badge and burned
//! captions are `drawtext` filters inside the frame's safe area; caption text is read from files
//! (`textfile=`, `expansion=none`) so no user text ever passes through filter-graph escaping.

use crate::captions::{self, Cue};
use crate::ff::{base_args, escape_value, secs};
use crate::frame::{self, Aspect, Frame, Quality, SafeArea};

/// Where Debian's `fonts-dejavu-core` puts the font
pub const DEFAULT_FONT_FILE: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";

/// The fontconfig family used when the font file is absent
pub const FALLBACK_FONT_FAMILY: &str = "DejaVu Sans";

/// The badge's text
pub const BADGE_TEXT: &str = "Made with CreatorStudio";

/// Frames per second of every output
pub const FPS: u32 = 30;

/// How text is rendered
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Font {
    /// A font file
    File(String),
    /// A fontconfig family name
    Family(String),
}

impl Font {
    /// The drawtext option selecting this font
    pub fn option(&self) -> String {
        match self {
            Self::File(path) => format!("fontfile={}", escape_value(path)),
            Self::Family(name) => format!("font={}", escape_value(name)),
        }
    }
}

/// One clip as the video graph uses it
#[derive(Debug, Clone, PartialEq)]
pub struct ClipSource {
    /// Its path (relative to ffmpeg's working directory)
    pub path: String,
    /// How long it plays in the cut
    pub planned_s: f64,
    /// Its own length, as ffprobe measured it (`None`: unknown)
    pub probed_s: Option<f64>,
}

impl ClipSource {
    /// How long its last frame must be held to fill its slot (`None`: it is long enough)
    pub fn hold_s(&self) -> Option<f64> {
        match self.probed_s {
            Some(own) if own + 0.001 >= self.planned_s => None,
            Some(own) => Some(self.planned_s - own.max(0.0) + 2.0 / f64::from(FPS)),
            None => Some(self.planned_s),
        }
    }
}

/// Everything one output needs
#[derive(Debug, Clone)]
pub struct Output<'a> {
    /// Its frame shape
    pub aspect: Aspect,
    /// Its quality
    pub quality: Quality,
    /// The clips, in edit order; clip `i` is ffmpeg input `i`
    pub clips: &'a [ClipSource],
    /// The normalised mix (a WAV file), the input after the clips
    pub audio: &'a str,
    /// Burn the badge in
    pub badge: bool,
    /// Cues to burn in (`None` or empty: none)
    pub captions: Option<&'a [Cue]>,
    /// The font of all text
    pub font: &'a Font,
    /// The cut's length
    pub duration_s: f64,
    /// Where the MP4 goes
    pub out: &'a str,
}

/// The arguments of one output, and the text files they read (name, content), which the
/// caller writes into ffmpeg's working directory first
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// ffmpeg's arguments
    pub args: Vec<String>,
    /// Caption text files: (relative path, text)
    pub text_files: Vec<(String, String)>,
}

/// The per-clip chain: cover-scale, centre-crop, square pixels, 30 fps, yuv420p, then hold
/// and trim to the planned length
pub fn clip_chain(index: usize, clip: &ClipSource, f: Frame) -> String {
    let (w, h) = (f.width, f.height);
    let hold = clip
        .hold_s()
        .map(|s| format!("tpad=stop_mode=clone:stop_duration={},", secs(s)))
        .unwrap_or_default();
    format!(
        "[{index}:v:0]setpts=PTS-STARTPTS,scale={w}:{h}:force_original_aspect_ratio=increase,\
         crop={w}:{h},setsar=1,fps={FPS},format=yuv420p,{hold}trim=duration={},\
         setpts=PTS-STARTPTS[v{index}]",
        secs(clip.planned_s)
    )
}

/// The badge: top right, inside the safe area
pub fn badge_filter(f: Frame, safe: SafeArea, font: &Font) -> String {
    let size = frame::badge_font_px(f);
    format!(
        "drawtext={}:text={}:fontsize={size}:fontcolor=white@0.92:box=1:boxcolor=black@0.4:\
         boxborderw={}:x=w-tw-{}:y={}",
        font.option(),
        escape_value(BADGE_TEXT),
        (size / 3).max(2),
        safe.right + (size / 3).max(2),
        safe.top + (size / 3).max(2),
    )
}

/// The burned captions: one `drawtext` per line of each cue, centred, stacked upwards from the
/// bottom of the safe area, shown between the cue's times. `tag` keeps the text files of
/// different outputs apart.
pub fn caption_filters(
    cues: &[Cue],
    tag: &str,
    f: Frame,
    safe: SafeArea,
    font: &Font,
) -> (Vec<String>, Vec<(String, String)>) {
    let size = frame::caption_font_px(f);
    // DejaVu Sans averages a little over half an em per character
    let max_chars = ((f64::from(safe.inner_width(f)) * 0.92) / (f64::from(size) * 0.56)).floor();
    let max_chars = (max_chars as usize).max(8);
    let line_h = (f64::from(size) * 1.35).round() as u32;
    let mut filters = Vec::new();
    let mut files = Vec::new();
    for (c, cue) in cues.iter().enumerate() {
        // Burned cues share one place on screen: a cue gives way when the next one starts
        // (players stack overlapping WebVTT cues themselves; a burned frame cannot)
        let end_s = match cues.get(c + 1) {
            Some(next) if next.start_s > cue.start_s => cue.end_s.min(next.start_s),
            _ => cue.end_s,
        };
        let lines = captions::wrap(&cue.text, max_chars);
        let n = lines.len() as u32;
        for (l, line) in lines.into_iter().enumerate() {
            let name = format!("text-{tag}-{c:04}-{l}.txt");
            let from_bottom = safe.bottom + (n - l as u32) * line_h;
            filters.push(format!(
                "drawtext={}:textfile={}:expansion=none:fontsize={size}:fontcolor=white:\
                 box=1:boxcolor=black@0.55:boxborderw={}:x=(w-tw)/2:y=h-{from_bottom}:\
                 enable=between(t\\,{}\\,{})",
                font.option(),
                escape_value(&name),
                (size / 4).max(2),
                secs(cue.start_s),
                secs(end_s),
            ));
            files.push((name, line));
        }
    }
    (filters, files)
}

/// The whole filter graph of one output, ending at `[vout]`
pub fn filter_graph(o: &Output<'_>) -> (String, Vec<(String, String)>) {
    let f = frame::frame(o.aspect, o.quality);
    let safe = frame::safe_area(o.aspect, f);
    let mut parts: Vec<String> = o
        .clips
        .iter()
        .enumerate()
        .map(|(i, c)| clip_chain(i, c, f))
        .collect();
    let labels: String = (0..o.clips.len()).map(|i| format!("[v{i}]")).collect();
    let planned: f64 = o.clips.iter().map(|c| c.planned_s).sum();
    let mut chain = vec![format!("{labels}concat=n={}:v=1:a=0", o.clips.len())];
    if planned + 0.001 < o.duration_s {
        // The clips end before the cut does: hold the last frame
        chain.push(format!(
            "tpad=stop_mode=clone:stop_duration={}",
            secs(o.duration_s - planned + 2.0 / f64::from(FPS))
        ));
    }
    chain.push(format!(
        "trim=duration={},setpts=PTS-STARTPTS",
        secs(o.duration_s)
    ));
    if o.badge {
        chain.push(badge_filter(f, safe, o.font));
    }
    let mut files = Vec::new();
    if let Some(cues) = o.captions.filter(|c| !c.is_empty()) {
        let (filters, text_files) = caption_filters(cues, o.aspect.file_tag(), f, safe, o.font);
        chain.extend(filters);
        files = text_files;
    }
    parts.push(format!("{}[vout]", chain.join(",")));
    (parts.join(";"), files)
}

/// The arguments of one output
pub fn plan(o: &Output<'_>) -> Plan {
    let (graph, text_files) = filter_graph(o);
    let mut args = base_args();
    for c in o.clips {
        args.extend(["-i".to_string(), c.path.clone()]);
    }
    args.extend(["-i".to_string(), o.audio.to_string()]);
    let audio_map = format!("{}:a:0", o.clips.len());
    let crf = o.quality.crf().to_string();
    let fps = FPS.to_string();
    let gop = (FPS * 2).to_string();
    let total = secs(o.duration_s);
    args.extend(
        [
            "-filter_complex",
            &graph,
            "-map",
            "[vout]",
            "-map",
            &audio_map,
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-crf",
            &crf,
            "-pix_fmt",
            "yuv420p",
            "-r",
            &fps,
            "-g",
            &gop,
            "-c:a",
            "aac",
            "-b:a",
            "128k",
            "-ar",
            "48000",
            "-ac",
            "2",
            "-t",
            &total,
            "-movflags",
            "+faststart",
            o.out,
        ]
        .map(String::from),
    );
    Plan { args, text_files }
}

/// When the poster is taken: a second in, or half-way through a shorter cut
pub fn poster_time(duration_s: f64) -> f64 {
    (duration_s / 2.0).min(1.0)
}

/// The arguments that take the poster (a JPEG) from the master
pub fn poster_args(master: &str, duration_s: f64, out: &str) -> Vec<String> {
    let mut args = base_args();
    args.extend(
        [
            "-ss",
            &secs(poster_time(duration_s)),
            "-i",
            master,
            "-frames:v",
            "1",
            "-q:v",
            "3",
            "-update",
            "1",
            out,
        ]
        .map(String::from),
    );
    args
}

/// The arguments that write a clip's last frame to `out` (a JPEG): decode only the clip's last
/// second and keep overwriting the one output image, so the last decoded frame stays
pub fn last_frame_args(clip: &str, out: &str) -> Vec<String> {
    let mut args = base_args();
    args.extend(
        [
            "-sseof", "-1", "-i", clip, "-an", "-q:v", "2", "-update", "1", out,
        ]
        .map(String::from),
    );
    args
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_frame_is_read_from_the_clips_end() {
        let args = last_frame_args("in/clip-000", "out/frame.jpg");
        let i = args.iter().position(|a| a == "-sseof").unwrap();
        assert_eq!(&args[i..i + 4], ["-sseof", "-1", "-i", "in/clip-000"]);
        assert_eq!(&args[args.len() - 3..], ["-update", "1", "out/frame.jpg"]);
    }

    fn clips() -> Vec<ClipSource> {
        vec![
            ClipSource {
                path: "in/clip-00".into(),
                planned_s: 1.5,
                probed_s: Some(1.5),
            },
            ClipSource {
                path: "in/clip-01".into(),
                planned_s: 1.5,
                probed_s: Some(2.0),
            },
            ClipSource {
                path: "in/clip-02".into(),
                planned_s: 1.5,
                probed_s: Some(1.0),
            },
        ]
    }

    fn cue(start_s: f64, end_s: f64, text: &str) -> Cue {
        Cue {
            start_s,
            end_s,
            text: text.into(),
            speaker: None,
        }
    }

    fn output<'a>(
        clips: &'a [ClipSource],
        aspect: Aspect,
        badge: bool,
        captions: Option<&'a [Cue]>,
        font: &'a Font,
    ) -> Output<'a> {
        Output {
            aspect,
            quality: Quality::Preview,
            clips,
            audio: "audio.wav",
            badge,
            captions,
            font,
            duration_s: 4.5,
            out: "out/master.mp4",
        }
    }

    fn arg_after<'a>(args: &'a [String], flag: &str) -> &'a str {
        let i = args.iter().position(|a| a == flag).unwrap();
        &args[i + 1]
    }

    #[test]
    fn crops_to_cover_and_holds_short_clips() {
        let font = Font::File(DEFAULT_FONT_FILE.into());
        let c = clips();
        let p = plan(&output(&c, Aspect::Vertical, false, None, &font));
        let g = arg_after(&p.args, "-filter_complex");
        assert!(g.starts_with(
            "[0:v:0]setpts=PTS-STARTPTS,scale=360:640:force_original_aspect_ratio=increase,\
             crop=360:640,setsar=1,fps=30,format=yuv420p,trim=duration=1.500,setpts=PTS-STARTPTS[v0];"
        ));
        assert!(g.contains("format=yuv420p,trim=duration=1.500,setpts=PTS-STARTPTS[v1]"));
        assert!(g.contains(
            "format=yuv420p,tpad=stop_mode=clone:stop_duration=0.567,trim=duration=1.500,setpts=PTS-STARTPTS[v2]"
        ));
        assert!(g.ends_with(
            "[v0][v1][v2]concat=n=3:v=1:a=0,trim=duration=4.500,setpts=PTS-STARTPTS[vout]"
        ));
        assert!(!g.contains("drawtext"));
        let inputs: Vec<_> = p
            .args
            .iter()
            .enumerate()
            .filter(|(_, a)| *a == "-i")
            .map(|(i, _)| p.args[i + 1].as_str())
            .collect();
        assert_eq!(
            inputs,
            ["in/clip-00", "in/clip-01", "in/clip-02", "audio.wav"]
        );
        let maps: Vec<_> = p
            .args
            .iter()
            .enumerate()
            .filter(|(_, a)| *a == "-map")
            .map(|(i, _)| p.args[i + 1].as_str())
            .collect();
        assert_eq!(maps, ["[vout]", "3:a:0"]);
        assert_eq!(arg_after(&p.args, "-t"), "4.500");
        assert_eq!(arg_after(&p.args, "-crf"), "30");
        assert_eq!(arg_after(&p.args, "-preset"), "veryfast");
        assert_eq!(arg_after(&p.args, "-c:v"), "libx264");
        assert_eq!(arg_after(&p.args, "-c:a"), "aac");
        assert_eq!(arg_after(&p.args, "-ar"), "48000");
        assert_eq!(arg_after(&p.args, "-movflags"), "+faststart");
        assert_eq!(arg_after(&p.args, "-pix_fmt"), "yuv420p");
        assert_eq!(p.args.last().unwrap(), "out/master.mp4");
        assert!(p.text_files.is_empty());
    }

    #[test]
    fn hd_sizes_and_crf() {
        let font = Font::File(DEFAULT_FONT_FILE.into());
        let c = clips();
        let mut o = output(&c, Aspect::Landscape, false, None, &font);
        o.quality = Quality::Hd;
        let p = plan(&o);
        let g = arg_after(&p.args, "-filter_complex");
        assert!(g.contains("scale=1920:1080:force_original_aspect_ratio=increase,crop=1920:1080"));
        assert_eq!(arg_after(&p.args, "-crf"), "21");
    }

    #[test]
    fn holds_the_last_frame_when_clips_end_early() {
        let font = Font::Family(FALLBACK_FONT_FAMILY.into());
        let c = clips();
        let mut o = output(&c, Aspect::Square, false, None, &font);
        o.duration_s = 6.0;
        let (g, _) = filter_graph(&o);
        assert!(g.contains(
            "concat=n=3:v=1:a=0,tpad=stop_mode=clone:stop_duration=1.567,trim=duration=6.000"
        ));
        let unknown = ClipSource {
            path: "x".into(),
            planned_s: 2.0,
            probed_s: None,
        };
        assert_eq!(unknown.hold_s(), Some(2.0));
    }

    #[test]
    fn badge_only_when_asked_inside_the_safe_area() {
        let font = Font::File(DEFAULT_FONT_FILE.into());
        let c = clips();
        let (with, _) = filter_graph(&output(&c, Aspect::Vertical, true, None, &font));
        let (without, _) = filter_graph(&output(&c, Aspect::Vertical, false, None, &font));
        assert!(!without.contains("drawtext"));
        // 9:16 preview: 64 px top band, 22 px side margin, 13 px text with a 4 px box border
        assert!(with.contains(
            "drawtext=fontfile=/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf:text=Made with CreatorStudio:\
             fontsize=13:fontcolor=white@0.92:box=1:boxcolor=black@0.4:boxborderw=4:x=w-tw-26:y=68[vout]"
        ));
        let family = Font::Family(FALLBACK_FONT_FAMILY.into());
        assert_eq!(family.option(), "font=DejaVu Sans");
    }

    #[test]
    fn captions_are_centred_above_the_bottom_band_between_their_times() {
        let font = Font::File(DEFAULT_FONT_FILE.into());
        let c = clips();
        let cues = [
            cue(
                1.5,
                3.268,
                "They switch us off on Friday, and nobody will notice it.",
            ),
            cue(3.5, 4.5, "Ok."),
            cue(4.0, 4.5, "Overlapping."),
        ];
        let p = plan(&output(&c, Aspect::Vertical, true, Some(&cues), &font));
        let g = arg_after(&p.args, "-filter_complex");
        // 360 px wide: 316 px of text width, 20 px type: 25 characters a line, 27 px apart
        let names: Vec<_> = p.text_files.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "text-9x16-0000-0.txt",
                "text-9x16-0000-1.txt",
                "text-9x16-0000-2.txt",
                "text-9x16-0001-0.txt",
                "text-9x16-0002-0.txt"
            ]
        );
        assert_eq!(p.text_files[0].1, "They switch us off on");
        assert!(g.contains(
            "textfile=text-9x16-0000-0.txt:expansion=none:fontsize=20:fontcolor=white:box=1:\
             boxcolor=black@0.55:boxborderw=5:x=(w-tw)/2:y=h-209:enable=between(t\\,1.500\\,3.268)"
        ));
        assert!(g.contains("textfile=text-9x16-0000-2.txt:expansion=none"));
        assert!(g.contains("y=h-155:enable=between(t\\,1.500\\,3.268)"));
        // The second cue gives way to the third, which it overlaps
        assert!(g.contains("y=h-155:enable=between(t\\,3.500\\,4.000),"));
        assert!(g.contains("y=h-155:enable=between(t\\,4.000\\,4.500)[vout]"));
        // The badge comes before the captions
        assert!(g.find("text=Made with").unwrap() < g.find("textfile=").unwrap());
        let (no_cues, files) = filter_graph(&output(&c, Aspect::Vertical, true, Some(&[]), &font));
        assert!(!no_cues.contains("textfile") && files.is_empty());
    }

    #[test]
    fn poster_a_second_in() {
        assert_eq!(poster_time(4.5), 1.0);
        assert_eq!(poster_time(1.0), 0.5);
        let a = poster_args("out/master.mp4", 4.5, "out/poster.jpg");
        assert_eq!(arg_after(&a, "-ss"), "1.000");
        assert_eq!(arg_after(&a, "-i"), "out/master.mp4");
        assert_eq!(arg_after(&a, "-frames:v"), "1");
        assert_eq!(a.last().unwrap(), "out/poster.jpg");
    }
}
