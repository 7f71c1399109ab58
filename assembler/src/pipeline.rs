//! One run of an assembly: fetch and probe the inputs, write the captions, mix and normalise
//! the audio once, render every video output, take the poster.
//!
//! Everything happens in the run's scratch folder; outputs land in its `out/` subfolder, which
//! the caller moves into place only when the whole run succeeded. Every step either finishes,
//! fails with a reason naming the shot, stage or output at fault, or is stopped by its deadline
//! or a cancel.

use std::path::{Path, PathBuf};
use std::time::Duration;

use futures_util::StreamExt;
use futures_util::stream::FuturesOrdered;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::audio;
use crate::captions;
use crate::exec::{self, RunError};
use crate::fetch::{self, FetchError};
use crate::frame::{self, Aspect, Quality};
use crate::probe::{self, MediaInfo};
use crate::record::{Failure, FailureCode, Outputs, VideoFile};
use crate::timeline::Timeline;
use crate::video::{self, ClipSource, Font};

/// How many inputs are fetched at once
const PARALLEL_FETCHES: usize = 4;

/// How many inputs are probed at once: a probe reads little of its file and mostly waits on
/// ffprobe starting up, so a few at a time shorten a long timeline's probing without crowding
/// the cores
const PARALLEL_PROBES: usize = 4;

/// The folder, under the scratch folder, of a long timeline's intermediate files (video
/// segments, dialogue premixes); it goes with the scratch folder
const CHUNKS: &str = "chunks";

/// Deadline of one ffprobe
const PROBE_LIMIT: Duration = Duration::from_secs(30);

/// Deadline of taking the poster
const POSTER_LIMIT: Duration = Duration::from_secs(60);

/// Deadline of an audio pass: a minute plus twice the cut (audio runs at hundreds of times real
/// time, so only a stuck process reaches it)
pub fn audio_limit(duration_s: f64) -> Duration {
    Duration::from_secs_f64(60.0 + 2.0 * duration_s)
}

/// Deadline of one video output: two minutes plus a multiple of the cut's length (1080p at
/// `veryfast` runs near real time on two cores; a preview several times faster)
pub fn video_limit(duration_s: f64, quality: Quality) -> Duration {
    let per_second = match quality {
        Quality::Preview => 4.0,
        Quality::Hd => 12.0,
    };
    Duration::from_secs_f64(120.0 + per_second * duration_s)
}

/// The binaries
#[derive(Debug, Clone)]
pub struct Tools {
    /// ffmpeg
    pub ffmpeg: PathBuf,
    /// ffprobe
    pub ffprobe: PathBuf,
}

/// What a run needs
pub struct Job<'a> {
    /// What to assemble
    pub timeline: &'a Timeline,
    /// The scratch folder (exists, empty)
    pub work: &'a Path,
    /// The binaries
    pub tools: &'a Tools,
    /// The HTTP client
    pub client: &'a reqwest::Client,
    /// The font of all text
    pub font: &'a Font,
    /// The largest input, in bytes
    pub max_input_bytes: u64,
    /// The deadline of one fetch
    pub fetch_timeout: Duration,
    /// Past this many clips an output is rendered in segments of this many consecutive clips
    /// first, so no ffmpeg run opens more clips than this (`ASSEMBLER_CHUNK_CLIPS`,
    /// [`video::CHUNK_CLIPS`] by default)
    pub chunk_clips: usize,
    /// Past this many dialogue lines they are premixed in groups of this many first, so no
    /// ffmpeg run opens more lines than this (`ASSEMBLER_CHUNK_LINES`, [`audio::CHUNK_LINES`]
    /// by default)
    pub chunk_lines: usize,
}

/// The folder, under the scratch folder, where outputs are written
pub const OUT: &str = "out";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Needs {
    Video,
    Audio,
}

struct Input {
    label: String,
    url: String,
    path: String,
    needs: Needs,
}

/// How an input is named in messages: `clip s03`, `dialogue s04.dialogue`, `voiceover`
fn label(kind: &str, name: &str) -> String {
    if name == kind {
        kind.to_string()
    } else {
        format!("{kind} {name}")
    }
}

