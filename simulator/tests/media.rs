//! Real media: every kind of output is downloaded from a running simulator and checked with
//! ffprobe (size, codec, duration, frame rate), and rendering is deterministic per task.
//!
//! Needs the system's `ffmpeg` and `ffprobe` (Debian package `ffmpeg`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::*;
use serde_json::{Value, json};
use simulator::media::{self, Cache, MediaKind, Sound, Spec};

/// A word unique to this run, so prompts render afresh instead of coming from the disk cache
fn run_nonce() -> String {
    let t = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("run{:x}", t ^ u128::from(std::process::id()))
}

/// A downloaded file
struct Download {
    content_type: String,
    bytes: Vec<u8>,
}

/// GETs `url`, checks 200 and that Content-Length matches the body
async fn download(sim: &Sim, url: &str, headers: &[(&str, &str)]) -> Download {
    let mut rb = sim.client.get(url);
    for (k, v) in headers {
        rb = rb.header(*k, *v);
    }
    let r = rb.send().await.unwrap();
    assert_eq!(r.status(), 200, "download {url}");
    let content_type = r.headers()["content-type"].to_str().unwrap().to_string();
    let length: usize = r.headers()["content-length"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let bytes = r.bytes().await.unwrap().to_vec();
    assert_eq!(bytes.len(), length, "Content-Length of {url}");
    Download {
        content_type,
        bytes,
    }
}

/// `ffprobe -show_streams -show_format` of `bytes` (raw PCM needs `input_args`)
fn probe(bytes: &[u8], ext: &str, input_args: &[&str]) -> Value {
    let dir = std::env::temp_dir().join(format!("sim-media-probe-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{}.{ext}", run_nonce()));
    std::fs::write(&path, bytes).unwrap();
    let out = Command::new("ffprobe")
        .args(["-v", "error"])
        .args(input_args)
        .args(["-show_streams", "-show_format", "-of", "json"])
        .arg(&path)
        .output()
        .unwrap_or_else(|e| panic!("ffprobe ({e}): install the Debian package `ffmpeg`"));
    let _ = std::fs::remove_file(&path);
    assert!(
        out.status.success(),
        "ffprobe: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn stream(p: &Value, kind: &str) -> Value {
    p["streams"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["codec_type"] == kind)
        .unwrap_or_else(|| panic!("no {kind} stream in {p}"))
        .clone()
}

fn secs(v: &Value) -> f64 {
    v.as_str().unwrap().parse().unwrap()
}

fn assert_image(d: &Download, content_type: &str, codec: &str, w: u64, h: u64) {
    assert_eq!(d.content_type, content_type);
    let ext = if codec == "png" { "png" } else { "jpg" };
    let v = stream(&probe(&d.bytes, ext, &[]), "video");
    assert_eq!(v["codec_name"], codec, "{v}");
    assert_eq!(
        (v["width"].as_u64(), v["height"].as_u64()),
        (Some(w), Some(h))
    );
}

fn assert_video(d: &Download, w: u64, h: u64, seconds: f64, fps: &str) {
    assert_eq!(d.content_type, "video/mp4");
    let p = probe(&d.bytes, "mp4", &[]);
    let v = stream(&p, "video");
    assert_eq!(v["codec_name"], "h264", "{v}");
    assert_eq!(v["pix_fmt"], "yuv420p");
    assert_eq!(
        (v["width"].as_u64(), v["height"].as_u64()),
        (Some(w), Some(h))
    );
    assert_eq!(v["r_frame_rate"], fps);
    let got = secs(&v["duration"]);
    assert!((got - seconds).abs() <= 0.1, "duration {got} != {seconds}");
    assert!((secs(&p["format"]["duration"]) - seconds).abs() <= 0.1);
    // +faststart: the index comes before the media data
    let find = |tag: &[u8]| d.bytes.windows(4).position(|w| w == tag).unwrap();
    assert!(find(b"moov") < find(b"mdat"), "moov before mdat");
}

fn assert_audio(d: &Download, ext: &str, codec: &str, min_s: f64, max_s: f64) -> f64 {
    let p = probe(&d.bytes, ext, &[]);
    let a = stream(&p, "audio");
    assert_eq!(a["codec_name"], codec, "{a}");
    let got = secs(&p["format"]["duration"]);
    assert!(
        (min_s..=max_s).contains(&got),
        "duration {got} outside {min_s}..{max_s}"
    );
    got
}

/// Polls `url` until `done` picks a value out of the answer
async fn poll_until(
    sim: &Sim,
    url: &str,
    headers: &[(&str, &str)],
    done: impl Fn(&Value) -> Option<String>,
) -> String {
    eventually(url, Duration::from_secs(15), || async {
        let (_, v) = sim.get_json(url, headers).await;
        done(&v)
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyframes_are_images_of_the_requested_size() {
    let sim = Sim::start(50, 1.0).await;
    let nonce = run_nonce();
    let prompt = format!("A lighthouse keeper climbs the spiral stairs at dusk ({nonce})");
    let cb = |stage: &str| format!("http://127.0.0.1:9/v1/callbacks/bfl/job_m/{stage}/1?token=x");

    // BFL: width/height, PNG, stage id from the callback URL
    let png = bfl_sample(
        &sim,
        json!({"prompt": prompt, "width": 1024, "height": 576, "output_format": "png",
               "webhook_url": cb("s01.keyframe")}),
    )
    .await;
    let a = download(&sim, &png, &[]).await;
    assert_image(&a, "image/png", "png", 1024, 576);

    // The same task again: the same bytes; another stage: other bytes
    assert_eq!(download(&sim, &png, &[]).await.bytes, a.bytes);
    let other = bfl_sample(
        &sim,
        json!({"prompt": prompt, "width": 1024, "height": 576, "output_format": "png",
               "webhook_url": cb("s02.keyframe")}),
    )
    .await;
    assert_ne!(download(&sim, &other, &[]).await.bytes, a.bytes);

    // BFL's default: JPEG 1024x768
    let jpeg = bfl_sample(&sim, json!({"prompt": prompt})).await;
    assert_image(
        &download(&sim, &jpeg, &[]).await,
        "image/jpeg",
        "mjpeg",
        1024,
        768,
    );

    // fal image model: a named image_size
    let key = [("authorization", "Key sim-fal-key")];
    let queued: Value = sim
        .post_json(
            "/fal/fal-ai/flux/dev",
            &key,
            &json!({"prompt": prompt, "image_size": "portrait_16_9"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let response_url = queued["response_url"].as_str().unwrap().to_string();
    let url = poll_until(&sim, &response_url, &key, |v| {
        v["images"][0]["url"].as_str().map(str::to_string)
    })
    .await;
    let (_, out) = sim.get_json(&response_url, &key).await;
    assert_eq!(
        (&out["images"][0]["width"], &out["images"][0]["height"]),
        (&json!(576), &json!(1024))
    );
    assert_image(
        &download(&sim, &url, &[]).await,
        "image/png",
        "png",
        576,
        1024,
    );

    // Replicate image model: aspect_ratio and output_format
    let auth = [("authorization", "Bearer sim-replicate-key")];
    let created: Value = sim
        .post_json(
            "/replicate/v1/predictions",
            &auth,
            &json!({"version": "black-forest-labs/flux-schnell",
                    "input": {"prompt": prompt, "aspect_ratio": "16:9", "output_format": "jpg"}}),
        )
        .await
        .json()
        .await
        .unwrap();
    let get = created["urls"]["get"].as_str().unwrap().to_string();
    let url = poll_until(&sim, &get, &auth, |v| {
        v["output"].as_str().map(str::to_string)
    })
    .await;
    assert_image(
        &download(&sim, &url, &[]).await,
        "image/jpeg",
        "mjpeg",
        1024,
        576,
    );

    let stats = sim.stats().await;
    assert_eq!(stats["downloads"]["bfl"], 4);
    assert_eq!(stats["downloads"]["fal"], 1);
    assert_eq!(stats["downloads"]["replicate"], 1);
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn motion_clips_are_h264_of_the_requested_length_size_and_rate() {
    let sim = Sim::start(50, 1.0).await;
    let nonce = run_nonce();
    let prompt = format!("Slow push-in on a paper boat drifting down a river ({nonce})");

    // Veo: 16:9, 4 s, 24 fps -> 640x360
    let key = [("x-goog-api-key", "sim-veo-key")];
    let op: Value = sim
        .post_json(
            "/veo/v1beta/models/veo-3.0-generate-001:predictLongRunning",
            &key,
            &json!({"instances": [{"prompt": prompt}],
                    "parameters": {"aspectRatio": "16:9", "durationSeconds": 4}}),
        )
        .await
        .json()
        .await
        .unwrap();
    let name = op["name"].as_str().unwrap();
    let url = poll_until(&sim, &sim.url(&format!("/veo/v1beta/{name}")), &key, |v| {
        v.pointer("/response/generateVideoResponse/generatedSamples/0/video/uri")
            .and_then(Value::as_str)
            .map(str::to_string)
    })
    .await;
    // Two downloads at once: rendered once, the same bytes
    let (a, b) = tokio::join!(download(&sim, &url, &key), download(&sim, &url, &key));
    assert_eq!(a.bytes, b.bytes);
    assert_video(&a, 640, 360, 4.0, "24/1");

    // Runway: ratio 720:1280, 5 s -> 360x640
    let auth = [
        ("authorization", "Bearer sim-runway-key"),
        ("x-runway-version", "2024-11-06"),
    ];
    let created: Value = sim
        .post_json(
            "/runway/v1/text_to_video",
            &auth,
            &json!({"model": "gen4_turbo", "promptText": prompt, "ratio": "720:1280", "duration": 5}),
        )
        .await
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap();
    let url = poll_until(
        &sim,
        &sim.url(&format!("/runway/v1/tasks/{id}")),
        &auth,
        |v| v["output"][0].as_str().map(str::to_string),
    )
    .await;
    assert_video(&download(&sim, &url, &[]).await, 360, 640, 5.0, "24/1");

    // Kling: 1:1, 5 s -> 360x360, the stage from external_task_id
    let jwt = format!("Bearer {}", kling_jwt("sim-kling-ak", "sim-kling-sk", 600));
    let auth = [("authorization", jwt.as_str())];
    let created: Value = sim
        .post_json(
            "/kling/v1/videos/text2video",
            &auth,
            &json!({"prompt": prompt, "duration": "5", "aspect_ratio": "1:1",
                    "external_task_id": format!("job_{nonce}:s03.motion:1")}),
        )
        .await
        .json()
        .await
        .unwrap();
    let id = created["data"]["task_id"].as_str().unwrap();
    let url = poll_until(
        &sim,
        &sim.url(&format!("/kling/v1/videos/text2video/{id}")),
        &auth,
        |v| {
            v.pointer("/data/task_result/videos/0/url")
                .and_then(Value::as_str)
                .map(str::to_string)
        },
    )
    .await;
    assert_video(&download(&sim, &url, &[]).await, 360, 360, 5.0, "24/1");

    // Replicate video model: num_frames / frames_per_second -> 3 s at 16 fps
    let auth = [("authorization", "Bearer sim-replicate-key")];
    let created: Value = sim
        .post_json(
            "/replicate/v1/predictions",
            &auth,
            &json!({"version": "wan-video/wan-2.2-i2v-fast",
                    "input": {"prompt": prompt, "num_frames": 48, "frames_per_second": 16}}),
        )
        .await
        .json()
        .await
        .unwrap();
    let get = created["urls"]["get"].as_str().unwrap().to_string();
    let url = poll_until(&sim, &get, &auth, |v| {
        v["output"].as_str().map(str::to_string)
    })
    .await;
    assert_video(&download(&sim, &url, &[]).await, 640, 360, 3.0, "16/1");

    // Sora's thumbnail variant: a still of the video's frame
    let auth = [("authorization", "Bearer sim-sora-key")];
    let created: Value = sim
        .post_json(
            "/sora/v1/videos",
            &auth,
            &json!({"model": "sora-2", "prompt": prompt, "seconds": "4", "size": "720x1280"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap();
    poll_until(
        &sim,
        &sim.url(&format!("/sora/v1/videos/{id}")),
        &auth,
        |v| (v["status"] == "completed").then(String::new),
    )
    .await;
    let thumb = download(
        &sim,
        &sim.url(&format!("/sora/v1/videos/{id}/content?variant=thumbnail")),
        &auth,
    )
    .await;
    assert_image(&thumb, "image/png", "png", 360, 640);

    let stats = sim.stats().await;
    assert_eq!(stats["downloads"]["veo"], 2);
    assert_eq!(stats["downloads"]["runway"], 1);
    assert_eq!(stats["downloads"]["kling"], 1);
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn speech_is_about_as_long_as_the_line() {
    let sim = Sim::start(50, 1.0).await;
    let nonce = run_nonce();
    let line = format!("The lighthouse has kept this coast safe for a hundred years, {nonce}.");
    let spoken = line.chars().count() as f64 / 15.0;
    let key = [("xi-api-key", "sim-elevenlabs-key")];
    let tts = |format: &'static str| {
        let sim = &sim;
        let line = line.clone();
        async move {
            let r = sim
                .post_json(
                    &format!("/elevenlabs/v1/text-to-speech/voice_abc?output_format={format}"),
                    &key,
                    &json!({"text": line, "model_id": "eleven_multilingual_v2"}),
                )
                .await;
            assert_eq!(r.status(), 200);
            let content_type = r.headers()["content-type"].to_str().unwrap().to_string();
            let length: usize = r.headers()["content-length"]
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            let bytes = r.bytes().await.unwrap().to_vec();
            assert_eq!(bytes.len(), length);
            Download {
                content_type,
                bytes,
            }
        }
    };
    let mp3 = tts("mp3_44100_128").await;
    assert_eq!(mp3.content_type, "audio/mpeg");
    assert_eq!(&mp3.bytes[..2], &[0xff, 0xfb], "an MP3 frame first");
    assert_audio(&mp3, "mp3", "mp3", 0.3 * spoken, 3.0 * spoken);
    let a = stream(&probe(&mp3.bytes, "mp3", &[]), "audio");
    assert_eq!(a["sample_rate"], "44100");

    // Raw PCM at 16 kHz: 2 bytes a sample
    let pcm = tts("pcm_16000").await;
    assert_eq!(pcm.content_type, "application/octet-stream");
    let pcm_s = pcm.bytes.len() as f64 / 32_000.0;
    assert!(
        (0.3 * spoken..=3.0 * spoken).contains(&pcm_s),
        "{pcm_s} s of PCM"
    );
    let p = probe(
        &pcm.bytes,
        "pcm",
        &["-f", "s16le", "-ar", "16000", "-ac", "1"],
    );
    assert!((secs(&p["format"]["duration"]) - pcm_s).abs() < 0.05);

    // The same line in the same voice: the same bytes
    assert_eq!(tts("mp3_44100_128").await.bytes, mp3.bytes);
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn music_has_the_requested_length() {
    let sim = Sim::start(50, 1.0).await;
    let nonce = run_nonce();
    let auth = [("authorization", "Bearer sim-minimax-key")];

    // URL mode, MP3, 6 s (the simulator's `duration` extension)
    let music: Value = sim
        .post_json(
            "/minimax_music/v1/music_generation",
            &auth,
            &json!({"model": "music-1.5", "prompt": format!("warm hopeful strings {nonce}"),
                    "is_instrumental": true, "output_format": "url", "duration": 6,
                    "audio_setting": {"sample_rate": 44100, "bitrate": 256000, "format": "mp3"}}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(music["base_resp"]["status_code"], 0, "{music}");
    let url = music["data"]["audio"].as_str().unwrap();
    let d = download(&sim, url, &[]).await;
    assert_eq!(d.content_type, "audio/mpeg");
    assert_eq!(music["extra_info"]["music_size"], d.bytes.len());
    assert_audio(&d, "mp3", "mp3", 5.9, 6.1);

    // Hex mode, WAV, 4 s
    let music: Value = sim
        .post_json(
            "/minimax_music/v1/music_generation",
            &auth,
            &json!({"model": "music-1.5", "prompt": format!("lofi {nonce}"), "is_instrumental": true,
                    "duration": 4, "audio_setting": {"sample_rate": 32000, "format": "wav"}}),
        )
        .await
        .json()
        .await
        .unwrap();
    let wav = Download {
        content_type: "audio/wav".into(),
        bytes: hex::decode(music["data"]["audio"].as_str().unwrap()).unwrap(),
    };
    assert_eq!(&wav.bytes[..4], b"RIFF");
    assert_audio(&wav, "wav", "pcm_s16le", 3.9, 4.1);
    assert_eq!(
        stream(&probe(&wav.bytes, "wav", &[]), "audio")["sample_rate"],
        "32000"
    );

    // Replicate music model: input.duration
    let rep = [("authorization", "Bearer sim-replicate-key")];
    let created: Value = sim
        .post_json(
            "/replicate/v1/predictions",
            &rep,
            &json!({"version": "meta/musicgen", "input": {"prompt": format!("calm piano {nonce}"), "duration": 5}}),
        )
        .await
        .json()
        .await
        .unwrap();
    let get = created["urls"]["get"].as_str().unwrap().to_string();
    let url = poll_until(&sim, &get, &rep, |v| {
        v["output"].as_str().map(str::to_string)
    })
    .await;
    let d = download(&sim, &url, &[]).await;
    assert_eq!(d.content_type, "audio/mpeg");
    assert_audio(&d, "mp3", "mp3", 4.9, 5.1);
    sim.stop().await;
}

/// Renders `spec` into a fresh cache directory and returns the bytes
async fn render_fresh(spec: &Spec, dir: &Path) -> Vec<u8> {
    let _ = std::fs::remove_dir_all(dir);
    let cache = Cache::new(dir.to_path_buf(), 64 * 1024 * 1024, 2);
    let ready = media::render_in(&cache, spec).await.unwrap();
    let bytes = std::fs::read(&ready.path).unwrap();
    let _ = std::fs::remove_dir_all(dir);
    bytes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rendering_is_deterministic() {
    let base = Spec {
        kind: MediaKind::Video,
        sound: Sound::Music,
        width: 640,
        height: 360,
        fps: 24,
        seconds: 2.0,
        sample_rate: 44_100,
        bitrate_kbps: 128,
        channels: 2,
        title: "s09.motion".into(),
        text: "A kite over the dunes, 100% real: 'quotes', colons: and \\ backslashes".into(),
        footer: "veo · veo-3 · job j · attempt 1".into(),
        voice: "voice_abc".into(),
        look: 42,
    };
    let speech = Spec {
        kind: MediaKind::Mp3,
        sound: Sound::Speech,
        text: "Hold the line.".into(),
        ..base.clone()
    };
    let still = Spec {
        kind: MediaKind::Png,
        width: 512,
        height: 512,
        ..base.clone()
    };
    let dir = std::env::temp_dir().join(format!("sim-media-det-{}", std::process::id()));
    for spec in [&base, &speech, &still] {
        let a = render_fresh(spec, &dir.join("a")).await;
        let b = render_fresh(spec, &dir.join("b")).await;
        assert!(!a.is_empty());
        assert_eq!(a, b, "{:?} renders the same bytes twice", spec.kind);
    }
    let other = Spec {
        look: 43,
        ..still.clone()
    };
    assert_ne!(
        render_fresh(&still, &dir.join("c")).await,
        render_fresh(&other, &dir.join("d")).await
    );
}
