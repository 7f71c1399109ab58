//! `make bench`, end-to-end part: figures measured on the real local stack, each as a ratio
//! against a baseline measured in the same run.
//!
//! 1. Callback cost against job size: genuine, signed provider callbacks (BFL progress
//!    webhooks) into a 12-shot, a 500-shot and a 1,000-shot job (the most a brief may have),
//!    interleaved; ratios of medians. Then a 12-shot and the 500-shot create, timed several
//!    times with their `Server-Timing` split, through `wrangler dev` and again on workerd alone
//!    (no dev proxy, as on the platform), and each job object's stored size and load time from
//!    SQLite after an eviction.
//! 2. Orchestration overhead on the critical path: the sample brief rendered with the
//!    simulator's latency of every model set to its registry median (scaled), divided by the
//!    makespan of an ideal zero-overhead schedule of the same DAG with the same per-model
//!    concurrency limits and latencies. On workerd alone (`WORKER_RUNTIME=wrangler` runs it
//!    through `wrangler dev`).

use std::time::{Duration, Instant};

use e2e::keyframe_target::{
    self, BFL_WEBHOOK_SECRET, KeyframeTarget, hold_keyframes, running_keyframe,
};
use e2e::render::{create, is_terminal, sample_brief, support_view, wait_for};
use e2e::schedule::SimLatencies;
use e2e::{Client, Stack, StackOptions, WorkerRuntime};
use serde_json::{Value, json};

/// Latencies of the critical-path run are the registry medians times this
const LATENCY_SCALE: f64 = 0.25;
/// Callbacks per job in the scaling run (after warm-up)
const CALLBACKS: usize = 150;
const WARM_UP: usize = 20;

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

fn p90(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() * 9 / 10).copied().unwrap_or(f64::NAN)
}

/// The longest a benchmark brief runs, seconds (a master may last an hour)
const MAX_TOTAL_S: f64 = 3000.0;
/// Shots of the largest job: the most a brief may have (`studio::brief::MAX_SHOTS`)
const HUGE_SHOTS: usize = 2000;

/// A brief with `n` shots, cycling the sample's shots
fn big_brief(n: usize) -> Value {
    let mut brief = sample_brief();
    let shots: Vec<Value> = brief["shots"].as_array().cloned().unwrap_or_default();
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let mut shot = shots
            .get(i % shots.len().max(1))
            .cloned()
            .unwrap_or(Value::Null);
        shot["id"] = json!(format!("s{:03}", i + 1));
        out.push(shot);
    }
    // Shots shortened alike where the sample's lengths would pass the hour a master may last
    let total: f64 = out.iter().filter_map(|s| s["duration_s"].as_f64()).sum();
    let shrink = (MAX_TOTAL_S / total).min(1.0);
    for shot in &mut out {
        if let Some(d) = shot["duration_s"].as_f64() {
            shot["duration_s"] = json!((d * shrink * 100.0).floor() / 100.0);
        }
    }
    let total: f64 = out.iter().filter_map(|s| s["duration_s"].as_f64()).sum();
    brief["shots"] = Value::Array(out);
    // The studio tier's cap (studio::api::tier_limits): far above what 500 shots cost.
    brief["budget_usd"] = json!(25_000.0);
    brief["deadline_s"] = json!(86_400);
    brief["pacing"]["target_duration_s"] = json!(total);
    brief["score"]["duration_s"] = json!(total.min(240.0));
    brief
}

async fn progress_callback(
    http: &reqwest::Client,
    base: &str,
    target: &KeyframeTarget,
    n: usize,
) -> Result<f64, String> {
    let (body, sig) = keyframe_target::progress_callback(&target.task, n, BFL_WEBHOOK_SECRET)?;
    let started = Instant::now();
    let resp = http
        .post(format!("{base}{}", target.path))
        .header("content-type", "application/json")
        .header("x-bfl-signature", sig)
        .body(body)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    if !resp.status().is_success() {
        return Err(format!(
            "callback answered {}: {}",
            resp.status(),
            resp.text().await.unwrap_or_default()
        ));
    }
    Ok(ms)
}