fn inputs(t: &Timeline) -> Vec<Input> {
    let mut out = Vec::new();
    for (i, c) in t.clips.iter().enumerate() {
        out.push(Input {
            label: label("clip", &c.shot),
            url: c.url.clone(),
            path: format!("in/clip-{i:03}"),
            needs: Needs::Video,
        });
    }
    for (i, d) in t.dialogue.iter().enumerate() {
        out.push(Input {
            label: label("dialogue", &d.stage),
            url: d.url.clone(),
            path: format!("in/dialogue-{i:03}"),
            needs: Needs::Audio,
        });
    }
    if let Some(v) = &t.voiceover {
        out.push(Input {
            label: label("voiceover", &v.stage),
            url: v.url.clone(),
            path: "in/voiceover".into(),
            needs: Needs::Audio,
        });
    }
    if let Some(s) = &t.score {
        out.push(Input {
            label: label("score", &s.stage),
            url: s.url.clone(),
            path: "in/score".into(),
            needs: Needs::Audio,
        });
        for (k, seg) in s.segments.iter().enumerate() {
            out.push(Input {
                label: label("score", &seg.stage),
                url: seg.url.clone(),
                path: format!("in/score-{}", k + 1),
                needs: Needs::Audio,
            });
        }
    }
    out
}

/// A still request: the clip's last frame as a JPEG, and nothing else
async fn still(
    job: &Job<'_>,
    info: Option<&MediaInfo>,
    cancel: &mut watch::Receiver<bool>,
) -> Result<Outputs, Failure> {
    let t = job.timeline;
    let name = "frame.jpg".to_string();
    let args = video::last_frame_args("in/clip-000", &format!("{OUT}/{name}"));
    exec::run(&job.tools.ffmpeg, &args, job.work, POSTER_LIMIT, cancel)
        .await
        .map_err(|e| ffmpeg_failure("cutting the last frame", e))?;
    let written = tokio::fs::metadata(job.work.join(OUT).join(&name))
        .await
        .map(|m| m.len() > 0)
        .unwrap_or(false);
    if !written {
        return Err(Failure::new(
            FailureCode::Ffmpeg,
            "cutting the last frame wrote no image",
        ));
    }
    let (width, height) = info.and_then(|i| i.video).unwrap_or((0, 0));
    Ok(Outputs {
        master: VideoFile {
            name: name.clone(),
            aspect: t.master,
            width,
            height,
            duration_s: 0.0,
        },
        variants: Vec::new(),
        // The frame is the only file: the poster names it too, and the wire shows none.
        poster: name,
        captions: None,
    })
}

fn internal(what: &str, e: impl std::fmt::Display) -> Failure {
    Failure::new(FailureCode::Internal, format!("{what}: {e}"))
}

fn ffmpeg_failure(step: &str, e: RunError) -> Failure {
    match e {
        RunError::Cancelled => Failure::new(FailureCode::Cancelled, "cancelled"),
        RunError::Timeout { limit, .. } => Failure::new(
            FailureCode::Ffmpeg,
            format!(
                "{step} took longer than {} s and was stopped",
                limit.as_secs()
            ),
        ),
        RunError::Failed { tail, .. } => {
            Failure::new(FailureCode::Ffmpeg, format!("{step} failed: {tail}"))
        }
        RunError::Spawn { tool, source } => Failure::new(
            FailureCode::Ffmpeg,
            format!("{step} failed: cannot start {tool}: {source}"),
        ),
    }
}

fn fetch_failure(label: &str, e: FetchError) -> Failure {
    match e {
        FetchError::TooLarge { .. } => {
            Failure::new(FailureCode::InputTooLarge, format!("{label} is {e}"))
        }
        FetchError::Disk(_) => internal(&format!("{label} could not be stored"), e),
        _ => Failure::new(
            FailureCode::InputUnavailable,
            format!("{label} could not be fetched: {e}"),
        ),
    }
}

