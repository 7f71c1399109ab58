//! Every provider adapter in service, end to end through the simulator, with faults injected:
//! support reroutes the sample brief's motion stages so that each video provider runs once, and its
//! assembly to the hosted route (our own assembler has its own tests in `assembly.rs`), the
//! simulator throws 429s with Retry-After, 5xx, malformed bodies, duplicate, late and
//! out-of-order callbacks, and the render still completes with every artifact in R2 and
//! nothing submitted twice.

use std::time::Duration;

use e2e::render::{create, is_terminal, sample_brief, sim_stats, support_view, wait_for};
use e2e::{Client, Stack};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Stage -> the model support puts on it (one per video provider, and the hosted assembler)
const REROUTES: [(&str, &str); 10] = [
    ("s01.motion", "veo-3"),
    ("s02.motion", "veo-3.1"),
    ("s03.motion", "runway-gen4-turbo"),
    ("s04.motion", "kling-2.1"),
    ("s05.motion", "pika-2.2"),
    ("s06.motion", "luma-ray-2"),
    ("s07.motion", "seedance-1-pro"),
    ("s08.motion", "hailuo-02"),
    ("s11.motion", "wan-2.2"),
    ("assembly", "shotstack-edit"),
];

fn faults() -> Value {
    json!({
        "seed": 7,
        "faults": {
            "*": {
                "submit_429": { "first": 1 },
                "retry_after_s": 1,
                "callback_duplicate": 0.5,
                "callback_out_of_order": 0.3,
                "callback_late_ms": 300
            },
            "kling": { "submit_5xx": { "first": 1 } },
            "luma": { "malformed": { "first": 1 } },
            "seedance": { "submit_5xx": { "first": 1 } }
        }
    })
}

async fn act(support: &Client, id: &str, body: Value) {
    let reply = support
        .post(&format!("/v1/support/renders/{id}/actions"), &body)
        .await
        .expect("action");
    assert_eq!(reply.status, StatusCode::OK, "{body}: {}", reply.text);
}

#[tokio::test]
async fn every_provider_renders_through_the_simulator_with_faults_injected() {
    let mut stack = Stack::start().expect("stack");
    let sim = Client::new(&stack.sim_url, None);
    let configured = sim.post("/__sim/config", &faults()).await.expect("config");
    assert!(configured.status.is_success(), "{}", configured.text);
    let app = Client::new(&stack.worker_url, Some("sk_test_demo"));
    let support = Client::new(&stack.worker_url, Some("sk_test_support_admin"));

    // Hold the job before anything is submitted, put one video provider on each motion stage,
    // then let it run.
    let id = create(&app, &sample_brief()).await.expect("create");
    act(
        &support,
        &id,
        json!({ "action": "pause", "reason": "provider coverage test" }),
    )
    .await;
    wait_for(&app, &id, Duration::from_secs(60), |v| {
        v["stages"].as_array().is_some_and(|s| s.len() > 1)
    })
    .await
    .expect("planned");
    for (stage, model) in REROUTES {
        act(&support, &id, json!({ "action": "reroute", "stage": stage, "model": model, "reason": "cover every provider" })).await;
    }
    act(
        &support,
        &id,
        json!({ "action": "resume", "reason": "rerouted" }),
    )
    .await;

    let view = wait_for(&app, &id, Duration::from_secs(300), is_terminal)
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", stack.worker_log()));
    assert_eq!(view["status"], "succeeded", "{view}");
    let stages = view["stages"].as_array().expect("stages");
    // Which model made each stage is support's to read; the app's view names none.
    let full = support_view(&support, &id).await.expect("support view");
    let full_stages = full["stages"].as_array().expect("stages");
    for (stage, model) in REROUTES {
        let row = full_stages
            .iter()
            .find(|s| s["id"] == stage)
            .expect("stage");
        assert_eq!(row["model"], model, "{row}");
    }
    let http = reqwest::Client::new();
    for stage in stages {
        for artifact in stage["artifacts"].as_array().into_iter().flatten() {
            let url = artifact["url"].as_str().expect("signed url");
            let resp = http.get(url).send().await.expect("download");
            assert_eq!(resp.status(), StatusCode::OK, "{artifact}");
            assert!(!resp.bytes().await.expect("bytes").is_empty(), "{artifact}");
        }
    }

    let stats = sim_stats(&stack.sim_url).await;
    for provider in [
        "veo",
        "kling",
        "runway",
        "fal",
        "luma",
        "seedance",
        "hailuo",
        "bfl",
        "elevenlabs",
        "minimax_music",
        "replicate",
        "shotstack",
    ] {
        assert!(
            stats["submissions"][provider].as_u64().unwrap_or(0) >= 1,
            "{provider} never ran: {stats}"
        );
    }
    // Sora 2 is retired (registry v6): its adapter stays for jobs pinned to older versions,
    // but no new job submits to it.
    assert_eq!(
        stats["submissions"]["sora"].as_u64().unwrap_or(0),
        0,
        "{stats}"
    );
    assert_eq!(stats["duplicate_submissions"], 0, "{stats}");
    let injected: u64 = stats["faults_injected"]
        .as_object()
        .map(|m| {
            m.values()
                .flat_map(|v| v.as_object().into_iter().flat_map(|o| o.values()))
                .filter_map(Value::as_u64)
                .sum()
        })
        .unwrap_or(0);
    assert!(injected > 0, "faults were injected: {stats}");
    stack.stop();
}
