//! Shotstack's Edit API in the simulator: a real render of real clips, checked with ffprobe.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::IntoResponse;
use common::*;
use serde_json::{Value, json};

const KEY: &str = "sim-shotstack-key";
const RENDER_WAIT: Duration = Duration::from_secs(90);

/// A scratch directory of this test process
fn scratch(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("sim-shotstack-test-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn ffmpeg(dir: &Path, args: &[&str]) {
    let out = Command::new("ffmpeg")
        .args(["-y", "-hide_banner", "-v", "error"])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("ffmpeg is installed (apt-get install ffmpeg)");
    assert!(
        out.status.success(),
        "ffmpeg {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Two tiny clips of other sizes and rates than the output, and a spoken line
fn make_sources(dir: &Path) {
    // 4:3, 24 fps, 3 s, with its own sound (which the edit mutes)
    ffmpeg(
        dir,
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=s=320x240:r=24:d=3",
            "-f",
            "lavfi",
            "-i",
            "sine=f=440:d=3",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-shortest",
            "a.mp4",
        ],
    );
    // 16:9, 30 fps, 1 s: shorter than its clip, so it is held on its last frame
    ffmpeg(
        dir,
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc=s=640x360:r=30:d=1",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
            "b.mp4",
        ],
    );
    ffmpeg(
        dir,
        &[
            "-f",
            "lavfi",
            "-i",
            "sine=f=880:d=1.5",
            "-c:a",
            "libmp3lame",
            "line.mp3",
        ],
    );
}

async fn serve_file(State(dir): State<PathBuf>, uri: Uri) -> impl IntoResponse {
    let name = uri.path().trim_start_matches('/');
    match std::fs::read(dir.join(name)) {
        Ok(bytes) => (StatusCode::OK, bytes),
        Err(_) => (StatusCode::NOT_FOUND, b"no such file".to_vec()),
    }
}

/// A loopback file server for the sources; returns its base URL
async fn file_server(dir: PathBuf) -> String {
    let app = Router::new().fallback(serve_file).with_state(dir);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    format!("http://{addr}")
}

/// The Edit our adapter sends for a 9:16 preview with the badge
fn edit(files: &str, callback: &str) -> Value {
    json!({
        "timeline": {
            "background": "#000000",
            "tracks": [
                {"clips": [{
                    "asset": {"type": "html", "html": "<p>Made with CreatorStudio</p>",
                              "css": "p { color: #ffffff; }", "width": 147, "height": 20,
                              "background": "#66000000"},
                    "start": 0.0, "length": 4.5, "position": "topRight",
                    "offset": {"x": -0.02, "y": -0.1}
                }]},
                {"clips": [
                    {"asset": {"type": "video", "src": format!("{files}/a.mp4"), "trim": 0.5, "volume": 0.0},
                     "start": 0.0, "length": 2.5, "fit": "crop"},
                    {"asset": {"type": "video", "src": format!("{files}/b.mp4"), "volume": 0.0},
                     "start": 2.5, "length": 2.0, "fit": "crop"}
                ]},
                {"clips": [
                    {"asset": {"type": "audio", "src": format!("{files}/line.mp3"), "volume": 1.0},
                     "start": 1.0, "length": 3.5}
                ]}
            ]
        },
        "output": {"format": "mp4", "resolution": "mobile", "aspectRatio": "9:16", "fps": 30,
                   "poster": {"capture": 1.0}},
        "callback": callback,
    })
}

/// ffprobe's streams and format of a file
fn probe(path: &Path) -> Value {
    let out = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_streams",
            "-show_format",
            "-of",
            "json",
        ])
        .arg(path)
        .output()
        .expect("ffprobe is installed");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn stream<'a>(probe: &'a Value, kind: &str) -> &'a Value {
    probe["streams"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["codec_type"] == kind)
        .unwrap_or_else(|| panic!("no {kind} stream: {probe:#}"))
}

async fn submit(sim: &Sim, body: &Value) -> String {
    let r = sim
        .post_json("/shotstack/render", &[("x-api-key", KEY)], body)
        .await;
    assert_eq!(r.status(), 201);
    let created: Value = r.json().await.unwrap();
    assert_eq!(created["success"], true);
    assert_eq!(created["message"], "Created");
    assert_eq!(created["response"]["message"], "Render Successfully Queued");
    created["response"]["id"].as_str().unwrap().to_string()
}

