//! The product's headline case on the real stack: a five-minute faceless-format brief (60 shots
//! of 5 s, a 300 s score) is accepted, renders and assembles a master of about 300 s, its score in
//! as many segments as the registry's longest music call needs (built-in version 6 has a model
//! that makes 300 s in one call; the split itself is tested natively against version 5); a budget below the cheapest plan is refused at create,
//! naming the field and the minimum, and creates nothing.
//!
//! Kept cheap: one platform (a master, no variants), no dialogue, the stack's preview quality,
//! the simulator's media cache.

use std::time::Duration;

use e2e::media::{download, duration_s, probe};
use e2e::render::{create, five_minute_brief, is_terminal, wait_for};
use e2e::{Client, shared_stack};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn a_five_minute_brief_is_accepted_and_assembles_a_300_second_master() {
    let stack = shared_stack();
    let client = Client::new(&stack.worker_url, Some("sk_test_demo"));
    let id = create(&client, &five_minute_brief()).await.expect("create");
    let view = wait_for(&client, &id, Duration::from_secs(900), is_terminal)
        .await
        .expect("finish");
    assert_eq!(view["status"], "succeeded", "{view}");
    let stages = view["stages"].as_array().expect("stages");
    let scores: Vec<&str> = stages
        .iter()
        .filter(|s| s["kind"] == "score")
        .filter_map(|s| s["stage"].as_str().or(s["id"].as_str()))
        .collect();
    let support = Client::new(&stack.worker_url, Some("sk_test_support"));
    let registry = support.get("/v1/support/registry").await.expect("registry");
    assert_eq!(registry.status, StatusCode::OK, "{}", registry.text);
    let longest = registry.json["models"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|m| m["capability"] == "music" && m["retired_from"].is_null())
        .filter_map(|m| m["max_duration_s"].as_f64())
        .fold(0.0_f64, f64::max);
    assert!(
        longest > 0.0,
        "the registry has a music model: {}",
        registry.text
    );
    let segments = (300.0 / longest).ceil() as usize;
    assert_eq!(
        scores.len(),
        segments,
        "the score is made in {segments} segment(s) of at most {longest} s: {scores:?}"
    );
    let url = view["master_url"].as_str().expect("master url");
    let dir = tempfile::tempdir().expect("temp dir");
    let master = dir.path().join("master.mp4");
    download(url, &master).await.expect("download the master");
    let probed = probe(&master).expect("probe");
    let seconds = duration_s(&probed).expect("duration");
    assert!((seconds - 300.0).abs() < 1.0, "master is {seconds} s");
}

#[tokio::test]
async fn a_budget_below_the_cheapest_plan_is_refused_naming_the_minimum() {
    let stack = shared_stack();
    let client = Client::new(&stack.worker_url, Some("sk_test_demo"));
    let mut brief = five_minute_brief();
    brief["budget_usd"] = json!(1.0);
    brief["project_id"] = json!("proj_five_minutes_cheap");
    let reply = client.post("/v1/renders", &brief).await.expect("post");
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text);
    assert_eq!(reply.json["error"]["field"], "budget_usd", "{}", reply.text);
    let message = reply.json["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("minimum budget is $"), "{message}");
    let list = client
        .get("/v1/renders?project=proj_five_minutes_cheap")
        .await
        .expect("list");
    assert_eq!(list.json["renders"].as_array().map(Vec::len), Some(0));
}
