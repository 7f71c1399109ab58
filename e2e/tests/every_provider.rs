//! Every provider adapter in service, end to end through the simulator, with faults injected:
//! support reroutes the sample brief's motion stages so that each video provider runs once, and its
//! assembly to the hosted route (our own assembler has its own tests in `assembly.rs`), the
//! simulator throws 429s with Retry-After, 5xx, malformed bodies, duplicate, late and
//! out-of-order callbacks, and the render still completes with every artifact in R2 and
//! nothing submitted twice.

use std::collections::HashMap;
use std::time::Duration;

use e2e::render::{create, is_terminal, sample_brief, sim_stats, support_view, wait_for};
use e2e::{Client, Stack};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

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
    let mut digests: HashMap<String, String> = HashMap::new();
    for stage in stages {
        for artifact in stage["artifacts"].as_array().into_iter().flatten() {
            let url = artifact["url"].as_str().expect("signed url");
            let resp = http.get(url).send().await.expect("download");
            assert_eq!(resp.status(), StatusCode::OK, "{artifact}");
            let bytes = resp.bytes().await.expect("bytes");
            assert!(!bytes.is_empty(), "{artifact}");
            let stage_id = stage["id"].as_str().unwrap_or_default().to_owned();
            digests.insert(stage_id, hex::encode(Sha256::digest(&bytes)));
        }
    }
    // Veo takes its first frame inline: each Veo stage's submit carried exactly the keyframe
    // stored in R2 (the job keeps the bytes it copied rather than reading them back).
    let tasks = Client::new(&stack.sim_url, None)
        .get("/__sim/tasks")
        .await
        .expect("tasks")
        .json;
    let mut checked = 0;
    for motion in full_stages
        .iter()
        .filter(|s| s["model"].as_str().is_some_and(|m| m.starts_with("veo")))
    {
        let reference = motion["provider_ref"].as_str().expect("provider ref");
        let task = tasks["tasks"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|t| {
                t["provider"] == "veo" && t["id"].as_str().is_some_and(|i| reference.ends_with(i))
            })
            .unwrap_or_else(|| panic!("no simulator task for {reference}: {tasks}"));
        // Its image input: the dependency that is a keyframe (or a long shot's frame)
        let image_dep = motion["deps"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .find(|d| d.ends_with(".keyframe") || d.ends_with(".frame"))
            .expect("a motion stage has an image input");
        let stored = digests.get(image_dep).expect("the keyframe was stored");
        assert_eq!(
            task["inline_image_sha256"].as_str(),
            Some(stored.as_str()),
            "{task}"
        );
        checked += 1;
    }
    assert!(checked >= 2, "both Veo stages checked");

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
