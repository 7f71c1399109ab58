//! Provider limits: per-provider concurrent-task and requests-per-minute caps answered with the
//! provider's own 429 and `Retry-After`, and the gauges of `GET /__sim/stats`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::*;
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(10);

fn kling_auth() -> String {
    format!("Bearer {}", kling_jwt("sim-kling-ak", "sim-kling-sk", 1800))
}

async fn kling_submit(sim: &Sim, body: Value) -> reqwest::Response {
    let auth = kling_auth();
    sim.post_json(
        "/kling/v1/videos/text2video",
        &[("authorization", auth.as_str())],
        &body,
    )
    .await
}

fn kling_shot(n: u32) -> Value {
    json!({"model_name": "kling-v2-6", "prompt": format!("shot {n}")})
}

/// The `Retry-After` of a response, in seconds
fn retry_after(r: &reqwest::Response) -> u64 {
    r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kling_concurrency_cap_refuses_the_third_task_until_one_finishes() {
    let sim = Sim::start(1500, 1.0).await;
    sim.config(json!({"limits": {"kling": {"max_concurrent_tasks": 2}}}))
        .await;
    let (a, b, c) = tokio::join!(
        kling_submit(&sim, kling_shot(1)),
        kling_submit(&sim, kling_shot(2)),
        kling_submit(&sim, kling_shot(3)),
    );
    let mut accepted = Vec::new();
    let mut refused = Vec::new();
    for r in [a, b, c] {
        match r.status().as_u16() {
            200 => accepted.push(r.json::<Value>().await.unwrap()),
            429 => {
                let after = retry_after(&r);
                refused.push((after, r.json::<Value>().await.unwrap()));
            }
            other => panic!("unexpected status {other}"),
        }
    }
    assert_eq!(accepted.len(), 2, "two accepted, refused: {refused:?}");
    assert_eq!(refused.len(), 1);
    let (after, body) = &refused[0];
    assert_eq!(body["code"], 1302, "Kling's rate-limit shape: {body}");
    assert!(body["request_id"].is_string(), "{body}");
    assert!(
        (1..=2).contains(after),
        "the oldest task ends within 1.5 s: {after}"
    );

    let stats = sim.stats().await;
    assert_eq!(stats["rate_limited_by_cap"]["kling"], 1);
    assert_eq!(stats["tasks_in_flight_now"]["kling"], 2);
    assert_eq!(
        stats["submissions"]["kling"], 2,
        "a refusal is not a submission"
    );
    assert!(
        stats["faults_injected"].get("kling").is_none(),
        "not an injected 429"
    );

    // Once a task finishes, a submit passes again
    let id = accepted[0]["data"]["task_id"].as_str().unwrap().to_string();
    let auth = kling_auth();
    eventually("the first task succeeds", WAIT, || async {
        let (_, v) = sim
            .get_json(
                &sim.url(&format!("/kling/v1/videos/text2video/{id}")),
                &[("authorization", auth.as_str())],
            )
            .await;
        (v["data"]["task_status"] == "succeed").then_some(())
    })
    .await;
    let r = kling_submit(&sim, kling_shot(4)).await;
    assert_eq!(r.status(), 200);
    let stats = sim.stats().await;
    assert_eq!(stats["max_concurrent_tasks_seen"]["kling"], 2);
    assert_eq!(stats["submits_in_last_minute"]["kling"], 3);
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idempotent_replay_passes_a_full_concurrency_cap() {
    let sim = Sim::start(5000, 1.0).await;
    sim.config(json!({"limits": {"kling": {"max_concurrent_tasks": 1}}}))
        .await;
    let keyed = json!({"prompt": "keyed", "external_task_id": "job_9:shot-1.motion:1"});
    let r = kling_submit(&sim, keyed.clone()).await;
    assert_eq!(r.status(), 200);
    let first: Value = r.json().await.unwrap();
    let r = kling_submit(&sim, keyed).await;
    assert_eq!(r.status(), 200, "a replay creates no task");
    let replay: Value = r.json().await.unwrap();
    assert_eq!(replay["data"]["task_id"], first["data"]["task_id"]);
    let r = kling_submit(&sim, kling_shot(2)).await;
    assert_eq!(r.status(), 429, "a new task does not fit");
    let stats = sim.stats().await;
    assert_eq!(stats["idempotent_replays"], 1);
    assert_eq!(stats["tasks_in_flight_now"]["kling"], 1);
    assert_eq!(stats["submits_in_last_minute"]["kling"], 2);
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_submit_refused_by_an_injected_fault_frees_its_slot() {
    let sim = Sim::start(5000, 1.0).await;
    sim.config(json!({
        "limits": {"kling": {"max_concurrent_tasks": 1}},
        "faults": {"kling": {"submit_5xx": {"first": 1}}},
    }))
    .await;
    let r = kling_submit(&sim, kling_shot(1)).await;
    assert_eq!(r.status(), 500);
    let r = kling_submit(&sim, kling_shot(2)).await;
    assert_eq!(r.status(), 200, "the refused submit left no task behind");
    let stats = sim.stats().await;
    assert_eq!(stats["tasks_in_flight_now"]["kling"], 1);
    assert!(stats["rate_limited_by_cap"].get("kling").is_none());
    sim.stop().await;
}

const RUNWAY: [(&str, &str); 2] = [
    ("authorization", "Bearer sim-runway-key"),
    ("x-runway-version", "2024-11-06"),
];

fn runway_body(n: u32) -> Value {
    json!({"model": "gen4_turbo", "promptText": format!("shot {n}"), "ratio": "1280:720"})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rpm_cap_refuses_the_fourth_submit_until_the_window_slides() {
    // time_scale 0.02: the minute is 1.2 s
    let sim = Sim::start(100, 0.02).await;
    sim.config(json!({"limits": {"runway": {"requests_per_minute": 3}}}))
        .await;
    for n in 0..3 {
        let r = sim
            .post_json("/runway/v1/text_to_video", &RUNWAY, &runway_body(n))
            .await;
        assert_eq!(r.status(), 200, "submit {n}");
    }
    let r = sim
        .post_json("/runway/v1/text_to_video", &RUNWAY, &runway_body(3))
        .await;
    assert_eq!(r.status(), 429);
    let after = retry_after(&r);
    assert!((1..=2).contains(&after), "the window is 1.2 s: {after}");
    let body: Value = r.json().await.unwrap();
    assert!(body["error"].is_string(), "Runway's error shape: {body}");
    let stats = sim.stats().await;
    assert_eq!(stats["submits_in_last_minute"]["runway"], 3);
    assert_eq!(stats["rate_limited_by_cap"]["runway"], 1);

    tokio::time::sleep(Duration::from_millis(1300)).await;
    let r = sim
        .post_json("/runway/v1/text_to_video", &RUNWAY, &runway_body(3))
        .await;
    assert_eq!(r.status(), 200, "the first submits left the window");
    let stats = sim.stats().await;
    assert_eq!(stats["submits_in_last_minute"]["runway"], 1);
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_limits_every_submit_passes_and_the_peak_is_reported() {
    let sim = Sim::start(3000, 1.0).await;
    let (a, b, c, d, e) = tokio::join!(
        kling_submit(&sim, kling_shot(1)),
        kling_submit(&sim, kling_shot(2)),
        kling_submit(&sim, kling_shot(3)),
        kling_submit(&sim, kling_shot(4)),
        kling_submit(&sim, kling_shot(5)),
    );
    for r in [a, b, c, d, e] {
        assert_eq!(r.status(), 200);
    }
    let stats = sim.stats().await;
    assert_eq!(stats["max_concurrent_tasks_seen"]["kling"], 5);
    assert_eq!(stats["tasks_in_flight_now"]["kling"], 5);
    assert_eq!(stats["submits_in_last_minute"]["kling"], 5);
    assert_eq!(stats["rate_limited_by_cap"], json!({}));
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn elevenlabs_cap_of_one_refuses_a_second_request_while_the_first_is_generated() {
    let sim = Sim::start(1500, 1.0).await;
    sim.config(json!({"limits": {"elevenlabs": {"max_concurrent_tasks": 1}}}))
        .await;
    let key = [("xi-api-key", "sim-elevenlabs-key")];
    let path = "/elevenlabs/v1/text-to-speech/voice_abc";
    let speak = |text: &'static str| {
        let client = sim.client.clone();
        let url = sim.url(path);
        async move {
            client
                .post(url)
                .header(key[0].0, key[0].1)
                .json(&json!({"text": text}))
                .send()
                .await
                .unwrap()
        }
    };
    let first = tokio::spawn(speak("The first line."));
    eventually("the first request is generating", WAIT, || async {
        let stats = sim.stats().await;
        (stats["tasks_in_flight_now"]["elevenlabs"] == 1).then_some(())
    })
    .await;

    let r = speak("The second line.").await;
    assert_eq!(r.status(), 429);
    assert!(retry_after(&r) >= 1);
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        body["detail"]["status"], "too_many_concurrent_requests",
        "ElevenLabs' shape: {body}"
    );

    let first = first.await.unwrap();
    assert_eq!(first.status(), 200);
    let stats = sim.stats().await;
    assert_eq!(
        stats["tasks_in_flight_now"]["elevenlabs"], 0,
        "the task ended with its request"
    );
    let r = speak("The third line.").await;
    assert_eq!(r.status(), 200);
    let stats = sim.stats().await;
    assert_eq!(stats["max_concurrent_tasks_seen"]["elevenlabs"], 1);
    assert_eq!(stats["rate_limited_by_cap"]["elevenlabs"], 1);
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_are_validated_shown_and_cleared_by_reset() {
    let sim = Sim::start(5000, 1.0).await;
    for bad in [
        json!({"limits": {"nope": {"max_concurrent_tasks": 1}}}),
        json!({"limits": {"kling": {"max_concurrent_tasks": 0}}}),
        json!({"limits": {"kling": {"max_tasks": 1}}}),
    ] {
        let r = sim
            .client
            .post(sim.url("/__sim/config"))
            .json(&bad)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{bad}");
    }
    let cfg = sim
        .config(json!({"limits": {
            "*": {"requests_per_minute": 50},
            "kling": {"max_concurrent_tasks": 1},
        }}))
        .await;
    assert_eq!(cfg["limits"]["kling"], json!({"max_concurrent_tasks": 1}));
    assert_eq!(cfg["limits"]["runway"], json!({"requests_per_minute": 50}));
    assert_eq!(kling_submit(&sim, kling_shot(1)).await.status(), 200);
    assert_eq!(kling_submit(&sim, kling_shot(2)).await.status(), 429);

    let r = sim
        .client
        .post(sim.url("/__sim/reset"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (_, cfg) = sim.get_json(&sim.url("/__sim/config"), &[]).await;
    assert_eq!(cfg["limits"], json!({}));
    assert_eq!(kling_submit(&sim, kling_shot(3)).await.status(), 200);
    let stats = sim.stats().await;
    assert_eq!(
        stats["max_concurrent_tasks_seen"]["kling"], 1,
        "since the reset"
    );
    assert_eq!(stats["rate_limited_by_cap"], json!({}));
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_synchronous_task_is_concurrent_for_as_long_as_its_request_is_open() {
    // The generation takes 20 ms, but the first request is held 1.5 s (an accepted timeout):
    // ElevenLabs' answer is the result, so the task is not final until the request ends
    let sim = Sim::start(20, 1.0).await;
    sim.config(json!({
        "limits": {"elevenlabs": {"max_concurrent_tasks": 1}},
        "faults": {"elevenlabs": {
            "timeout": {"first": 1}, "timeout_hold_ms": 1500, "timeout_then_accept": true,
        }},
    }))
    .await;
    let url = sim.url("/elevenlabs/v1/text-to-speech/voice_abc");
    let client = sim.client.clone();
    let held = tokio::spawn(async move {
        client
            .post(url)
            .header("xi-api-key", "sim-elevenlabs-key")
            .json(&json!({"text": "A held line."}))
            .send()
            .await
            .unwrap()
            .status()
    });
    eventually("the held request is accepted", WAIT, || async {
        let stats = sim.stats().await;
        (stats["submissions"]["elevenlabs"] == 1).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let stats = sim.stats().await;
    assert_eq!(
        stats["tasks_in_flight_now"]["elevenlabs"], 1,
        "past its latency"
    );
    let key = [("xi-api-key", "sim-elevenlabs-key")];
    let r = sim
        .post_json(
            "/elevenlabs/v1/text-to-speech/voice_abc",
            &key,
            &json!({"text": "Another line."}),
        )
        .await;
    assert_eq!(r.status(), 429);

    assert_eq!(held.await.unwrap(), 504);
    let stats = sim.stats().await;
    assert_eq!(stats["tasks_in_flight_now"]["elevenlabs"], 0);
    sim.stop().await;
}
