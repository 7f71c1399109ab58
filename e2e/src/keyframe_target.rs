//! A running BFL keyframe to send genuine, signed provider callbacks into: what the callback
//! benchmarks (`bench`, `bench_bare_object`) aim their load at.
//!
//! The simulator is set so BFL never finishes on its own, so the keyframe stays running for the
//! whole run and every progress callback reaches a live attempt.

use std::time::Duration;

use serde_json::{Value, json};
use studio::ids::{Attempt, JobId, StageId};
use studio::providers::ProviderKind;
use studio::providers::config::{DEV_CALLBACK_SECRET, Secret};
use studio::providers::signature::token::callback_url;
use studio::time::Timestamp;

use crate::Client;
use crate::render::{now_ms, wait_for_support};

/// The simulator's BFL webhook secret, with which the callbacks are signed
pub const BFL_WEBHOOK_SECRET: &str = "sim-bfl-webhook-secret";

/// Where a keyframe's callbacks go
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyframeTarget {
    /// Our callback path for the attempt (signed token included)
    pub path: String,
    /// The BFL task id, which the callback body names
    pub task: String,
}

/// Holds every BFL task in flight for an hour: keyframes never finish on their own
pub async fn hold_keyframes(sim: &Client) -> Result<(), String> {
    let reply = sim
        .post(
            "/__sim/config",
            &json!({ "latency_ms": { "bfl": 3_600_000 } }),
        )
        .await
        .map_err(|e| e.to_string())?;
    if !reply.status.is_success() {
        return Err(format!("simulator refused the config: {}", reply.text));
    }
    Ok(())
}

/// A running BFL keyframe stage of job `id`, addressed by our callback URL (read from the
/// support view: the app's view names no model or task id)
pub async fn running_keyframe(client: &Client, id: &str) -> Result<KeyframeTarget, String> {
    let support = client.with_key(Some("sk_test_support"));
    let is_running_keyframe = |st: &Value| {
        st["status"] == "running" && st["model"] == "flux-1.1-pro" && st["provider_ref"].is_string()
    };
    let view = wait_for_support(&support, id, Duration::from_secs(120), |v| {
        v["stages"]
            .as_array()
            .is_some_and(|s| s.iter().any(is_running_keyframe))
    })
    .await?;
    let stage = view["stages"]
        .as_array()
        .and_then(|s| s.iter().find(|st| is_running_keyframe(st)))
        .ok_or("no running keyframe")?;
    let url = callback_url(
        "http://x",
        ProviderKind::Bfl,
        &JobId(id.into()),
        &StageId(stage["id"].as_str().unwrap_or_default().into()),
        Attempt(u32::try_from(stage["attempt"].as_u64().unwrap_or(1)).unwrap_or(1)),
        Timestamp(now_ms() + 3_600_000),
        &Secret::new(DEV_CALLBACK_SECRET),
    );
    let path = url
        .split_once("://")
        .and_then(|(_, r)| r.split_once('/'))
        .map(|(_, p)| format!("/{p}"))
        .ok_or("callback url without a path")?;
    let task = stage["provider_ref"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    Ok(KeyframeTarget { path, task })
}

/// A BFL progress webhook body for the task (its `n`th), and its signature with `secret`
pub fn progress_callback(task: &str, n: usize, secret: &str) -> Result<(String, String), String> {
    let body = json!({ "id": task, "status": "Pending", "progress": (n % 100) as f64 / 100.0 })
        .to_string();
    let signature = studio::providers::signature::bfl::sign(secret, body.as_bytes())
        .map_err(|e| e.to_string())?;
    Ok((body, signature))
}
