//! Wall time of assembling the sample brief (`examples/brief.json`), at preview and at hd,
//! against the floor of ffmpeg alone concatenating the same clips without re-encoding.
//!
//! The inputs are made once, outside the timed part, like the simulator's outputs: 12 H.264
//! clips at 640x360, 24 fps, of the shots' durations (62 s in all), the two dialogue lines and
//! the voiceover spoken by espeak-ng (a tone of about 15 characters a second without it), and a
//! 30 s score that the assembler loops to 62 s. They are served from a loopback HTTP server to
//! an in-process assembler (`assembler::start`), as in `tests/assembly.rs`.
//!
//! Timed: from the submit to the first poll that answers `succeeded` (polled every 50 ms),
//! fetching every input over loopback included. The master is 16:9 with variants 9:16 and 1:1
//! (youtube, tiktok, x), badge on, captions not burned (the brief asks for none). The floor is
//! `ffmpeg -f concat -safe 0 -i list.txt -c copy out.mp4` over the same 12 clips, in the same run.
//!
//! Each quality runs once; `ASSEMBLY_BENCH_RUNS=N` runs each N times and reports the median;
//! `ASSEMBLY_BENCH_QUALITIES=preview` skips hd (the slow one: minutes on 2 cores).
//!
//! Run with `cargo bench -p assembler --bench assembly`.
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

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant, SystemTime};

use assembler::Running;
use serde_json::{Value, json};

/// The sample brief's shots: id and duration (s)
const SHOTS: [(&str, f64); 12] = [
    ("s01", 6.0),
    ("s02", 5.0),
    ("s03", 4.0),
    ("s04", 6.0),
    ("s05", 5.0),
    ("s06", 5.0),
    ("s07", 4.0),
    ("s08", 6.0),
    ("s09", 5.0),
    ("s10", 6.0),
    ("s11", 5.0),
    ("s12", 5.0),
];

/// The brief's dialogue lines: shot, file, line
const LINES: [(&str, &str, &str); 2] = [
    (
        "s04",
        "s04-dialogue.mp3",
        "They switch us off on Friday, Captain. Sixty years, and a letter.",
    ),
    (
        "s08",
        "s08-dialogue.mp3",
        "One more night won't hurt anyone.",
    ),
];

const VOICEOVER: &str =
    "Some lights are kept for ships. Some are kept for the people who keep them.";

/// The brief's length, and the score file's (looped by the assembler to the brief's)
const CUT_S: f64 = 62.0;
const SCORE_S: f64 = 30.0;

/// Status polls of a running assembly
const POLL: Duration = Duration::from_millis(50);

/// Deadline of one HTTP request to the in-process assembler
const REQUEST_LIMIT: Duration = Duration::from_secs(30);

/// Deadline of one ffmpeg run of the floor
const FLOOR_LIMIT: Duration = Duration::from_secs(60);

#[derive(Clone, Copy, PartialEq, Eq)]
enum Quality {
    Preview,
    Hd,
}

impl Quality {
    fn as_str(self) -> &'static str {
        match self {
            Self::Preview => "preview",
            Self::Hd => "hd",
        }
    }

    /// The master's width
    fn width(self) -> u64 {
        match self {
            Self::Preview => 640,
            Self::Hd => 1920,
        }
    }

    /// How long one assembly may take before the bench gives up (and cancels it): several
    /// times what a loaded 2-core machine needs
    fn limit(self) -> Duration {
        match self {
            Self::Preview => Duration::from_secs(5 * 60),
            Self::Hd => Duration::from_secs(20 * 60),
        }
    }
}

