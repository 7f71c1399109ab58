//! Helpers for tests that drive renders end to end.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::Client;
use crate::client::Reply;

/// The sample brief the project ships
pub fn sample_brief() -> Value {
    let text = include_str!("../../examples/brief.json");
    serde_json::from_str(text).unwrap_or(Value::Null)
}

/// The product's headline case: a five-minute faceless-format brief (narration and a score
/// over 60 five-second shots of establishing, b-roll and close-up footage; no cast, no
/// dialogue), one platform, $60, an hour's deadline
pub fn five_minute_brief() -> Value {
    let mut brief = sample_brief();
    let shots: Vec<Value> = (0..60)
        .map(|i| {
            let kind = ["establishing", "b_roll", "close_up"][i % 3];
            json!({"id": format!("f{:02}", i + 1), "kind": kind,
                   "prompt": format!("chapter {} of the lighthouse story, archival texture", i / 6 + 1),
                   "duration_s": 5.0})
        })
        .collect();
    brief["format"] = json!("faceless");
    brief["platforms"] = json!(["youtube"]);
    brief["cast"] = json!([]);
    brief["shots"] = json!(shots);
    brief["pacing"] = json!({"target_duration_s": 300.0, "energy": "steady"});
    brief["score"] = json!({"mood": "slow ambient pulse", "duration_s": 300.0});
    brief["voiceover"] =
        json!({"text": "Five minutes on the last lighthouse keeper.", "voice": "narrator"});
    brief["budget_usd"] = json!(60.0);
    brief["deadline_s"] = json!(3600);
    brief["project_id"] = json!("proj_five_minutes");
    brief
}

/// Creates a render and returns its id, or the reply text on failure
pub async fn create(client: &Client, brief: &Value) -> Result<String, String> {
    let reply = client
        .post("/v1/renders", brief)
        .await
        .map_err(|e| e.to_string())?;
    created_job_id(&reply)
}

/// The job id of a create's 202; any other answer is the error
pub fn created_job_id(reply: &Reply) -> Result<String, String> {
    if reply.status.as_u16() != 202 {
        return Err(format!("create answered {}: {}", reply.status, reply.text));
    }
    reply.json["job_id"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("no job_id in {}", reply.text))
}

/// Polls a render until `done(view)` or the timeout; returns the last view
pub async fn wait_for(
    client: &Client,
    id: &str,
    timeout: Duration,
    done: impl Fn(&Value) -> bool,
) -> Result<Value, String> {
    poll(client, &format!("/v1/renders/{id}"), timeout, done).await
}

/// As [`wait_for`], on the support view (`support` holds a support key): the view that names
/// each stage's model, attempts, provider task ids and routing decision, which the app's view
/// never does
pub async fn wait_for_support(
    support: &Client,
    id: &str,
    timeout: Duration,
    done: impl Fn(&Value) -> bool,
) -> Result<Value, String> {
    poll(support, &format!("/v1/support/renders/{id}"), timeout, done).await
}

/// A render's support view now (`support` holds a support key)
pub async fn support_view(support: &Client, id: &str) -> Result<Value, String> {
    let r = support
        .get(&format!("/v1/support/renders/{id}"))
        .await
        .map_err(|e| e.to_string())?;
    if r.status.is_success() {
        Ok(r.json)
    } else {
        Err(format!("support view: {} {}", r.status, r.text))
    }
}

async fn poll(
    client: &Client,
    path: &str,
    timeout: Duration,
    done: impl Fn(&Value) -> bool,
) -> Result<Value, String> {
    poll_every(client, path, timeout, done, Duration::from_millis(250)).await
}

/// As [`wait_for`], polling every `every`: a run of many renders at once polls each more slowly,
/// so that its own polling does not become the load it measures
pub async fn wait_for_every(
    client: &Client,
    id: &str,
    timeout: Duration,
    done: impl Fn(&Value) -> bool,
    every: Duration,
) -> Result<Value, String> {
    poll_every(client, &format!("/v1/renders/{id}"), timeout, done, every).await
}

async fn poll_every(
    client: &Client,
    path: &str,
    timeout: Duration,
    done: impl Fn(&Value) -> bool,
    every: Duration,
) -> Result<Value, String> {
    let started = Instant::now();
    let mut last = Value::Null;
    while started.elapsed() < timeout {
        match client.get(path).await {
            Ok(r) if r.status.is_success() => {
                last = r.json;
                if done(&last) {
                    return Ok(last);
                }
            }
            // A restarting worker refuses connections for a moment: keep polling.
            Ok(_) | Err(_) => {}
        }
        tokio::time::sleep(every).await;
    }
    Err(format!("timed out after {timeout:?}; last view: {last}"))
}

/// Whether a view is in a terminal status
pub fn is_terminal(view: &Value) -> bool {
    matches!(
        view["status"].as_str(),
        Some("succeeded" | "failed" | "cancelled")
    )
}

/// The simulator's counters
pub async fn sim_stats(sim_url: &str) -> Value {
    let client = Client::new(sim_url, None);
    client
        .get("/__sim/stats")
        .await
        .map(|r| r.json)
        .unwrap_or(Value::Null)
}

/// Total submissions the simulator has counted across providers
pub fn total_submissions(stats: &Value) -> u64 {
    stats["submissions"]
        .as_object()
        .map(|m| m.values().filter_map(Value::as_u64).sum())
        .unwrap_or(0)
}

/// A name no other test (or earlier run) uses: `{prefix}_{nanos}_{n}`
pub fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{prefix}_{nanos}_{}", N.fetch_add(1, Ordering::SeqCst))
}

/// The sample brief under another project id (so a test can list exactly its own renders)
pub fn brief_in(project: &str) -> Value {
    let mut brief = sample_brief();
    brief["project_id"] = Value::String(project.to_owned());
    brief
}

/// Now, ms since the epoch
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// A support action; returns the reply
pub async fn act(support: &Client, id: &str, action: Value) -> Result<Reply, reqwest::Error> {
    support
        .post(&format!("/v1/support/renders/{id}/actions"), &action)
        .await
}
