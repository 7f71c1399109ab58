//! The render job actor on the real stack: brief in, finished render out, resumable.

use std::time::Duration;

use e2e::render::{create, is_terminal, sample_brief, sim_stats, total_submissions, wait_for};
use e2e::{Client, Stack, StackOptions, shared_stack};
use reqwest::StatusCode;
use serde_json::{Value, json};

const RENDER_TIMEOUT: Duration = Duration::from_secs(240);

fn app(stack: &Stack) -> Client {
    Client::new(&stack.worker_url, Some("sk_test_demo"))
}

#[tokio::test]
async fn the_sample_brief_renders_with_every_artifact_in_r2() {
    let stack = shared_stack();
    let client = app(stack);
    let id = create(&client, &sample_brief()).await.expect("create");
    let view = wait_for(&client, &id, RENDER_TIMEOUT, is_terminal)
        .await
        .expect("finish");
    assert_eq!(view["status"], "succeeded", "{view}");
    let stages = view["stages"].as_array().expect("stages");
    // 12 shots x (keyframe + motion), 2 dialogue lines, voiceover, score, assembly.
    assert_eq!(stages.len(), 12 * 2 + 2 + 1 + 1 + 1, "{view}");
    let http = reqwest::Client::new();
    let mut artifacts = 0;
    for stage in stages {
        assert_eq!(stage["status"], "done", "{stage}");
        // Why it was made this way, in Ra's words (the model is in the support view only).
        assert!(
            stage["why"]
                .as_str()
                .is_some_and(|w| w.starts_with("Director, ")),
            "{stage}"
        );
        assert!(stage.get("model").is_none(), "{stage}");
        for artifact in stage["artifacts"].as_array().expect("artifacts") {
            let key = artifact["key"].as_str().expect("key");
            assert!(key.starts_with(&format!("renders/{id}/")), "{key}");
            let url = artifact["url"].as_str().expect("signed url");
            let resp = http.get(url).send().await.expect("download");
            assert_eq!(resp.status(), StatusCode::OK, "{key}");
            let content_type = resp.headers()["content-type"]
                .to_str()
                .unwrap_or("")
                .to_owned();
            let bytes = resp.bytes().await.expect("bytes");
            assert!(!bytes.is_empty(), "{key} is empty");
            assert_eq!(
                Some(bytes.len() as u64),
                artifact["bytes"].as_u64(),
                "{key}"
            );
            assert!(
                ["video/", "image/", "audio/", "text/vtt"]
                    .iter()
                    .any(|p| content_type.starts_with(p)),
                "{key}: {content_type}"
            );
            artifacts += 1;
        }
    }
    assert!(
        artifacts >= stages.len(),
        "every stage has an artifact: {artifacts}"
    );
    assert!(view["master_key"].is_string(), "{view}");
    let aspects: Vec<&str> = view["variants"]
        .as_array()
        .expect("variants")
        .iter()
        .filter_map(|v| v["aspect"].as_str())
        .collect();
    for aspect in ["9:16", "1:1"] {
        assert!(aspects.contains(&aspect), "variants {aspects:?}");
    }
    let total = view["cost_usd"].as_f64().expect("cost");
    assert!(total > 0.0 && total <= 40.0, "cost {total}");
    let by_shot: f64 = view["cost_by_shot"]
        .as_array()
        .expect("by shot")
        .iter()
        .filter_map(|c| c["usd"].as_f64())
        .sum();
    assert!(by_shot <= total + 1e-6, "{by_shot} vs {total}");
}

#[tokio::test]
async fn an_invalid_brief_is_a_400_naming_the_field_and_creates_nothing() {
    let stack = shared_stack();
    let client = app(stack);
    let mut brief = sample_brief();
    brief["shots"][3]["duration_s"] = json!(-2);
    let reply = client.post("/v1/renders", &brief).await.expect("post");
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text);
    assert_eq!(
        reply.json["error"]["field"], "shots[3].duration_s",
        "{}",
        reply.text
    );
    let list = client
        .get("/v1/renders?project=proj_invalid_check")
        .await
        .expect("list");
    assert_eq!(list.json["renders"].as_array().map(Vec::len), Some(0));
    let junk = client
        .post_raw("/v1/renders", b"{not json".to_vec(), "application/json")
        .await
        .expect("post");
    assert_eq!(junk.status, StatusCode::BAD_REQUEST, "{}", junk.text);
}

