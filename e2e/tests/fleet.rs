//! Ra at fleet scale, on the real runtime: provider gates shared by every job, support's view of
//! the fleet, and the model registry as data.

use std::time::Duration;

use e2e::fault_run::small_render;
use e2e::render::{create, is_terminal, sim_stats, unique, wait_for};
use e2e::{Client, StackOptions, shared_stack_with};
use serde_json::{Value, json};

/// Every provider account allows 2 tasks at once, at the gate and at the simulator
const CAP: u64 = 2;

fn stack() -> &'static e2e::Stack {
    shared_stack_with(|| StackOptions {
        worker_vars: vec![(
            "PROVIDER_LIMITS".into(),
            json!({ "*": { "max_concurrent": CAP } }).to_string(),
        )],
        ..StackOptions::default()
    })
}

/// A three-shot brief whose texts are unique to `n`, in its own project
fn small_brief(n: usize) -> Value {
    let mut brief = small_render(3, n);
    brief["project_id"] = json!(unique("proj_fleet"));
    brief
}

#[tokio::test]
async fn jobs_share_each_providers_gate_and_never_exceed_it() {
    let stack = stack();
    let sim = Client::new(&stack.sim_url, None);
    let limits = json!({ "limits": { "*": { "max_concurrent_tasks": CAP } } });
    let r = sim
        .post("/__sim/config", &limits)
        .await
        .expect("sim config");
    assert!(r.status.is_success(), "{}", r.text);
    let app = Client::new(&stack.worker_url, Some("sk_test_demo"));
    let mut ids = Vec::new();
    for i in 0..3 {
        ids.push(create(&app, &small_brief(i)).await.expect("create"));
    }
    for id in &ids {
        let view = wait_for(&app, id, Duration::from_secs(600), is_terminal)
            .await
            .expect("finish");
        assert_eq!(view["status"], "succeeded", "{id}: {}", view["failure"]);
    }
    let stats = sim_stats(&stack.sim_url).await;
    let peaks = stats["max_concurrent_tasks_seen"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    assert!(
        !peaks.is_empty(),
        "the simulator reports its peaks: {stats}"
    );
    for (provider, peak) in &peaks {
        assert!(
            peak.as_u64().unwrap_or(0) <= CAP,
            "{provider} ran {peak} tasks at once (cap {CAP})"
        );
    }
    // Three jobs of three shots each: the keyframe provider alone had more work than its cap.
    assert!(
        peaks.values().any(|p| p.as_u64() == Some(CAP)),
        "some provider was used up to its cap: {peaks:?}"
    );
    let refused = stats["rate_limited_by_cap"]
        .as_object()
        .map(|m| m.values().filter_map(Value::as_u64).sum::<u64>())
        .unwrap_or(0);
    assert_eq!(
        refused, 0,
        "the gates kept every submit under the caps: {stats}"
    );
    let r = sim
        .post("/__sim/config", &json!({ "limits": {} }))
        .await
        .expect("sim config");
    assert!(r.status.is_success());
}

#[tokio::test]
async fn support_sees_every_providers_gate() {
    let stack = stack();
    let support = Client::new(&stack.worker_url, Some("sk_test_support"));
    let r = support
        .get("/v1/support/providers")
        .await
        .expect("providers");
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    let providers = r.json["providers"].as_array().cloned().unwrap_or_default();
    let kling = providers
        .iter()
        .find(|p| p["provider"] == "kling")
        .unwrap_or_else(|| panic!("kling is listed: {}", r.text));
    assert_eq!(kling["gate"]["limits"]["max_concurrent"], CAP);
    assert!(kling["gate"]["slots"].is_array());
    assert!(kling["models"].is_array());
    // An app key does not see the fleet.
    let app = Client::new(&stack.worker_url, Some("sk_test_demo"));
    let r = app.get("/v1/support/providers").await.expect("providers");
    assert_eq!(r.status.as_u16(), 403);
}

#[tokio::test]
async fn a_published_version_retires_a_model_for_new_jobs_and_a_bad_one_changes_nothing() {
    let stack = stack();
    let support = Client::new(&stack.worker_url, Some("sk_test_support"));
    let admin = Client::new(&stack.worker_url, Some("sk_test_support_admin"));
    let before = support.get("/v1/support/registry").await.expect("registry");
    assert_eq!(before.status.as_u16(), 200, "{}", before.text);
    let latest = before.json["latest"].as_u64().expect("latest version");
    // A bad version is refused whole, naming the field.
    let bad = json!({ "note": "typo", "edits": [
        { "op": "set_rollout", "model": "flux-1.1-pro", "rollout_percent": 150 }
    ]});
    let r = admin
        .post("/v1/admin/registry", &bad)
        .await
        .expect("publish");
    assert_eq!(r.status.as_u16(), 400, "{}", r.text);
    assert!(
        r.json["error"]["field"]
            .as_str()
            .is_some_and(|f| f.contains("rollout_percent")),
        "{}",
        r.text
    );
    // Read-only support may not publish.
    let r = support
        .post("/v1/admin/registry", &bad)
        .await
        .expect("publish");
    assert_eq!(r.status.as_u16(), 403, "{}", r.text);
    let unchanged = support.get("/v1/support/registry").await.expect("registry");
    assert_eq!(unchanged.json["latest"].as_u64(), Some(latest));
    // Retire the keyframe model a new job would pick first.
    let retire = json!({ "note": "provider outage: move keyframes off flux-1.1-pro", "edits": [
        { "op": "retire", "model": "flux-1.1-pro" }
    ]});
    let r = admin
        .post("/v1/admin/registry", &retire)
        .await
        .expect("publish");
    assert_eq!(r.status.as_u16(), 201, "{}", r.text);
    assert_eq!(r.json["version"].as_u64(), Some(latest + 1));
    let after = support.get("/v1/support/registry").await.expect("registry");
    assert_eq!(after.json["latest"].as_u64(), Some(latest + 1));
    assert!(
        after.json["versions"][0]["changes"]
            .to_string()
            .contains("flux-1.1-pro"),
        "{}",
        after.text
    );
    // A new job pins the new version and never routes a keyframe to the retired model.
    let app = Client::new(&stack.worker_url, Some("sk_test_demo"));
    let id = create(&app, &small_brief(100)).await.expect("create");
    let view = wait_for(&app, &id, Duration::from_secs(600), is_terminal)
        .await
        .expect("finish");
    assert_eq!(view["status"], "succeeded", "{}", view["failure"]);
    let sview = support
        .get(&format!("/v1/support/renders/{id}"))
        .await
        .expect("support view");
    assert_eq!(sview.json["registry_version"].as_u64(), Some(latest + 1));
    for stage in sview.json["stages"].as_array().cloned().unwrap_or_default() {
        let candidates = stage["decision"]["candidates"].to_string();
        assert!(
            !candidates.contains("\"flux-1.1-pro\""),
            "{} still routes to the retired model: {candidates}",
            stage["id"]
        );
    }
}

/// The gate's view of every provider, by name
async fn gates(support: &Client) -> Vec<Value> {
    let r = support
        .get("/v1/support/providers")
        .await
        .expect("providers");
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    r.json["providers"].as_array().cloned().unwrap_or_default()
}

/// Slots held at a provider's gate by the vanished holder of `/__dev/gates/{p}/hold`
fn vanished_slots(gate: &Value) -> usize {
    gate["gate"]["slots"]
        .as_array()
        .map(|s| {
            s.iter()
                .filter(|l| l["key"]["job"] == "rnd_dev_vanished_holder")
                .count()
        })
        .unwrap_or(0)
}

#[tokio::test]
async fn a_holder_that_vanishes_loses_its_slot_when_the_lease_ends_and_a_waiting_job_gets_it() {
    let stack = stack();
    let support = Client::new(&stack.worker_url, Some("sk_test_support"));
    let admin = Client::new(&stack.worker_url, Some("sk_test_support_admin"));
    let lease_ms: u64 = 20_000;
    // Only admin support may take a slot for a holder that vanishes.
    let r = support
        .post(
            "/__dev/gates/kling/hold",
            &json!({ "holder": "x", "lease_ms": lease_ms }),
        )
        .await
        .expect("hold");
    assert_eq!(r.status.as_u16(), 403, "{}", r.text);
    // Every slot of every provider goes to holders that never renew nor release, as jobs
    // killed for good mid-task would leave them.
    let before = gates(&support).await;
    let expired_before: u64 = before
        .iter()
        .filter_map(|g| g["gate"]["leases_expired_total"].as_u64())
        .sum();
    for gate in &before {
        let provider = gate["provider"].as_str().expect("provider name");
        for holder in ["a", "b"] {
            let r = admin
                .post(
                    &format!("/__dev/gates/{provider}/hold"),
                    &json!({ "holder": holder, "lease_ms": lease_ms }),
                )
                .await
                .expect("hold");
            assert_eq!(r.status.as_u16(), 200, "{provider}: {}", r.text);
        }
    }
    let held = gates(&support).await;
    assert!(
        held.iter().any(|g| vanished_slots(g) as u64 == CAP),
        "the vanished holders hold whole gates: {held:?}"
    );
    // A render started now waits for those slots, and says so.
    let app = Client::new(&stack.worker_url, Some("sk_test_demo"));
    let id = create(&app, &small_brief(9_001)).await.expect("create");
    let seen_waiting = async {
        for _ in 0..40 {
            let r = support
                .get(&format!("/v1/support/renders/{id}"))
                .await
                .expect("support view");
            let stages = r.json["stages"].as_array().cloned().unwrap_or_default();
            if let Some(w) = stages.iter().find_map(|s| s["waiting"].as_str()) {
                return Some(w.to_owned());
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        None
    }
    .await;
    let waiting = seen_waiting.expect("a stage waited for a held slot");
    assert!(waiting.contains("slot"), "{waiting}");
    // The leases run out, the slots go to the waiting stages, and nothing of the render is lost.
    let view = wait_for(&app, &id, Duration::from_secs(600), is_terminal)
        .await
        .expect("finish");
    assert_eq!(view["status"], "succeeded", "{}", view["failure"]);
    let after = gates(&support).await;
    for gate in &after {
        assert_eq!(
            vanished_slots(gate),
            0,
            "a vanished holder kept a slot: {gate}"
        );
    }
    let expired_after: u64 = after
        .iter()
        .filter_map(|g| g["gate"]["leases_expired_total"].as_u64())
        .sum();
    assert!(
        expired_after >= expired_before + 2,
        "the vanished holders' leases ran out: {expired_before} -> {expired_after}"
    );
}
