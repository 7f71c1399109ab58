//! The audio mix of an assembly, built once and shared by every output, as ffmpeg arguments.
//!
//! Speech (dialogue lines and the voiceover) is placed at its start times and summed; the
//! score plays under it, compressed by a side chain keyed on the speech so it dips while anyone
//! speaks and comes back between lines. The result is padded (or cut) to the cut's exact length
//! and written as 48 kHz stereo PCM, which the two loudness passes then read.

use crate::ff::{base_args, secs};
use crate::loudness;

/// One audio input on disk
#[derive(Debug, Clone, PartialEq)]
pub struct Source {
    /// Its path (relative to ffmpeg's working directory)
    pub path: String,
    /// Where it starts in the cut, seconds
    pub start_s: f64,
    /// Loop the file to fill this many seconds, then fade out (the score); `None` plays it once
    pub fill_s: Option<f64>,
}

/// How long a filled score fades out at its end, seconds
pub const FILL_FADE_S: f64 = 1.5;

/// The audio inputs of an assembly
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Inputs {
    /// Dialogue lines and the voiceover
    pub speech: Vec<Source>,
    /// The music bed (its first segment when it has more)
    pub score: Option<Source>,
    /// Further segments of the score, in order, each filled to its length
    pub score_segments: Vec<Source>,
    /// How long each join of the score's segments crossfades, seconds
    pub crossfade_s: f64,
}

/// The crossfade of two joined segments: equal power (a quarter sine each way), so the level
/// holds through the join instead of dipping as a linear fade of uncorrelated music does
pub const CROSSFADE_CURVES: &str = "c1=qsin:c2=qsin";

/// The filters that join the score's segments `[p0]`, `[p1]`, ... into `[{out}]`: crossfades
/// over `crossfade_s` (a plain concatenation when it is 0)
pub fn join_graph(segments: usize, crossfade_s: f64, out: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = "p0".to_string();
    for i in 1..segments {
        let next = if i + 1 == segments {
            out.to_string()
        } else {
            format!("j{i}")
        };
        let join = if crossfade_s > 0.0 {
            format!("acrossfade=d={}:{CROSSFADE_CURVES}", secs(crossfade_s))
        } else {
            "concat=n=2:v=0:a=1".to_string()
        };
        parts.push(format!("[{current}][p{i}]{join}[{next}]"));
        current = next;
    }
    parts
}

/// Side-chain compression of the score under speech: a low threshold so any speech triggers
/// it, a strong ratio (about -15 dB of ducking), a quick attack and a release long enough not to
/// pump between words
pub const DUCKING: &str = "sidechaincompress=threshold=0.02:ratio=10:attack=20:release=400";

/// `adelay`'s value for a start time: whole milliseconds
pub fn delay_ms(start_s: f64) -> u64 {
    (start_s.max(0.0) * 1000.0).round() as u64
}

/// One audio input brought to 48 kHz stereo float and placed at its start, labelled `[{label}]`
fn prepare(index: usize, source: &Source, label: &str) -> String {
    let ms = delay_ms(source.start_s);
    // A filled source is looped at its input (`-stream_loop`): cut it to length here and
    // fade it out, so the bed ends as music, not mid-bar.
    let fill = source
        .fill_s
        .map(|d| {
            let fade_at = (d - FILL_FADE_S).max(0.0);
            format!(
                "atrim=end={},afade=t=out:st={}:d={},",
                secs(d),
                secs(fade_at),
                secs(FILL_FADE_S.min(d))
            )
        })
        .unwrap_or_default();
    format!(
        "[{index}:a:0]aresample=48000,aformat=sample_fmts=fltp:channel_layouts=stereo,\
         {fill}adelay=delays={ms}|{ms}[{label}]"
    )
}

/// The sum of the prepared inputs `[s0]`..`[s{n-1}]` into `[{label}]`: `amix` without
/// normalising adds its inputs up, so lines that do not overlap keep their own level
fn sum_speech(n: usize, label: &str) -> String {
    let labels: String = (0..n).map(|i| format!("[s{i}]")).collect();
    format!("{labels}amix=inputs={n}:duration=longest:dropout_transition=0:normalize=0[{label}]")
}

