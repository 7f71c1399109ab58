//! Wall time of assembling a long timeline: N short clips and one dialogue line per clip, at
//! `preview`, captions burned, master 16:9 and a 9:16 variant, badge on, with the default chunk
//! size; against the floor of ffmpeg alone concatenating the same clips without re-encoding.
//! Then, at 256 clips (the most one pass takes), chunked (64) against one pass (256).
//!
//! The inputs are made once, outside the timed part: 8 distinct 0.2 s H.264 clips (640x360,
//! 24 fps, like the simulator's) and a 0.15 s tone (WAV), each hard-linked under one name per
//! clip or line (`clip-0000.mp4`, `line-0000.wav`, ...), so every clip and line of the timeline
//! has its own URL and the assembler fetches and probes each one as a separate input, as in a
//! real render. They are served from a loopback HTTP server to an in-process assembler
//! (`assembler::start`), as in `benches/assembly.rs`; the bench checks from the server's log
//! that every URL was fetched.
//!
//! Each clip fills a 0.2 s slot (6 frames at 30 fps), each line starts with its clip and has a
//! caption, so the cut is N x 0.2 s (400 s at 2,000 clips) with N burned captions.
//!
//! Timed: from the submit to the first poll that answers `succeeded` (polled every 100 ms),
//! fetching every input over loopback included. Reported per run: the wall time, seconds of
//! assembly per minute of cut, the floor (`ffmpeg -f concat -safe 0 -i list.txt -c copy`, median
//! of 3, in the same run) and the ratio to it, the steps (read from the assembler's data dir), and
//! the frames of each output as ffprobe counts them (`-count_frames`), which must equal the cut x
//! 30 fps. The bench exits non-zero if an assembly fails or a frame count is off.
//!
//! Runs, in one process:
//! - `long`: N clips (`LONG_BENCH_CLIPS`, default 2,000, at most `timeline::MAX_ITEMS`) with the
//!   default chunk sizes (`ASSEMBLER_CHUNK_CLIPS` = `ASSEMBLER_CHUNK_LINES` = 64);
//! - `long, one pass`: the same with chunk sizes of 256, when N is over 64 and at most 256 (past
//!   256 no chunk size makes one pass); `LONG_BENCH_ONE_PASS=0` leaves it out,
//!   `LONG_BENCH_ONE_PASS=1` insists on it (and fails past 256 clips);
//! - `256, chunked` and `256, one pass`: 256 clips with chunk sizes 64 and 256, one after the
//!   other; always (when N is 256 the `long` runs are these). Their ratio is what chunking costs
//!   where both work.
//!
//! Open files: the bench never raises the process's limit; it reads it, and leaves out a
//! one-pass run (saying so) when an ffmpeg with 256 clips as inputs would not fit under it. It
//! reports the most files the bench process, and any one ffmpeg or ffprobe it ran, held open
//! (sampled every 0.5 s).
//!
//! Run with `cargo bench -p assembler --bench long_timeline`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

#[path = "../tests/common/mod.rs"]
mod common;
mod support;

use support::{ffmpeg, ffmpeg_version, font, load, median, request};

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant, SystemTime};

use serde_json::{Value, json};

/// Clips (and lines) of the long case by default
const DEFAULT_CLIPS: usize = 2000;

/// Clips of the comparison: the most a one-pass run takes (`ASSEMBLER_CHUNK_CLIPS` <= 256)
const COMPARE_CLIPS: usize = assembler::config::MAX_CHUNK as usize;

/// The default chunk sizes (clips per segment, lines per premix), and those of a one-pass run
const CHUNKED: u32 = assembler::video::CHUNK_CLIPS as u32;
const ONE_PASS: u32 = assembler::config::MAX_CHUNK;

/// The outputs' frame rate
const FPS: usize = assembler::video::FPS as usize;

/// Each clip's slot in the cut, in frames (0.2 s)
const SLOT_FRAMES: usize = 6;

/// Distinct clip files behind the URLs
const DISTINCT_CLIPS: usize = 8;

/// Each source clip's length (24 fps: 5 frames, trimmed to the slot) and each line's
const CLIP_S: f64 = 0.2;
const TONE_S: f64 = 0.15;

