//! `make bench`, memory part: "context for a 12-shot brief from a graph holding 5,000 past
//! shots: at most 50 ms of object time".
//!
//! Starts its own stack, seeds the `demo` creator's graph with 5,000 synthetic past shots (with
//! outcomes) through the dev-only `POST /v1/memory/__bench_seed`, then asks
//! `POST /v1/memory/context` for the sample brief 30 times. The `MemoryGraph` object reports
//! its own time in `server-timing` (`worker::Date::now()` read around `build_context` and the
//! encoding of its answer; `total` adds the lazy load and the embedder); the bench also times
//! the HTTP round trip. Baseline, measured in the same run: the same request for `rival`,
//! whose graph is empty, i.e. a bare round trip through the Worker (auth, brief validation)
//! into a Durable Object and back.
//!
//! Timing caveat: on Cloudflare's network `Date.now()` does not advance during pure CPU work,
//! so there the object would report 0; in local workerd it advances with real time (ms
//! resolution), which is what this measures. The first request after a restart also loads the
//! graph from SQLite; that cold figure is reported on its own.

use std::process::ExitCode;
use std::time::Instant;

use e2e::render::sample_brief;
use e2e::{Client, Stack, StackOptions};
use serde_json::{Value, json};

/// Past shots in the graph
const SHOTS: usize = 5_000;
/// Shots per seeding request
const SEED_BATCH: usize = 1_000;
/// Measured requests per series
const RUNS: usize = 30;
/// Unmeasured requests before each series
const WARM_UP: usize = 5;
/// The budget for the object's time, ms
const BUDGET_MS: f64 = 50.0;

struct Sample {
    /// `context` of server-timing: build_context and encoding, ms
    context_ms: f64,
    /// `total` of server-timing, ms
    total_ms: f64,
    /// Client-side round trip, ms
    round_trip_ms: f64,
}

fn timing(header: Option<&str>, name: &str) -> Option<f64> {
    header?.split(',').find_map(|part| {
        let mut fields = part.trim().split(';');
        (fields.next()? == name)
            .then(|| fields.find_map(|f| f.trim().strip_prefix("dur=")?.parse().ok()))
            .flatten()
    })
}

async fn context(client: &Client, brief: &Value) -> Result<Sample, String> {
    let started = Instant::now();
    let reply = client
        .post("/v1/memory/context", brief)
        .await
        .map_err(|e| e.to_string())?;
    let round_trip_ms = started.elapsed().as_secs_f64() * 1000.0;
    if !reply.status.is_success() {
        return Err(format!("context answered {}: {}", reply.status, reply.text));
    }
    let header = reply.header("server-timing");
    Ok(Sample {
        context_ms: timing(header, "context").ok_or("no context timing")?,
        total_ms: timing(header, "total").ok_or("no total timing")?,
        round_trip_ms,
    })
}

async fn series(client: &Client, brief: &Value) -> Result<Vec<Sample>, String> {
    for _ in 0..WARM_UP {
        context(client, brief).await?;
    }
    let mut out = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        out.push(context(client, brief).await?);
    }
    Ok(out)
}

/// Median and 95th percentile (nearest rank)
fn stats(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let mut v: Vec<f64> = values.collect();
    v.sort_by(f64::total_cmp);
    let at = |q: f64| {
        let rank = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len().max(1));
        v.get(rank - 1).copied().unwrap_or(f64::NAN)
    };
    (at(0.5), at(0.95))
}

async fn run() -> Result<(String, bool), String> {
    let mut stack = Stack::start_with(StackOptions::default()).map_err(|e| e.to_string())?;
    let demo = Client::new(&stack.worker_url, Some("sk_test_demo"));
    let rival = Client::new(&stack.worker_url, Some("sk_test_rival"));
    let brief = sample_brief();

    let seeding = Instant::now();
    let mut seeded = 0;
    while seeded < SHOTS {
        let n = SEED_BATCH.min(SHOTS - seeded);
        let reply = demo
            .post("/v1/memory/__bench_seed", &json!({ "shots": n }))
            .await
            .map_err(|e| e.to_string())?;
        if !reply.status.is_success() {
            return Err(format!("seeding answered {}: {}", reply.status, reply.text));
        }
        seeded += n;
    }
    let seed_s = seeding.elapsed().as_secs_f64();

    // A restart empties the object's memory: the first request loads the graph from SQLite.
    stack.stop_worker();
    stack.start_worker().map_err(|e| e.to_string())?;
    let started = Instant::now();
    let cold = demo
        .post("/v1/memory/context", &brief)
        .await
        .map_err(|e| e.to_string())?;
    let cold_round_trip = started.elapsed().as_secs_f64() * 1000.0;
    let shots_in_graph = cold.header("x-graph-shots").unwrap_or("?").to_owned();
    let cold_header = cold.header("server-timing").map(str::to_owned);
    let cold_load = timing(cold_header.as_deref(), "load").unwrap_or(f64::NAN);
    let cold_total = timing(cold_header.as_deref(), "total").unwrap_or(f64::NAN);
    let similar = cold.json["similar"].as_array().map_or(0, Vec::len);

    let big = series(&demo, &brief).await?;
    let empty = series(&rival, &brief).await?;
    let (ctx_med, ctx_p95) = stats(big.iter().map(|s| s.context_ms));
    let (tot_med, tot_p95) = stats(big.iter().map(|s| s.total_ms));
    let (rt_med, rt_p95) = stats(big.iter().map(|s| s.round_trip_ms));
    let (base_tot_med, base_tot_p95) = stats(empty.iter().map(|s| s.total_ms));
    let (base_rt_med, base_rt_p95) = stats(empty.iter().map(|s| s.round_trip_ms));
    let ok = tot_p95 <= BUDGET_MS;
    let ratio = |a: f64, b: f64| {
        if b > 0.0 {
            format!("**{:.2}x** the empty graph", a / b)
        } else {
            "empty graph: under the 1 ms clock resolution".to_owned()
        }
    };
    let table = format!(
        "| memory context, 12-shot brief, graph of {shots_in_graph} past shots: object time (build_context + encode), median / p95 of {RUNS} | {ctx_med:.0} / {ctx_p95:.0} ms | budget {BUDGET_MS:.0} ms: {} |\n\
         | same, object total (incl. embedder and lazy load) | {tot_med:.0} / {tot_p95:.0} ms | {} |\n\
         | same, HTTP round trip through the Worker | {rt_med:.1} / {rt_p95:.1} ms | {} |\n\
         | baseline: same request, empty graph (bare Worker -> DO round trip), object total / round trip, median (p95) | {base_tot_med:.0} ({base_tot_p95:.0}) / {base_rt_med:.1} ({base_rt_p95:.1}) ms | baseline |\n\
         | cold: first context after a restart (graph loaded from SQLite), load / object total / round trip | {cold_load:.0} / {cold_total:.0} / {cold_round_trip:.0} ms | once per object start |\n\
         | seeding {SHOTS} shots with outcomes ({similar} brief shots got similar past shots) | {seed_s:.1} s | setup |\n",
        if ok { "within" } else { "OVER" },
        ratio(tot_med, base_tot_med),
        ratio(rt_med, base_rt_med),
    );
    stack.stop();
    Ok((table, ok))
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> ExitCode {
    match run().await {
        Ok((rows, ok)) => {
            println!("| figure | value | ratio |\n|---|---|---|\n{rows}");
            if ok {
                ExitCode::SUCCESS
            } else {
                eprintln!("memory context is over its {BUDGET_MS} ms budget");
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("bench memory failed: {e}");
            ExitCode::FAILURE
        }
    }
}
