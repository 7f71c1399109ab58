//! Many renders at once against a simulator that injects transient faults: what the fault
//! benchmark (`--bin bench_faults`) and the short end-to-end check (`tests/transient_faults.rs`)
//! both run.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::Client;
use crate::render::{create, is_terminal, sample_brief, sim_stats, wait_for_every};

/// The transient faults of a run, at `rate` each: 5xx and 429 on submit, expired output URLs,
/// duplicate callbacks, and every callback late (never moderation or refusals: those are
/// permanent, and may fail a render)
pub fn transient_faults(rate: f64) -> Value {
    json!({"seed": 7, "faults": {"*": {
        "submit_5xx": rate,
        "submit_429": rate,
        "retry_after_s": 2,
        "expired_output": rate,
        "callback_duplicate": rate,
        "callback_late_ms": 500
    }}})
}

/// A small render: the sample brief's first `shots` shots, one platform, its narration and
/// score, a long deadline
pub fn small_render(shots: usize, n: usize) -> Value {
    let mut brief = sample_brief();
    if let Some(list) = brief["shots"].as_array_mut() {
        list.truncate(shots);
    }
    let total: f64 = brief["shots"]
        .as_array()
        .map(|l| l.iter().filter_map(|s| s["duration_s"].as_f64()).sum())
        .unwrap_or(0.0);
    brief["pacing"]["target_duration_s"] = json!(total);
    brief["score"]["duration_s"] = json!(total);
    brief["platforms"] = json!(["youtube"]);
    brief["deadline_s"] = json!(7200);
    brief["project_id"] = json!(format!("proj_faults_{n}"));
    unique_texts(&mut brief, n);
    brief
}

/// Makes every text a provider sees unique to render `n`: the simulator tells a repeat of one
/// request from a new one by its body where no key or callback URL names the attempt (Veo,
/// ElevenLabs, MiniMax music), so identical briefs would read as duplicate submissions
pub fn unique_texts(brief: &mut Value, n: usize) {
    let tag = |v: &mut Value| {
        if let Some(text) = v.as_str() {
            *v = json!(format!("{text} (take {n})"));
        }
    };
    if let Some(list) = brief["shots"].as_array_mut() {
        for shot in list {
            tag(&mut shot["prompt"]);
            if shot["dialogue"].is_object() {
                tag(&mut shot["dialogue"]["line"]);
            }
        }
    }
    tag(&mut brief["voiceover"]["text"]);
    tag(&mut brief["score"]["mood"]);
}

/// How a run ended
#[derive(Debug, Clone, Default)]
pub struct RunReport {
    /// Renders that succeeded
    pub succeeded: usize,
    /// Renders that ended otherwise (with their failure)
    pub failed: Vec<String>,
    /// Their total cost, USD
    pub cost_usd: f64,
    /// Submissions the simulator counted twice (no idempotency key absorbed them)
    pub duplicate_submissions: u64,
    /// Requests the simulator saw again after their output expired or their task failed (the
    /// new generation a job asks for, not a duplicate)
    pub regenerations: u64,
    /// Faults the simulator injected, by kind
    pub faults: Value,
    /// Wall time of the run
    pub elapsed: Duration,
}

/// Configures the simulator's faults (`faults` as `POST /__sim/config` takes them), starts
/// `renders` renders of `shots` shots at once and waits for all of them
pub async fn run(
    worker_url: &str,
    sim_url: &str,
    faults: &Value,
    renders: usize,
    shots: usize,
    timeout: Duration,
) -> Result<RunReport, String> {
    let sim = Client::new(sim_url, None);
    let reset = sim
        .post("/__sim/reset", &json!({}))
        .await
        .map_err(|e| e.to_string())?;
    if !reset.status.is_success() {
        return Err(format!("reset: {}", reset.text));
    }
    let set = sim
        .post("/__sim/config", faults)
        .await
        .map_err(|e| e.to_string())?;
    if !set.status.is_success() {
        return Err(format!("config: {}", set.text));
    }
    // The studio tier admits 100 renders in flight (pro: 20), what the benchmark starts at once.
    let app = Client::new(worker_url, Some("sk_test_studio"));
    let started = Instant::now();
    let mut ids = Vec::with_capacity(renders);
    for n in 0..renders {
        ids.push(create(&app, &small_render(shots, n)).await?);
    }
    // About 50 polls a second in all, whatever the number of renders
    let every = Duration::from_millis(
        u64::try_from(renders)
            .unwrap_or(u64::MAX)
            .saturating_mul(20)
            .max(250),
    );
    let waits = ids
        .iter()
        .map(|id| wait_for_every(&app, id, timeout, is_terminal, every));
    let views = futures_util::future::join_all(waits).await;
    let mut report = RunReport {
        elapsed: started.elapsed(),
        ..RunReport::default()
    };
    for (id, view) in ids.iter().zip(views) {
        let view = view?;
        report.cost_usd += view["cost_usd"].as_f64().unwrap_or(0.0);
        if view["status"] == "succeeded" {
            report.succeeded += 1;
        } else {
            report
                .failed
                .push(format!("{id}: {} {}", view["status"], view["failure"]));
        }
    }
    let stats = sim_stats(sim_url).await;
    report.duplicate_submissions = stats["duplicate_submissions"].as_u64().unwrap_or(0);
    report.regenerations = stats["regenerations"].as_u64().unwrap_or(0);
    report.faults = stats["faults_injected"].clone();
    Ok(report)
}