async fn callback_scaling() -> Result<String, String> {
    let mut stack = Stack::start().map_err(|e| e.to_string())?;
    let sim = Client::new(&stack.sim_url, None);
    hold_keyframes(&sim).await?;
    // The studio tier's dev key: only its caps admit a 500-shot brief.
    let app = Client::new(&stack.worker_url, Some("sk_test_studio"));
    let small = create(&app, &sample_brief()).await?;
    let large = create(&app, &big_brief(500)).await?;
    let huge = create(&app, &big_brief(HUGE_SHOTS)).await?;
    let stage_count = |id: String| {
        let app = app.clone();
        async move {
            app.get(&format!("/v1/renders/{id}"))
                .await
                .map(|r| r.json["progress"]["total"].as_u64().unwrap_or(0))
                .unwrap_or(0)
        }
    };
    let small_target = running_keyframe(&app, &small).await?;
    let large_target = running_keyframe(&app, &large).await?;
    let huge_target = running_keyframe(&app, &huge).await?;
    let targets = [&small_target, &large_target, &huge_target];
    let http = reqwest::Client::new();
    let base = stack.worker_url.clone();
    for n in 0..WARM_UP {
        for target in targets {
            progress_callback(&http, &base, target, n).await?;
        }
    }
    // Interleaved, so that a drift of the machine falls on all three alike
    let mut ms: [Vec<f64>; 3] = Default::default();
    for n in 0..CALLBACKS {
        for (samples, target) in ms.iter_mut().zip(targets) {
            samples.push(progress_callback(&http, &base, target, n).await?);
        }
    }
    let mut view_ms = Vec::new();
    for _ in 0..30 {
        let t = Instant::now();
        app.get(&format!("/v1/renders/{small}"))
            .await
            .map_err(|e| e.to_string())?;
        view_ms.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let stages = [
        stage_count(small.clone()).await,
        stage_count(large.clone()).await,
        stage_count(huge.clone()).await,
    ];
    let [mut small_ms, mut large_ms, mut huge_ms] = ms;
    let (s_med, l_med, h_med) = (
        median(&mut small_ms),
        median(&mut large_ms),
        median(&mut huge_ms),
    );
    let (s_p90, l_p90, h_p90) = (p90(&mut small_ms), p90(&mut large_ms), p90(&mut huge_ms));
    let view_med = median(&mut view_ms);
    // The same creates through `wrangler dev`, as a developer meets them (its proxy in front)
    let creates = format!(
        "{}{}",
        timed_creates(&app, &stack.worker_url, 12, RUNTIME_WRANGLER).await?,
        timed_creates(&app, &stack.worker_url, 500, RUNTIME_WRANGLER).await?
    );
    let footprint = footprints(&mut stack, &[&small, &large, &huge], &stages).await?;
    let [small_stages, large_stages, huge_stages] = stages;
    Ok(format!(
        "| callback into a 12-shot job ({small_stages} stages), median / p90 | {s_med:.2} ms / {s_p90:.2} ms | baseline |\n\
         | callback into a 500-shot job ({large_stages} stages), median / p90 | {l_med:.2} ms / {l_p90:.2} ms | **{:.2}x** the 12-shot job (target at most 1.5x) |\n\
         | callback into a {HUGE_SHOTS}-shot job ({huge_stages} stages), median / p90 | {h_med:.2} ms / {h_p90:.2} ms | **{:.2}x** the 12-shot job (target at most 1.1x) |\n\
         | app GET of the 12-shot job view (D1 key lookup + DO round trip), median | {view_med:.2} ms | callback is {:.2}x of it |\n\
         {creates}{footprint}",
        l_med / s_med,
        h_med / s_med,
        s_med / view_med,
    ))
}

/// Each job object's SQLite size and its load time after an eviction (the Worker stopped and
/// started again on the same state), per 100 stages, from the support view's footprint headers
async fn footprints(stack: &mut Stack, jobs: &[&String], stages: &[u64]) -> Result<String, String> {
    stack.stop_worker();
    stack.start_worker().map_err(|e| e.to_string())?;
    let support = Client::new(&stack.worker_url, Some("sk_test_support"));
    let mut rows = String::new();
    for (job, n) in jobs.iter().zip(stages) {
        let reply = support
            .get(&format!("/v1/support/renders/{job}"))
            .await
            .map_err(|e| e.to_string())?;
        let header = |name: &str| -> Result<f64, String> {
            reply
                .header(name)
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| format!("support view of {job} has no {name}: {}", reply.status))
        };
        let (bytes, load_ms) = (header("x-job-storage-bytes")?, header("x-job-load-ms")?);
        let per_100 = 100.0 / (*n).max(1) as f64;
        rows.push_str(&format!(
            "| job object of {n} stages after eviction: stored size / load from SQLite | {:.0} KB / {load_ms:.0} ms | per 100 stages: {:.1} KB / {:.2} ms |\n",
            bytes / 1000.0,
            bytes / 1000.0 * per_100,
            load_ms * per_100,
        ));
    }
    Ok(rows)
}