/// Files an ffmpeg of the assembler opens besides its clip or line inputs (the mix, the font,
/// a filter script, the output, stdio, ...), with room to spare
const FILES_BESIDE_INPUTS: u64 = 32;

/// Status polls of a running assembly; open files are sampled every `SAMPLE_EVERY` polls
const POLL: Duration = Duration::from_millis(100);
const SAMPLE_EVERY: u32 = 5;

/// Deadline of one HTTP request to the in-process assembler
const REQUEST_LIMIT: Duration = Duration::from_secs(30);

/// Deadline of one ffmpeg or ffprobe run of the bench's own (the floor, a frame count)
const TOOL_LIMIT: Duration = Duration::from_secs(300);

/// Runs of the floor per clip count (the median is reported)
const FLOOR_RUNS: usize = 3;

/// How long one assembly may take before the bench gives up (and cancels it): several times
/// what a loaded 2-core machine needs
fn assembly_limit(clips: usize) -> Duration {
    Duration::from_secs(600 + clips as u64)
}

/// The cut of `clips` clips, in frames and seconds
fn cut_frames(clips: usize) -> u64 {
    (clips * SLOT_FRAMES) as u64
}

fn cut_s(clips: usize) -> f64 {
    (clips * SLOT_FRAMES) as f64 / FPS as f64
}

/// Where slot `i` starts in the cut
fn slot_start(i: usize) -> f64 {
    (i * SLOT_FRAMES) as f64 / FPS as f64
}

/// How the end of a step is read from the assembler's data dir (`{data}/assemblies/{id}/`)
#[derive(Clone, Copy)]
enum Mark {
    /// The first poll that sees one of these files under `work/`: the next step created it
    Appears(&'static [&'static str]),
    /// The modification time of this output under `out/` once the assembly succeeded
    Written(&'static str),
}

/// The steps of an assembly and what marks each one's end; the last one ends at `succeeded`.
/// The captions file is written right after the probes; the master's first segment (chunked)
/// or the master itself (one pass) is created right after the audio.
const STEPS: [(&str, Option<Mark>); 5] = [
    ("fetch + probe", Some(Mark::Appears(&["out/captions.vtt"]))),
    (
        "audio",
        Some(Mark::Appears(&["chunks/16x9-0000.mp4", "out/master.mp4"])),
    ),
    ("master", Some(Mark::Written("master.mp4"))),
    ("9:16", Some(Mark::Written("variant-9x16.mp4"))),
    ("poster + publish", None),
];

/// The outputs whose frames are counted: file under `out/`, name in the table
const VIDEOS: [(&str, &str); 2] = [("master.mp4", "master"), ("variant-9x16.mp4", "9:16")];

/// One run to make
struct Case {
    label: &'static str,
    clips: usize,
    /// Clips per segment and lines per premix
    chunk: u32,
}

/// One timed assembly
struct Run {
    label: &'static str,
    clips: usize,
    chunk: u32,
    total: Duration,
    /// When the fetches and probes ended (the captions file appeared), if seen
    fetched: Option<Duration>,
    steps: Vec<(String, Duration)>,
    /// CPU time of the processes it ran (ffmpeg, ffprobe), when known
    cpu: Option<Duration>,
    /// Frames ffprobe counted in each output, in the order of `VIDEOS`
    frames: Vec<u64>,
    /// The most files the bench process held open, and the most one child held (and its name)
    own_files: usize,
    child_files: Option<(usize, String)>,
    /// Requests the input server answered during the run
    requests: usize,
    load_after: String,
}

/// A run left out, and why
struct Skipped {
    label: &'static str,
    clips: usize,
    why: String,
}

fn main() -> ExitCode {
    match bench() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("long timeline bench failed: {e}");
            ExitCode::FAILURE
        }
    }
}

fn clips_wanted() -> Result<usize, String> {
    let max = assembler::timeline::MAX_ITEMS;
    match std::env::var("LONG_BENCH_CLIPS") {
        Err(_) => Ok(DEFAULT_CLIPS),
        Ok(v) => match v.trim().parse::<usize>() {
            Ok(n) if (1..=max).contains(&n) => Ok(n),
            _ => Err(format!(
                "LONG_BENCH_CLIPS must be a whole number from 1 to {max}, not {v:?}"
            )),
        },
    }
}

