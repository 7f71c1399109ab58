//! Assembly on the real stack: the sample brief becomes a video a person can watch, and assembly
//! is as dependable as every other stage.

use std::time::Duration;

use e2e::media::{self, Downloaded};
use e2e::render::{
    create, is_terminal, sample_brief, sim_stats, support_view, total_submissions, wait_for,
};
use e2e::{Client, Stack, StackOptions, shared_stack};
use reqwest::StatusCode;
use serde_json::Value;

const RENDER_TIMEOUT: Duration = Duration::from_secs(300);
/// The sample brief's shots add up to this many seconds
const SAMPLE_DURATION_S: f64 = 62.0;

fn file<'a>(files: &'a [Downloaded], name: &str) -> &'a Downloaded {
    files
        .iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("no {name} among {files:?}"))
}

fn video_size(path: &std::path::Path) -> (u64, u64) {
    let probe = media::probe(path).expect("probe");
    let v = media::stream(&probe, "video").expect("video stream");
    (
        v["width"].as_u64().expect("width"),
        v["height"].as_u64().expect("height"),
    )
}

async fn render(client: &Client, brief: &Value) -> Value {
    let id = create(client, brief).await.expect("create");
    let view = wait_for(client, &id, RENDER_TIMEOUT, is_terminal)
        .await
        .expect("finish");
    assert_eq!(view["status"], "succeeded", "{view}");
    view
}

/// Cue start times of a WebVTT file, seconds
fn cue_starts(vtt: &str) -> Vec<f64> {
    vtt.lines()
        .filter_map(|l| l.split(" --> ").next().filter(|_| l.contains(" --> ")))
        .filter_map(|t| {
            let parts: Vec<f64> = t.trim().split(':').filter_map(|p| p.parse().ok()).collect();
            match parts.as_slice() {
                [h, m, s] => Some(h * 3600.0 + m * 60.0 + s),
                [m, s] => Some(m * 60.0 + s),
                _ => None,
            }
        })
        .collect()
}

