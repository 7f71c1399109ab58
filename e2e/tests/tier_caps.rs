//! Per-tier spend caps on the real stack (issue 10): a brief over its creator's tier is a 400
//! naming the field, and renders in flight are capped per creator (409
//! `too_many_renders_in_flight`), also under a burst of concurrent creates, before anything is
//! created. The caps are `studio::api::tier_limits`; `rival` is on the free tier.

use std::time::Duration;

use e2e::render::{brief_in, unique};
use e2e::{Client, StackOptions, shared_stack_with};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use studio::api::tier_limits::Tier;

/// Renders stay in flight for the whole file: every provider takes an hour.
fn options() -> StackOptions {
    StackOptions {
        without_assembler: true,
        sim_env: vec![("SIM_LATENCY_MS".into(), "3600000".into())],
        ..StackOptions::default()
    }
}

fn rival(url: &str) -> Client {
    Client::new(url, Some("sk_test_rival"))
}

async fn create(client: &Client, brief: &Value, key: Option<&str>) -> e2e::client::Reply {
    let headers: Vec<(&str, &str)> = key.map(|k| ("idempotency-key", k)).into_iter().collect();
    client
        .send(Method::POST, "/v1/renders", Some(brief), &headers)
        .await
        .expect("create")
}

async fn listed(client: &Client, project: &str, status: &str) -> usize {
    client
        .get(&format!("/v1/renders?project={project}&status={status}"))
        .await
        .map(|r| r.json["renders"].as_array().map_or(0, Vec::len))
        .unwrap_or(0)
}

/// Cancels the renders and waits until the index shows them cancelled (the job object updates
/// it after answering)
async fn cancel_all(client: &Client, project: &str, ids: &[String]) {
    for id in ids {
        let reply = client
            .post(&format!("/v1/renders/{id}/cancel"), &json!({}))
            .await
            .expect("cancel");
        assert!(reply.status.is_success(), "cancel {id}: {}", reply.text);
    }
    for _ in 0..120 {
        if listed(client, project, "cancelled").await >= ids.len() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("the index never showed {} cancelled renders", ids.len());
}

#[tokio::test]
async fn a_brief_over_the_tier_is_400_naming_the_field() {
    let stack = shared_stack_with(options);
    let free = Tier::Free.limits();
    let project = unique("proj_caps_400");
    let mut over_budget = brief_in(&project);
    over_budget["budget_usd"] = json!(free.max_budget_usd + 1.0);
    let mut over_shots = brief_in(&project);
    let shots = over_shots["shots"].as_array().cloned().unwrap_or_default();
    over_shots["shots"] = Value::Array(
        (0..=free.max_shots)
            .map(|i| {
                let mut shot = shots[i % shots.len()].clone();
                shot["id"] = json!(format!("x{i:03}"));
                shot
            })
            .collect(),
    );
    let client = rival(&stack.worker_url);
    for (brief, field) in [(&over_budget, "budget_usd"), (&over_shots, "shots")] {
        let reply = create(&client, brief, None).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text);
        assert_eq!(
            reply.json["error"]["code"], "over_tier_limit",
            "{}",
            reply.text
        );
        assert_eq!(reply.json["error"]["field"], field, "{}", reply.text);
        assert!(
            reply.json["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("free tier")),
            "{}",
            reply.text
        );
    }
    assert_eq!(
        listed(&client, &project, "queued").await,
        0,
        "nothing was created"
    );
    // The same budget is within the pro tier (demo).
    let demo = Client::new(&stack.worker_url, Some("sk_test_demo"));
    let reply = create(&demo, &over_budget, None).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.text);
    let id = reply.json["job_id"].as_str().unwrap_or_default().to_owned();
    let _ = demo
        .post(&format!("/v1/renders/{id}/cancel"), &json!({}))
        .await;
}

#[tokio::test]
async fn renders_in_flight_are_capped_per_creator_even_in_a_burst() {
    let stack = shared_stack_with(options);
    let cap = Tier::Free.limits().max_in_flight as usize;
    let client = rival(&stack.worker_url);
    let project = unique("proj_caps_flight");
    let brief = brief_in(&project);

    // Up to the cap, then refused with the limit in the message; a replay of an admitted
    // Idempotency-Key still reaches its job.
    let key = unique("caps-key");
    let mut ids = Vec::new();
    for i in 0..cap {
        let reply = create(&client, &brief, (i == 0).then_some(key.as_str())).await;
        assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.text);
        ids.push(reply.json["job_id"].as_str().unwrap_or_default().to_owned());
    }
    let refused = create(&client, &brief, None).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.text);
    assert_eq!(
        refused.json["error"]["code"], "too_many_renders_in_flight",
        "{}",
        refused.text
    );
    assert!(
        refused.text.contains(&format!("at most {cap} renders")),
        "{}",
        refused.text
    );
    let replay = create(&client, &brief, Some(&key)).await;
    assert_eq!(replay.status, StatusCode::ACCEPTED, "{}", replay.text);
    assert_eq!(replay.json["job_id"], ids[0].as_str());

    // Finished renders free their slots; then a burst of concurrent creates admits exactly the cap.
    cancel_all(&client, &project, &ids).await;
    let burst_project = unique("proj_caps_burst");
    let brief = brief_in(&burst_project);
    let burst = futures_util::future::join_all((0..cap * 4).map(|_| {
        let (client, brief) = (client.clone(), brief.clone());
        async move { create(&client, &brief, None).await }
    }))
    .await;
    let admitted: Vec<String> = burst
        .iter()
        .filter(|r| r.status == StatusCode::ACCEPTED)
        .filter_map(|r| r.json["job_id"].as_str().map(str::to_owned))
        .collect();
    let conflicts = burst
        .iter()
        .filter(|r| {
            r.status == StatusCode::CONFLICT
                && r.json["error"]["code"] == "too_many_renders_in_flight"
        })
        .count();
    assert_eq!(
        admitted.len(),
        cap,
        "{:?}",
        burst.iter().map(|r| &r.text).collect::<Vec<_>>()
    );
    assert_eq!(conflicts, cap * 3);
    cancel_all(&client, &burst_project, &admitted).await;
}