/// `LONG_BENCH_ONE_PASS`: `None` when unset (one pass of the long case when it can be),
/// `Some(true)` insists, `Some(false)` leaves it out
fn one_pass_wanted() -> Result<Option<bool>, String> {
    match std::env::var("LONG_BENCH_ONE_PASS") {
        Err(_) => Ok(None),
        Ok(v) => match v.trim() {
            "1" => Ok(Some(true)),
            "0" => Ok(Some(false)),
            _ => Err(format!("LONG_BENCH_ONE_PASS must be 0 or 1, not {v:?}")),
        },
    }
}

/// The runs: the long case chunked, maybe in one pass, and the 256-clip comparison
fn plan(clips: usize, one_pass: Option<bool>) -> Result<(Vec<Case>, Vec<Skipped>), String> {
    let mut cases = Vec::new();
    let mut skipped = Vec::new();
    if clips != COMPARE_CLIPS {
        cases.push(Case {
            label: "long",
            clips,
            chunk: CHUNKED,
        });
        let possible = clips <= ONE_PASS as usize;
        match one_pass {
            Some(true) if !possible => {
                return Err(format!(
                    "LONG_BENCH_ONE_PASS=1 asks for {clips} clips in one pass, but a chunk is at \
                     most {ONE_PASS} clips (ASSEMBLER_CHUNK_CLIPS): past that every output is \
                     rendered in segments"
                ));
            }
            Some(false) => {}
            // Up to 64 clips the default run is one pass already
            _ if possible && clips > CHUNKED as usize => cases.push(Case {
                label: "long, one pass",
                clips,
                chunk: ONE_PASS,
            }),
            _ if possible => skipped.push(Skipped {
                label: "long, one pass",
                clips,
                why: format!("{clips} clips are one pass at the default chunk size already"),
            }),
            _ => skipped.push(Skipped {
                label: "long, one pass",
                clips,
                why: format!("no chunk size (at most {ONE_PASS}) makes {clips} clips one pass"),
            }),
        }
    }
    cases.push(Case {
        label: "256, chunked",
        clips: COMPARE_CLIPS,
        chunk: CHUNKED,
    });
    cases.push(Case {
        label: "256, one pass",
        clips: COMPARE_CLIPS,
        chunk: ONE_PASS,
    });
    Ok((cases, skipped))
}

fn bench() -> Result<(), String> {
    let clips = clips_wanted()?;
    let (mut cases, mut skipped) = plan(clips, one_pass_wanted()?)?;
    let (soft, hard) = open_file_limits();
    // Never raised: a run that would not fit under it is left out, and the table says so
    cases.retain(|c| {
        let needed = u64::from(c.chunk) + FILES_BESIDE_INPUTS;
        let fits = soft.is_none_or(|s| s >= needed);
        if !fits {
            skipped.push(Skipped {
                label: c.label,
                clips: c.clips,
                why: format!(
                    "an ffmpeg with {} inputs needs about {needed} open files, over this \
                     process's limit of {}",
                    c.chunk,
                    limit_text(soft)
                ),
            });
        }
        fits
    });
    let most = cases.iter().map(|c| c.clips).max().unwrap_or(0).max(clips);
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let media = tempfile::tempdir().map_err(|e| format!("temp dir: {e}"))?;
    let started = Instant::now();
    make_inputs(media.path(), most)?;
    println!(
        "long timeline bench: {cores} cores, load {}, {}, open files limit {} (soft) / {} \
         (hard), not raised; inputs made in {:.1} s: {DISTINCT_CLIPS} distinct {CLIP_S} s H.264 \
         clips 640x360 24 fps and a {TONE_S} s tone, hard-linked under {most} clip and {most} \
         line names (one URL each)",
        load(),
        ffmpeg_version(),
        limit_text(soft),
        limit_text(hard),
        started.elapsed().as_secs_f64(),
    );

    let mut floors: HashMap<usize, Duration> = HashMap::new();
    for c in &cases {
        if let Entry::Vacant(slot) = floors.entry(c.clips) {
            let mut times = Vec::with_capacity(FLOOR_RUNS);
            for _ in 0..FLOOR_RUNS {
                times.push(concat_floor(media.path(), c.clips)?);
            }
            slot.insert(median(&times));
        }
    }

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("tokio runtime: {e}"))?;
    let runs = rt.block_on(run_cases(media.path(), &cases))?;
    print_tables(&runs, &skipped, &floors);
    println!("load after: {}", load());
    Ok(())
}