#[tokio::test]
async fn the_sample_brief_becomes_a_real_video_with_variants_badge_and_captions() {
    let stack = shared_stack();
    let paid = Client::new(&stack.worker_url, Some("sk_test_demo"));
    let free = Client::new(&stack.worker_url, Some("sk_test_rival"));
    let brief = sample_brief();
    let (paid_view, free_view) = tokio::join!(render(&paid, &brief), render(&free, &brief));
    let dir = tempfile::tempdir().expect("temp dir");
    let paid_files = media::download_outputs(&paid_view, &dir.path().join("paid"))
        .await
        .expect("download paid");
    let free_files = media::download_outputs(&free_view, &dir.path().join("free"))
        .await
        .expect("download free");

    // The master: H.264 + AAC, as long as the timeline, at -14 LUFS.
    let master = file(&paid_files, "master");
    let probe = media::probe(&master.path).expect("probe master");
    let video = media::stream(&probe, "video").expect("video stream");
    let audio = media::stream(&probe, "audio").expect("audio stream");
    assert_eq!(video["codec_name"], "h264", "{probe}");
    assert_eq!(audio["codec_name"], "aac", "{probe}");
    let duration = media::duration_s(&probe).expect("duration");
    assert!(
        (duration - SAMPLE_DURATION_S).abs() <= 0.1,
        "master is {duration} s, the timeline {SAMPLE_DURATION_S} s"
    );
    let lufs = media::integrated_lufs(&master.path).expect("loudness");
    assert!(
        (lufs + 14.0).abs() <= 1.0,
        "integrated loudness {lufs} LUFS"
    );

    // Every variant at its frame size (preview quality on the test stack), cropped not boxed.
    assert_eq!(video_size(&master.path), (640, 360));
    assert_eq!(
        video_size(&file(&paid_files, "variant-9x16").path),
        (360, 640)
    );
    assert_eq!(
        video_size(&file(&paid_files, "variant-1x1").path),
        (360, 360)
    );
    let poster = media::probe(&file(&paid_files, "poster").path).expect("poster");
    assert_eq!(
        media::stream(&poster, "video").map(|v| v["codec_name"].clone()),
        Some(Value::from("mjpeg")),
        "{poster}"
    );

    // The badge: the paid master's top-right corner differs from the free one's; the frames
    // are otherwise the same picture (the simulator's media depend only on what was asked).
    for name in ["master", "variant-9x16", "variant-1x1"] {
        let at = 3.0;
        let p = media::grey_frame(&file(&paid_files, name).path, at).expect("paid frame");
        let f = media::grey_frame(&file(&free_files, name).path, at).expect("free frame");
        let corner = media::region_difference(&p, &f, (0.55, 0.0, 1.0, 0.3));
        assert!(
            corner > 3.0,
            "{name}: the badge corner barely differs ({corner})"
        );
    }

    // Captions: one WebVTT file, cues at the dialogue lines' times (s04 at 15 s, s08 at 35 s).
    let vtt = std::fs::read_to_string(&file(&paid_files, "captions").path).expect("vtt");
    assert!(vtt.starts_with("WEBVTT"), "{vtt}");
    let starts = cue_starts(&vtt);
    for line_start in [15.0, 35.0] {
        assert!(
            starts.iter().any(|s| (s - line_start).abs() < 0.01),
            "no cue at {line_start} s in {starts:?}"
        );
    }
    assert!(vtt.contains("One more night won't hurt anyone."), "{vtt}");

    // The master streams with Range, as a browser seeking in it asks.
    let url = paid_view["master_url"].as_str().expect("master url");
    let resp = reqwest::Client::new()
        .get(url)
        .header("range", "bytes=100-1099")
        .send()
        .await
        .expect("range");
    assert_eq!(resp.status(), StatusCode::PARTIAL_CONTENT);
    let headers = resp.headers().clone();
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["content-type"], "video/mp4");
    let range = headers["content-range"].to_str().expect("content-range");
    assert!(range.starts_with("bytes 100-1099/"), "{range}");
    assert!(
        headers["content-disposition"]
            .to_str()
            .expect("disposition")
            .contains("filename=\"master\""),
        "{headers:?}"
    );
    let body = resp.bytes().await.expect("body");
    let whole = std::fs::read(&master.path).expect("master bytes");
    assert_eq!(&body[..], &whole[100..1100]);
}

/// Waits until the render's assembly stage is running at our assembler
async fn wait_assembling(client: &Client, id: &str) -> Value {
    wait_for(client, id, RENDER_TIMEOUT, |v| {
        is_terminal(v)
            || v["stages"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|s| s["id"] == "assembly" && matches!(s["status"].as_str(), Some("running")))
    })
    .await
    .expect("assembly starts")
}

#[tokio::test]
async fn assembly_finishes_when_the_assembler_is_killed_mid_assembly() {
    let mut stack = Stack::start_with(StackOptions::default()).expect("stack");
    let client = Client::new(&stack.worker_url, Some("sk_test_demo"));
    let id = create(&client, &sample_brief()).await.expect("create");
    let view = wait_assembling(&client, &id).await;
    assert!(
        !is_terminal(&view),
        "finished before it could be killed: {view}"
    );
    stack.kill_assembler();
    tokio::time::sleep(Duration::from_millis(500)).await;
    stack.start_assembler().expect("restart the assembler");
    let view = wait_for(&client, &id, RENDER_TIMEOUT, is_terminal)
        .await
        .expect("finish");
    assert_eq!(view["status"], "succeeded", "{view}");
    let dir = tempfile::tempdir().expect("temp dir");
    let files = media::download_outputs(&view, dir.path())
        .await
        .expect("download");
    let probe = media::probe(&file(&files, "master").path).expect("probe");
    let duration = media::duration_s(&probe).expect("duration");
    assert!((duration - SAMPLE_DURATION_S).abs() <= 0.1, "{duration}");
    // One assembly at our assembler: the restarted service resumed it, and whatever the job
    // re-issued carried the same Idempotency-Key and was absorbed.
    let records = std::fs::read_dir(stack.persist_dir().join("assembler/assemblies"))
        .expect("assembler data")
        .count();
    assert_eq!(records, 1, "assemblies at our assembler");
}