/// How the end of a step is read from the assembler's data dir (`{data}/assemblies/{id}/`)
#[derive(Clone, Copy)]
enum Mark {
    /// The first poll that sees this file under `work/`: the next step's ffmpeg created it
    Appears(&'static str),
    /// The modification time of this output under `out/` once the assembly succeeded: when
    /// its ffmpeg finished writing it
    Written(&'static str),
}

/// The steps of an assembly, in the order the assembler runs them, and what marks each one's
/// end; the last step ends at `succeeded`
const STEPS: [(&str, Option<Mark>); 7] = [
    ("fetch + probe", Some(Mark::Appears("mix.wav"))),
    (
        "audio mix + 2 loudness passes",
        Some(Mark::Appears("out/master.mp4")),
    ),
    ("master 16:9", Some(Mark::Written("master.mp4"))),
    ("variant 9:16", Some(Mark::Written("variant-9x16.mp4"))),
    ("variant 1:1", Some(Mark::Written("variant-1x1.mp4"))),
    ("poster", Some(Mark::Written("poster.jpg"))),
    ("publish", None),
];

/// One timed assembly
struct Run {
    total: Duration,
    /// Each step and how long it took; a step whose end was not seen is merged with the next
    steps: Vec<(String, Duration)>,
    /// CPU time of the processes it ran (ffmpeg, ffprobe), when known
    cpu: Option<Duration>,
}

fn main() -> ExitCode {
    match bench() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("assembly bench failed: {e}");
            ExitCode::FAILURE
        }
    }
}

fn runs_wanted() -> Result<usize, String> {
    match std::env::var("ASSEMBLY_BENCH_RUNS") {
        Err(_) => Ok(1),
        Ok(v) => match v.trim().parse::<usize>() {
            Ok(n) if n >= 1 => Ok(n),
            _ => Err(format!(
                "ASSEMBLY_BENCH_RUNS must be a whole number of at least 1, not {v:?}"
            )),
        },
    }
}

/// `ASSEMBLY_BENCH_QUALITIES=preview` (or `hd`) measures one quality only; default both
fn qualities_wanted() -> Result<Vec<Quality>, String> {
    let Ok(v) = std::env::var("ASSEMBLY_BENCH_QUALITIES") else {
        return Ok(vec![Quality::Preview, Quality::Hd]);
    };
    let mut out = Vec::new();
    for q in v.split(',').map(str::trim).filter(|q| !q.is_empty()) {
        let q = match q {
            "preview" => Quality::Preview,
            "hd" => Quality::Hd,
            _ => {
                return Err(format!(
                    "ASSEMBLY_BENCH_QUALITIES lists {q:?}: preview or hd"
                ));
            }
        };
        if !out.contains(&q) {
            out.push(q);
        }
    }
    if out.is_empty() {
        return Err("ASSEMBLY_BENCH_QUALITIES is empty".into());
    }
    Ok(out)
}

fn bench() -> Result<(), String> {
    let runs = runs_wanted()?;
    let qualities = qualities_wanted()?;
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let media = tempfile::tempdir().map_err(|e| format!("temp dir: {e}"))?;
    let started = Instant::now();
    let speech = make_inputs(media.path());
    let bytes: u64 = SHOTS
        .iter()
        .filter_map(|(id, _)| std::fs::metadata(media.path().join(format!("{id}.mp4"))).ok())
        .map(|m| m.len())
        .sum();
    println!(
        "assembly bench: {cores} cores, load {}, {}; inputs made in {:.1} s: 12 H.264 clips \
         640x360 24 fps ({CUT_S} s, {:.1} MB), 2 dialogue lines + voiceover ({speech}), a {SCORE_S} s \
         score looped to {CUT_S} s; {runs} run(s) of each",
        load(),
        ffmpeg_version(),
        started.elapsed().as_secs_f64(),
        bytes as f64 / 1e6,
    );

    let mut floors = Vec::with_capacity(runs);
    for _ in 0..runs {
        floors.push(concat_floor(media.path())?);
    }
    let floor = median(&floors);

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("tokio runtime: {e}"))?;
    rt.block_on(async {
        let (inputs, _) = common::input_server(media.path()).await;
        let data = tempfile::tempdir().map_err(|e| format!("temp dir: {e}"))?;
        let settings = assembler::Settings::ephemeral(common::KEY, data.path().to_path_buf());
        let server = assembler::start(settings)
            .await
            .map_err(|e| format!("the assembler did not start: {e}"))?;
        let measured = measure(&server, &inputs, data.path(), &qualities, runs, floor).await;
        // Kills any ffmpeg still running (only after a failure)
        let _ = server.shutdown().await;
        measured
    })?;
    println!(
        "the ratio includes: fetching and probing 15 inputs over loopback HTTP; conforming each \
         clip once per output (scale to cover + centre crop, 24 -> 30 fps, trim or hold, badge); \
         the audio mix (2 lines + voiceover, the score looped to {CUT_S} s and ducked under \
         speech); two loudnorm passes; 3 H.264 + AAC encodes (16:9 master, 9:16, 1:1) + a poster \
         + WebVTT captions. The floor decodes and encodes nothing: it copies the clips' packets."
    );
    println!("load after: {}", load());
    Ok(())
}