/// Runs every case, each chunk size on its own in-process assembler
async fn run_cases(media: &Path, cases: &[Case]) -> Result<Vec<Run>, String> {
    let (inputs, inbox) = common::input_server(media).await;
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(REQUEST_LIMIT)
        .build()
        .map_err(|e| format!("HTTP client: {e}"))?;
    let mut runs = Vec::with_capacity(cases.len());
    for case in cases {
        let data = tempfile::tempdir().map_err(|e| format!("temp dir: {e}"))?;
        let mut settings = assembler::Settings::ephemeral(common::KEY, data.path().to_path_buf());
        settings.chunk_clips = case.chunk;
        settings.chunk_lines = case.chunk;
        let server = assembler::start(settings)
            .await
            .map_err(|e| format!("the assembler did not start: {e}"))?;
        let before = inbox.requests.lock().unwrap().len();
        let run = assemble(&client, &server.base_url(), &inputs, data.path(), case).await;
        // Kills any ffmpeg still running (only after a failure)
        let _ = server.shutdown().await;
        let mut run = run?;
        run.requests = check_requests(&inbox, before, case.clips)?;
        run.frames = count_outputs(data.path(), &run, case)?;
        println!(
            "  {}: {} clips, chunk {}: {} ({} of ffmpeg/ffprobe cpu), frames {:?}; load {}",
            run.label,
            run.clips,
            run.chunk,
            secs(run.total),
            run.cpu.map_or_else(|| "unknown".into(), secs),
            run.frames,
            run.load_after
        );
        runs.push(run);
    }
    Ok(runs)
}

/// The timeline of `clips` clips and as many lines, over the inputs served at `inputs`
fn timeline(inputs: &str, clips: usize) -> Value {
    let slot_s = SLOT_FRAMES as f64 / FPS as f64;
    let shots: Vec<Value> = (0..clips)
        .map(|i| {
            json!({"shot": format!("s{:04}", i + 1), "key": format!("renders/long/clip-{i:04}.mp4"),
                "url": format!("{inputs}/media/clip-{i:04}.mp4"), "start_s": slot_start(i),
                "duration_s": slot_s})
        })
        .collect();
    let lines: Vec<Value> = (0..clips)
        .map(|i| {
            json!({"stage": format!("s{:04}.dialogue", i + 1),
                "key": format!("renders/long/line-{i:04}.wav"),
                "url": format!("{inputs}/media/line-{i:04}.wav"), "start_s": slot_start(i),
                "text": format!("Line {}.", i + 1), "speaker": "Ines"})
        })
        .collect();
    json!({"timeline": {
        "master": "16:9",
        "variants": ["9:16"],
        "badge": true,
        "quality": "preview",
        "captions": {"burn": true},
        "duration_s": cut_s(clips),
        "clips": shots,
        "dialogue": lines
    }, "callback_url": null})
}