#[tokio::test]
async fn a_failing_assembler_falls_back_to_the_hosted_route() {
    // Every assembly at our assembler fails, as one whose ffmpeg broke would: an ffmpeg that
    // answers the start-up version check and fails every real run.
    let dir = tempfile::tempdir().expect("temp dir");
    let broken = dir.path().join("ffmpeg");
    std::fs::write(
        &broken,
        "#!/bin/sh\ncase \"$1\" in -version) exec ffmpeg -version ;; esac\n\
         echo 'ffmpeg: simulated crash' >&2\nexit 1\n",
    )
    .expect("write the broken ffmpeg");
    std::fs::set_permissions(&broken, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");
    let options = StackOptions {
        assembler_env: vec![(
            "ASSEMBLER_FFMPEG".into(),
            broken.to_string_lossy().into_owned(),
        )],
        ..StackOptions::default()
    };
    let stack = Stack::start_with(options).expect("stack");
    let client = Client::new(&stack.worker_url, Some("sk_test_demo"));
    let view = render(&client, &sample_brief()).await;
    // Who assembled it is in the support view (the app's view names no model).
    let id = view["job_id"].as_str().expect("job id");
    let full = support_view(&client.with_key(Some("sk_test_support")), id)
        .await
        .expect("support view");
    let assembly = full["stages"]
        .as_array()
        .expect("stages")
        .iter()
        .find(|s| s["id"] == "assembly")
        .expect("assembly stage")
        .clone();
    let models: Vec<&str> = assembly["attempts"]
        .as_array()
        .expect("attempts")
        .iter()
        .filter_map(|a| a["model"].as_str())
        .collect();
    assert_eq!(models.first(), Some(&"studio-assembler"), "{assembly}");
    assert_eq!(models.last(), Some(&"shotstack-edit"), "{assembly}");
    let dir = tempfile::tempdir().expect("temp dir");
    let files = media::download_outputs(&view, dir.path())
        .await
        .expect("download");
    let probe = media::probe(&file(&files, "master").path).expect("probe");
    assert_eq!(
        media::stream(&probe, "video").map(|v| v["codec_name"].clone()),
        Some(Value::from("h264"))
    );
}

#[tokio::test]
async fn a_brief_that_cannot_be_assembled_is_refused_before_anything_is_spent() {
    let options = StackOptions {
        without_assembler: true,
        // Production: no simulator fallback, and neither assembly route has credentials.
        worker_vars: vec![
            ("ENVIRONMENT".into(), "production".into()),
            (
                "CALLBACK_SECRET".into(),
                "e2e-callback-secret-0123456789".into(),
            ),
        ],
        ..StackOptions::default()
    };
    let stack = Stack::start_with(options).expect("stack");
    let client = Client::new(&stack.worker_url, Some("sk_test_demo"));
    let reply = client
        .post("/v1/renders", &sample_brief())
        .await
        .expect("create");
    assert_eq!(reply.status.as_u16(), 503, "{}", reply.text);
    assert_eq!(reply.json["error"]["code"], "unavailable", "{}", reply.text);
    assert!(
        reply.json["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("assembly")),
        "{}",
        reply.text
    );
    let listed = client.get("/v1/renders").await.expect("list");
    assert_eq!(
        listed.json["renders"].as_array().map(Vec::len),
        Some(0),
        "{}",
        listed.text
    );
    assert_eq!(total_submissions(&sim_stats(&stack.sim_url).await), 0);
}
