//! End to end with the real ffmpeg: tiny inputs served on loopback, the assembler in-process,
//! outputs checked with ffprobe and ffmpeg's own meters.

mod common;

use std::time::Duration;

use common::*;
use serde_json::{Value, json};

fn clip(base: &str, shot: &str, file: &str, start_s: f64, duration_s: f64) -> Value {
    json!({"shot": shot, "key": format!("renders/r1/{file}"), "url": format!("{base}/media/{file}"),
           "start_s": start_s, "duration_s": duration_s})
}

/// The full timeline: three clips (one longer than its slot, one shorter), a dialogue line,
/// a voiceover and a score
fn full_timeline(base: &str, callback: Option<String>) -> Value {
    json!({
        "timeline": {
            "master": "16:9",
            "variants": ["9:16", "1:1"],
            "badge": true,
            "quality": "preview",
            "captions": {"burn": true},
            "duration_s": 4.5,
            "clips": [
                clip(base, "s01", "c1.mp4", 0.0, 1.5),
                clip(base, "s02", "c2.mp4", 1.5, 1.5),
                clip(base, "s03", "c3.mp4", 3.0, 1.5)
            ],
            "dialogue": [
                {"stage": "s02.dialogue", "key": "k", "url": format!("{base}/media/line.wav"), "start_s": 2.0,
                 "text": "They switch us off on Friday.", "speaker": "Ines"}
            ],
            "voiceover": {"stage": "voiceover", "key": "k", "url": format!("{base}/media/vo.wav"), "start_s": 0.0,
                          "text": "Hello there. This is the voiceover."},
            "score": {"stage": "score", "key": "k", "url": format!("{base}/media/score.mp3"), "start_s": 0.0}
        },
        "callback_url": callback
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

fn vtt_starts(vtt: &str) -> Vec<String> {
    vtt.lines()
        .filter_map(|l| l.split_once(" --> ").map(|(a, _)| a.to_string()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assembles_master_variants_poster_and_captions() {
    let media = tempfile::tempdir().unwrap();
    make_media(media.path());
    let (inputs, inbox) = input_server(media.path()).await;
    let data = tempfile::tempdir().unwrap();
    let server = assembler(data.path(), |_| {}).await;
    let base = server.base_url();

    let body = full_timeline(&inputs, Some(format!("{inputs}/callback")));
    let (code, first) = submit(&base, &body, Some("render-1/assemble/1")).await;
    assert_eq!(code, 202, "{first}");
    assert_eq!(first["status"], "queued");
    let id = first["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("asm_"));
    // The same key answers the same assembly and starts nothing new
    let (code, again) = submit(&base, &body, Some("render-1/assemble/1")).await;
    assert_eq!(code, 200, "{again}");
    assert_eq!(again["id"], id.as_str());

    let done = wait_for(
        &base,
        &id,
        &["succeeded", "failed"],
        Duration::from_secs(90),
    )
    .await;
    assert_eq!(done["status"], "succeeded", "{done}");
    let (code, third) = submit(&base, &body, Some("render-1/assemble/1")).await;
    assert_eq!((code, third["id"].as_str()), (200, Some(id.as_str())));
    assert_eq!(third["status"], "succeeded");
    assert_eq!(server.service.record(&id).unwrap().runs, 1);
    assert_eq!(server.service.runs_started(), 1);
    assert_eq!(
        std::fs::read_dir(data.path().join("assemblies"))
            .unwrap()
            .count(),
        1
    );

    // The callback carries the terminal object
    let callbacks = inbox.wait_callbacks(1, Duration::from_secs(10)).await;
    assert_eq!(callbacks.len(), 1, "{callbacks:?}");
    assert_eq!(callbacks[0], done);

    let outputs = &done["outputs"];
    let master = &outputs["master"];
    assert_eq!(master["content_type"], "video/mp4");
    assert_eq!(
        (master["width"].as_u64(), master["height"].as_u64()),
        (Some(640), Some(360))
    );
    assert_eq!(master["duration_s"], 4.5);
    assert_eq!(
        master["url"],
        format!("{base}/v1/files/{id}/master.mp4").as_str()
    );
    let variants = outputs["variants"].as_array().unwrap();
    let aspects: Vec<_> = variants
        .iter()
        .map(|v| v["aspect"].as_str().unwrap())
        .collect();
    assert_eq!(aspects, ["9:16", "1:1"]);
    assert_eq!(outputs["poster"]["content_type"], "image/jpeg");
    assert_eq!(outputs["captions"]["content_type"], "text/vtt");

    let out = tempfile::tempdir().unwrap();
    let videos = [
        (master, "master.mp4", 640, 360),
        (&variants[0], "v916.mp4", 360, 640),
        (&variants[1], "v11.mp4", 360, 360),
    ];
    for (output, file, w, h) in videos {
        let path = out.path().join(file);
        download(output["url"].as_str().unwrap(), &path).await;
        let p = probe(&path);
        let v = stream(&p, "video");
        let a = stream(&p, "audio");
        assert_eq!(v["codec_name"], "h264", "{file}");
        assert_eq!(
            (v["width"].as_u64(), v["height"].as_u64()),
            (Some(w), Some(h)),
            "{file}"
        );
        assert_eq!(v["pix_fmt"], "yuv420p", "{file}");
        assert_eq!(v["r_frame_rate"], "30/1", "{file}");
        assert_eq!(a["codec_name"], "aac", "{file}");
        assert_eq!(a["sample_rate"], "48000", "{file}");
        let duration: f64 = p["format"]["duration"].as_str().unwrap().parse().unwrap();
        assert!((duration - 4.5).abs() <= 0.1, "{file} lasts {duration} s");
        assert_eq!(output["width"].as_u64(), Some(w));
        assert_eq!(output["height"].as_u64(), Some(h));
    }
    let lufs = integrated_loudness(&out.path().join("master.mp4"));
    assert!((lufs + 14.0).abs() <= 1.0, "master at {lufs} LUFS");

    let poster = download(
        outputs["poster"]["url"].as_str().unwrap(),
        &out.path().join("poster.jpg"),
    )
    .await;
    assert_eq!(&poster[..3], &[0xFF, 0xD8, 0xFF], "a JPEG");
    let p = probe(&out.path().join("poster.jpg"));
    assert_eq!(stream(&p, "video")["codec_name"], "mjpeg");
    assert_eq!(stream(&p, "video")["width"], 640);

    let vtt = download(
        outputs["captions"]["url"].as_str().unwrap(),
        &out.path().join("c.vtt"),
    )
    .await;
    let vtt = String::from_utf8(vtt).unwrap();
    assert!(vtt.starts_with("WEBVTT\n"), "{vtt}");
    assert!(
        vtt.contains("<v Ines>They switch us off on Friday.</v>"),
        "{vtt}"
    );
    let starts = vtt_starts(&vtt);
    // The voiceover's first sentence at its start, the dialogue line exactly at its start
    assert_eq!(
        starts.first().map(String::as_str),
        Some("00:00:00.000"),
        "{vtt}"
    );
    assert!(starts.iter().any(|s| s == "00:00:02.000"), "{vtt}");
    assert_eq!(starts.len(), 3, "{vtt}");

    // Ranges and authentication on the files route
    let master_url = master["url"].as_str().unwrap();
    let resp = client()
        .get(master_url)
        .bearer_auth(KEY)
        .header("range", "bytes=0-99")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 206);
    let total = std::fs::metadata(out.path().join("master.mp4"))
        .unwrap()
        .len();
    assert_eq!(
        resp.headers()["content-range"].to_str().unwrap(),
        format!("bytes 0-99/{total}")
    );
    assert_eq!(resp.bytes().await.unwrap().len(), 100);
    let resp = client().get(master_url).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 401);
    let resp = client()
        .get(master_url)
        .bearer_auth("wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 401);
    let (code, _) = get_json(&format!("{base}/v1/files/{id}/..%2Fassembly.json")).await;
    assert_eq!(code, 404);
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn badge_is_burned_top_right_only_when_asked() {
    let media = tempfile::tempdir().unwrap();
    make_media(media.path());
    let (inputs, _) = input_server(media.path()).await;
    let data = tempfile::tempdir().unwrap();
    let server = assembler(data.path(), |_| {}).await;
    let base = server.base_url();
    let timeline = |badge: bool| {
        json!({"timeline": {
            "master": "16:9", "badge": badge, "quality": "preview", "duration_s": 2.0,
            // 1.5 s of clip held on its last frame for the rest of the slot; no audio at all
            "clips": [clip(&inputs, "s01", "c1.mp4", 0.0, 2.0)]
        }})
    };
    let (_, with) = submit(&base, &timeline(true), None).await;
    let (_, without) = submit(&base, &timeline(false), None).await;
    let out = tempfile::tempdir().unwrap();
    let mut frames = Vec::new();
    for (n, a) in [with, without].iter().enumerate() {
        let id = a["id"].as_str().unwrap();
        let done = wait_for(&base, id, &["succeeded", "failed"], Duration::from_secs(60)).await;
        assert_eq!(done["status"], "succeeded", "{done}");
        assert!(
            done["outputs"]["captions"].is_null(),
            "no text, no captions"
        );
        assert!(done["outputs"]["variants"].as_array().unwrap().is_empty());
        let path = out.path().join(format!("{n}.mp4"));
        download(done["outputs"]["master"]["url"].as_str().unwrap(), &path).await;
        let p = probe(&path);
        assert_eq!(
            stream(&p, "audio")["codec_name"],
            "aac",
            "silence, but a track"
        );
        let duration: f64 = p["format"]["duration"].as_str().unwrap().parse().unwrap();
        assert!((duration - 2.0).abs() <= 0.1, "{duration}");
        // Past the end of the 1.5 s clip: the held frame
        frames.push(gray_frame(&path, 1.8));
    }
    assert_eq!(frames[0].len(), 640 * 360);
    // 640x360: 18 px top margin, 32 px right margin; the badge is ~170 px wide
    let badge = (400, 12, 616, 50);
    let inside = mean_diff(&frames[0], &frames[1], 640, badge, true);
    // Outside it, leaving a macroblock's margin where the encoder's choices may differ
    let around = (384, 0, 640, 72);
    let outside = mean_diff(&frames[0], &frames[1], 640, around, false);
    eprintln!("mean difference: {inside:.2} in the badge region, {outside:.3} elsewhere");
    // Encoding noise spreads a little difference everywhere; the badge is an order above it
    assert!(inside > 8.0, "the badge region differs: {inside}");
    assert!(outside < 2.0, "the rest is alike: {outside}");
    assert!(inside > 10.0 * outside, "{inside} vs {outside}");
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_inputs_fail_with_reasons_naming_the_input() {
    let media = tempfile::tempdir().unwrap();
    make_media(media.path());
    let (inputs, inbox) = input_server(media.path()).await;
    let data = tempfile::tempdir().unwrap();
    let server = assembler(data.path(), |s| {
        s.max_input_bytes = 64 * 1024;
        s.fetch_timeout_s = 10;
    })
    .await;
    let base = server.base_url();

    // Service basics first
    let health = client()
        .get(format!("{base}/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status().as_u16(), 200);
    assert_eq!(health.text().await.unwrap(), "ok");
    let (code, v) = get_json(&format!("{base}/v1/assemblies/asm_nope")).await;
    assert_eq!(
        (code, v["error"]["code"].as_str()),
        (404, Some("not_found"))
    );
    let (code, v) = submit(
        &base,
        &json!({"timeline": {"master": "16:9", "duration_s": 2, "clips": []}}),
        None,
    )
    .await;
    assert_eq!(code, 400);
    assert_eq!(v["error"]["code"], "invalid_request");
    assert_eq!(v["error"]["field"], "timeline.clips");
    let unauthorised = client()
        .post(format!("{base}/v1/assemblies"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(unauthorised.status().as_u16(), 401);

    let one_clip = |url: String, shot: &str| {
        json!({"timeline": {"master": "1:1", "quality": "preview", "duration_s": 1.0,
            "clips": [{"shot": shot, "url": url, "duration_s": 1.0}]},
            "callback_url": format!("{inputs}/callback")})
    };
    let cases = [
        (
            one_clip(format!("{inputs}/media/missing.mp4"), "s01"),
            "input_unavailable",
            "clip s01 could not be fetched: HTTP 404",
        ),
        (
            one_clip(format!("{inputs}/big"), "s02"),
            "input_too_large",
            "clip s02 is larger than the 64 KiB limit",
        ),
        (
            one_clip(format!("{inputs}/big-chunked"), "s03"),
            "input_too_large",
            "clip s03 is larger than the 64 KiB limit",
        ),
        (
            one_clip(format!("{inputs}/media/notes.txt"), "s04"),
            "input_not_media",
            "clip s04 is not a media file ffmpeg can read",
        ),
        (
            // Audio where a clip belongs
            one_clip(format!("{inputs}/media/beep.mp3"), "s05"),
            "input_not_media",
            "clip s05 has no video stream",
        ),
        (
            json!({"timeline": {"master": "1:1", "quality": "preview", "duration_s": 1.0,
                "clips": [{"shot": "s06", "url": format!("{inputs}/media/tiny.mp4"), "duration_s": 1.0}],
                "dialogue": [{"stage": "s06.dialogue", "url": format!("{inputs}/media/gone.wav"), "start_s": 0.2}]}}),
            "input_unavailable",
            "dialogue s06.dialogue could not be fetched: HTTP 404",
        ),
    ];
    let mut ids = Vec::new();
    for (body, _, _) in &cases {
        let (code, v) = submit(&base, body, None).await;
        assert_eq!(code, 202, "{v}");
        ids.push(v["id"].as_str().unwrap().to_string());
    }
    for ((_, code, message), id) in cases.iter().zip(&ids) {
        let done = wait_for(&base, id, &["succeeded", "failed"], Duration::from_secs(30)).await;
        assert_eq!(done["status"], "failed", "{done}");
        assert_eq!(done["error"]["code"], *code, "{done}");
        assert_eq!(done["error"]["message"], *message, "{done}");
        assert!(done.get("outputs").is_none());
    }
    let callbacks = inbox.wait_callbacks(5, Duration::from_secs(10)).await;
    assert_eq!(callbacks.len(), 5);
    assert!(callbacks.iter().all(|c| c["status"] == "failed"));
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unfinished_work_resumes_after_a_restart() {
    let media = tempfile::tempdir().unwrap();
    make_media(media.path());
    let (inputs, inbox) = input_server(media.path()).await;
    let data = tempfile::tempdir().unwrap();
    let first = assembler(data.path(), |_| {}).await;
    let body = json!({"timeline": {
        "master": "16:9", "variants": ["9:16"], "quality": "preview", "duration_s": 1.5,
        // The slow clip keeps the first run busy fetching when it is killed
        "clips": [{"shot": "s01", "url": format!("{inputs}/media/c1.mp4?ms=1500"), "duration_s": 1.5}],
        "score": {"stage": "score", "url": format!("{inputs}/media/score.mp3")}
    }, "callback_url": format!("{inputs}/callback")});
    let (code, v) = submit(&first.base_url(), &body, Some("resume-key")).await;
    assert_eq!(code, 202);
    let id = v["id"].as_str().unwrap().to_string();
    wait_for(
        &first.base_url(),
        &id,
        &["running"],
        Duration::from_secs(10),
    )
    .await;
    first.abort();

    let second = assembler(data.path(), |_| {}).await;
    let base = second.base_url();
    let done = wait_for(
        &base,
        &id,
        &["succeeded", "failed"],
        Duration::from_secs(60),
    )
    .await;
    assert_eq!(done["status"], "succeeded", "{done}");
    let record = second.service.record(&id).unwrap();
    assert_eq!(record.runs, 2, "started once per process");
    // The idempotency key survived the restart
    let (code, again) = submit(&base, &body, Some("resume-key")).await;
    assert_eq!((code, again["id"].as_str()), (200, Some(id.as_str())));
    let out = tempfile::tempdir().unwrap();
    let path = out.path().join("m.mp4");
    download(done["outputs"]["master"]["url"].as_str().unwrap(), &path).await;
    assert_eq!(stream(&probe(&path), "video")["width"], 640);
    let callbacks = inbox.wait_callbacks(1, Duration::from_secs(10)).await;
    assert_eq!(callbacks.len(), 1);
    assert_eq!(callbacks[0]["status"], "succeeded");
    second.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancels_queued_and_running_assemblies() {
    let media = tempfile::tempdir().unwrap();
    make_media(media.path());
    let (inputs, inbox) = input_server(media.path()).await;
    let data = tempfile::tempdir().unwrap();
    let server = assembler(data.path(), |_| {}).await;
    let base = server.base_url();
    let slow = json!({"timeline": {"master": "16:9", "quality": "preview", "duration_s": 1.0,
        "clips": [{"shot": "s01", "url": format!("{inputs}/media/tiny.mp4?ms=5000"), "duration_s": 1.0}]},
        "callback_url": format!("{inputs}/callback")});
    let (_, a) = submit(&base, &slow, None).await;
    let (_, b) = submit(&base, &slow, None).await;
    let (a, b) = (a["id"].as_str().unwrap(), b["id"].as_str().unwrap());
    // Only one runs at a time: find which
    let until = std::time::Instant::now() + Duration::from_secs(10);
    let (running, queued) = loop {
        let (_, va) = get_json(&format!("{base}/v1/assemblies/{a}")).await;
        let (_, vb) = get_json(&format!("{base}/v1/assemblies/{b}")).await;
        match (va["status"].as_str(), vb["status"].as_str()) {
            (Some("running"), Some("queued")) => break (a, b),
            (Some("queued"), Some("running")) => break (b, a),
            other => assert!(std::time::Instant::now() < until, "{other:?}"),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let cancel = |id: &str| {
        client()
            .delete(format!("{base}/v1/assemblies/{id}"))
            .bearer_auth(KEY)
            .send()
    };
    let resp = cancel(queued).await.unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let v: Value = serde_json::from_slice(&resp.bytes().await.unwrap()).unwrap();
    assert_eq!(v["status"], "failed");
    assert_eq!(v["error"]["code"], "cancelled");
    let started = std::time::Instant::now();
    let resp = cancel(running).await.unwrap();
    let v: Value = serde_json::from_slice(&resp.bytes().await.unwrap()).unwrap();
    assert_eq!(v["status"], "failed", "{v}");
    assert_eq!(v["error"]["code"], "cancelled");
    assert!(started.elapsed() < Duration::from_secs(3));
    let callbacks = inbox.wait_callbacks(2, Duration::from_secs(10)).await;
    assert_eq!(callbacks.len(), 2);
    assert!(callbacks.iter().all(|c| c["error"]["code"] == "cancelled"));
    // Cancelling a finished assembly changes nothing
    let resp = cancel(running).await.unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_still_request_answers_the_clips_last_frame_only() {
    let media = tempfile::tempdir().unwrap();
    make_media(media.path());
    let (inputs, _inbox) = input_server(media.path()).await;
    let data = tempfile::tempdir().unwrap();
    let server = assembler(data.path(), |_| {}).await;
    let base = server.base_url();
    // c1 is testsrc2, 1.5 s: its frames move, so its last one is told apart from the others.
    let body = json!({"timeline": {
        "master": "16:9", "quality": "preview", "duration_s": 1.5, "still": "last_frame",
        "clips": [clip(&inputs, "s01", "c1.mp4", 0.0, 1.5)]
    }});
    let (code, first) = submit(&base, &body, Some("r1/s01.p2.frame/1")).await;
    assert_eq!(code, 202, "{first}");
    let id = first["id"].as_str().unwrap();
    let done = wait_for(&base, id, &["succeeded", "failed"], Duration::from_secs(60)).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    let outputs = &done["outputs"];
    assert_eq!(outputs["master"]["content_type"], "image/jpeg");
    assert_eq!(outputs["variants"], json!([]));
    assert!(outputs["poster"].is_null() && outputs["captions"].is_null());
    let out = tempfile::tempdir().unwrap();
    let frame = out.path().join("frame.jpg");
    download(outputs["master"]["url"].as_str().unwrap(), &frame).await;
    let probe = probe(&frame);
    let video = stream(&probe, "video");
    assert_eq!(
        (video["width"].as_u64(), video["height"].as_u64()),
        (Some(320), Some(180))
    );
    // It is the last frame: closer to the clip's end than to its start.
    // (A seek, even to 0, finds no frame in a single image: decode it whole.)
    let still = run(std::process::Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-i"])
        .arg(&frame)
        .args(["-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "gray", "-"]));
    assert_eq!(still.len(), 320 * 180);
    let clip_path = media.path().join("c1.mp4");
    let end = gray_frame(&clip_path, 1.44);
    let start = gray_frame(&clip_path, 0.0);
    let whole = (0, 0, 320, 180);
    let (to_end, to_start) = (
        mean_diff(&still, &end, 320, whole, true),
        mean_diff(&still, &start, 320, whole, true),
    );
    assert!(
        to_end * 2.0 < to_start,
        "the still is the clip's last frame: {to_end} from the end, {to_start} from the start"
    );
    // A still takes exactly one clip.
    let two = json!({"timeline": {"master": "16:9", "duration_s": 2.0, "still": "last_frame",
        "clips": [clip(&inputs, "s01", "c1.mp4", 0.0, 1.0), clip(&inputs, "s02", "c2.mp4", 1.0, 1.0)]}});
    let (code, refused) = submit(&base, &two, None).await;
    assert_eq!(code, 400, "{refused}");
    assert_eq!(refused["error"]["field"], "timeline.clips");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_score_in_segments_is_joined_into_one_bed_as_long_as_the_cut() {
    let media = tempfile::tempdir().unwrap();
    make_media(media.path());
    let (inputs, _inbox) = input_server(media.path()).await;
    let data = tempfile::tempdir().unwrap();
    let server = assembler(data.path(), |_| {}).await;
    let base = server.base_url();
    let score = |_stage: &str, file: &str| format!("{inputs}/media/{file}");
    // 12 s of cut: a score of 6.5 s (5 s of file, looped), then 6.5 s from 5.5 s, crossfading 1 s.
    let body = json!({"timeline": {
        "master": "16:9", "quality": "preview", "duration_s": 12.0, "badge": false,
        "clips": [clip(&inputs, "s01", "c1.mp4", 0.0, 12.0)],
        "score": {"stage": "score", "url": score("score", "score.mp3"), "start_s": 0.0,
                  "duration_s": 6.5, "crossfade_s": 1.0,
                  "segments": [{"stage": "score.p2", "url": score("score.p2", "score.mp3"),
                                "start_s": 5.5, "duration_s": 6.5}]}
    }});
    let (code, first) = submit(&base, &body, Some("r1/assembly/1")).await;
    assert_eq!(code, 202, "{first}");
    let id = first["id"].as_str().unwrap();
    let done = wait_for(&base, id, &["succeeded", "failed"], Duration::from_secs(90)).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    let out = tempfile::tempdir().unwrap();
    let master = out.path().join("master.mp4");
    download(done["outputs"]["master"]["url"].as_str().unwrap(), &master).await;
    let probe = probe(&master);
    let audio = stream(&probe, "audio");
    let secs: f64 = audio["duration"].as_str().unwrap().parse().unwrap();
    assert!((secs - 12.0).abs() < 0.1, "audio {secs} s");
    // The bed plays through the join: sound on both sides of it.
    let loud = integrated_loudness(&master);
    assert!(loud > -30.0, "{loud} LUFS");
    // A segment that does not start where the part before ends less the crossfade is refused.
    let mut bad = body.clone();
    bad["timeline"]["score"]["segments"][0]["start_s"] = json!(4.0);
    let (code, refused) = submit(&base, &bad, None).await;
    assert_eq!(code, 400, "{refused}");
    assert_eq!(
        refused["error"]["field"],
        "timeline.score.segments[0].start_s"
    );
}