/// Fetches every input (a few at a time); the first failure in timeline order wins
async fn fetch_all(
    job: &Job<'_>,
    list: &[Input],
    cancel: &mut watch::Receiver<bool>,
) -> Result<(), Failure> {
    let mut set = JoinSet::new();
    let mut results: Vec<Option<Result<u64, FetchError>>> = (0..list.len()).map(|_| None).collect();
    let mut next = 0;
    loop {
        while set.len() < PARALLEL_FETCHES && next < list.len() {
            let client = job.client.clone();
            let url = list[next].url.clone();
            let dest = job.work.join(&list[next].path);
            let (max, limit) = (job.max_input_bytes, job.fetch_timeout);
            let index = next;
            set.spawn(async move {
                (
                    index,
                    fetch::fetch_to_file(&client, &url, &dest, max, limit).await,
                )
            });
            next += 1;
        }
        let joined = tokio::select! {
            j = set.join_next() => j,
            () = exec::cancelled(cancel) => return Err(Failure::new(FailureCode::Cancelled, "cancelled")),
        };
        match joined {
            None => break,
            Some(Ok((index, r))) => {
                if let (Err(e), Some(input)) = (&r, list.get(index))
                    && results[..index].iter().all(|r| matches!(r, Some(Ok(_))))
                {
                    // Nothing earlier can fail any more: report this one without waiting
                    return Err(fetch_failure(&input.label, e.clone()));
                }
                results[index] = Some(r);
            }
            Some(Err(join)) => return Err(internal("a fetch task ended abnormally", join)),
        }
    }
    for (input, r) in list.iter().zip(results) {
        match r {
            Some(Ok(_)) => {}
            Some(Err(e)) => return Err(fetch_failure(&input.label, e)),
            None => {
                return Err(internal(
                    "fetching",
                    format!("{} was never fetched", input.label),
                ));
            }
        }
    }
    Ok(())
}

/// Probes every input, a few at a time, answering in timeline order: the first failure in
/// timeline order wins (the probes still running then are dropped, which kills them)
async fn probe_all(
    job: &Job<'_>,
    list: &[Input],
    cancel: &watch::Receiver<bool>,
) -> Result<Vec<MediaInfo>, Failure> {
    // A plain queue rather than `stream::iter(..).buffered(..)`, whose closure over borrowed
    // inputs the compiler cannot prove `Send` for the spawned assembly task
    let mut running = FuturesOrdered::new();
    let mut waiting = list.iter();
    for input in waiting.by_ref().take(PARALLEL_PROBES) {
        running.push_back(probe_input(job, input, cancel.clone()));
    }
    let mut infos = Vec::with_capacity(list.len());
    while let Some(info) = running.next().await {
        infos.push(info?);
        if let Some(input) = waiting.next() {
            running.push_back(probe_input(job, input, cancel.clone()));
        }
    }
    Ok(infos)
}

async fn probe_input(
    job: &Job<'_>,
    input: &Input,
    mut cancel: watch::Receiver<bool>,
) -> Result<MediaInfo, Failure> {
    let args = probe::probe_args(&input.path);
    let ran = match exec::run(
        &job.tools.ffprobe,
        &args,
        job.work,
        PROBE_LIMIT,
        &mut cancel,
    )
    .await
    {
        Ok(r) => Some(r),
        Err(RunError::Failed { .. }) => None,
        Err(e) => return Err(ffmpeg_failure(&format!("probing {}", input.label), e)),
    };
    let not_media = || {
        Failure::new(
            FailureCode::InputNotMedia,
            format!("{} is not a media file ffmpeg can read", input.label),
        )
    };
    let info = ran
        .and_then(|r| probe::parse(&r.stdout))
        .ok_or_else(not_media)?;
    match input.needs {
        Needs::Video if info.video.is_none() => Err(Failure::new(
            FailureCode::InputNotMedia,
            format!("{} has no video stream", input.label),
        )),
        Needs::Audio if !info.audio => Err(Failure::new(
            FailureCode::InputNotMedia,
            format!("{} has no audio stream", input.label),
        )),
        _ => Ok(info),
    }
}

