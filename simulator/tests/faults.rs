//! Fault injection: 429 with Retry-After, 5xx, malformed bodies, timeouts, moderation,
//! duplicate / late / out-of-order callbacks, retried deliveries, and expiring output URLs.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::{Duration, Instant};

use common::*;
use serde_json::{Value, json};

const RUNWAY: [(&str, &str); 2] = [
    ("authorization", "Bearer sim-runway-key"),
    ("x-runway-version", "2024-11-06"),
];

fn runway_body(n: u32) -> Value {
    json!({"model": "gen4_turbo", "promptText": format!("shot {n}"), "ratio": "1280:720"})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limit_with_retry_after_then_success() {
    let sim = Sim::start(100, 1.0).await;
    sim.config(json!({"faults": {"runway": {"submit_429": {"first": 1}, "retry_after_s": 7}}}))
        .await;
    let r = sim
        .post_json("/runway/v1/text_to_video", &RUNWAY, &runway_body(1))
        .await;
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "7");
    assert!(
        r.json::<Value>().await.unwrap()["error"].is_string(),
        "Runway's error shape"
    );
    let r = sim
        .post_json("/runway/v1/text_to_video", &RUNWAY, &runway_body(1))
        .await;
    assert_eq!(r.status(), 200);
    let stats = sim.stats().await;
    assert_eq!(stats["faults_injected"]["runway"]["submit_429"], 1);
    assert_eq!(
        stats["submissions"]["runway"], 1,
        "a refused submission is not a submission"
    );
    assert_eq!(stats["duplicate_submissions"], 0);
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_malformed_bodies_and_timeouts() {
    let sim = Sim::start(100, 1.0).await;
    sim.config(json!({"faults": {
        "replicate": {"submit_5xx": {"first": 1}},
        "seedance": {"malformed": {"first": 1}},
        "luma": {"timeout": {"first": 1}, "timeout_hold_ms": 300},
    }}))
    .await;
    let r = sim
        .post_json(
            "/replicate/v1/predictions",
            &[("authorization", "Bearer sim-replicate-key")],
            &json!({"version": "a/b", "input": {}}),
        )
        .await;
    assert_eq!(r.status(), 500);
    assert_eq!(r.json::<Value>().await.unwrap()["status"], 500);

    let seed = json!({"model": "seedance-1-0-pro", "content": [{"type": "text", "text": "x"}]});
    let auth = [("authorization", "Bearer sim-seedance-key")];
    let r = sim
        .post_json("/seedance/api/v3/contents/generations/tasks", &auth, &seed)
        .await;
    assert_eq!(r.status(), 200);
    assert!(
        serde_json::from_slice::<Value>(&r.bytes().await.unwrap()).is_err(),
        "malformed JSON"
    );
    let r = sim
        .post_json("/seedance/api/v3/contents/generations/tasks", &auth, &seed)
        .await;
    assert!(r.json::<Value>().await.unwrap()["id"].is_string());

    let started = Instant::now();
    let luma = json!({"prompt": "slow"});
    let r = sim
        .post_json(
            "/luma/dream-machine/v1/generations",
            &[("authorization", "Bearer sim-luma-key")],
            &luma,
        )
        .await;
    assert_eq!(r.status(), 504);
    assert!(started.elapsed() >= Duration::from_millis(300));
    let stats = sim.stats().await;
    assert_eq!(stats["faults_injected"]["luma"]["timeout"], 1);
    assert_eq!(
        stats["submissions"].get("luma"),
        None,
        "a timed-out submission was not accepted"
    );
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moderation_in_each_providers_shape() {
    let sim = Sim::start(50, 1.0).await;
    sim.config(json!({"faults": {"*": {"moderation": 1.0}}}))
        .await;
    let veo_key = [("x-goog-api-key", "sim-veo-key")];
    let op: Value = sim
        .post_json(
            "/veo/v1beta/models/veo-3.1-generate-preview:predictLongRunning",
            &veo_key,
            &json!({"instances": [{"prompt": "x"}]}),
        )
        .await
        .json()
        .await
        .unwrap();
    let bfl: Value = sim
        .post_json(
            "/bfl/v1/flux-pro-1.1",
            &[("x-key", "sim-bfl-key")],
            &json!({"prompt": "x"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let rw: Value = sim
        .post_json("/runway/v1/text_to_video", &RUNWAY, &runway_body(1))
        .await
        .json()
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(150)).await;

    let name = op["name"].as_str().unwrap();
    let (_, veo) = sim
        .get_json(&sim.url(&format!("/veo/v1beta/{name}")), &veo_key)
        .await;
    assert_eq!(veo["done"], true);
    assert_eq!(
        veo["response"]["generateVideoResponse"]["raiMediaFilteredCount"],
        1
    );
    assert!(
        veo["response"]["generateVideoResponse"]
            .get("generatedSamples")
            .is_none()
    );
    let (_, b) = sim
        .get_json(
            bfl["polling_url"].as_str().unwrap(),
            &[("x-key", "sim-bfl-key")],
        )
        .await;
    assert_eq!(b["status"], "Content Moderated");
    assert_eq!(b["result"], Value::Null);
    let (_, t) = sim
        .get_json(
            &sim.url(&format!("/runway/v1/tasks/{}", rw["id"].as_str().unwrap())),
            &RUNWAY,
        )
        .await;
    assert_eq!(t["status"], "FAILED");
    assert_eq!(t["failureCode"], "SAFETY.INPUT.TEXT");
    let r = sim
        .post_json(
            "/elevenlabs/v1/text-to-speech/v",
            &[("xi-api-key", "sim-elevenlabs-key")],
            &json!({"text": "x"}),
        )
        .await;
    assert_eq!(r.status(), 400);
    assert_eq!(sim.stats().await["faults_injected"]["veo"]["moderation"], 1);
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_late_and_out_of_order_callbacks() {
    let sim = Sim::start(200, 1.0).await;
    let rx = Receiver::start().await;
    sim.config(json!({"faults": {
        "kling": {"callback_duplicate": 1.0},
        "luma": {"callback_out_of_order": 1.0, "callback_late_ms": 400},
    }}))
    .await;
    let jwt = format!("Bearer {}", kling_jwt("sim-kling-ak", "sim-kling-sk", 600));
    sim.post_json(
        "/kling/v1/videos/text2video",
        &[("authorization", &jwt)],
        &json!({"prompt": "dup", "callback_url": rx.url("/v1/callbacks/kling/j/s/1")}),
    )
    .await;
    let luma: Value = sim
        .post_json(
            "/luma/dream-machine/v1/generations",
            &[("authorization", "Bearer sim-luma-key")],
            &json!({"prompt": "ooo", "callback_url": rx.url("/v1/callbacks/luma/j/s/1")}),
        )
        .await
        .json()
        .await
        .unwrap();
    let luma_id = luma["id"].as_str().unwrap().to_string();

    // Late: polls show completed before the completed callback arrives
    let polled_done_at = eventually("luma completed by poll", WAIT, || async {
        let (_, g) = sim
            .get_json(
                &sim.url(&format!("/luma/dream-machine/v1/generations/{luma_id}")),
                &[("authorization", "Bearer sim-luma-key")],
            )
            .await;
        (g["state"] == "completed").then(Instant::now)
    })
    .await;
    assert!(
        !rx.received()
            .iter()
            .any(|c| c.json()["state"] == "completed"),
        "callback is late"
    );

    let got = rx
        .wait_until("all callbacks", WAIT, |r| {
            r.iter().filter(|c| c.path.contains("kling")).count() == 3
                && r.iter().filter(|c| c.path.contains("luma")).count() == 3
        })
        .await;
    let kling: Vec<Value> = got
        .iter()
        .filter(|c| c.path.contains("kling"))
        .map(|c| c.json()["task_status"].clone())
        .collect();
    assert_eq!(
        kling,
        [json!("processing"), json!("succeed"), json!("succeed")]
    );
    let luma_states: Vec<Value> = got
        .iter()
        .filter(|c| c.path.contains("luma"))
        .map(|c| c.json()["state"].clone())
        .collect();
    assert_eq!(
        luma_states,
        [json!("dreaming"), json!("completed"), json!("dreaming")],
        "a stale dreaming after completed"
    );
    assert!(polled_done_at.elapsed() < WAIT);

    let stats = sim.stats().await;
    assert_eq!(stats["faults_injected"]["kling"]["callback_duplicate"], 1);
    assert_eq!(stats["faults_injected"]["luma"]["callback_out_of_order"], 1);
    assert_eq!(stats["faults_injected"]["luma"]["callback_late"], 1);
    assert_eq!(stats["callbacks_sent"]["kling"], 3);
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_deliveries_are_retried_with_bounded_backoff() {
    // time_scale 0.01: latency 15 ms, retry delays 10 ms / 50 ms / 200 ms
    let sim = Sim::start(1500, 0.01).await;
    let rx = Receiver::start().await;
    rx.script(&[500, 503]);
    let auth = [("authorization", "Bearer sim-replicate-key")];
    let body = json!({"version": "a/video-model", "input": {"prompt": "retry"}, "webhook": rx.url("/v1/callbacks/replicate/j/s/1"), "webhook_events_filter": ["completed"]});
    sim.post_json("/replicate/v1/predictions", &auth, &body)
        .await;
    let got = rx.wait_until("third attempt", WAIT, |r| r.len() == 3).await;
    let ids: Vec<&str> = got.iter().map(|c| c.header("webhook-id")).collect();
    assert!(
        ids.iter().all(|i| *i == ids[0]),
        "webhook-id is stable across retries"
    );

    // A receiver that never answers 2xx: four attempts, then counted as failed
    let down = Receiver::start().await;
    down.script(&[500, 500, 500, 500, 500]);
    let body = json!({"version": "a/video-model", "input": {"prompt": "never"}, "webhook": down.url("/v1/callbacks/replicate/j/s/2"), "webhook_events_filter": ["completed"]});
    sim.post_json("/replicate/v1/predictions", &auth, &body)
        .await;
    down.wait_until("four attempts", WAIT, |r| r.len() == 4)
        .await;
    let stats = eventually("callbacks_failed", WAIT, || async {
        let s = sim.stats().await;
        (s["callbacks_failed"] == 1).then_some(s)
    })
    .await;
    assert_eq!(stats["callback_attempts"]["replicate"], 7);
    assert_eq!(stats["callbacks_sent"]["replicate"], 1);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(down.received().len(), 4, "no fifth attempt");
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bfl_result_url_expires_after_ten_scaled_minutes() {
    // time_scale 0.002: 10 minutes become 1.2 s; latency 1500 ms becomes 3 ms
    let sim = Sim::start(1500, 0.002).await;
    let sample = bfl_sample(&sim, json!({"prompt": "expiring", "output_format": "png"})).await;
    let fresh = sim.client.get(&sample).send().await.unwrap();
    assert_eq!(fresh.status(), 200);
    assert_eq!(fresh.headers()["content-type"], "image/png");
    tokio::time::sleep(Duration::from_millis(1400)).await;
    let stale = sim.client.get(&sample).send().await.unwrap();
    assert_eq!(stale.status(), 403);
    assert!(stale.text().await.unwrap().contains("AuthenticationFailed"));
    let stats = sim.stats().await;
    assert_eq!(stats["downloads"]["bfl"], 1);
    assert_eq!(stats["expired_downloads"]["bfl"], 1);

    // The expired_output fault expires the URL at completion
    sim.config(json!({"faults": {"bfl": {"expired_output": 1.0}}}))
        .await;
    let sample = bfl_sample(&sim, json!({"prompt": "gone"})).await;
    let r = sim.client.get(&sample).send().await.unwrap();
    assert_eq!(r.status(), 403);
    sim.stop().await;
}

async fn outcomes(seed: u64) -> Vec<u16> {
    let sim = Sim::start(50, 1.0).await;
    sim.config(json!({"seed": seed, "faults": {"runway": {"submit_5xx": 0.5}}}))
        .await;
    let mut out = Vec::new();
    for n in 0..12 {
        out.push(
            sim.post_json("/runway/v1/text_to_video", &RUNWAY, &runway_body(n))
                .await
                .status()
                .as_u16(),
        );
    }
    sim.stop().await;
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_are_deterministic_for_a_seed() {
    let a = outcomes(42).await;
    let b = outcomes(42).await;
    let c = outcomes(43).await;
    assert_eq!(a, b);
    assert_ne!(a, c);
    assert!(a.contains(&500) && a.contains(&200), "{a:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_response_makes_a_blind_retry_a_duplicate() {
    let sim = Sim::start(100, 1.0).await;
    sim.config(json!({"faults": {"sora": {"timeout": {"first": 1}, "timeout_hold_ms": 200, "timeout_then_accept": true}}}))
        .await;
    let headers = [
        ("authorization", "Bearer sim-sora-key"),
        ("idempotency-key", "job_7:shot-1.motion:1"),
    ];
    let body = json!({"prompt": "lost response"});
    let r = sim.post_json("/sora/v1/videos", &headers, &body).await;
    assert_eq!(r.status(), 504);
    let r = sim.post_json("/sora/v1/videos", &headers, &body).await;
    assert_eq!(r.status(), 200);
    let stats = sim.stats().await;
    assert_eq!(stats["submissions"]["sora"], 2);
    assert_eq!(
        stats["submissions_by_task"]["sora:key:job_7:shot-1.motion:1"],
        2
    );
    assert_eq!(
        stats["duplicate_submissions"], 1,
        "Sora does not honor Idempotency-Key by default"
    );

    // Once the key is honored, the retry is absorbed
    sim.config(json!({"honor_idempotency_key": ["sora"], "faults": {"sora": {"timeout": {"first": 1}, "timeout_hold_ms": 200, "timeout_then_accept": true}}}))
        .await;
    let headers = [
        ("authorization", "Bearer sim-sora-key"),
        ("idempotency-key", "job_8:shot-1.motion:1"),
    ];
    assert_eq!(
        sim.post_json("/sora/v1/videos", &headers, &body)
            .await
            .status(),
        504
    );
    let retry: Value = sim
        .post_json("/sora/v1/videos", &headers, &body)
        .await
        .json()
        .await
        .unwrap();
    let stats = sim.stats().await;
    assert_eq!(stats["duplicate_submissions"], 1);
    assert_eq!(stats["idempotent_replays"], 1);
    assert!(retry["id"].as_str().unwrap().starts_with("video_"));
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn asking_again_after_an_output_expired_is_a_regeneration_not_a_duplicate() {
    // Veo's request carries no key: a repeat is known by its body
    let sim = Sim::start(100, 1.0).await;
    sim.config(json!({"faults": {"veo": {"expired_output": 1.0}}}))
        .await;
    let key = [("x-goog-api-key", "sim-veo-key")];
    let path = "/veo/v1beta/models/veo-3.0-generate-001:predictLongRunning";
    let body = json!({"instances": [{"prompt": "a harbour at dawn"}], "parameters": {"aspectRatio": "16:9", "durationSeconds": 8}});
    assert_eq!(sim.post_json(path, &key, &body).await.status(), 200);
    // Done after 100 ms, its output expired at once: the second ask is the only way to get it.
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(sim.post_json(path, &key, &body).await.status(), 200);
    let stats = sim.stats().await;
    assert_eq!(stats["regenerations"], 1, "{stats}");
    assert_eq!(stats["duplicate_submissions"], 0, "{stats}");
    // A third ask while that one is still running is a duplicate.
    assert_eq!(sim.post_json(path, &key, &body).await.status(), 200);
    let stats = sim.stats().await;
    assert_eq!(stats["duplicate_submissions"], 1, "{stats}");
    assert_eq!(stats["regenerations"], 1, "{stats}");
    sim.stop().await;
}
