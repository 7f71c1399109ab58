//! The fleet under load: many 12-shot renders from two studio creators and a pro creator at
//! once, against provider accounts capped at `CAP` tasks at once (the Worker's `PROVIDER_LIMITS`
//! and the simulator's caps alike) and transient faults; once behind the providers' gates
//! (`FLEET_GATES` on), then on a fresh stack without them (`off`), where jobs learn the caps
//! from the simulator's 429s.
//!
//! Prints per run: renders succeeded / failed, wall time, renders per minute, the median and
//! p95 finish time per tier, 429s by cap and injected, duplicate submissions and the peak of
//! tasks at one provider against the cap; then the runs side by side as ratios. Last, the cost
//! of asking for a free slot: a small pair of runs without faults or caps, gated and ungated,
//! compared by their median per-render wall time.
//!
//! `RENDERS` (default 40; the pro creator takes half, at most 20, two studio creators the rest,
//! at most 100 each) and `CAP` (default 4) size the runs; `FAULT_RATE` (default 0.10) is the
//! rate of each fault kind (`fault_run::transient_faults`); `RUNS=gated` (or `ungated`) runs
//! only that load run. Starts its own stacks on free ports,
//! one at a time, the Worker on Miniflare alone (`WORKER_RUNTIME=wrangler` for `wrangler
//! dev`), the simulator rendering one picture per shape (`SIM_MEDIA_VARIETY=per-shape`) and
//! assembly at the simulated hosted route. A benchmark reports, it does not judge timings:
//! exits 0 once it ran, 1 when a stack did not start or a run could not be set up.

use std::time::Duration;

use e2e::bench_env::number;
use e2e::fleet_run::{Creator, FleetReport, creators_for, percentile, run, sim_config};
use e2e::{Stack, StackOptions, WorkerRuntime};
use serde_json::json;

/// Shots per render of the load runs (the sample brief whole)
const SHOTS: usize = 12;
/// Renders and shots of each slot-overhead run: small, so that nothing waits but for the gate
const OVERHEAD_RENDERS: usize = 5;
const OVERHEAD_SHOTS: usize = 3;
/// Longest wait for one render
const TIMEOUT: Duration = Duration::from_secs(3600);

/// A fresh stack with the gates on or off, and every provider account capped at `cap` when given
fn start(gates: bool, cap: Option<u32>) -> Result<Stack, String> {
    let mut worker_vars = vec![(
        "FLEET_GATES".to_owned(),
        if gates { "on" } else { "off" }.to_owned(),
    )];
    if let Some(c) = cap {
        worker_vars.push((
            "PROVIDER_LIMITS".into(),
            json!({ "*": { "max_concurrent": c } }).to_string(),
        ));
    }
    Stack::start_with(StackOptions {
        worker_vars,
        // What is measured is the fleet's orchestration: the simulated providers render each
        // picture and score once per shape, and assembly goes to the hosted route (a simulated
        // provider too), so 200 renders do not wait on 2,400 ffmpeg clips and one assembler.
        sim_env: vec![("SIM_MEDIA_VARIETY".into(), "per-shape".into())],
        without_assembler: true,
        // `wrangler dev`'s proxy grows without bound at this load
        runtime: WorkerRuntime::from_env(WorkerRuntime::Miniflare),
        ..StackOptions::default()
    })
    .map_err(|e| format!("the stack did not start: {e}"))
}

/// Starts a stack, runs once on it and stops it (so only one stack ever runs)
async fn run_on_fresh_stack(
    gates: bool,
    cap: Option<u32>,
    faults: Option<f64>,
    creators: &[Creator],
    shots: usize,
) -> Result<FleetReport, String> {
    let stack = start(gates, cap)?;
    let config = sim_config(faults, cap);
    run(
        &stack.worker_url,
        &stack.sim_url,
        &config,
        creators,
        shots,
        TIMEOUT,
    )
    .await
}

fn secs(d: Option<Duration>) -> String {
    d.map_or_else(|| "-".into(), |d| format!("{:.1} s", d.as_secs_f64()))
}

/// `a / b` as a ratio, or why there is none
fn ratio(a: f64, b: f64) -> String {
    if b > 0.0 {
        format!("{:.2}x", a / b)
    } else {
        "n/a".into()
    }
}

/// The tiers of `creators`, each once, in their order (two creators may share one)
fn tiers(creators: &[Creator]) -> Vec<&str> {
    let mut tiers: Vec<&str> = Vec::new();
    for c in creators {
        if !tiers.contains(&c.tier.as_str()) {
            tiers.push(&c.tier);
        }
    }
    tiers
}

fn print_load(label: &str, r: &FleetReport, creators: &[Creator], cap: u32) {
    let total: usize = creators.iter().map(|c| c.renders).sum();
    println!(
        "  {label}: {} of {total} succeeded, {} failed, {:.0} s, {:.2} renders/min",
        r.succeeded,
        r.failed.len(),
        r.elapsed.as_secs_f64(),
        r.jobs_per_minute()
    );
    for f in &r.failed {
        println!("    failed: {f}");
    }
    for tier in tiers(creators) {
        let times = r.finish_times(tier);
        println!(
            "    finish {}: median {}, p95 {} ({} renders)",
            tier,
            secs(percentile(&times, 50.0)),
            secs(percentile(&times, 95.0)),
            times.len()
        );
    }
    println!(
        "    429s from the simulator: {} by cap, {} injected; {} duplicate submissions, {} regenerations after expired outputs",
        r.rate_limited_by_cap, r.injected_429, r.duplicate_submissions, r.regenerations
    );
    match &r.peak {
        Some((provider, n)) => println!(
            "    most tasks at one provider: {n} ({provider}), cap {cap}: caps exceeded: {}",
            if *n > u64::from(cap) { "yes" } else { "no" }
        ),
        None => println!("    most tasks at one provider: none reported"),
    }
}

