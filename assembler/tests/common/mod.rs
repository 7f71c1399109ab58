//! Test fixtures: tiny media made with ffmpeg, a loopback server for inputs and callbacks, an
//! in-process assembler, and ffprobe/ffmpeg measurements of its outputs.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use assembler::{Running, Settings};
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path as UrlPath, State};
use axum::http::{StatusCode, Uri, header};
use axum::response::Response;
use axum::routing::{get, post};
use serde_json::Value;

pub const KEY: &str = "test-assembler-key";

/// Runs a command to completion, failing the test when it fails
pub fn run(cmd: &mut Command) -> Vec<u8> {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Runs ffmpeg quietly in `dir`, failing the test when it fails
pub fn ffmpeg(dir: &Path, args: &[&str]) {
    run(Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y"])
        .args(args)
        .current_dir(dir));
}

/// Speech: espeak-ng when installed, else a tone of about the same length
fn speech(dir: &Path, name: &str, text: &str) {
    let spoken = Command::new("espeak-ng")
        .args(["-w", name, text])
        .current_dir(dir)
        .output()
        .is_ok_and(|o| o.status.success());
    if !spoken {
        ffmpeg(
            dir,
            &[
                "-f",
                "lavfi",
                "-i",
                "sine=frequency=220:duration=1.8",
                "-ar",
                "22050",
                name,
            ],
        );
    }
}

/// Tiny inputs: three clips of different shapes and lengths, a dialogue line, a voiceover, a
/// score, a very small clip, and a text file
pub fn make_media(dir: &Path) {
    let clip = |name: &str, src: &str| {
        ffmpeg(
            dir,
            &[
                "-f",
                "lavfi",
                "-i",
                src,
                "-c:v",
                "libx264",
                "-preset",
                "ultrafast",
                "-pix_fmt",
                "yuv420p",
                name,
            ],
        )
    };
    clip("c1.mp4", "testsrc2=size=320x180:rate=25:duration=1.5");
    clip("c2.mp4", "testsrc2=size=320x180:rate=30:duration=2");
    clip("c3.mp4", "testsrc=size=320x240:rate=24:duration=1");
    ffmpeg(
        dir,
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=160x90:rate=15:duration=0.5",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-crf",
            "40",
            "-pix_fmt",
            "yuv420p",
            "tiny.mp4",
        ],
    );
    speech(dir, "line.wav", "They switch us off on Friday.");
    speech(dir, "vo.wav", "Hello there. This is the voiceover.");
    ffmpeg(
        dir,
        &[
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=330:duration=5:sample_rate=44100",
            "-af",
            "volume=0.3",
            "-c:a",
            "libmp3lame",
            "score.mp3",
        ],
    );
    ffmpeg(
        dir,
        &[
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=880:duration=0.5",
            "-c:a",
            "libmp3lame",
            "beep.mp3",
        ],
    );
    std::fs::write(
        dir.join("notes.txt"),
        "these are not the frames you are looking for\n".repeat(20),
    )
    .unwrap();
}

/// What the input server saw
#[derive(Clone, Default)]
pub struct Inbox {
    pub callbacks: Arc<Mutex<Vec<Value>>>,
    pub requests: Arc<Mutex<Vec<String>>>,
}

impl Inbox {
    pub fn callbacks(&self) -> Vec<Value> {
        self.callbacks.lock().unwrap().clone()
    }