/// Runs the whole assembly; outputs are in `{work}/out` on success
pub async fn execute(
    job: &Job<'_>,
    cancel: &mut watch::Receiver<bool>,
) -> Result<Outputs, Failure> {
    let t = job.timeline;
    for sub in ["in", OUT, CHUNKS] {
        tokio::fs::create_dir_all(job.work.join(sub))
            .await
            .map_err(|e| internal("cannot create the scratch folder", e))?;
    }
    let list = inputs(t);
    fetch_all(job, &list, cancel).await?;
    let infos = probe_all(job, &list, cancel).await?;
    if t.still.is_some() {
        return still(job, infos.first(), cancel).await;
    }
    let n_clips = t.clips.len();
    let n_lines = t.dialogue.len();
    let clip_infos = &infos[..n_clips];
    let line_infos = &infos[n_clips..n_clips + n_lines];
    let mut rest = infos[n_clips + n_lines..].iter();
    let vo_info = t.voiceover.as_ref().and_then(|_| rest.next());

    // Captions
    let line_lengths: Vec<Option<f64>> = line_infos.iter().map(|i| i.duration_s).collect();
    let cues = captions::build_cues(t, &line_lengths, vo_info.and_then(|i| i.duration_s));
    let captions_name = match captions::webvtt(&cues) {
        Some(vtt) => {
            let name = "captions.vtt".to_string();
            tokio::fs::write(job.work.join(OUT).join(&name), vtt)
                .await
                .map_err(|e| internal("cannot write the captions", e))?;
            Some(name)
        }
        None => None,
    };

    // Audio, once for every output
    let audio_inputs = audio::Inputs {
        speech: dialogue_sources(job, cancel)
            .await?
            .into_iter()
            .chain(t.voiceover.as_ref().map(|v| audio::Source {
                path: "in/voiceover".into(),
                start_s: v.start_s,
                fill_s: None,
            }))
            .collect(),
        score: t.score.as_ref().map(|s| audio::Source {
            path: "in/score".into(),
            start_s: s.start_s,
            // Never past the cut's end: the mix is cut there anyway. A segmented score's parts
            // are each filled to their own length and joined.
            fill_s: if s.segments.is_empty() {
                s.duration_s
                    .map(|d| d.min((t.duration_s - s.start_s).max(0.0)))
            } else {
                s.duration_s
            },
        }),
        score_segments: t.score.as_ref().map_or_else(Vec::new, |s| {
            s.segments
                .iter()
                .enumerate()
                .map(|(k, seg)| audio::Source {
                    path: format!("in/score-{}", k + 1),
                    start_s: seg.start_s,
                    fill_s: Some(seg.duration_s),
                })
                .collect()
        }),
        crossfade_s: t.score.as_ref().map_or(0.0, |s| s.crossfade_s),
    };
    let limit = audio_limit(t.duration_s);
    let ffmpeg = &job.tools.ffmpeg;
    let mix_args = audio::mix_args(&audio_inputs, t.duration_s, "mix.wav");
    exec::run(ffmpeg, &mix_args, job.work, limit, cancel)
        .await
        .map_err(|e| ffmpeg_failure("mixing the audio", e))?;
    let measured = exec::run(
        ffmpeg,
        &audio::measure_args("mix.wav"),
        job.work,
        limit,
        cancel,
    )
    .await
    .map_err(|e| ffmpeg_failure("measuring the loudness", e))?;
    let report = crate::loudness::parse_report(&measured.stderr).map_err(|e| {
        Failure::new(
            FailureCode::Ffmpeg,
            format!("measuring the loudness failed: {e}"),
        )
    })?;
    let audio_file = match crate::loudness::second_pass_filter(&report) {
        Some(filter) => {
            let args = audio::normalize_args("mix.wav", &filter, "audio.wav");
            exec::run(ffmpeg, &args, job.work, limit, cancel)
                .await
                .map_err(|e| ffmpeg_failure("normalising the loudness", e))?;
            "audio.wav"
        }
        // Silence stays silence
        None => "mix.wav",
    };

    // Video outputs: the master, then each variant
    let clips: Vec<ClipSource> = t
        .clips
        .iter()
        .zip(clip_infos)
        .enumerate()
        .map(|(i, (c, info))| ClipSource {
            path: format!("in/clip-{i:03}"),
            planned_s: c.duration_s,
            probed_s: info.duration_s,
        })
        .collect();
    let burn = t.burn_captions.then_some(cues.as_slice());
    let master = render(
        job,
        &clips,
        audio_file,
        burn,
        t.master,
        "master.mp4",
        "the master",
        cancel,
    )
    .await?;
    let mut variants = Vec::with_capacity(t.variants.len());
    for &aspect in &t.variants {
        let name = format!("variant-{}.mp4", aspect.file_tag());
        let step = format!("the {} variant", aspect.as_str());
        variants.push(render(job, &clips, audio_file, burn, aspect, &name, &step, cancel).await?);
    }

    // Poster
    let poster = "poster.jpg".to_string();
    let args = video::poster_args(
        &format!("{OUT}/{}", master.name),
        t.duration_s,
        &format!("{OUT}/{poster}"),
    );
    exec::run(ffmpeg, &args, job.work, POSTER_LIMIT, cancel)
        .await
        .map_err(|e| ffmpeg_failure("taking the poster", e))?;

    Ok(Outputs {
        master,
        variants,
        poster,
        captions: captions_name,
    })
}