fn print_ratios(gated: &FleetReport, ungated: &FleetReport, creators: &[Creator]) {
    let p95 = |r: &FleetReport, tier: &str| {
        percentile(&r.finish_times(tier), 95.0).map_or(0.0, |d| d.as_secs_f64())
    };
    let tiers: Vec<String> = tiers(creators)
        .into_iter()
        .map(|tier| format!("{tier} {}", ratio(p95(gated, tier), p95(ungated, tier))))
        .collect();
    println!(
        "  gated vs ungated: wall time {}, 429s by cap {} vs {} ({}), p95 finish {}",
        ratio(gated.elapsed.as_secs_f64(), ungated.elapsed.as_secs_f64()),
        gated.rate_limited_by_cap,
        ungated.rate_limited_by_cap,
        ratio(
            gated.rate_limited_by_cap as f64,
            ungated.rate_limited_by_cap as f64
        ),
        tiers.join(", ")
    );
}

fn median_render(r: &FleetReport) -> Option<Duration> {
    percentile(&r.render_times(), 50.0)
}

#[tokio::main]
async fn main() {
    let asked = number::<usize>("RENDERS", 40);
    let cap = u32::try_from(number::<usize>("CAP", 4).max(1)).unwrap_or(u32::MAX);
    let fault_rate = std::env::var("FAULT_RATE")
        .ok()
        .and_then(|v| v.parse::<f64>().ok())
        .filter(|r| (0.0..=1.0).contains(r))
        .unwrap_or(0.10);
    let creators = creators_for(asked);
    let total: usize = creators.iter().map(|c| c.renders).sum();
    if total < asked {
        println!(
            "bench_fleet: RENDERS={asked} is more than the dev creators admit in flight; starting {total}"
        );
    }
    println!(
        "bench_fleet: {total} renders of {SHOTS} shots at once ({}), every provider capped at {cap} tasks, transient faults at {:.1}% per kind; gated, then ungated",
        creators
            .iter()
            .map(|c| format!("{} ({}) {}", c.key, c.tier, c.renders))
            .collect::<Vec<_>>()
            .join(", "),
        fault_rate * 100.0
    );
    let mut ok = true;
    // Each run is printed as it ends, so a later failure never hides an earlier figure.
    let mut load = Vec::new();
    // `RUNS=gated` or `RUNS=ungated` runs only that load run (a 200-render run takes most of an
    // hour each) and skips the slot-overhead pair.
    let only = std::env::var("RUNS").ok().filter(|r| r != "all");
    for (label, gates) in [("gated", true), ("ungated", false)] {
        if only.as_deref().is_some_and(|o| o != label) {
            continue;
        }
        match run_on_fresh_stack(gates, Some(cap), Some(fault_rate), &creators, SHOTS).await {
            Ok(r) => {
                print_load(label, &r, &creators, cap);
                load.push(r);
            }
            Err(e) => {
                eprintln!("bench_fleet: {label}: {e}");
                ok = false;
            }
        }
    }
    if let [gated, ungated] = load.as_slice() {
        print_ratios(gated, ungated, &creators);
    }
    if only.is_some() {
        if !ok {
            std::process::exit(1);
        }
        return;
    }
    println!(
        "slot overhead: {OVERHEAD_RENDERS} renders of {OVERHEAD_SHOTS} shots, no faults, no caps; gated, then ungated"
    );
    // One creator: a second would only add the fair queue's choice to what is measured.
    let studio = [Creator {
        key: "sk_test_studio".into(),
        tier: "studio".into(),
        renders: OVERHEAD_RENDERS,
    }];
    let mut medians = Vec::new();
    for (label, gates) in [("gated", true), ("ungated", false)] {
        match run_on_fresh_stack(gates, None, None, &studio, OVERHEAD_SHOTS).await {
            Ok(r) => {
                let median = median_render(&r);
                println!(
                    "  {label}: median per-render wall time {}, {} of {OVERHEAD_RENDERS} succeeded, {:.0} s in all",
                    secs(median),
                    r.succeeded,
                    r.elapsed.as_secs_f64()
                );
                for f in &r.failed {
                    println!("    failed: {f}");
                }
                medians.push(median);
            }
            Err(e) => {
                eprintln!("bench_fleet: slot overhead {label}: {e}");
                ok = false;
            }
        }
    }
    if let [Some(gated), Some(ungated)] = medians.as_slice() {
        println!(
            "  the cost of asking for a free slot: {:+.1} s per render, gated vs ungated {}",
            gated.as_secs_f64() - ungated.as_secs_f64(),
            ratio(gated.as_secs_f64(), ungated.as_secs_f64())
        );
    }
    if !ok {
        std::process::exit(1);
    }
}