/// Submits the case and waits (bounded) for it to succeed; on a failure or past the limit the
/// assembly is cancelled and the bench fails
async fn assemble(
    client: &reqwest::Client,
    base: &str,
    inputs: &str,
    data: &Path,
    case: &Case,
) -> Result<Run, String> {
    let body = timeline(inputs, case.clips).to_string();
    let cpu_before = children_cpu();
    let (t0, t0_wall) = (Instant::now(), SystemTime::now());
    let (code, v) = request(
        client
            .post(format!("{base}/v1/assemblies"))
            .header("content-type", "application/json")
            .body(body),
    )
    .await?;
    if code != 202 {
        return Err(format!("{}: submit answered {code}: {v}", case.label));
    }
    let id = v["id"].as_str().ok_or("submit answered no id")?.to_string();
    let dir = data.join("assemblies").join(&id);
    let work = dir.join("work");
    let mut ends: Vec<Option<Duration>> = vec![None; STEPS.len()];
    let (mut own_files, mut child_files) = (open_files("self"), None::<(usize, String)>);
    let limit = assembly_limit(case.clips);
    let until = t0 + limit;
    let mut polls = 0u32;
    let (total, v) = loop {
        let (code, v) = request(client.get(format!("{base}/v1/assemblies/{id}"))).await?;
        let now = t0.elapsed();
        for ((_, mark), end) in STEPS.iter().zip(ends.iter_mut()) {
            if let (Some(Mark::Appears(files)), None) = (mark, &end)
                && files.iter().any(|f| work.join(f).exists())
            {
                *end = Some(now);
            }
        }
        if polls.is_multiple_of(SAMPLE_EVERY) {
            own_files = own_files.max(open_files("self"));
            if let Some((n, name)) = most_open_child()
                && child_files.as_ref().is_none_or(|(m, _)| n > *m)
            {
                child_files = Some((n, name));
            }
        }
        polls += 1;
        match (code, v["status"].as_str()) {
            (200, Some("succeeded")) => break (now, v),
            (200, Some("failed")) => {
                return Err(format!("{} ({id}) failed: {}", case.label, v["error"]));
            }
            (200, _) => {}
            _ => return Err(format!("polling {id} answered {code}: {v}")),
        }
        if Instant::now() > until {
            let _ = request(client.delete(format!("{base}/v1/assemblies/{id}"))).await;
            return Err(format!(
                "{} ({id}) did not finish within {} s; cancelled",
                case.label,
                limit.as_secs()
            ));
        }
        tokio::time::sleep(POLL).await;
    };
    check_outputs(&v, case)?;
    for ((_, mark), end) in STEPS.iter().zip(ends.iter_mut()) {
        if let Some(Mark::Written(file)) = mark {
            *end = std::fs::metadata(dir.join("out").join(file))
                .and_then(|m| m.modified())
                .ok()
                .and_then(|m| m.duration_since(t0_wall).ok());
        }
    }
    let cpu = children_cpu()
        .zip(cpu_before)
        .map(|(after, before)| after.saturating_sub(before));
    Ok(Run {
        label: case.label,
        clips: case.clips,
        chunk: case.chunk,
        total,
        fetched: ends[0].filter(|e| *e <= total),
        steps: steps(&ends, total),
        cpu,
        frames: Vec::new(),
        own_files,
        child_files,
        requests: 0,
        load_after: load(),
    })
}

/// How long each step took, from the ends seen; a step whose end was not seen (or is out of
/// order) joins the next one
fn steps(ends: &[Option<Duration>], total: Duration) -> Vec<(String, Duration)> {
    let last = STEPS.len() - 1;
    let mut out = Vec::new();
    let (mut from, mut names) = (Duration::ZERO, Vec::new());
    for (i, ((step, _), end)) in STEPS.iter().zip(ends).enumerate() {
        names.push(*step);
        let end = if i == last {
            Some(total)
        } else {
            end.filter(|e| *e >= from && *e <= total)
        };
        if let Some(end) = end {
            out.push((names.join(" + "), end - from));
            (from, names) = (end, Vec::new());
        }
    }
    out
}

/// The answer has the outputs asked for: a 640x360 master and a 9:16 variant of the cut's length
fn check_outputs(v: &Value, case: &Case) -> Result<(), String> {
    let o = &v["outputs"];
    let aspects: Vec<&str> = o["variants"]
        .as_array()
        .map(|a| a.iter().filter_map(|x| x["aspect"].as_str()).collect())
        .unwrap_or_default();
    let ok = o["master"]["width"].as_u64() == Some(640)
        && o["master"]["duration_s"].as_f64() == Some(cut_s(case.clips))
        && aspects == ["9:16"]
        && o["poster"]["url"].is_string()
        && o["captions"]["url"].is_string();
    if ok {
        Ok(())
    } else {
        Err(format!("{}: unexpected outputs: {v}", case.label))
    }
}