/// The dialogue as speech sources of the mix: the lines themselves, or when there are more than
/// `chunk_lines` of them, their premixes in groups (made here, each with the audio deadline)
async fn dialogue_sources(
    job: &Job<'_>,
    cancel: &mut watch::Receiver<bool>,
) -> Result<Vec<audio::Source>, Failure> {
    let t = job.timeline;
    let lines: Vec<audio::Source> = t
        .dialogue
        .iter()
        .enumerate()
        .map(|(i, d)| audio::Source {
            path: format!("in/dialogue-{i:03}"),
            start_s: d.start_s,
            fill_s: None,
        })
        .collect();
    let premixes = audio::premixes(&lines, job.chunk_lines, CHUNKS);
    if premixes.is_empty() {
        return Ok(lines);
    }
    let limit = audio_limit(t.duration_s);
    for (g, premix) in premixes.iter().enumerate() {
        let names = span(&premix.lines, |i| {
            t.dialogue.get(i).map(|d| label("dialogue", &d.stage))
        });
        let step = format!(
            "premixing dialogue group {} of {} ({names})",
            g + 1,
            premixes.len()
        );
        exec::run(&job.tools.ffmpeg, &premix.args, job.work, limit, cancel)
            .await
            .map_err(|e| ffmpeg_failure(&step, e))?;
    }
    Ok(premixes.iter().map(audio::Premix::source).collect())
}

/// Names the first and last of some inputs for a message: `clip s04 to clip s06`, or the one
fn span(indices: &[usize], name: impl Fn(usize) -> Option<String>) -> String {
    let named = |i: Option<&usize>| i.and_then(|&i| name(i)).unwrap_or_default();
    match indices {
        [] => String::new(),
        [one] => named(Some(one)),
        [first, .., last] => format!("{} to {}", named(Some(first)), named(Some(last))),
    }
}

/// Writes a plan's text files and runs it
async fn run_plan(
    job: &Job<'_>,
    plan: &video::Plan,
    limit: Duration,
    step: &str,
    cancel: &mut watch::Receiver<bool>,
) -> Result<(), Failure> {
    for (file, text) in &plan.text_files {
        tokio::fs::write(job.work.join(file), text)
            .await
            .map_err(|e| internal("cannot write an ffmpeg input file", e))?;
    }
    exec::run(&job.tools.ffmpeg, &plan.args, job.work, limit, cancel)
        .await
        .map(drop)
        .map_err(|e| ffmpeg_failure(step, e))
}

/// How many frames a written segment holds, from its length as ffprobe reads it (what the
/// concat demuxer goes by too)
async fn written_frames(
    job: &Job<'_>,
    path: &str,
    step: &str,
    cancel: &mut watch::Receiver<bool>,
) -> Result<u64, Failure> {
    let probed = exec::run(
        &job.tools.ffprobe,
        &probe::probe_args(path),
        job.work,
        PROBE_LIMIT,
        cancel,
    )
    .await
    .map_err(|e| ffmpeg_failure(&format!("checking {path}"), e))?;
    let seconds = probe::parse(&probed.stdout)
        .filter(|i| i.video.is_some())
        .and_then(|i| i.duration_s);
    match seconds {
        Some(s) => Ok((s * f64::from(video::FPS)).round() as u64),
        None => Err(Failure::new(
            FailureCode::Ffmpeg,
            format!("{step} wrote no video"),
        )),
    }
}

