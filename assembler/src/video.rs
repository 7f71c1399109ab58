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
    /// The clips, in edit order; in one pass clip `i` is ffmpeg input `i`
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

/// The arguments of one ffmpeg run, and the text files they read (name, content), which the
/// caller writes into ffmpeg's working directory first
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// ffmpeg's arguments
    pub args: Vec<String>,
    /// Caption text, a filter graph too long for the command line, a concat list: (relative
    /// path, text)
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

/// The stretch of the cut whose captions one ffmpeg run burns in, when it is not the whole cut
/// from its start: a segment of a chunked output (its frames start at `shift_s` of the cut), or
/// the hold after the segments in the output pass (`shift_s` 0)
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Window {
    /// Where the stretch starts in the cut
    pub from_s: f64,
    /// Where it ends at the latest (cues starting later are left out)
    pub to_s: f64,
    /// The cut's time at the run's first frame: subtracted from every cue's times
    pub shift_s: f64,
}

impl Window {
    /// How far a window's bounds reach past a cue's, seconds: a frame on a cue's bound in the
    /// whole cut (say 1.5 s, frame 45) stays on it once shifted by a whole number of frames,
    /// where the difference of the two decimals could fall either side of the frame's time. No
    /// frame (a multiple of 1/30 s) is within a microsecond of a cue's bound (a multiple of
    /// 1 ms) but on it, so the margin changes no other frame.
    const MARGIN_S: f64 = 1e-6;

    /// Whether a cue shown from `start_s` to `end_s` (inclusive, as `between` is) has a frame
    /// in the window
    fn holds(&self, start_s: f64, end_s: f64) -> bool {
        start_s <= self.to_s && end_s >= self.from_s - Self::MARGIN_S
    }

    /// The `enable` expression of a cue within the window, in the run's own time, at a
    /// microsecond's precision (shifted bounds are not whole milliseconds)
    fn enable(&self, start_s: f64, end_s: f64) -> String {
        let from = (start_s.max(self.from_s) - self.shift_s - Self::MARGIN_S).max(0.0);
        let to = end_s - self.shift_s + Self::MARGIN_S;
        format!("between(t\\,{from:.6}\\,{to:.6})")
    }
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
    caption_filters_in(cues, tag, f, safe, font, None)
}

/// The burned captions of `window` (`None`: the whole cut, timed from its start): only the cues
/// with a frame in it, each shown over its part of it. A cue keeps its text files' names in
/// every window, so runs that share a cue write the same files.
pub fn caption_filters_in(
    cues: &[Cue],
    tag: &str,
    f: Frame,
    safe: SafeArea,
    font: &Font,
    window: Option<Window>,
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
        let enable = match window {
            None => format!("between(t\\,{}\\,{})", secs(cue.start_s), secs(end_s)),
            Some(w) if w.holds(cue.start_s, end_s) => w.enable(cue.start_s, end_s),
            Some(_) => continue,
        };
        let lines = captions::wrap(&cue.text, max_chars);
        let n = lines.len() as u32;
        for (l, line) in lines.into_iter().enumerate() {
            let name = format!("text-{tag}-{c:04}-{l}.txt");
            let from_bottom = safe.bottom + (n - l as u32) * line_h;
            filters.push(format!(
                "drawtext={}:textfile={}:expansion=none:fontsize={size}:fontcolor=white:\
                 box=1:boxcolor=black@0.55:boxborderw={}:x=(w-tw)/2:y=h-{from_bottom}:\
                 enable={enable}",
                font.option(),
                escape_value(&name),
                (size / 4).max(2),
            ));
            files.push((name, line));
        }
    }
    (filters, files)
}

/// What comes after the clips are joined, up to `[vout]` (not included): the hold of the last
/// frame when the clips end before the cut, the trim to the cut's length, the badge and the
/// captions (those of `captions_in`: `None`, all of them); and the caption text files those read
fn finishing_filters(
    o: &Output<'_>,
    captions_in: Option<Window>,
) -> (Vec<String>, Vec<(String, String)>) {
    let f = frame::frame(o.aspect, o.quality);
    let safe = frame::safe_area(o.aspect, f);
    let planned: f64 = o.clips.iter().map(|c| c.planned_s).sum();
    let mut chain = Vec::new();
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
        let tag = o.aspect.file_tag();
        let (filters, text_files) = caption_filters_in(cues, tag, f, safe, o.font, captions_in);
        chain.extend(filters);
        files = text_files;
    }
    (chain, files)
}