async fn measure(
    server: &Running,
    inputs: &str,
    data: &Path,
    qualities: &[Quality],
    runs: usize,
    floor: Duration,
) -> Result<(), String> {
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(REQUEST_LIMIT)
        .build()
        .map_err(|e| format!("HTTP client: {e}"))?;
    let base = server.base_url();
    println!(
        "concat floor (ffmpeg -f concat -c copy, 12 clips): {}",
        secs(floor)
    );
    for &quality in qualities {
        let mut done = Vec::with_capacity(runs);
        for _ in 0..runs {
            done.push(assemble(&client, &base, inputs, data, quality).await?);
        }
        done.sort_by_key(|r| r.total);
        let totals: Vec<Duration> = done.iter().map(|r| r.total).collect();
        let total = median(&totals);
        let spread = if runs > 1 {
            format!(
                " (median of {runs}: {} to {})",
                secs(totals[0]),
                secs(totals[runs - 1])
            )
        } else {
            String::new()
        };
        println!(
            "assembly of the sample brief, {}: {} vs concat floor {} = {:.1}x{spread}",
            quality.as_str(),
            secs(total),
            secs(floor),
            total.as_secs_f64() / floor.as_secs_f64().max(1e-6),
        );
        let steps: Vec<String> = done[runs / 2]
            .steps
            .iter()
            .map(|(name, d)| format!("{name} {}", secs(*d)))
            .collect();
        let median_run = &done[runs / 2];
        println!("  steps: {}", steps.join(", "));
        match median_run.cpu {
            Some(cpu) => println!(
                "  cpu: {} in ffmpeg/ffprobe, {:.2} cores busy on average; load now {}",
                secs(cpu),
                cpu.as_secs_f64() / median_run.total.as_secs_f64().max(1e-6),
                load()
            ),
            None => println!("  load now: {}", load()),
        }
    }
    println!(
        "  (steps: read from the assembler's data dir: a step ends when the next one's file \
         appears (polled every {} ms) or its output's mtime; each output's ffprobe check is in the \
         next step)",
        POLL.as_millis()
    );
    Ok(())
}

/// The sample brief's timeline at `quality`, over the inputs served at `inputs`
fn timeline(inputs: &str, quality: Quality) -> Value {
    // Clips play back to back: each starts where the previous ends
    let starts: Vec<f64> = SHOTS
        .iter()
        .scan(0.0, |t, (_, d)| {
            let s = *t;
            *t += d;
            Some(s)
        })
        .collect();
    let clips: Vec<Value> = SHOTS
        .iter()
        .zip(&starts)
        .map(|((id, d), start)| {
            json!({"shot": id, "key": format!("renders/bench/{id}.mp4"),
                "url": format!("{inputs}/media/{id}.mp4"), "start_s": start, "duration_s": d})
        })
        .collect();
    // Each line at the start of its shot (s04 at 15 s, s08 at 35 s)
    let dialogue: Vec<Value> = LINES
        .iter()
        .map(|(shot, file, text)| {
            let i = SHOTS.iter().position(|(id, _)| id == shot).unwrap_or(0);
            json!({"stage": format!("{shot}.dialogue"), "key": format!("renders/bench/{file}"),
                "url": format!("{inputs}/media/{file}"), "start_s": starts[i], "text": text,
                "speaker": "Ines"})
        })
        .collect();
    json!({"timeline": {
        "master": "16:9",
        "variants": ["9:16", "1:1"],
        "badge": true,
        "quality": quality.as_str(),
        "captions": {"burn": false},
        "duration_s": CUT_S,
        "clips": clips,
        "dialogue": dialogue,
        "voiceover": {"stage": "voiceover", "key": "renders/bench/voiceover.mp3",
            "url": format!("{inputs}/media/voiceover.mp3"), "start_s": 0.0, "text": VOICEOVER},
        "score": {"stage": "score", "key": "renders/bench/score.mp3",
            "url": format!("{inputs}/media/score.mp3"), "start_s": 0.0, "duration_s": CUT_S}
    }, "callback_url": null})
}

