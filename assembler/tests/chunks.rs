//! A long timeline rendered in chunks, with the real ffmpeg: the chunk sizes set small so seven
//! clips make three segments per output and five dialogue lines three premixes, then the outputs
//! checked frame by frame (each clip a solid colour) on both sides of every chunk boundary, and
//! the audio checked for every line at its start.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::*;
use serde_json::{Value, json};

/// Each clip's colour, in edit order: far apart, so a frame of the wrong clip cannot pass
const COLOURS: [(&str, [u8; 3]); 7] = [
    ("red", [255, 0, 0]),
    ("lime", [0, 255, 0]),
    ("blue", [0, 0, 255]),
    ("yellow", [255, 255, 0]),
    ("magenta", [255, 0, 255]),
    ("cyan", [0, 255, 255]),
    ("white", [255, 255, 255]),
];

/// Each clip's source: size, frame rate, length. Every slot is 1 s, so some clips are trimmed,
/// some held on their last frame, and the shapes differ so the crops differ.
const SOURCES: [(&str, u32, f64); 7] = [
    ("320x180", 25, 1.5),
    ("240x320", 30, 0.6),
    ("320x240", 24, 1.0),
    ("320x180", 30, 1.2),
    ("320x180", 25, 0.5),
    ("180x320", 30, 1.0),
    ("320x180", 30, 1.0),
];

/// Clips per segment and lines per premix
const CHUNK_CLIPS: u32 = 3;
const CHUNK_LINES: u32 = 2;

/// The cut: seven 1 s slots, then the last frame held for half a second
const CUT_S: f64 = 7.5;

/// The dialogue lines' starts, in the order the timeline lists them (not sorted, on purpose):
/// each a 0.5 s tone with a caption as long. Two run across a join of segments (3 s, 6 s), one
/// from the last clip into the hold after it (7 s).
const LINE_STARTS: [f64; 6] = [0.4, 4.4, 1.6, 2.8, 5.8, 6.9];

/// Stretches of the cut without a line
const GAPS: [(f64, f64); 5] = [(1.0, 1.5), (2.2, 2.7), (3.4, 4.3), (5.0, 5.7), (6.4, 6.8)];

/// Where the master's one-line captions are burned (640x360: centred, their box about 80x26 px
/// from 63 px above the bottom)
const CAPTION_BAND: (usize, usize, usize, usize) = (270, 290, 370, 320);

/// Times a caption shows, each with a time of the same clip when none does: on both sides of
/// each join, and on both sides of the end of the last clip
const CAPTIONED: [(f64, f64); 6] = [
    (2.95, 2.5),
    (3.05, 3.6),
    (5.9, 5.5),
    (6.1, 6.6),
    (6.95, 6.6),
    (7.2, 7.45),
];

fn make_inputs(dir: &Path) {
    for (i, ((colour, _), (size, rate, len))) in COLOURS.iter().zip(SOURCES).enumerate() {
        let src = format!("color=c={colour}:size={size}:rate={rate}:duration={len}");
        let name = format!("clip-{i}.mp4");
        ffmpeg(
            dir,
            &[
                "-f",
                "lavfi",
                "-i",
                &src,
                "-c:v",
                "libx264",
                "-preset",
                "ultrafast",
                "-pix_fmt",
                "yuv420p",
                &name,
            ],
        );
    }
    ffmpeg(
        dir,
        &[
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=660:duration=0.5:sample_rate=22050",
            "tone.wav",
        ],
    );
}

fn timeline(base: &str) -> Value {
    let clips: Vec<Value> = (0..COLOURS.len())
        .map(|i| {
            json!({"shot": format!("s{:02}", i + 1), "url": format!("{base}/media/clip-{i}.mp4"),
                   "start_s": i as f64, "duration_s": 1.0})
        })
        .collect();
    let lines: Vec<Value> = LINE_STARTS
        .iter()
        .enumerate()
        .map(|(i, start)| {
            json!({"stage": format!("line{}", i + 1), "url": format!("{base}/media/tone.wav"),
                   "start_s": start, "text": format!("Line {}.", i + 1), "speaker": "Ines"})
        })
        .collect();
    json!({"timeline": {
        "master": "16:9", "variants": ["9:16"], "badge": true, "quality": "preview",
        "captions": {"burn": true}, "duration_s": CUT_S, "clips": clips, "dialogue": lines
    }})
}