/// Polls until the render ends; returns the final answer and every status seen
async fn wait_for_end(sim: &Sim, id: &str) -> (Value, Vec<String>) {
    let url = sim.url(&format!("/shotstack/render/{id}?data=false"));
    let deadline = std::time::Instant::now() + RENDER_WAIT;
    let mut seen: Vec<String> = Vec::new();
    loop {
        let (code, body) = sim.get_json(&url, &[("x-api-key", KEY)]).await;
        assert_eq!(code, 200, "{body}");
        let status = body["response"]["status"].as_str().unwrap().to_string();
        if seen.last() != Some(&status) {
            seen.push(status.clone());
        }
        if matches!(status.as_str(), "done" | "failed") {
            return (body, seen);
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the render did not end: {seen:?}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shotstack_renders_a_real_mp4_and_poster_and_calls_back() {
    let dir = scratch("render");
    make_sources(&dir);
    let files = file_server(dir.clone()).await;
    let sim = Sim::start(400, 1.0).await;
    let rx = Receiver::start().await;
    let callback = rx.url("/v1/callbacks/shotstack/rnd_1/assembly/1?exp=1&token=t1");
    let body = edit(&files, &callback);

    // Auth as the API gateway answers it
    let r = sim.post_json("/shotstack/render", &[], &body).await;
    assert_eq!(r.status(), 403);
    assert_eq!(r.json::<Value>().await.unwrap()["message"], "Forbidden");
    let r = sim
        .post_json("/shotstack/render", &[("x-api-key", "wrong")], &body)
        .await;
    assert_eq!(r.status(), 403);
    // Validation names the path
    let mut bad = body.clone();
    bad["timeline"]["tracks"][1]["clips"][0]["length"] = json!("forever");
    let r = sim
        .post_json("/shotstack/render", &[("x-api-key", KEY)], &bad)
        .await;
    assert_eq!(r.status(), 400);
    let err: Value = r.json().await.unwrap();
    assert_eq!(err["success"], false);
    assert_eq!(
        err["response"]["error"]["details"][0]["path"],
        json!(["timeline", "tracks", 1, "clips", 0, "length"])
    );

    let id = submit(&sim, &body).await;
    let (done, seen) = wait_for_end(&sim, &id).await;
    let response = &done["response"];
    assert_eq!(response["status"], "done", "{done:#}");
    assert_eq!(response["id"], id.as_str());
    assert_eq!(seen.first().map(String::as_str), Some("queued"), "{seen:?}");
    assert!(
        seen.iter()
            .all(|s| ["queued", "fetching", "rendering", "saving", "done"].contains(&s.as_str())),
        "{seen:?}"
    );
    assert!(
        response.get("data").is_none(),
        "data=false leaves the edit out"
    );

    // The callback: Shotstack's edit payload, once
    let got = rx
        .wait_until("the done callback", RENDER_WAIT, |r| !r.is_empty())
        .await;
    let cb = got[0].json();
    assert_eq!(
        got[0].path,
        "/v1/callbacks/shotstack/rnd_1/assembly/1?exp=1&token=t1"
    );
    assert_eq!(cb["type"], "edit");
    assert_eq!(cb["action"], "render");
    assert_eq!(cb["id"], id.as_str());
    assert_eq!(cb["status"], "done");
    assert_eq!(cb["url"], response["url"]);
    assert_eq!(cb["error"], Value::Null);

    // The master: H.264, the 9:16 mobile frame, exactly as long as the edit, with sound
    let video = sim
        .client
        .get(response["url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(video.status(), 200);
    assert_eq!(video.headers()["content-type"], "video/mp4");
    let length: usize = video.headers()["content-length"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let bytes = video.bytes().await.unwrap();
    assert_eq!(bytes.len(), length);
    let master = dir.join("master.mp4");
    std::fs::write(&master, &bytes).unwrap();
    let p = probe(&master);
    let v = stream(&p, "video");
    assert_eq!(v["codec_name"], "h264");
    assert_eq!(
        (v["width"].as_u64(), v["height"].as_u64()),
        (Some(360), Some(640))
    );
    assert_eq!(v["r_frame_rate"], "30/1");
    let duration: f64 = p["format"]["duration"].as_str().unwrap().parse().unwrap();
    assert!((duration - 4.5).abs() <= 0.1, "duration {duration}");
    let a = stream(&p, "audio");
    assert_eq!(a["codec_name"], "aac");
    assert_eq!(a["sample_rate"], "48000");

    // The poster: a JPEG of the same frame
    let poster = sim
        .client
        .get(response["poster"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(poster.status(), 200);
    assert_eq!(poster.headers()["content-type"], "image/jpeg");
    let jpeg = poster.bytes().await.unwrap();
    assert_eq!(&jpeg[..2], &[0xff, 0xd8]);
    let still = dir.join("poster.jpg");
    std::fs::write(&still, &jpeg).unwrap();
    let p = probe(&still);
    let s = stream(&p, "video");
    assert_eq!(
        (s["width"].as_u64(), s["height"].as_u64()),
        (Some(360), Some(640))
    );

    let stats = sim.stats().await;
    assert_eq!(stats["submissions"]["shotstack"], 1);
    assert_eq!(stats["downloads"]["shotstack"], 2);
    assert_eq!(stats["rejected_requests"]["shotstack"], 3);
    sim.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shotstack_fails_a_render_whose_source_cannot_be_fetched() {
    let dir = scratch("missing");
    make_sources(&dir);
    let files = file_server(dir.clone()).await;
    let sim = Sim::start(200, 1.0).await;
    let rx = Receiver::start().await;
    let callback = rx.url("/v1/callbacks/shotstack/rnd_2/assembly/1?exp=1&token=t2");
    let mut body = edit(&files, &callback);
    body["timeline"]["tracks"][1]["clips"][1]["asset"]["src"] = json!(format!("{files}/gone.mp4"));

    let id = submit(&sim, &body).await;
    let (end, _) = wait_for_end(&sim, &id).await;
    let response = &end["response"];
    assert_eq!(response["status"], "failed", "{end:#}");
    let error = response["error"].as_str().unwrap();
    assert!(
        error.starts_with(&format!("Error fetching asset {files}/gone.mp4"))
            && error.contains("404"),
        "{error}"
    );
    assert_eq!(response["url"], Value::Null);

    let got = rx
        .wait_until("the failed callback", RENDER_WAIT, |r| !r.is_empty())
        .await;
    let cb = got[0].json();
    assert_eq!(cb["status"], "failed");
    assert_eq!(cb["error"], error);
    assert_eq!(cb["url"], Value::Null);

    // Unknown renders and outputs
    let (code, body) = sim
        .get_json(
            &sim.url("/shotstack/render/00000000-0000-4000-8000-000000000000"),
            &[("x-api-key", KEY)],
        )
        .await;
    assert_eq!(code, 404);
    assert_eq!(body["success"], false);
    let r = sim
        .client
        .get(sim.url(&format!("/shotstack/output/{id}.mp4")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    sim.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// A loopback file server that counts the requests it answers; returns its base URL and count
async fn counting_file_server(dir: PathBuf) -> (String, Arc<AtomicUsize>) {
    let served = Arc::new(AtomicUsize::new(0));
    let counted = served.clone();
    let app = Router::new().fallback(move |uri: Uri| {
        let (dir, counted) = (dir.clone(), counted.clone());
        async move {
            counted.fetch_add(1, Ordering::SeqCst);
            serve_file(State(dir), uri).await
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (format!("http://{addr}"), served)
}

/// The master of a finished render, downloaded
async fn master_of(sim: &Sim, body: &Value) -> Vec<u8> {
    let id = submit(sim, body).await;
    let (done, _) = wait_for_end(sim, &id).await;
    assert_eq!(done["response"]["status"], "done", "{done:#}");
    let url = done["response"]["url"].as_str().unwrap();
    let r = sim.client.get(url).send().await.unwrap();
    assert_eq!(r.status(), 200);
    r.bytes().await.unwrap().to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_shape_masters_compose_each_shape_once_and_still_fetch_every_source() {
    let dir = scratch("per-shape");
    make_sources(&dir);
    let (files, served) = counting_file_server(dir.clone()).await;
    let rx = Receiver::start().await;
    let callback = rx.url("/v1/callbacks/shotstack/rnd_3/assembly/1?exp=1&token=t3");
    let first = edit(&files, &callback);
    // The same shape with its two clips' sources swapped: another picture
    let mut swapped = first.clone();
    let clips = &mut swapped["timeline"]["tracks"][1]["clips"];
    clips[0]["asset"]["src"] = json!(format!("{files}/b.mp4"));
    clips[1]["asset"]["src"] = json!(format!("{files}/a.mp4"));

    let mut settings = simulator::Settings::ephemeral();
    settings.latency_ms = 100;
    settings.masters = "per-shape".into();
    let sim = Sim::start_with(settings).await;
    let a = master_of(&sim, &first).await;
    let fetched_by_first = served.load(Ordering::SeqCst);
    assert_eq!(fetched_by_first, 3, "three sources");
    let b = master_of(&sim, &swapped).await;
    assert_eq!(a, b, "one master per shape");
    assert_eq!(
        served.load(Ordering::SeqCst),
        2 * fetched_by_first,
        "the second edit still fetched every source"
    );
    sim.stop().await;

    // By default each edit is composed: the swapped one is another video
    let each = Sim::start(100, 1.0).await;
    let c = master_of(&each, &first).await;
    let d = master_of(&each, &swapped).await;
    assert_ne!(c, d, "each edit its own master");
    each.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}