    /// Waits (at most `limit`) for `n` callbacks
    pub async fn wait_callbacks(&self, n: usize, limit: Duration) -> Vec<Value> {
        let until = Instant::now() + limit;
        loop {
            let got = self.callbacks();
            if got.len() >= n || Instant::now() > until {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

#[derive(Clone)]
struct InputState {
    dir: PathBuf,
    inbox: Inbox,
}

async fn media(State(s): State<InputState>, UrlPath(name): UrlPath<String>, uri: Uri) -> Response {
    s.inbox.requests.lock().unwrap().push(name.clone());
    let delay = uri
        .query()
        .and_then(|q| q.strip_prefix("ms="))
        .and_then(|ms| ms.parse::<u64>().ok());
    if let Some(ms) = delay {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    match std::fs::read(s.dir.join(&name)) {
        Ok(bytes) => Response::new(Body::from(bytes)),
        Err(_) => {
            let mut r = Response::new(Body::from("no such file"));
            *r.status_mut() = StatusCode::NOT_FOUND;
            r
        }
    }
}

/// 200 KiB announced by Content-Length
async fn big() -> Response {
    Response::new(Body::from(vec![0u8; 200 * 1024]))
}

/// 200 KiB in chunks, without Content-Length
async fn big_chunked() -> Response {
    let chunks = futures_util::stream::iter(
        (0..50).map(|_| Ok::<_, std::io::Error>(Bytes::from(vec![7u8; 4096]))),
    );
    let mut r = Response::new(Body::from_stream(chunks));
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        "application/octet-stream".parse().unwrap(),
    );
    r
}

async fn callback(State(s): State<InputState>, body: Bytes) -> StatusCode {
    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    s.inbox.callbacks.lock().unwrap().push(v);
    StatusCode::NO_CONTENT
}

/// Serves `dir` under `/media/{name}` (`?ms=` delays the answer), `/big`, `/big-chunked`, and
/// receives callbacks at `/callback`; returns its base URL
pub async fn input_server(dir: &Path) -> (String, Inbox) {
    let inbox = Inbox::default();
    let state = InputState {
        dir: dir.to_path_buf(),
        inbox: inbox.clone(),
    };
    let app = Router::new()
        .route("/media/{name}", get(media))
        .route("/big", get(big))
        .route("/big-chunked", get(big_chunked))
        .route("/callback", post(callback))
        .with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}"), inbox)
}

/// Starts an assembler on an ephemeral port over `data`
pub async fn assembler(data: &Path, tweak: impl FnOnce(&mut Settings)) -> Running {
    let mut s = Settings::ephemeral(KEY, data.to_path_buf());
    tweak(&mut s);
    assembler::start(s).await.unwrap()
}

pub fn client() -> reqwest::Client {
    reqwest::Client::new()
}

/// POSTs a submission; returns the status and the JSON answer
pub async fn submit(base: &str, body: &Value, key: Option<&str>) -> (u16, Value) {
    let mut req = client()
        .post(format!("{base}/v1/assemblies"))
        .bearer_auth(KEY)
        .header("content-type", "application/json")
        .body(body.to_string());
    if let Some(k) = key {
        req = req.header("idempotency-key", k);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let v = serde_json::from_slice(&resp.bytes().await.unwrap()).unwrap();
    (status, v)
}

pub async fn get_json(url: &str) -> (u16, Value) {
    let resp = client().get(url).bearer_auth(KEY).send().await.unwrap();
    let status = resp.status().as_u16();
    (
        status,
        serde_json::from_slice(&resp.bytes().await.unwrap()).unwrap(),
    )
}

/// Polls an assembly until its status is one of `wanted` (panics after `limit`)
pub async fn wait_for(base: &str, id: &str, wanted: &[&str], limit: Duration) -> Value {
    let until = Instant::now() + limit;
    loop {
        let (code, v) = get_json(&format!("{base}/v1/assemblies/{id}")).await;
        assert_eq!(code, 200, "{v}");
        let status = v["status"].as_str().unwrap_or_default().to_string();
        if wanted.contains(&status.as_str()) {
            return v;
        }
        assert!(
            Instant::now() < until,
            "{id} still {status} after {limit:?} (waiting for {wanted:?}): {v}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Downloads an output with the key; checks Content-Length
pub async fn download(url: &str, to: &Path) -> Vec<u8> {
    let resp = client().get(url).bearer_auth(KEY).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 200, "{url}");
    let announced = resp.content_length();
    let bytes = resp.bytes().await.unwrap().to_vec();
    assert_eq!(announced, Some(bytes.len() as u64), "{url}");
    std::fs::write(to, &bytes).unwrap();
    bytes
}

/// ffprobe's streams and format
pub fn probe(path: &Path) -> Value {
    let out = run(Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_streams",
            "-show_format",
            "-of",
            "json",
        ])
        .arg(path));
    serde_json::from_slice(&out).unwrap()
}

/// Integrated loudness (LUFS) as ffmpeg's ebur128 filter measures it
pub fn integrated_loudness(path: &Path) -> f64 {
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-nostats", "-i"])
        .arg(path)
        .args(["-map", "0:a:0", "-af", "ebur128", "-f", "null", "-"])
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    let summary = &log[log.rfind("Summary:").expect("an ebur128 summary")..];
    let line = summary
        .lines()
        .find(|l| l.trim_start().starts_with("I:"))
        .expect("an I: line");
    line.trim_start()
        .trim_start_matches("I:")
        .trim()
        .trim_end_matches("LUFS")
        .trim()
        .parse()
        .unwrap()
}

/// One frame at `t` seconds as 8-bit gray pixels, row by row
pub fn gray_frame(path: &Path, t: f64) -> Vec<u8> {
    run(Command::new("ffmpeg")
        .args([
            "-hide_banner",
            "-loglevel",
            "error",
            "-ss",
            &format!("{t:.3}"),
            "-i",
        ])
        .arg(path)
        .args(["-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "gray", "-"]))
}

/// Mean absolute difference of two gray frames inside (or, with `inside` false, outside) a
/// rectangle
pub fn mean_diff(
    a: &[u8],
    b: &[u8],
    width: usize,
    rect: (usize, usize, usize, usize),
    inside: bool,
) -> f64 {
    let (x0, y0, x1, y1) = rect;
    let (mut sum, mut n) = (0u64, 0u64);
    for (i, (p, q)) in a.iter().zip(b).enumerate() {
        let (x, y) = (i % width, i / width);
        let within = x >= x0 && x < x1 && y >= y0 && y < y1;
        if within == inside {
            sum += u64::from(p.abs_diff(*q));
            n += 1;
        }
    }
    sum as f64 / n.max(1) as f64
}

/// The mean colour (RGB) of the middle of the frame at `t` seconds: the centre quarter of each
/// dimension, clear of the badge and the captions, scaled down to one pixel
pub fn centre_rgb(path: &Path, t: f64) -> [u8; 3] {
    let px = run(Command::new("ffmpeg")
        .args([
            "-hide_banner",
            "-loglevel",
            "error",
            "-ss",
            &format!("{t:.3}"),
            "-i",
        ])
        .arg(path)
        .args([
            "-frames:v",
            "1",
            "-vf",
            "crop=iw/4:ih/4,scale=1:1",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "rgb24",
            "-",
        ]));
    assert_eq!(px.len(), 3, "one rgb24 pixel from {}", path.display());
    [px[0], px[1], px[2]]
}

/// The loudest sample (dBFS, as volumedetect reports it) of `len` seconds of audio from `from`
pub fn max_volume(path: &Path, from: f64, len: f64) -> f64 {
    let out = Command::new("ffmpeg")
        .args([
            "-hide_banner",
            "-nostats",
            "-ss",
            &format!("{from:.3}"),
            "-t",
        ])
        .arg(format!("{len:.3}"))
        .arg("-i")
        .arg(path)
        .args(["-map", "0:a:0", "-af", "volumedetect", "-f", "null", "-"])
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    let at = log.find("max_volume:").expect("a volumedetect report");
    log[at + "max_volume:".len()..]
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap()
}