/// Creates of each timed size, each cancelled once created, timed by the client and split by
/// the create's `Server-Timing`
const CREATES: usize = 7;
/// The pause before each of them
const SETTLE: Duration = Duration::from_secs(3);

/// `name;dur=ms` pairs of a `Server-Timing` header
fn phases(header: &str) -> Vec<(String, f64)> {
    header
        .split(',')
        .filter_map(|p| {
            let (name, rest) = p.trim().split_once(';')?;
            let ms = rest.trim().strip_prefix("dur=")?.parse().ok()?;
            Some((name.to_owned(), ms))
        })
        .collect()
}

/// How the rows name the runtime a create was timed on
const RUNTIME_WRANGLER: &str = "`wrangler dev` (its dev proxy in front)";
const RUNTIME_ALONE: &str = "workerd alone (Miniflare, no dev proxy)";

/// A 12-shot and the 500-shot create on the runtime alone, as on the platform: no dev proxy
/// between the client and the Worker (`bench_bare_object` measures its baseline the same way)
async fn creates_on_runtime() -> Result<String, String> {
    let stack = Stack::start_with(StackOptions {
        runtime: WorkerRuntime::Miniflare,
        ..Default::default()
    })
    .map_err(|e| e.to_string())?;
    let sim = Client::new(&stack.sim_url, None);
    hold_keyframes(&sim).await?;
    let app = Client::new(&stack.worker_url, Some("sk_test_studio"));
    Ok(format!(
        "{}{}",
        timed_creates(&app, &stack.worker_url, 12, RUNTIME_ALONE).await?,
        timed_creates(&app, &stack.worker_url, 500, RUNTIME_ALONE).await?
    ))
}

