//! A render's timeline as the benchmarks read it: the job's journal (each step's time) and the
//! simulator's record of each task (submit arrival, callbacks sent, downloads), matched by the
//! stage's provider reference.

use serde_json::Value;

use crate::Client;

/// One journal entry, reduced to what the timing needs
#[derive(Debug, Clone)]
pub struct Entry {
    /// When the job took the step, ms since the epoch
    pub at_ms: f64,
    /// The input's type (`callback`, `artifact_stored`, ...)
    pub kind: String,
    /// The stage it names, or empty
    pub stage: String,
    /// The attempt it names, or 0
    pub attempt: u64,
}

/// The whole journal of a render, every page
pub async fn journal(support: &Client, id: &str) -> Result<Vec<Value>, String> {
    let mut all = Vec::new();
    let mut after = 0u64;
    // Bounded: 200 pages of 500 is far beyond a 12-shot render's journal
    for _ in 0..200 {
        let r = support
            .get(&format!(
                "/v1/support/renders/{id}/journal?after={after}&limit=500"
            ))
            .await
            .map_err(|e| e.to_string())?;
        if !r.status.is_success() {
            return Err(format!("journal: {} {}", r.status, r.text));
        }
        all.extend(r.json["entries"].as_array().cloned().unwrap_or_default());
        match r.json["next_after"].as_u64() {
            Some(next) => after = next,
            None => return Ok(all),
        }
    }
    Err("journal: more than 200 pages".into())
}

/// The latest time the job took a `kind` step for `stage`'s `attempt`, no later than `before`
pub fn last_at(
    journal: &[Entry],
    kind: &str,
    stage: &str,
    attempt: u64,
    before: f64,
) -> Option<f64> {
    journal
        .iter()
        .filter(|e| e.kind == kind && e.stage == stage && e.attempt == attempt && e.at_ms <= before)
        .map(|e| e.at_ms)
        .reduce(f64::max)
}

/// The entries of a journal that name an input
pub fn entries(journal: &[Value]) -> Vec<Entry> {
    journal
        .iter()
        .filter_map(|e| {
            Some(Entry {
                at_ms: e["at"].as_f64()?,
                kind: e["input"]["type"].as_str()?.to_owned(),
                stage: e["input"]["stage"].as_str().unwrap_or("").to_owned(),
                attempt: e["input"]["attempt"].as_u64().unwrap_or(0),
            })
        })
        .collect()
}

/// One simulator task, reduced
#[derive(Debug, Clone)]
pub struct SimTask {
    /// The simulated provider
    pub provider: String,
    /// Its task id
    pub id: String,
    /// When the submit arrived, ms since the epoch
    pub received_ms: f64,
    /// The first download of its output: asked, file ready (made by the simulator)
    pub download: Option<(f64, f64)>,
    /// When the first successful `done` callback was sent, and its round trip
    pub done_callback: Option<(f64, f64)>,
    /// When a poll found it done, if one did
    pub done_polled_ms: Option<f64>,
}

fn us_to_ms(v: &Value) -> Option<f64> {
    v.as_u64().map(|us| us as f64 / 1000.0)
}

/// The simulator's `GET /__sim/tasks` answer, reduced
pub fn sim_tasks(v: &Value) -> Vec<SimTask> {
    v["tasks"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| {
            let done_callback = t["deliveries"].as_array().and_then(|ds| {
                ds.iter()
                    .find(|d| d["phase"] == "done" && d["ok"] == true)
                    .and_then(|d| {
                        let sent = us_to_ms(&d["sent_unix_us"])?;
                        Some((sent, us_to_ms(&d["answered_unix_us"])? - sent))
                    })
            });
            let download = t["downloads"].get(0).and_then(|d| {
                Some((
                    us_to_ms(&d["asked_unix_us"])?,
                    us_to_ms(&d["ready_unix_us"])?,
                ))
            });
            Some(SimTask {
                provider: t["provider"].as_str()?.to_owned(),
                id: t["id"].as_str()?.to_owned(),
                received_ms: us_to_ms(&t["received_unix_us"])?,
                download,
                done_callback,
                done_polled_ms: us_to_ms(&t["done_polled_unix_us"]),
            })
        })
        .collect()
}

/// The simulator's task of a stage: the one its provider reference names (a Veo operation
/// name, a BFL polling URL and a Kling path all end in or carry the task id)
pub fn task_of<'a>(stage: &Value, tasks: &'a [SimTask]) -> Option<&'a SimTask> {
    let reference = stage["provider_ref"].as_str()?;
    tasks.iter().find(|t| {
        reference == t.id
            || reference.ends_with(&format!("/{}", t.id))
            || reference.ends_with(&format!("={}", t.id))
    })
}

/// Where one stage's time went between its submit reaching the provider and its result stored
#[derive(Debug, Clone)]
pub struct StageParts {
    /// The stage
    pub stage: String,
    /// The simulated provider
    pub provider: String,
    /// Whether the job learnt the result from a callback (else a poll that found it done)
    pub by_callback: bool,
    /// Submit arrival -> the result signalled (callback sent, or the poll that found it done),
    /// minus the provider's configured latency: the provider slower than asked, ms
    pub over_latency_ms: f64,
    /// Signal -> the job's step for it, ms
    pub delivery_ms: f64,
    /// That step -> the output stored in R2, ms
    pub store_ms: f64,
    /// Of `store_ms`, the step -> the download asked at the simulator, ms
    pub download_asked_ms: Option<f64>,
    /// Of `store_ms`, the simulator making the file (asked -> ready), ms
    pub file_ready_ms: Option<f64>,
    /// The done callback's round trip at the simulator (sent -> answered), ms
    pub callback_round_trip_ms: Option<f64>,
}

/// [`StageParts`] of every done stage the simulator ran, with `latency_ms(provider)` the
/// latency the simulator was given for each provider
pub fn stage_parts(
    stages: &[Value],
    journal: &[Entry],
    tasks: &[SimTask],
    latency_ms: impl Fn(&str) -> f64,
) -> Vec<StageParts> {
    let last_at = |kind: &str, stage: &str, attempt: u64| {
        last_at(journal, kind, stage, attempt, f64::INFINITY)
    };
    stages
        .iter()
        .filter(|s| s["status"] == "done")
        .filter_map(|s| {
            let id = s["id"].as_str()?;
            let attempt = s["attempt"].as_u64()?;
            let task = task_of(s, tasks)?;
            let (by_callback, signal) = match (task.done_callback, task.done_polled_ms) {
                (Some((sent, _)), _) => (true, sent),
                (None, Some(polled)) => (false, polled),
                (None, None) => return None,
            };
            let stored = last_at("artifact_stored", id, attempt)?;
            let step = ["callback", "provider_update"]
                .iter()
                .filter_map(|kind| last_at(kind, id, attempt))
                .filter(|at| *at <= stored)
                .reduce(f64::max)?;
            Some(StageParts {
                stage: id.to_owned(),
                provider: task.provider.clone(),
                by_callback,
                over_latency_ms: signal - task.received_ms - latency_ms(&task.provider),
                delivery_ms: step - signal,
                store_ms: stored - step,
                download_asked_ms: task.download.map(|(asked, _)| asked - step),
                file_ready_ms: task.download.map(|(asked, ready)| ready - asked),
                callback_round_trip_ms: task.done_callback.map(|(_, round_trip)| round_trip),
            })
        })
        .collect()
}