/// Every clip and line URL of the case was requested during the run: answers how many requests
/// there were
fn check_requests(inbox: &common::Inbox, before: usize, clips: usize) -> Result<usize, String> {
    let seen = inbox.requests.lock().unwrap();
    let during = seen.get(before..).unwrap_or_default();
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for name in during {
        *counts.entry(name.as_str()).or_default() += 1;
    }
    let missing = (0..clips)
        .flat_map(|i| [format!("clip-{i:04}.mp4"), format!("line-{i:04}.wav")])
        .filter(|name| !counts.contains_key(name.as_str()))
        .count();
    if missing > 0 {
        return Err(format!(
            "{missing} of the {} input URLs were never fetched",
            2 * clips
        ));
    }
    Ok(during.len())
}

/// Counts the frames of each output (ffprobe decodes them all); each must be the cut x 30 fps
fn count_outputs(data: &Path, run: &Run, case: &Case) -> Result<Vec<u64>, String> {
    let out = std::fs::read_dir(data.join("assemblies"))
        .map_err(|e| format!("the assembler's data dir: {e}"))?
        .flatten()
        .map(|e| e.path().join("out"))
        .find(|p| p.join(VIDEOS[0].0).is_file())
        .ok_or_else(|| format!("{}: no master on disk", run.label))?;
    let expected = cut_frames(case.clips);
    let mut frames = Vec::with_capacity(VIDEOS.len());
    for (file, name) in VIDEOS {
        let n = count_frames(&out.join(file))?;
        if n != expected {
            return Err(format!(
                "{}: the {name} has {n} frames, not {expected} ({} s x {FPS} fps)",
                run.label,
                cut_s(case.clips)
            ));
        }
        frames.push(n);
    }
    Ok(frames)
}