/// The create of a `shots`-shot job, [`CREATES`] times: its median wall time from the client,
/// and the median of each phase the Worker and the job object report
async fn timed_creates(
    app: &Client,
    base: &str,
    shots: usize,
    runtime: &str,
) -> Result<String, String> {
    let body = big_brief(shots).to_string();
    let http = reqwest::Client::new();
    let (mut wall, mut to_headers) = (Vec::new(), Vec::new());
    let mut by_phase: Vec<(String, Vec<f64>)> = Vec::new();
    for _ in 0..CREATES {
        // The runtime settles first: the last job's cancellation and every job's first
        // dispatches run on the same local runtime, and would be timed with this create.
        tokio::time::sleep(SETTLE).await;
        let started = Instant::now();
        let resp = http
            .post(format!("{base}/v1/renders"))
            .bearer_auth("sk_test_studio")
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await
            .map_err(|e| e.to_string())?;
        to_headers.push(started.elapsed().as_secs_f64() * 1000.0);
        let status = resp.status();
        let timing = resp
            .headers()
            .get("server-timing")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let text = resp.text().await.map_err(|e| e.to_string())?;
        wall.push(started.elapsed().as_secs_f64() * 1000.0);
        if status.as_u16() != 202 {
            return Err(format!("create answered {status}: {text}"));
        }
        for (name, ms) in phases(&timing) {
            match by_phase.iter_mut().find(|(n, _)| *n == name) {
                Some((_, v)) => v.push(ms),
                None => by_phase.push((name, vec![ms])),
            }
        }
        let view: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
        let id = view["job_id"].as_str().unwrap_or_default().to_owned();
        app.post(&format!("/v1/renders/{id}/cancel"), &json!({}))
            .await
            .map_err(|e| e.to_string())?;
    }
    let split: Vec<String> = by_phase
        .iter_mut()
        .map(|(name, v)| format!("{name} {:.0}", median(v)))
        .collect();
    Ok(format!(
        "| creating a {shots}-shot job (validate, D1 index, job object, plan and route) on {runtime}, median of {CREATES} | {:.0} ms to the response's headers, {:.0} ms to its last byte | target at most 30 ms (500 shots); median ms per phase (`Server-Timing`; `job-` = inside the job object): {} |\n",
        median(&mut to_headers),
        median(&mut wall),
        split.join(", "),
    ))
}

async fn critical_path() -> Result<String, String> {
    let latencies = SimLatencies::builtin(LATENCY_SCALE);
    // On workerd alone, as on the platform (`WORKER_RUNTIME=wrangler` for `wrangler dev`)
    let options = StackOptions {
        worker_vars: vec![("REGISTRY_LATENCY_SCALE".into(), LATENCY_SCALE.to_string())],
        runtime: WorkerRuntime::from_env(WorkerRuntime::Miniflare),
        ..Default::default()
    };
    let stack = Stack::start_with(options).map_err(|e| e.to_string())?;
    let sim = Client::new(&stack.sim_url, None);
    latencies.apply(&sim).await?;
    let app = Client::new(&stack.worker_url, Some("sk_test_demo"));
    let started = Instant::now();
    let id = create(&app, &sample_brief()).await?;
    let view = wait_for(&app, &id, Duration::from_secs(600), is_terminal).await?;
    let actual_ms = started.elapsed().as_secs_f64() * 1000.0;
    if view["status"] != "succeeded" {
        return Err(format!("render ended {}", view["status"]));
    }
    // Each stage's model is in the support view only.
    let full = support_view(&app.with_key(Some("sk_test_support")), &id).await?;
    let stages = full["stages"].as_array().cloned().unwrap_or_default();
    let ideal_ms = latencies.ideal_ms(&stages);
    Ok(format!(
        "| sample brief end to end, simulator latencies = registry medians x {LATENCY_SCALE} | {:.1} s | **{:.3}x** the ideal schedule (target at most 1.10) |\n\
         | ideal zero-overhead schedule of the same DAG, same concurrency limits and latencies | {:.1} s | baseline |\n",
        actual_ms / 1000.0,
        actual_ms / ideal_ms,
        ideal_ms / 1000.0,
    ))
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mut table = String::from("| figure | value | ratio |\n|---|---|---|\n");
    let mut failed = false;
    for (name, result) in [
        ("callback scaling", callback_scaling().await),
        ("creates on the runtime alone", creates_on_runtime().await),
        ("critical path", critical_path().await),
    ] {
        match result {
            Ok(rows) => table.push_str(&rows),
            Err(e) => {
                failed = true;
                eprintln!("bench {name} failed: {e}");
            }
        }
    }
    println!("{table}");
    if failed {
        std::process::exit(1);
    }
}