/// The `-i` arguments of `sources`, each looped when it is filled
fn input_args<'a>(sources: impl IntoIterator<Item = &'a Source>) -> Vec<String> {
    let mut args = Vec::new();
    for s in sources {
        if s.fill_s.is_some() {
            args.extend(["-stream_loop".to_string(), "-1".to_string()]);
        }
        args.extend(["-i".to_string(), s.path.clone()]);
    }
    args
}

/// The mix's filter graph, labelled `[mix]`; `None` when there is no audio input at all
/// (the caller then writes silence). Input `i` of `inputs.speech` is ffmpeg input `i`, the
/// score comes after them.
pub fn mix_graph(inputs: &Inputs, duration_s: f64) -> Option<String> {
    let n = inputs.speech.len();
    if n == 0 && inputs.score.is_none() {
        return None;
    }
    let mut parts = Vec::new();
    for (i, s) in inputs.speech.iter().enumerate() {
        parts.push(prepare(i, s, &format!("s{i}")));
    }
    let total = secs(duration_s);
    let finish = format!("apad=whole_dur={total},atrim=end={total},asetpts=N/SR/TB[mix]");
    let speech = match n {
        0 => None,
        1 => Some("s0".to_string()),
        _ => {
            parts.push(sum_speech(n, "speech"));
            Some("speech".to_string())
        }
    };
    let mut score_parts = Vec::new();
    if let Some(first) = inputs
        .score
        .as_ref()
        .filter(|_| !inputs.score_segments.is_empty())
    {
        // Each segment filled to its own length, joined, then faded out and placed as one bed.
        let all = std::iter::once(first).chain(&inputs.score_segments);
        let total: f64 = first.fill_s.unwrap_or(0.0)
            + inputs
                .score_segments
                .iter()
                .map(|s| s.fill_s.unwrap_or(0.0) - inputs.crossfade_s)
                .sum::<f64>();
        for (k, seg) in all.enumerate() {
            let len = secs(seg.fill_s.unwrap_or(0.0));
            score_parts.push(format!(
                "[{}:a:0]aresample=48000,aformat=sample_fmts=fltp:channel_layouts=stereo,\
                 atrim=end={len},asetpts=N/SR/TB[p{k}]",
                n + k
            ));
        }
        score_parts.extend(join_graph(
            inputs.score_segments.len() + 1,
            inputs.crossfade_s,
            "joined",
        ));
        let ms = delay_ms(first.start_s);
        let fade_at = (total - FILL_FADE_S).max(0.0);
        score_parts.push(format!(
            "[joined]afade=t=out:st={}:d={},adelay=delays={ms}|{ms}[score]",
            secs(fade_at),
            secs(FILL_FADE_S.min(total))
        ));
    }
    let place_score = |parts: &mut Vec<String>, score: &Source| {
        if score_parts.is_empty() {
            parts.push(prepare(n, score, "score"));
        } else {
            parts.extend(score_parts.iter().cloned());
        }
    };
    match (&inputs.score, speech) {
        (Some(score), Some(speech)) => {
            place_score(&mut parts, score);
            parts.push(format!("[{speech}]asplit=2[key][voice]"));
            parts.push(format!("[score][key]{DUCKING}[ducked]"));
            parts.push(format!(
                "[voice][ducked]amix=inputs=2:duration=longest:dropout_transition=0:normalize=0,{finish}"
            ));
        }
        (Some(score), None) => {
            place_score(&mut parts, score);
            parts.push(format!("[score]{finish}"));
        }
        (None, Some(speech)) => parts.push(format!("[{speech}]{finish}")),
        (None, None) => return None,
    }
    Some(parts.join(";"))
}