#[tokio::test]
async fn another_creators_render_is_a_404() {
    let stack = shared_stack();
    let id = create(&app(stack), &sample_brief()).await.expect("create");
    let rival = Client::new(&stack.worker_url, Some("sk_test_rival"));
    let reply = rival.get(&format!("/v1/renders/{id}")).await.expect("get");
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    let cancel = rival
        .post(&format!("/v1/renders/{id}/cancel"), &json!({}))
        .await
        .expect("cancel");
    assert_eq!(cancel.status, StatusCode::NOT_FOUND);
    let missing = app(stack)
        .get("/v1/renders/rnd_00000000000000000000000000000000")
        .await
        .expect("get");
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn polling_with_the_etag_gets_304_until_something_changes() {
    let stack = shared_stack();
    let client = app(stack);
    let id = create(&client, &sample_brief()).await.expect("create");
    let view = wait_for(&client, &id, RENDER_TIMEOUT, is_terminal)
        .await
        .expect("finish");
    assert!(is_terminal(&view));
    let first = client.get(&format!("/v1/renders/{id}")).await.expect("get");
    let tag = first.header("etag").expect("etag").to_owned();
    let again = client
        .send(
            reqwest::Method::GET,
            &format!("/v1/renders/{id}"),
            None,
            &[("if-none-match", &tag)],
        )
        .await
        .expect("get");
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
}

fn slow_sim() -> StackOptions {
    StackOptions {
        sim_env: vec![("SIM_LATENCY_MS".into(), "4000".into())],
        ..Default::default()
    }
}

#[tokio::test]
async fn cancel_stops_every_further_submission() {
    let mut stack = Stack::start_with(slow_sim()).expect("stack");
    let client = app(&stack);
    let id = create(&client, &sample_brief()).await.expect("create");
    wait_for(&client, &id, RENDER_TIMEOUT, |v| {
        v["progress"]["running"].as_u64().unwrap_or(0) > 0
    })
    .await
    .expect("running");
    let reply = client
        .post(&format!("/v1/renders/{id}/cancel"), &json!({}))
        .await
        .expect("cancel");
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.json["status"], "cancelled", "{}", reply.text);
    let before = total_submissions(&sim_stats(&stack.sim_url).await);
    // Longer than every in-flight task takes: their callbacks arrive and must start nothing.
    tokio::time::sleep(Duration::from_secs(8)).await;
    let after = total_submissions(&sim_stats(&stack.sim_url).await);
    assert_eq!(before, after, "no submission after cancel");
    let view = client.get(&format!("/v1/renders/{id}")).await.expect("get");
    assert_eq!(view.json["status"], "cancelled");
    stack.stop();
}

#[tokio::test]
async fn a_render_survives_sigkill_of_its_runtime_without_duplicate_submissions() {
    let mut stack = Stack::start_with(slow_sim()).expect("stack");
    let client = app(&stack);
    let id = create(&client, &sample_brief()).await.expect("create");
    // Kill with provider tasks in flight (running stages whose callbacks and polls the dead
    // runtime will miss) but no submit call in progress: a crash inside a submit call itself
    // is re-submitted on resume, which only a provider's idempotency key can absorb (README).
    // Nor one about to start: a stage ready, or storing an output a dependent waits for, can
    // be submitting a few milliseconds after the poll that saw it (a Veo clip was submitted
    // twice so once, its keyframe stored between the poll and the kill).
    wait_for(&client, &id, RENDER_TIMEOUT, |v| {
        let stages = v["stages"].as_array().cloned().unwrap_or_default();
        v["progress"]["done"].as_u64().unwrap_or(0) >= 3
            && stages.iter().any(|s| s["status"] == "running")
            && stages.iter().all(|s| {
                !matches!(
                    s["status"].as_str(),
                    Some("submitting" | "ready" | "storing")
                )
            })
    })
    .await
    .expect("progress");
    stack.kill_worker();
    tokio::time::sleep(Duration::from_secs(2)).await;
    stack.start_worker().expect("restart");
    let view = wait_for(&client, &id, RENDER_TIMEOUT, is_terminal)
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", stack.worker_log()));
    assert_eq!(view["status"], "succeeded", "{view}");
    let stats: Value = sim_stats(&stack.sim_url).await;
    assert_eq!(stats["duplicate_submissions"], 0, "{stats}");
    stack.stop();
}

#[tokio::test]
async fn the_index_reflects_the_final_status_after_a_sigkill_right_after_the_terminal_step() {
    let mut stack = Stack::start_with(slow_sim()).expect("stack");
    let client = app(&stack);
    let project = e2e::render::unique("durable-index");
    let id = create(&client, &e2e::render::brief_in(&project))
        .await
        .expect("create");
    wait_for(&client, &id, RENDER_TIMEOUT, |v| {
        v["progress"]["running"].as_u64().unwrap_or(0) > 0
    })
    .await
    .expect("running");
    let reply = client
        .post(&format!("/v1/renders/{id}/cancel"), &json!({}))
        .await
        .expect("cancel");
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    // The terminal step is committed; its index write may or may not have left: kill now.
    stack.kill_worker();
    stack.start_worker().expect("restart");
    // The write is re-issued from the alarm until D1 acknowledges it.
    let listed = format!("/v1/renders?project={project}&status=cancelled");
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    loop {
        // Connections pooled before the kill are dead: a failed request is retried.
        let Ok(list) = client.get(&listed).await else {
            assert!(
                std::time::Instant::now() < deadline,
                "the Worker never answered"
            );
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        };
        assert_eq!(list.status, StatusCode::OK, "{}", list.text);
        let ids: Vec<&str> = list.json["renders"]
            .as_array()
            .map(|r| r.iter().filter_map(|r| r["job_id"].as_str()).collect())
            .unwrap_or_default();
        if ids.contains(&id.as_str()) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the index never showed the cancelled status: {}\n{}",
            list.text,
            stack.worker_log()
        );
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    // Support sees the writes settle and the steps that changed nothing counted by kind.
    let support = Client::new(&stack.worker_url, Some("sk_test_support"));
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    loop {
        let view = support
            .get(&format!("/v1/support/renders/{id}"))
            .await
            .expect("support view");
        assert_eq!(view.status, StatusCode::OK, "{}", view.text);
        for kind in ["duplicate_callback", "stale_callback", "noop_tick", "other"] {
            assert!(view.json["skipped_steps"][kind].is_u64(), "{}", view.text);
        }
        if view.json["pending_writes"]
            .as_array()
            .is_some_and(|w| w.is_empty())
        {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "writes never settled: {}",
            view.json["pending_writes"]
        );
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    stack.stop();
}