/// Renders a chunked output: each segment (its own deadline, for its share of the cut), then
/// the output pass; the segments are removed once the output is written
async fn render_chunked(
    job: &Job<'_>,
    output: &video::Output<'_>,
    segments: &[video::Segment],
    step: &str,
    cancel: &mut watch::Receiver<bool>,
) -> Result<(), Failure> {
    let t = job.timeline;
    let n = segments.len();
    let frame_s = 1.0 / f64::from(video::FPS);
    // Where each segment starts in the cut, in frames: measured from what was written rather
    // than summed from the plan, since each clip's trim keeps whole frames
    let (mut written, mut last_start) = (0, 0);
    for (k, segment) in segments.iter().enumerate() {
        let indices: Vec<usize> = segment.clips.clone().collect();
        let clips = span(&indices, |i| t.clips.get(i).map(|c| label("clip", &c.shot)));
        let step = format!("{step}, chunk {} of {n} ({clips})", k + 1);
        let plan = video::segment_plan(output, segment, written as f64 * frame_s);
        let limit = video_limit(segment.planned_s, t.quality);
        run_plan(job, &plan, limit, &step, cancel).await?;
        last_start = written;
        written += written_frames(job, &segment.path, &step, cancel).await?;
    }
    let captions_from = last_start as f64 * frame_s;
    let plan = video::output_pass_plan(output, segments, captions_from, CHUNKS);
    let limit = video_limit(t.duration_s, t.quality);
    run_plan(job, &plan, limit, step, cancel).await?;
    // They go with the scratch folder anyway; removing them now keeps one output's segments on
    // disk at a time rather than every output's. A file that will not go is no failure.
    for segment in segments {
        let _ = tokio::fs::remove_file(job.work.join(&segment.path)).await;
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn render(
    job: &Job<'_>,
    clips: &[ClipSource],
    audio_file: &str,
    captions: Option<&[captions::Cue]>,
    aspect: Aspect,
    name: &str,
    step: &str,
    cancel: &mut watch::Receiver<bool>,
) -> Result<VideoFile, Failure> {
    let t = job.timeline;
    let out = format!("{OUT}/{name}");
    let output = video::Output {
        aspect,
        quality: t.quality,
        clips,
        audio: audio_file,
        badge: t.badge,
        captions,
        font: job.font,
        duration_s: t.duration_s,
        out: &out,
    };
    let step = format!("rendering {step}");
    match video::plan_passes(&output, job.chunk_clips, CHUNKS) {
        video::Passes::One(plan) => {
            let limit = video_limit(t.duration_s, t.quality);
            run_plan(job, &plan, limit, &step, cancel).await?;
        }
        video::Passes::Chunked(segments) => {
            render_chunked(job, &output, &segments, &step, cancel).await?;
        }
    }
    // Check what was written rather than trusting the exit status alone
    let f = frame::frame(aspect, t.quality);
    let probed = exec::run(
        &job.tools.ffprobe,
        &probe::probe_args(&out),
        job.work,
        PROBE_LIMIT,
        cancel,
    )
    .await
    .map_err(|e| ffmpeg_failure(&format!("checking {name}"), e))?;
    let info = probe::parse(&probed.stdout);
    if info.as_ref().and_then(|i| i.video) != Some((f.width, f.height)) {
        return Err(Failure::new(
            FailureCode::Ffmpeg,
            format!("{step} wrote no {}x{} video", f.width, f.height),
        ));
    }
    Ok(VideoFile {
        name: name.to_string(),
        aspect,
        width: f.width,
        height: f.height,
        duration_s: t.duration_s,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_name_the_shot_or_stage() {
        assert_eq!(label("clip", "s03"), "clip s03");
        assert_eq!(label("voiceover", "voiceover"), "voiceover");
        assert_eq!(label("dialogue", "s04.dialogue"), "dialogue s04.dialogue");
        let f = fetch_failure("clip s03", FetchError::Status(404));
        assert_eq!(f.code, FailureCode::InputUnavailable);
        assert_eq!(f.message, "clip s03 could not be fetched: HTTP 404");
        let f = fetch_failure("score", FetchError::TooLarge { limit: 64 * 1024 });
        assert_eq!(f.code, FailureCode::InputTooLarge);
        assert_eq!(f.message, "score is larger than the 64 KiB limit");
    }

    #[test]
    fn spans_name_the_first_and_last() {
        let name = |i: usize| Some(format!("clip s{:02}", i + 1));
        assert_eq!(span(&[3, 4, 5], name), "clip s04 to clip s06");
        assert_eq!(span(&[6], name), "clip s07");
        assert_eq!(span(&[], name), "");
    }

    #[test]
    fn deadlines_grow_with_the_cut() {
        assert_eq!(audio_limit(30.0), Duration::from_secs(120));
        assert_eq!(video_limit(60.0, Quality::Hd), Duration::from_secs(840));
        assert_eq!(
            video_limit(60.0, Quality::Preview),
            Duration::from_secs(360)
        );
    }
}