/// Submits the brief and waits (bounded) for it to succeed; on a failure or past the limit the
/// assembly is cancelled and the bench fails
async fn assemble(
    client: &reqwest::Client,
    base: &str,
    inputs: &str,
    data: &Path,
    quality: Quality,
) -> Result<Run, String> {
    let body = timeline(inputs, quality).to_string();
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
        return Err(format!("submit answered {code}: {v}"));
    }
    let id = v["id"].as_str().ok_or("submit answered no id")?.to_string();
    let dir = data.join("assemblies").join(&id);
    let work = dir.join("work");
    let mut ends: Vec<Option<Duration>> = vec![None; STEPS.len()];
    let until = t0 + quality.limit();
    let (total, v) = loop {
        let (code, v) = request(client.get(format!("{base}/v1/assemblies/{id}"))).await?;
        let now = t0.elapsed();
        for ((_, mark), end) in STEPS.iter().zip(ends.iter_mut()) {
            if let (Some(Mark::Appears(file)), None) = (mark, &end)
                && work.join(file).exists()
            {
                *end = Some(now);
            }
        }
        match (code, v["status"].as_str()) {
            (200, Some("succeeded")) => break (now, v),
            (200, Some("failed")) => return Err(format!("{id} failed: {}", v["error"])),
            (200, _) => {}
            _ => return Err(format!("polling {id} answered {code}: {v}")),
        }
        if Instant::now() > until {
            let _ = request(client.delete(format!("{base}/v1/assemblies/{id}"))).await;
            return Err(format!(
                "{id} ({}) did not finish within {} s; cancelled",
                quality.as_str(),
                quality.limit().as_secs()
            ));
        }
        tokio::time::sleep(POLL).await;
    };
    check_outputs(&v, quality)?;
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
        total,
        steps: steps(&ends, total),
        cpu,
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

/// The answer has the outputs asked for, at the quality's size
fn check_outputs(v: &Value, quality: Quality) -> Result<(), String> {
    let o = &v["outputs"];
    let aspects: Vec<&str> = o["variants"]
        .as_array()
        .map(|a| a.iter().filter_map(|x| x["aspect"].as_str()).collect())
        .unwrap_or_default();
    let ok = o["master"]["width"].as_u64() == Some(quality.width())
        && o["master"]["duration_s"].as_f64() == Some(CUT_S)
        && aspects == ["9:16", "1:1"]
        && o["poster"]["url"].is_string()
        && o["captions"]["url"].is_string();
    if ok {
        Ok(())
    } else {
        Err(format!("unexpected outputs at {}: {v}", quality.as_str()))
    }
}