/// The clips' chains (clip `i` of `clips` is input `i`, labelled `[v{i}]`), and the concat
/// filter that joins them, which the caller continues and labels
fn conform_and_join(clips: &[ClipSource], f: Frame) -> (Vec<String>, String) {
    let chains = clips
        .iter()
        .enumerate()
        .map(|(i, c)| clip_chain(i, c, f))
        .collect();
    let labels: String = (0..clips.len()).map(|i| format!("[v{i}]")).collect();
    (chains, format!("{labels}concat=n={}:v=1:a=0", clips.len()))
}

/// The whole filter graph of one output, ending at `[vout]`
pub fn filter_graph(o: &Output<'_>) -> (String, Vec<(String, String)>) {
    let f = frame::frame(o.aspect, o.quality);
    let (mut parts, join) = conform_and_join(o.clips, f);
    let (finish, files) = finishing_filters(o, None);
    let chain: Vec<String> = std::iter::once(join).chain(finish).collect();
    parts.push(format!("{}[vout]", chain.join(",")));
    (parts.join(";"), files)
}

/// Above this many bytes a filter graph is handed to ffmpeg in a file (`-filter_complex_script`)
/// rather than as one argument: Linux refuses to start a program with an argument of 128 KiB or
/// more (`MAX_ARG_STRLEN`, counting the final NUL), and the burned captions of a long cut (one
/// `drawtext` per caption line) pass that. Every graph that fits stays on the command line, as
/// before, where a log shows it.
pub const GRAPH_ARG_MAX: usize = 128 * 1024 - 1;

/// The arguments that hand `graph` to ffmpeg, and the file to write first when it is too long
/// for the command line (`script`: its path relative to ffmpeg's working directory)
fn graph_args(graph: String, script: &str) -> ([String; 2], Option<(String, String)>) {
    if graph.len() <= GRAPH_ARG_MAX {
        (["-filter_complex".to_string(), graph], None)
    } else {
        (
            ["-filter_complex_script".to_string(), script.to_string()],
            Some((script.to_string(), graph)),
        )
    }
}