/// The arguments that write the mix (or silence) to `out`, a WAV file
pub fn mix_args(inputs: &Inputs, duration_s: f64, out: &str) -> Vec<String> {
    let mut args = base_args();
    let total = secs(duration_s);
    match mix_graph(inputs, duration_s) {
        Some(graph) => {
            let score = inputs.score.as_ref();
            let segments = score.map_or(&[][..], |_| inputs.score_segments.as_slice());
            args.extend(input_args(
                inputs.speech.iter().chain(score).chain(segments),
            ));
            args.extend([
                "-filter_complex".into(),
                graph,
                "-map".into(),
                "[mix]".into(),
            ]);
        }
        None => {
            args.extend(["-f", "lavfi", "-i", "anullsrc=r=48000:cl=stereo"].map(String::from));
        }
    }
    args.extend(
        [
            "-t",
            &total,
            "-c:a",
            "pcm_s16le",
            "-ar",
            "48000",
            "-ac",
            "2",
            out,
        ]
        .map(String::from),
    );
    args
}

/// Dialogue lines per premix when a timeline has more lines than this: the mix process then
/// opens a premix per group rather than a file per line
pub const CHUNK_LINES: usize = 64;

/// A group of dialogue lines summed into one intermediate file, which the mix then takes as one
/// speech source placed at `start_s`
#[derive(Debug, Clone, PartialEq)]
pub struct Premix {
    /// Its lines: indices into the lines given to [`premixes`], earliest start first
    pub lines: Vec<usize>,
    /// Where it starts in the cut: its earliest line's start, in whole milliseconds
    pub start_s: f64,
    /// Its file (relative to ffmpeg's working directory)
    pub path: String,
    /// ffmpeg's arguments
    pub args: Vec<String>,
}

impl Premix {
    /// The premix as a speech source of the mix
    pub fn source(&self) -> Source {
        Source {
            path: self.path.clone(),
            start_s: self.start_s,
            fill_s: None,
        }
    }
}

/// The premixes of `lines` when there are more than `chunk` of them (none otherwise: the mix
/// takes the lines themselves), `chunk` lines each (at least 1), written into `dir`.
///
/// The lines are grouped in order of their starts, and each group's file starts at its earliest
/// line, each line delayed by its own start less that: a group's file lasts about as long as
/// the stretch of the cut its lines cover rather than the whole cut, and the mix places it at
/// its start. The delays are whole milliseconds, as `adelay` takes them, and split exactly
/// (the group's start plus a line's delay in the group is the line's delay in the cut), so with
/// `amix` summing (`normalize=0`) the premixes add up to the very mix of the lines themselves.
/// They are written as 32-bit float so a sum louder than full scale is not clipped before the
/// mix, where it was not clipped either.
pub fn premixes(lines: &[Source], chunk: usize, dir: &str) -> Vec<Premix> {
    if lines.len() <= chunk {
        return Vec::new();
    }
    let mut order: Vec<usize> = (0..lines.len()).collect();
    order.sort_by_key(|&i| delay_ms(lines[i].start_s));
    order
        .chunks(chunk.max(1))
        .enumerate()
        .map(|(g, group)| premix(lines, group, &format!("{dir}/speech-{g:04}.wav")))
        .collect()
}

/// One premix: `group` (indices into `lines`, earliest start first) summed into `path`
fn premix(lines: &[Source], group: &[usize], path: &str) -> Premix {
    let start_ms = group
        .iter()
        .map(|&i| delay_ms(lines[i].start_s))
        .min()
        .unwrap_or(0);
    let shifted: Vec<Source> = group
        .iter()
        .map(|&i| Source {
            start_s: (delay_ms(lines[i].start_s) - start_ms) as f64 / 1000.0,
            ..lines[i].clone()
        })
        .collect();
    let mut parts: Vec<String> = shifted
        .iter()
        .enumerate()
        .map(|(i, s)| prepare(i, s, &format!("s{i}")))
        .collect();
    match shifted.len() {
        1 => parts.push("[s0]anull[premix]".to_string()),
        n => parts.push(sum_speech(n, "premix")),
    }
    let mut args = base_args();
    args.extend(input_args(&shifted));
    args.extend(
        [
            "-filter_complex",
            &parts.join(";"),
            "-map",
            "[premix]",
            "-c:a",
            "pcm_f32le",
            "-ar",
            "48000",
            "-ac",
            "2",
            path,
        ]
        .map(String::from),
    );
    Premix {
        lines: group.to_vec(),
        start_s: start_ms as f64 / 1000.0,
        path: path.to_string(),
        args,
    }
}