/// Makes every input in `dir`; answers how the speech was made
fn make_inputs(dir: &Path) -> &'static str {
    let font = font();
    for (i, (id, d)) in SHOTS.iter().enumerate() {
        // The simulator's clips: a moving picture with the stage id on it, H.264 veryfast
        let src = if i % 2 == 0 {
            format!("testsrc2=size=640x360:rate=24:duration={d}")
        } else {
            format!(
                "gradients=size=640x360:rate=24:duration={d}:speed=0.02:seed={}",
                i + 1
            )
        };
        let text = format!(
            "drawtext={font}:text='{id}':fontsize=64:fontcolor=white:borderw=3:bordercolor=black\
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
                &format!("{id}.mp4"),
            ],
        );
    }
    let mut spoken = true;
    for (_, file, text) in LINES {
        spoken &= speech(dir, file, text);
    }
    spoken &= speech(dir, "voiceover.mp3", VOICEOVER);
    // A chord of three slow sines, faded in and out
    let d = SCORE_S.to_string();
    let sine = |f: &str| format!("sine=frequency={f}:duration={d}:sample_rate=44100");
    let (a, b, c) = (sine("110"), sine("138.59"), sine("164.81"));
    let fade_out = format!("afade=t=out:st={}:d=2", SCORE_S - 2.0);
    let graph = format!("amix=inputs=3,volume=0.8,afade=t=in:d=2,{fade_out}");
    ffmpeg(
        dir,
        &[
            "-f",
            "lavfi",
            "-i",
            &a,
            "-f",
            "lavfi",
            "-i",
            &b,
            "-f",
            "lavfi",
            "-i",
            &c,
            "-filter_complex",
            &graph,
            "-ac",
            "2",
            "-c:a",
            "libmp3lame",
            "-b:a",
            "128k",
            "score.mp3",
        ],
    );
    if spoken {
        "espeak-ng"
    } else {
        "tones: no espeak-ng"
    }
}

/// A spoken line as an MP3 (as the TTS provider answers): espeak-ng when installed, else a tone
/// as long as a speaker would take (about 15 characters a second); answers whether it was spoken
fn speech(dir: &Path, name: &str, text: &str) -> bool {
    let raw = format!("{name}.wav");
    let spoken = Command::new("espeak-ng")
        .args(["-w", &raw, text])
        .current_dir(dir)
        .output()
        .is_ok_and(|o| o.status.success());
    let tone;
    let (input, lavfi) = if spoken {
        (raw.as_str(), false)
    } else {
        let seconds = (text.chars().count() as f64 / 15.0).max(0.5);
        tone = format!("sine=frequency=220:duration={seconds:.2}:sample_rate=22050");
        (tone.as_str(), true)
    };
    let mut args: Vec<&str> = Vec::new();
    if lavfi {
        args.extend(["-f", "lavfi"]);
    }
    args.extend([
        "-i",
        input,
        "-af",
        "apad=pad_dur=0.2",
        "-ar",
        "44100",
        "-ac",
        "1",
        "-c:a",
        "libmp3lame",
        "-b:a",
        "128k",
        name,
    ]);
    ffmpeg(dir, &args);
    spoken
}

/// ffmpeg alone joining the 12 clips without re-encoding
fn concat_floor(dir: &Path) -> Result<Duration, String> {
    let list: String = SHOTS
        .iter()
        .map(|(id, _)| format!("file '{}'\n", dir.join(format!("{id}.mp4")).display()))
        .collect();
    let list_file = dir.join("list.txt");
    std::fs::write(&list_file, list).map_err(|e| format!("writing the concat list: {e}"))?;
    let out: PathBuf = dir.join("floor.mp4");
    let t0 = Instant::now();
    let mut child = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-nostdin", "-y"])
        .args(["-f", "concat", "-safe", "0", "-i"])
        .arg(&list_file)
        .args(["-c", "copy"])
        .arg(&out)
        .spawn()
        .map_err(|e| format!("cannot run ffmpeg: {e}"))?;
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| format!("ffmpeg: {e}"))? {
            break status;
        }
        if t0.elapsed() > FLOOR_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("the concat floor took over {FLOOR_LIMIT:?}"));
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let took = t0.elapsed();
    if !status.success() {
        return Err(format!("the concat floor failed: {status}"));
    }
    Ok(took)
}

fn secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s < 10.0 {
        format!("{s:.2} s")
    } else {
        format!("{s:.1} s")
    }
}

/// CPU time (user + system) of this process's finished children: every ffmpeg and ffprobe the
/// in-process assembler ran and waited for (Linux: `/proc/self/stat`, 100 ticks a second)
fn children_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces: the 3rd field
    // (state) first, so cutime (16th) and cstime (17th) are at 13 and 14
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields.get(13)?.parse::<u64>().ok()? + fields.get(14)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}