/// The chunk sizes: clips per segment, lines per premix
fn small_chunks(s: &mut assembler::Settings) {
    s.chunk_clips = CHUNK_CLIPS;
    s.chunk_lines = CHUNK_LINES;
}

/// Watches the assembly's scratch folder for intermediate files until `done`: what appeared
/// in its `chunks/` folder (the assembler removes the scratch folder when the run ends)
fn watch_chunks(work: PathBuf, done: Arc<AtomicBool>) -> tokio::task::JoinHandle<BTreeSet<String>> {
    tokio::spawn(async move {
        let mut seen = BTreeSet::new();
        while !done.load(Ordering::Relaxed) {
            if let Ok(entries) = std::fs::read_dir(work.join("chunks")) {
                let names = entries
                    .flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned());
                seen.extend(names);
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        seen
    })
}

fn stream<'a>(probe: &'a Value, kind: &str) -> &'a Value {
    probe["streams"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["codec_type"] == kind)
        .unwrap_or_else(|| panic!("no {kind} stream in {probe}"))
}

fn seconds(v: &Value) -> f64 {
    v.as_str().unwrap().parse().unwrap()
}

/// The colour name nearest `rgb`, and how far it is from `expected` (the largest channel
/// difference)
fn nearest(rgb: [u8; 3], expected: [u8; 3]) -> (&'static str, u8) {
    let distance = |a: [u8; 3], b: [u8; 3]| (0..3).map(|c| a[c].abs_diff(b[c])).max().unwrap();
    let (name, _) = COLOURS
        .iter()
        .min_by_key(|(_, c)| distance(rgb, *c))
        .unwrap();
    (name, distance(rgb, expected))
}