/// The arguments of the first loudness pass (its report is printed at the `info` level)
pub fn measure_args(mix: &str) -> Vec<String> {
    [
        "-hide_banner",
        "-nostdin",
        "-nostats",
        "-loglevel",
        "info",
        "-i",
        mix,
        "-af",
        &loudness::first_pass_filter(),
        "-f",
        "null",
        "-",
    ]
    .map(String::from)
    .to_vec()
}

/// The arguments of the second loudness pass, writing 48 kHz stereo PCM to `out`
pub fn normalize_args(mix: &str, filter: &str, out: &str) -> Vec<String> {
    let mut args = base_args();
    args.extend(
        [
            "-i",
            mix,
            "-af",
            filter,
            "-c:a",
            "pcm_s16le",
            "-ar",
            "48000",
            "-ac",
            "2",
            out,
        ]
        .map(String::from),
    );
    args
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src(path: &str, start_s: f64) -> Source {
        Source {
            path: path.into(),
            start_s,
            fill_s: None,
        }
    }

    #[test]
    fn a_short_score_loops_to_fill_and_fades_out() {
        let score = Source {
            fill_s: Some(62.0),
            ..src("in/score", 0.0)
        };
        let inputs = Inputs {
            speech: vec![],
            score: Some(score),
            ..Inputs::default()
        };
        let args = mix_args(&inputs, 62.0, "mix.wav");
        let i = args.iter().position(|a| a == "in/score").unwrap();
        assert_eq!(&args[i - 3..i], ["-stream_loop", "-1", "-i"]);
        let g = arg_after(&args, "-filter_complex");
        assert!(
            g.contains("atrim=end=62.000,afade=t=out:st=60.500:d=1.500,adelay=delays=0|0[score]"),
            "{g}"
        );
    }

    #[test]
    fn segments_of_a_long_score_are_filled_crossfaded_and_placed_as_one_bed() {
        let seg = |path: &str, len: f64| Source {
            fill_s: Some(len),
            ..src(path, 0.0)
        };
        let inputs = Inputs {
            speech: vec![src("in/vo", 0.0)],
            score: Some(seg("in/score", 153.0)),
            score_segments: vec![seg("in/score-1", 150.0)],
            crossfade_s: 3.0,
        };
        let args = mix_args(&inputs, 300.0, "mix.wav");
        for path in ["in/score", "in/score-1"] {
            let i = args.iter().position(|a| a == path).unwrap();
            assert_eq!(&args[i - 3..i], ["-stream_loop", "-1", "-i"], "{path}");
        }
        let g = arg_after(&args, "-filter_complex");
        assert!(g.contains("[1:a:0]aresample=48000,aformat=sample_fmts=fltp:channel_layouts=stereo,atrim=end=153.000,asetpts=N/SR/TB[p0]"), "{g}");
        assert!(g.contains("[2:a:0]aresample=48000,aformat=sample_fmts=fltp:channel_layouts=stereo,atrim=end=150.000,asetpts=N/SR/TB[p1]"), "{g}");
        assert!(
            g.contains("[p0][p1]acrossfade=d=3.000:c1=qsin:c2=qsin[joined]"),
            "{g}"
        );
        // 153 + 150 - 3 = 300: the bed fades out over the cut's last 1.5 s.
        assert!(
            g.contains("[joined]afade=t=out:st=298.500:d=1.500,adelay=delays=0|0[score]"),
            "{g}"
        );
        assert!(g.contains(&format!("[score][key]{DUCKING}[ducked]")));
        assert_eq!(
            join_graph(3, 0.0, "out"),
            [
                "[p0][p1]concat=n=2:v=0:a=1[j1]",
                "[j1][p2]concat=n=2:v=0:a=1[out]"
            ]
        );
    }

    fn arg_after<'a>(args: &'a [String], flag: &str) -> &'a str {
        let i = args.iter().position(|a| a == flag).unwrap();
        &args[i + 1]
    }

    #[test]
    fn places_lines_at_their_starts_and_ducks_the_score() {
        let inputs = Inputs {
            speech: vec![src("in/d0", 1.5), src("in/d1", 12.25), src("in/vo", 0.0)],
            score: Some(src("in/score", 0.0)),
            ..Inputs::default()
        };
        let args = mix_args(&inputs, 4.5, "mix.wav");
        let inputs_given: Vec<_> = args
            .iter()
            .enumerate()
            .filter(|(_, a)| *a == "-i")
            .map(|(i, _)| args[i + 1].as_str())
            .collect();
        assert_eq!(inputs_given, ["in/d0", "in/d1", "in/vo", "in/score"]);
        let g = arg_after(&args, "-filter_complex");
        assert!(g.contains("[0:a:0]aresample=48000,aformat=sample_fmts=fltp:channel_layouts=stereo,adelay=delays=1500|1500[s0]"));
        assert!(g.contains("adelay=delays=12250|12250[s1]"));
        assert!(g.contains("[2:a:0]aresample=48000,aformat=sample_fmts=fltp:channel_layouts=stereo,adelay=delays=0|0[s2]"));
        assert!(g.contains(
            "[s0][s1][s2]amix=inputs=3:duration=longest:dropout_transition=0:normalize=0[speech]"
        ));
        assert!(g.contains("[3:a:0]aresample=48000"));
        assert!(g.contains("[speech]asplit=2[key][voice]"));
        assert!(g.contains(&format!("[score][key]{DUCKING}[ducked]")));
        assert!(g.ends_with("apad=whole_dur=4.500,atrim=end=4.500,asetpts=N/SR/TB[mix]"));
        assert_eq!(arg_after(&args, "-map"), "[mix]");
        assert_eq!(arg_after(&args, "-t"), "4.500");
        assert_eq!(arg_after(&args, "-ar"), "48000");
        assert_eq!(args.last().unwrap(), "mix.wav");
    }

    #[test]
    fn no_speech_means_no_ducking() {
        let inputs = Inputs {
            speech: vec![],
            score: Some(src("in/score", 2.0)),
            ..Inputs::default()
        };
        let g = mix_graph(&inputs, 10.0).unwrap();
        assert!(!g.contains("sidechaincompress"));
        assert!(!g.contains("amix"));
        assert!(g.starts_with("[0:a:0]aresample=48000"));
        assert!(g.contains("adelay=delays=2000|2000[score];[score]apad=whole_dur=10.000"));
    }

    #[test]
    fn one_line_needs_no_mixing_of_speech() {
        let inputs = Inputs {
            speech: vec![src("in/d0", 0.25)],
            score: None,
            ..Inputs::default()
        };
        let g = mix_graph(&inputs, 3.0).unwrap();
        assert_eq!(
            g,
            "[0:a:0]aresample=48000,aformat=sample_fmts=fltp:channel_layouts=stereo,adelay=delays=250|250[s0];\
             [s0]apad=whole_dur=3.000,atrim=end=3.000,asetpts=N/SR/TB[mix]"
        );
    }

    #[test]
    fn nothing_to_hear_is_silence_of_the_right_length() {
        let args = mix_args(&Inputs::default(), 2.0, "mix.wav");
        assert_eq!(arg_after(&args, "-f"), "lavfi");
        assert_eq!(arg_after(&args, "-i"), "anullsrc=r=48000:cl=stereo");
        assert_eq!(arg_after(&args, "-t"), "2.000");
        assert!(!args.contains(&"-filter_complex".to_string()));
    }

    #[test]
    fn up_to_the_chunk_size_lines_are_mixed_themselves() {
        let lines = vec![src("in/d0", 0.5), src("in/d1", 1.0)];
        assert!(premixes(&lines, 2, "chunks").is_empty());
        assert!(premixes(&lines, 64, "chunks").is_empty());
    }

    #[test]
    fn many_lines_are_premixed_in_groups_placed_at_their_first_line() {
        // Out of order on purpose: the groups follow the starts
        let lines = vec![
            src("in/d0", 0.5),
            src("in/d1", 2.0),
            src("in/d2", 1.25),
            src("in/d3", 3.5),
            src("in/d4", 5.0011),
        ];
        let p = premixes(&lines, 2, "chunks");
        let groups: Vec<_> = p.iter().map(|m| m.lines.clone()).collect();
        assert_eq!(groups, [vec![0, 2], vec![1, 3], vec![4]]);
        let starts: Vec<_> = p.iter().map(|m| m.start_s).collect();
        assert_eq!(starts, [0.5, 2.0, 5.001]);
        let paths: Vec<_> = p.iter().map(|m| m.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "chunks/speech-0000.wav",
                "chunks/speech-0001.wav",
                "chunks/speech-0002.wav"
            ]
        );
        // Each premix takes only its group's lines, each delayed from the group's start
        let a = &p[1].args;
        let given: Vec<_> = a
            .iter()
            .enumerate()
            .filter(|(_, x)| *x == "-i")
            .map(|(i, _)| a[i + 1].as_str())
            .collect();
        assert_eq!(given, ["in/d1", "in/d3"]);
        let g = arg_after(a, "-filter_complex");
        assert!(g.starts_with("[0:a:0]aresample=48000,aformat=sample_fmts=fltp:channel_layouts=stereo,adelay=delays=0|0[s0];"), "{g}");
        assert!(g.contains("[1:a:0]aresample=48000,aformat=sample_fmts=fltp:channel_layouts=stereo,adelay=delays=1500|1500[s1];"), "{g}");
        assert!(g.ends_with(
            "[s0][s1]amix=inputs=2:duration=longest:dropout_transition=0:normalize=0[premix]"
        ));
        assert_eq!(arg_after(a, "-map"), "[premix]");
        assert_eq!(arg_after(a, "-c:a"), "pcm_f32le");
        assert!(!a.contains(&"-t".to_string()), "as long as its lines");
        assert_eq!(a.last().unwrap(), "chunks/speech-0001.wav");
        let g = arg_after(&p[2].args, "-filter_complex");
        assert!(
            g.ends_with("adelay=delays=0|0[s0];[s0]anull[premix]"),
            "{g}"
        );
        // The group's start and a line's delay in it add up to the line's delay in the cut
        for m in &p {
            for &i in &m.lines {
                let within = delay_ms(lines[i].start_s) - delay_ms(m.start_s);
                assert_eq!(delay_ms(m.start_s) + within, delay_ms(lines[i].start_s));
            }
        }
        // The mix then takes one source per premix
        let inputs = Inputs {
            speech: p.iter().map(Premix::source).collect(),
            ..Inputs::default()
        };
        let args = mix_args(&inputs, 6.0, "mix.wav");
        let g = arg_after(&args, "-filter_complex");
        assert!(g.contains("adelay=delays=2000|2000[s1]"), "{g}");
        assert!(g.contains("adelay=delays=5001|5001[s2]"), "{g}");
        assert!(g.contains("[s0][s1][s2]amix=inputs=3:"), "{g}");
        assert_eq!(premixes(&lines, 0, "chunks").len(), 5, "0 is taken as 1");
    }

    #[test]
    fn loudness_passes() {
        let m = measure_args("mix.wav");
        assert_eq!(
            arg_after(&m, "-af"),
            "loudnorm=I=-14:TP=-1.5:LRA=11:print_format=json"
        );
        assert_eq!(arg_after(&m, "-loglevel"), "info");
        assert_eq!(&m[m.len() - 3..], ["-f", "null", "-"]);
        let n = normalize_args("mix.wav", "loudnorm=X", "audio.wav");
        assert_eq!(arg_after(&n, "-af"), "loudnorm=X");
        assert_eq!(n.last().unwrap(), "audio.wav");
        assert_eq!(delay_ms(1.0004), 1000);
        assert_eq!(delay_ms(-1.0), 0);
    }
}