/// Runs a command to its end within `limit` (killed past it); answers its time and stdout
fn bounded(cmd: &mut Command, what: &str, limit: Duration) -> Result<(Duration, Vec<u8>), String> {
    let t0 = Instant::now();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {what}: {e}"))?;
    // Both outputs are a few lines at most: they fit in the pipes while it runs
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| format!("{what}: {e}"))? {
            break status;
        }
        if t0.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("{what} took over {limit:?}"));
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let took = t0.elapsed();
    let out = child
        .wait_with_output()
        .map_err(|e| format!("{what}: {e}"))?;
    if !status.success() {
        return Err(format!(
            "{what} failed ({status}): {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok((took, out.stdout))
}

/// The frames of a file's video stream, decoded and counted by ffprobe
fn count_frames(path: &Path) -> Result<u64, String> {
    let (_, out) = bounded(
        Command::new("ffprobe")
            .args(["-v", "error", "-select_streams", "v:0", "-count_frames"])
            .args(["-show_entries", "stream=nb_read_frames"])
            .args(["-of", "default=nokey=1:noprint_wrappers=1"])
            .arg(path),
        "ffprobe -count_frames",
        TOOL_LIMIT,
    )?;
    let text = String::from_utf8_lossy(&out);
    text.trim()
        .parse()
        .map_err(|_| format!("ffprobe counted {text:?} frames in {}", path.display()))
}

/// Makes the distinct clips and the tone in `dir`, then one name per clip and per line for
/// `names` of each: hard links (copies where the file system has none)
fn make_inputs(dir: &Path, names: usize) -> Result<(), String> {
    let font = font();
    for k in 0..DISTINCT_CLIPS {
        let src = if k % 2 == 0 {
            format!("testsrc2=size=640x360:rate=24:duration={CLIP_S}")
        } else {
            format!(
                "gradients=size=640x360:rate=24:duration={CLIP_S}:speed=0.02:seed={}",
                k + 1
            )
        };
        let text = format!(
            "drawtext={font}:text='c{k}':fontsize=64:fontcolor=white:borderw=3:bordercolor=black\
             :x=(w-text_w)/2:y=(h-text_h)/2"
        );
        ffmpeg(
            dir,
            &[
                "-f",
                "lavfi",
                "-i",
                &src,
                "-vf",
                &text,
                "-c:v",
                "libx264",
                "-preset",
                "veryfast",
                "-crf",
                "28",
                "-pix_fmt",
                "yuv420p",
                "-g",
                "48",
                "-movflags",
                "+faststart",
                &format!("source-{k}.mp4"),
            ],
        );
    }
    let tone = format!("sine=frequency=440:duration={TONE_S}:sample_rate=44100");
    ffmpeg(dir, &["-f", "lavfi", "-i", &tone, "-ac", "1", "tone.wav"]);
    for i in 0..names {
        let pairs = [
            (
                format!("source-{}.mp4", i % DISTINCT_CLIPS),
                format!("clip-{i:04}.mp4"),
            ),
            ("tone.wav".to_string(), format!("line-{i:04}.wav")),
        ];
        for (from, to) in pairs {
            let (from, to) = (dir.join(from), dir.join(to));
            if std::fs::hard_link(&from, &to).is_err() {
                std::fs::copy(&from, &to).map_err(|e| format!("{}: {e}", to.display()))?;
            }
        }
    }
    Ok(())
}

/// ffmpeg alone joining the first `clips` clips without re-encoding
fn concat_floor(dir: &Path, clips: usize) -> Result<Duration, String> {
    let list: String = (0..clips)
        .map(|i| {
            format!(
                "file '{}'\n",
                dir.join(format!("clip-{i:04}.mp4")).display()
            )
        })
        .collect();
    let list_file = dir.join(format!("list-{clips}.txt"));
    std::fs::write(&list_file, list).map_err(|e| format!("writing the concat list: {e}"))?;
    let out: PathBuf = dir.join("floor.mp4");
    let (took, _) = bounded(
        Command::new("ffmpeg")
            .args(["-hide_banner", "-loglevel", "error", "-nostdin", "-y"])
            .args(["-f", "concat", "-safe", "0", "-i"])
            .arg(&list_file)
            .args(["-c", "copy"])
            .arg(&out),
        "the concat floor",
        TOOL_LIMIT,
    )?;
    Ok(took)
}

fn print_tables(runs: &[Run], skipped: &[Skipped], floors: &HashMap<usize, Duration>) {
    println!();
    println!(
        "| run | clips + lines | chunk (clips, lines) | cut | wall | per minute of cut | concat \
         floor | wall / floor | frames master | frames 9:16 | expected |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    for r in runs {
        let cut = cut_s(r.clips);
        let floor = floors.get(&r.clips).copied().unwrap_or_default();
        let frame = |k: usize| r.frames.get(k).map_or_else(|| "-".into(), u64::to_string);
        println!(
            "| {} | {} + {} | {} ({}) | {} | {} | {:.1} s | {} | {:.0}x | {} | {} | {} |",
            r.label,
            r.clips,
            r.clips,
            r.chunk,
            render_kind(r.clips, r.chunk),
            secs_f(cut),
            secs(r.total),
            r.total.as_secs_f64() / (cut / 60.0),
            secs(floor),
            r.total.as_secs_f64() / floor.as_secs_f64().max(1e-6),
            frame(0),
            frame(1),
            cut_frames(r.clips),
        );
    }
    for s in skipped {
        println!(
            "| {} | {} + {} | - | {} | skipped: {} | | | | | | |",
            s.label,
            s.clips,
            s.clips,
            secs_f(cut_s(s.clips)),
            s.why
        );
    }
    println!();
    println!(
        "| run | steps | ffmpeg/ffprobe cpu | most files open: bench process / one child | \
         requests | load after |"
    );
    println!("|---|---|---|---|---|---|");
    for r in runs {
        let steps: Vec<String> = r
            .steps
            .iter()
            .map(|(name, d)| format!("{name} {}", secs(*d)))
            .collect();
        let cpu = r.cpu.map_or_else(
            || "unknown".into(),
            |c| {
                format!(
                    "{} ({:.2} cores)",
                    secs(c),
                    c.as_secs_f64() / r.total.as_secs_f64().max(1e-6)
                )
            },
        );
        let child = r
            .child_files
            .as_ref()
            .map_or_else(|| "-".into(), |(n, name)| format!("{n} ({name})"));
        println!(
            "| {} | {} | {cpu} | {} / {child} | {} | {} |",
            r.label,
            steps.join(", "),
            r.own_files,
            r.requests,
            r.load_after
        );
    }
    let find = |label: &str| runs.iter().find(|r| r.label == label);
    let pairs = [
        ("256, chunked", "256, one pass"),
        ("long", "long, one pass"),
    ];
    let compared: Vec<(&Run, &Run)> = pairs
        .iter()
        .filter_map(|(a, b)| find(a).zip(find(b)))
        .collect();
    if !compared.is_empty() {
        println!();
        println!(
            "| same run | chunked | one pass | chunked / one pass | after fetch + probe: chunked \
             | one pass | chunked / one pass |"
        );
        println!("|---|---|---|---|---|---|---|");
        for (chunked, one) in compared {
            // Fetching and probing is the same work at any chunk size: the rest is what the
            // chunk size changes
            let rest = |r: &Run| r.fetched.map(|f| r.total.saturating_sub(f));
            let (a, b) = (rest(chunked), rest(one));
            let ratio = |a: Duration, b: Duration| a.as_secs_f64() / b.as_secs_f64().max(1e-6);
            let (a_text, b_text, rest_ratio) = match (a, b) {
                (Some(a), Some(b)) => (secs(a), secs(b), format!("{:.2}x", ratio(a, b))),
                _ => ("-".into(), "-".into(), "-".into()),
            };
            println!(
                "| {} clips + {} lines, chunk {} vs {} | {} | {} | {:.2}x | {a_text} | {b_text} \
                 | {rest_ratio} |",
                chunked.clips,
                chunked.clips,
                chunked.chunk,
                one.chunk,
                secs(chunked.total),
                secs(one.total),
                ratio(chunked.total, one.total),
            );
        }
    }
    println!();
    println!(
        "wall: submit to `succeeded` (polled every {} ms), fetching and probing every clip and \
         line (each its own URL) over loopback HTTP included; the floor (median of {FLOOR_RUNS}) \
         copies the clips' packets and encodes nothing; steps read from the assembler's data \
         dir; frames counted by ffprobe -count_frames; open files sampled every {} ms",
        POLL.as_millis(),
        POLL.as_millis() * u128::from(SAMPLE_EVERY)
    );
}

/// How a run renders its outputs and mixes its lines at this chunk size
fn render_kind(clips: usize, chunk: u32) -> String {
    let chunk = chunk as usize;
    if clips > chunk {
        let n = clips.div_ceil(chunk);
        format!("{n} segments per output, {n} premixes")
    } else {
        "one pass".into()
    }
}

fn secs(d: Duration) -> String {
    secs_f(d.as_secs_f64())
}

fn secs_f(s: f64) -> String {
    if s < 10.0 {
        format!("{s:.2} s")
    } else {
        format!("{s:.1} s")
    }
}

/// The soft and hard limits of open files (`None`: unlimited or unknown)
fn open_file_limits() -> (Option<u64>, Option<u64>) {
    let limits = std::fs::read_to_string("/proc/self/limits").unwrap_or_default();
    let Some(line) = limits.lines().find(|l| l.starts_with("Max open files")) else {
        return (None, None);
    };
    let fields: Vec<&str> = line.split_whitespace().collect();
    let value = |i: usize| fields.get(i).and_then(|v| v.parse::<u64>().ok());
    (value(3), value(4))
}

fn limit_text(limit: Option<u64>) -> String {
    limit.map_or_else(|| "unlimited".into(), |n| n.to_string())
}

/// Files a process holds open (`self`, or a pid)
fn open_files(pid: &str) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, Iterator::count)
}

/// Among this process's children (the assembler's ffmpeg and ffprobe runs), the one with the
/// most files open now, and its name
fn most_open_child() -> Option<(usize, String)> {
    let me = std::process::id().to_string();
    let mut best: Option<(usize, String)> = None;
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let pid = entry.file_name().to_string_lossy().into_owned();
        if !pid.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // `pid (name) state ppid ...`: the name may hold spaces and parentheses
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        if stat[close + 1..].split_whitespace().nth(1) != Some(me.as_str()) {
            continue;
        }
        let n = open_files(&pid);
        if best.as_ref().is_none_or(|(m, _)| n > *m) {
            best = Some((n, stat[open + 1..close].to_string()));
        }
    }
    best
}

/// CPU time (user + system) of this process's finished children: every ffmpeg and ffprobe the
/// in-process assembler ran and waited for (Linux: `/proc/self/stat`, 100 ticks a second)
fn children_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields.get(13)?.parse::<u64>().ok()? + fields.get(14)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}