/// How much of the picture a caption's box lets through in the master's caption band: the
/// median ratio of a captioned frame to the same clip's clean frame over the pixels it darkens
/// (the box; its text is white and brighter)
fn box_shade(captioned: &[u8], clean: &[u8]) -> f64 {
    let (x0, y0, x1, y1) = CAPTION_BAND;
    let mut ratios: Vec<f64> = (y0..y1)
        .flat_map(|y| (x0..x1).map(move |x| y * 640 + x))
        .map(|i| f64::from(captioned[i]) / f64::from(clean[i].max(1)))
        .filter(|r| *r < 0.8)
        .collect();
    assert!(!ratios.is_empty(), "no box in the caption band");
    ratios.sort_by(f64::total_cmp);
    ratios[ratios.len() / 2]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_timeline_is_rendered_in_chunks_frame_exact() {
    let started = Instant::now();
    let media = tempfile::tempdir().unwrap();
    make_inputs(media.path());
    let (inputs, _inbox) = input_server(media.path()).await;
    let data = tempfile::tempdir().unwrap();
    let server = assembler(data.path(), small_chunks).await;
    let base = server.base_url();

    let (code, first) = submit(&base, &timeline(&inputs), None).await;
    assert_eq!(code, 202, "{first}");
    let id = first["id"].as_str().unwrap().to_string();
    let work = data.path().join("assemblies").join(&id).join("work");
    let finished = Arc::new(AtomicBool::new(false));
    let watcher = watch_chunks(work, finished.clone());
    let done = wait_for(
        &base,
        &id,
        &["succeeded", "failed"],
        Duration::from_secs(120),
    )
    .await;
    finished.store(true, Ordering::Relaxed);
    assert_eq!(done["status"], "succeeded", "{done}");
    let assembled = started.elapsed();

    // It went through the chunked path: a concat list per output, three premixes
    let seen = watcher.await.unwrap();
    for name in [
        "16x9.ffconcat",
        "9x16.ffconcat",
        "speech-0000.wav",
        "speech-0001.wav",
        "speech-0002.wav",
        "16x9-0000.mp4",
        "16x9-0002.mp4",
    ] {
        assert!(seen.contains(name), "{name} not among {seen:?}");
    }
    assert!(!seen.contains("speech-0003.wav"), "{seen:?}");

    let out = tempfile::tempdir().unwrap();
    let outputs = &done["outputs"];
    let videos = [
        (&outputs["master"], "master.mp4", 640, 360),
        (&outputs["variants"][0], "v916.mp4", 360, 640),
    ];
    for (output, file, w, h) in videos {
        let path = out.path().join(file);
        download(output["url"].as_str().unwrap(), &path).await;
        let p = probe(&path);
        let v = stream(&p, "video");
        assert_eq!(
            (v["width"].as_u64(), v["height"].as_u64()),
            (Some(w), Some(h)),
            "{file}"
        );
        assert_eq!(v["r_frame_rate"], "30/1", "{file}");
        // Every frame of the cut, no more: no chunk join dropped or repeated one
        assert_eq!(v["nb_frames"], "225", "{file}: {v}");
        assert!(
            (seconds(&v["duration"]) - CUT_S).abs() < 1e-3,
            "{file}: {v}"
        );
        let a = stream(&p, "audio");
        let audio_s = seconds(&a["duration"]);
        assert!((audio_s - CUT_S).abs() < 0.05, "{file}: audio {audio_s} s");

        // The middle of every clip, and a tenth of a second either side of each chunk's end
        // (segments join at 3 s and 6 s); 7.3 s is the held last frame
        let mut samples: Vec<(f64, usize)> =
            (0..COLOURS.len()).map(|i| (i as f64 + 0.5, i)).collect();
        samples.extend([(2.9, 2), (3.1, 3), (5.9, 5), (6.1, 6), (7.3, 6)]);
        for (t, clip) in samples {
            let (name, expected) = COLOURS[clip];
            let rgb = centre_rgb(&path, t);
            let (found, off) = nearest(rgb, expected);
            assert!(
                found == name && off <= 40,
                "{file} at {t} s: {rgb:?} looks {found}, clip {} is {name}",
                clip + 1
            );
        }
    }

    // Captions are burned on both sides of every join and into the hold after the last clip
    let master = out.path().join("master.mp4");
    for (shown, clean) in CAPTIONED {
        let (a, b) = (gray_frame(&master, shown), gray_frame(&master, clean));
        let diff = mean_diff(&a, &b, 640, CAPTION_BAND, true);
        // Even on blue, the darkest clip, the box and its text change the band by twenty or more
        assert!(diff > 5.0, "a caption at {shown} s: {diff} from {clean} s");
        // Drawn once: the box lets 45% of the picture through (twice, 20%)
        let shade = box_shade(&a, &b);
        assert!(
            (0.3..0.6).contains(&shade),
            "the caption's box at {shown} s passes {shade} of the picture"
        );
    }
    // No caption where none is due: between lines, and in the hold once its line is over (the
    // held frame is the clip's, not one with a caption burned in)
    for (a, b) in [(1.1, 1.4), (7.45, 6.6)] {
        let diff = mean_diff(
            &gray_frame(&master, a),
            &gray_frame(&master, b),
            640,
            CAPTION_BAND,
            true,
        );
        assert!(diff < 1.0, "no caption at {a} s or {b} s: {diff}");
    }

    // Every line sounds at its start, whichever premix it went into, and the gaps between the
    // lines stay silent (the premixes do not smear or shift them)
    for start in LINE_STARTS {
        let loud = max_volume(&master, start + 0.1, 0.3);
        assert!(loud > -30.0, "line at {start} s peaks at {loud} dB");
    }
    for (from, to) in GAPS {
        let quiet = max_volume(&master, from, to - from);
        assert!(quiet < -50.0, "the gap at {from} s peaks at {quiet} dB");
    }
    let lufs = integrated_loudness(&master);
    assert!((lufs + 14.0).abs() <= 1.5, "master at {lufs} LUFS");
    eprintln!(
        "chunked assembly: {:.1} s to succeeded, {:.1} s with the checks",
        assembled.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    server.shutdown().await.unwrap();
}