/// The output's encoding, after its inputs: the graph, the maps (`[vout]` and the audio input),
/// H.264 + AAC, exactly the cut's length
fn encode_args(o: &Output<'_>, graph: [String; 2], audio_input: usize) -> Vec<String> {
    let audio_map = format!("{audio_input}:a:0");
    let crf = o.quality.crf().to_string();
    let fps = FPS.to_string();
    let gop = (FPS * 2).to_string();
    let total = secs(o.duration_s);
    let mut args = graph.to_vec();
    args.extend(
        [
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
    args
}

/// The arguments of one output that takes every clip as an input of its own
pub fn plan(o: &Output<'_>) -> Plan {
    let (graph, mut text_files) = filter_graph(o);
    let mut args = base_args();
    for c in o.clips {
        args.extend(["-i".to_string(), c.path.clone()]);
    }
    args.extend(["-i".to_string(), o.audio.to_string()]);
    let script = format!("graph-{}.txt", o.aspect.file_tag());
    let (graph, file) = graph_args(graph, &script);
    text_files.extend(file);
    args.extend(encode_args(o, graph, o.clips.len()));
    Plan { args, text_files }
}

/// Clips per intermediate segment when an output has more clips than this: each ffmpeg process
/// then opens and decodes at most this many clips at once, and its command line stays short
pub const CHUNK_CLIPS: usize = 64;

/// x264's quality of an intermediate segment: well under the outputs' CRF (21 at `hd`) and the
/// ~18 x264 calls visually lossless, so the output's own encode is the only loss that shows
pub const SEGMENT_CRF: u32 = 16;

/// One intermediate segment of a chunked output: a run of consecutive clips, each through its
/// usual chain, joined, with the captions that fall in it, encoded near-losslessly
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    /// Its clips: indices into the output's clips
    pub clips: std::ops::Range<usize>,
    /// Its file (relative to ffmpeg's working directory)
    pub path: String,
    /// How long its clips' slots last together, seconds
    pub planned_s: f64,
    /// Whether it burns in the captions that fall in it. The last segment does not: the output
    /// pass may hold its last frame past the clips, and a held frame must be free of captions,
    /// so the output pass burns the captions from the last segment's start on.
    pub captions: bool,
}

/// How one output is rendered
#[derive(Debug, Clone, PartialEq)]
pub enum Passes {
    /// One ffmpeg run with every clip as an input
    One(Plan),
    /// Each segment ([`segment_plan`]), then the output pass over them ([`output_pass_plan`])
    Chunked(Vec<Segment>),
}

/// How `o` is rendered: in one pass up to `chunk` clips (the commands are those of [`plan`]),
/// in segments of `chunk` consecutive clips (at least 1) written into `dir` past that.
///
/// A long output is made in two kinds of run: each segment conforms its clips and burns in its
/// captions (all but the last, see [`Segment::captions`]), then the output pass reads the
/// segments and applies what follows the join of the one-pass graph (hold, trim, badge, the
/// last segment's captions) and the encode. The captions go into the segments because
/// every caption line is a `drawtext` filter, and one ffmpeg graph's cost per frame grows
/// faster than its number of filters (on two cores, 360x640: 64 filters 1.5 ms a frame, 2,000
/// filters 15 ms, 4,000 filters 350 ms): the burned captions of 2,000 lines in one graph would
/// outlast the output's deadline, while a segment holds only its own.
pub fn plan_passes(o: &Output<'_>, chunk: usize, dir: &str) -> Passes {
    if o.clips.len() > chunk {
        Passes::Chunked(segments(o, chunk, dir))
    } else {
        Passes::One(plan(o))
    }
}

/// The segments of `o`: every run of `chunk` consecutive clips (at least 1), written into `dir`
pub fn segments(o: &Output<'_>, chunk: usize, dir: &str) -> Vec<Segment> {
    let tag = o.aspect.file_tag();
    let mut out = Vec::new();
    let mut first = 0;
    for (k, clips) in o.clips.chunks(chunk.max(1)).enumerate() {
        out.push(Segment {
            clips: first..first + clips.len(),
            path: format!("{dir}/{tag}-{k:04}.mp4"),
            planned_s: clips.iter().map(|c| c.planned_s).sum(),
            captions: first + clips.len() < o.clips.len(),
        });
        first += clips.len();
    }
    out
}

/// The arguments of `segment` of `o`, whose first frame is `offset_s` into the cut (the
/// segments before it together, as written): its clips as inputs `0..`, conformed to the
/// output's frame by the usual per-clip chain and joined, with the captions that fall in it,
/// video only. Every segment of an output comes out with the same size, frame rate, pixel
/// format, sample aspect ratio and codec settings, so the concat demuxer can join them as one
/// stream.
pub fn segment_plan(o: &Output<'_>, segment: &Segment, offset_s: f64) -> Plan {
    let f = frame::frame(o.aspect, o.quality);
    let clips = o.clips.get(segment.clips.clone()).unwrap_or_default();
    let (mut parts, join) = conform_and_join(clips, f);
    let mut chain = vec![join];
    let mut text_files = Vec::new();
    if let Some(cues) = o.captions.filter(|c| segment.captions && !c.is_empty()) {
        // A clip's trim keeps whole frames, so a segment may run up to a frame per clip past
        // its planned length: a cue starting there is taken in too (one starting past the
        // segment's last frame is never shown in it)
        let slack = (clips.len() + 1) as f64 / f64::from(FPS);
        let window = Window {
            from_s: offset_s,
            to_s: offset_s + segment.planned_s + slack,
            shift_s: offset_s,
        };
        let safe = frame::safe_area(o.aspect, f);
        let tag = o.aspect.file_tag();
        let (filters, files) = caption_filters_in(cues, tag, f, safe, o.font, Some(window));
        chain.extend(filters);
        text_files = files;
    }
    parts.push(format!("{}[vseg]", chain.join(",")));
    let mut args = base_args();
    for c in clips {
        args.extend(["-i".to_string(), c.path.clone()]);
    }
    let script = segment.path.replace(".mp4", ".graph.txt");
    let (graph, file) = graph_args(parts.join(";"), &script);
    text_files.extend(file);
    args.extend(graph);
    let crf = SEGMENT_CRF.to_string();
    let fps = FPS.to_string();
    args.extend(
        [
            "-map",
            "[vseg]",
            "-an",
            "-c:v",
            "libx264",
            // The fastest preset: the segment is read once, by the output pass, so its size
            // matters less than the time spent making it
            "-preset",
            "ultrafast",
            "-crf",
            &crf,
            "-pix_fmt",
            "yuv420p",
            "-r",
            &fps,
            &segment.path,
        ]
        .map(String::from),
    );
    Plan { args, text_files }
}

/// The concat demuxer's list of `segments`, named relative to the list's own folder (where
/// they are written)
pub fn concat_list(segments: &[Segment]) -> String {
    let mut list = String::from("ffconcat version 1.0\n");
    for s in segments {
        let name = s.path.rsplit('/').next().unwrap_or(&s.path);
        list.push_str(&format!("file '{name}'\n"));
    }
    list
}

/// The arguments of the output pass over `segments` (in `dir`): the hold, the trim, the badge,
/// the captions the segments did not burn in (those from `captions_from_s`, where the last
/// segment starts as written), the audio and the encode, as one pass would apply them after its
/// join.
///
/// It reads the segments through the concat demuxer rather than as one input each into the
/// concat filter: the demuxer opens one segment at a time with one decoder, so the pass holds
/// one file open however long the cut, where the filter would open every segment and run a
/// decoder per segment at once. The demuxer needs identical streams, which the segments are; it
/// places each one where the one before ends, as the concat filter does.
pub fn output_pass_plan(
    o: &Output<'_>,
    segments: &[Segment],
    captions_from_s: f64,
    dir: &str,
) -> Plan {
    let tag = o.aspect.file_tag();
    let list = format!("{dir}/{tag}.ffconcat");
    let rest = Window {
        from_s: captions_from_s,
        to_s: f64::INFINITY,
        shift_s: 0.0,
    };
    let (finish, mut text_files) = finishing_filters(o, Some(rest));
    let graph = format!("[0:v:0]{}[vout]", finish.join(","));
    let mut args = base_args();
    args.extend(["-f", "concat", "-i", &list, "-i", o.audio].map(String::from));
    let (graph, file) = graph_args(graph, &format!("{dir}/{tag}.graph.txt"));
    text_files.push((list, concat_list(segments)));
    text_files.extend(file);
    args.extend(encode_args(o, graph, 1));
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

    /// `n` clips of 1.5 s, alternately long enough and short (held)
    fn many_clips(n: usize) -> Vec<ClipSource> {
        (0..n)
            .map(|i| ClipSource {
                path: format!("in/clip-{i:03}"),
                planned_s: 1.5,
                probed_s: Some(if i % 2 == 0 { 2.0 } else { 1.0 }),
            })
            .collect()
    }

    /// The values that follow each `-i`
    fn inputs_of(args: &[String]) -> Vec<&str> {
        args.iter()
            .enumerate()
            .filter(|(_, a)| *a == "-i")
            .map(|(i, _)| args[i + 1].as_str())
            .collect()
    }

    #[test]
    fn at_or_under_the_chunk_size_one_pass_as_before() {
        let font = Font::File(DEFAULT_FONT_FILE.into());
        let c = clips();
        let o = output(&c, Aspect::Vertical, true, None, &font);
        assert_eq!(plan_passes(&o, 3, "chunks"), Passes::One(plan(&o)));
        assert_eq!(plan_passes(&o, 64, "chunks"), Passes::One(plan(&o)));
        assert!(matches!(plan_passes(&o, 2, "chunks"), Passes::Chunked(_)));
    }

    #[test]
    fn each_segment_takes_only_its_chunks_clips() {
        let font = Font::File(DEFAULT_FONT_FILE.into());
        let c = many_clips(7);
        let mut o = output(&c, Aspect::Vertical, true, None, &font);
        o.duration_s = 10.5;
        let segs = segments(&o, 3, "chunks");
        let ranges: Vec<_> = segs.iter().map(|s| s.clips.clone()).collect();
        assert_eq!(ranges, [0..3, 3..6, 6..7]);
        let paths: Vec<_> = segs.iter().map(|s| s.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "chunks/9x16-0000.mp4",
                "chunks/9x16-0001.mp4",
                "chunks/9x16-0002.mp4"
            ]
        );
        let f = frame::frame(o.aspect, o.quality);
        for (k, s) in segs.iter().enumerate() {
            let p = segment_plan(&o, s, 4.5 * k as f64);
            let args = &p.args;
            let wanted: Vec<_> = c[s.clips.clone()].iter().map(|c| c.path.as_str()).collect();
            assert_eq!(inputs_of(args), wanted);
            let g = arg_after(args, "-filter_complex");
            // The usual per-clip chain, numbered from the segment's first input
            for (i, clip) in c[s.clips.clone()].iter().enumerate() {
                assert!(g.contains(&clip_chain(i, clip, f)), "{g}");
            }
            let n = s.clips.len();
            let labels: String = (0..n).map(|i| format!("[v{i}]")).collect();
            assert!(
                g.ends_with(&format!("{labels}concat=n={n}:v=1:a=0[vseg]")),
                "{g}"
            );
            // The badge and the cut's trim are the output pass's
            assert!(!g.contains("drawtext") && !g.contains("trim=duration=10.500"));
            assert_eq!(arg_after(args, "-map"), "[vseg]");
            assert!(args.contains(&"-an".to_string()));
            assert_eq!(arg_after(args, "-preset"), "ultrafast");
            assert_eq!(arg_after(args, "-crf"), "16");
            assert_eq!(arg_after(args, "-pix_fmt"), "yuv420p");
            assert_eq!(arg_after(args, "-r"), "30");
            assert_eq!(args.last(), Some(&s.path));
            assert!((s.planned_s - 1.5 * n as f64).abs() < 1e-9);
            assert!(p.text_files.is_empty());
        }
        assert!(
            arg_after(&segment_plan(&o, &segs[1], 4.5).args, "-filter_complex").starts_with(
                "[0:v:0]setpts=PTS-STARTPTS,scale=360:640:force_original_aspect_ratio=increase,"
            )
        );
        assert_eq!(segments(&o, 0, "chunks").len(), 7, "0 is taken as 1");
    }

    #[test]
    fn the_output_pass_reads_the_segments_in_order_and_finishes_as_before() {
        let font = Font::File(DEFAULT_FONT_FILE.into());
        let c = many_clips(7);
        let mut o = output(&c, Aspect::Landscape, true, None, &font);
        o.duration_s = 11.0;
        let segs = segments(&o, 3, "chunks");
        let p = output_pass_plan(&o, &segs, 9.0, "chunks");
        let args = &p.args;
        // One input for the segments (the concat demuxer reads them one after the other), then
        // the audio
        assert_eq!(inputs_of(args), ["chunks/16x9.ffconcat", "audio.wav"]);
        let i = args.iter().position(|a| a == "-i").unwrap();
        assert_eq!(&args[i - 2..i], ["-f", "concat"]);
        assert_eq!(
            p.text_files,
            [(
                "chunks/16x9.ffconcat".to_string(),
                "ffconcat version 1.0\nfile '16x9-0000.mp4'\nfile '16x9-0001.mp4'\nfile '16x9-0002.mp4'\n"
                    .to_string()
            )]
        );
        // What the one-pass graph applies after its concat, applied to the joined segments
        let (one_pass, _) = filter_graph(&o);
        let join = "concat=n=7:v=1:a=0,";
        let finish = &one_pass[one_pass.find(join).unwrap() + join.len()..];
        let g = arg_after(args, "-filter_complex");
        assert_eq!(g, format!("[0:v:0]{finish}"));
        assert!(g.starts_with(
            "[0:v:0]tpad=stop_mode=clone:stop_duration=0.567,trim=duration=11.000,setpts=PTS-STARTPTS,\
             drawtext=fontfile=/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf:text=Made with CreatorStudio"
        ));
        let maps: Vec<_> = args
            .iter()
            .enumerate()
            .filter(|(_, a)| *a == "-map")
            .map(|(i, _)| args[i + 1].as_str())
            .collect();
        assert_eq!(maps, ["[vout]", "1:a:0"]);
        let tail = |a: &[String]| a[a.iter().position(|x| x == "-c:v").unwrap()..].to_vec();
        assert_eq!(tail(args), tail(&plan(&o).args), "the same encode");
        assert_eq!(arg_after(args, "-t"), "11.000");
    }

    #[test]
    fn captions_are_burned_into_the_segments_they_fall_in() {
        let font = Font::File(DEFAULT_FONT_FILE.into());
        let c = many_clips(7);
        let cues = [
            cue(1.0, 2.0, "In the first."),
            // Across the first join (4.5 s)
            cue(4.0, 5.0, "Across."),
            // Across the second join (9 s), into the last segment
            cue(8.8, 9.2, "Into the last."),
            // In the hold after the last clip (10.5 s)
            cue(10.6, 10.9, "In the hold."),
        ];
        let mut o = output(&c, Aspect::Landscape, true, Some(&cues), &font);
        o.duration_s = 11.0;
        let segs = segments(&o, 3, "chunks");
        let burns: Vec<_> = segs.iter().map(|s| s.captions).collect();
        assert_eq!(burns, [true, true, false]);
        let enables = |g: &str| -> Vec<String> {
            g.split("textfile=")
                .skip(1)
                .map(|d| {
                    let name = &d[..d.find(':').unwrap()];
                    let at = d.find("enable=").unwrap() + "enable=".len();
                    let end = d[at..].find(')').unwrap();
                    format!("{name} {}", &d[at..=at + end])
                })
                .collect()
        };
        let first = segment_plan(&o, &segs[0], 0.0);
        let g = arg_after(&first.args, "-filter_complex");
        assert!(g.contains(
            "concat=n=3:v=1:a=0,drawtext=fontfile=/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf:\
             textfile=text-16x9-0000-0.txt:expansion=none:fontsize=20:fontcolor=white:box=1:\
             boxcolor=black@0.55:boxborderw=5:x=(w-tw)/2:y=h-63:enable="
        ));
        // (the segment's frames end where its clips do: a cue running on needs no cut there)
        assert_eq!(
            enables(g),
            [
                "text-16x9-0000-0.txt between(t\\,0.999999\\,2.000001)",
                "text-16x9-0001-0.txt between(t\\,3.999999\\,5.000001)"
            ]
        );
        assert!(g.ends_with("[vseg]") && !g.contains("Made with"));
        let names: Vec<_> = first.text_files.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["text-16x9-0000-0.txt", "text-16x9-0001-0.txt"]);
        // The second segment starts 135 frames in: the cue across the join goes on from its
        // first frame, under the same text file
        let second = segment_plan(&o, &segs[1], 4.5);
        let g = arg_after(&second.args, "-filter_complex");
        assert_eq!(
            enables(g),
            [
                "text-16x9-0001-0.txt between(t\\,0.000000\\,0.500001)",
                "text-16x9-0002-0.txt between(t\\,4.299999\\,4.700001)"
            ]
        );
        assert_eq!(
            second.text_files[0],
            ("text-16x9-0001-0.txt".to_string(), "Across.".to_string())
        );
        // The last segment burns none: the output pass may hold its last frame
        let third = segment_plan(&o, &segs[2], 9.0);
        assert!(!arg_after(&third.args, "-filter_complex").contains("drawtext"));
        assert!(third.text_files.is_empty());
        // The output pass burns those from the last segment's start on, after the badge
        let out = output_pass_plan(&o, &segs, 9.0, "chunks");
        let g = arg_after(&out.args, "-filter_complex");
        assert_eq!(
            enables(g),
            [
                "text-16x9-0002-0.txt between(t\\,8.999999\\,9.200001)",
                "text-16x9-0003-0.txt between(t\\,10.599999\\,10.900001)"
            ]
        );
        assert!(g.find("text=Made with").unwrap() < g.find("textfile=").unwrap());
        // A cue ending exactly where a window starts is shown on its first frame; one ending
        // before it is not
        let w = Window {
            from_s: 9.0,
            to_s: f64::INFINITY,
            shift_s: 0.0,
        };
        assert!(w.holds(8.0, 9.0));
        assert_eq!(w.enable(8.0, 9.0), "between(t\\,8.999999\\,9.000001)");
        assert!(!w.holds(8.0, 8.99));
    }

    #[test]
    fn a_graph_too_long_for_the_command_line_is_read_from_a_file() {
        let font = Font::File(DEFAULT_FONT_FILE.into());
        let c = many_clips(4);
        let cues: Vec<Cue> = (0..2000)
            .map(|i| {
                let at = f64::from(i) * 0.003;
                cue(at, at + 0.002, "A line of dialogue, said.")
            })
            .collect();
        let mut o = output(&c, Aspect::Square, true, Some(&cues), &font);
        o.duration_s = 6.0;
        let p = plan(&o);
        assert!(!p.args.contains(&"-filter_complex".to_string()));
        let script = arg_after(&p.args, "-filter_complex_script");
        assert_eq!(script, "graph-1x1.txt");
        let (graph, _) = filter_graph(&o);
        assert!(graph.len() > GRAPH_ARG_MAX);
        assert!(p.text_files.contains(&(script.to_string(), graph)));
        let segs = segments(&o, 3, "chunks");
        let first = segment_plan(&o, &segs[0], 0.0);
        assert_eq!(
            arg_after(&first.args, "-filter_complex_script"),
            "chunks/1x1-0000.graph.txt"
        );
        assert!(first.args.iter().all(|a| a.len() <= GRAPH_ARG_MAX));
        let (name, text) = first.text_files.last().unwrap();
        assert_eq!(name, "chunks/1x1-0000.graph.txt");
        assert!(text.ends_with("[vseg]"));
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
