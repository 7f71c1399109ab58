//! Renders through transient faults: 100 to 200 sample renders at once against a simulator that
//! fails 10% of submissions with a 5xx, 10% with a 429, expires 10% of outputs, duplicates 10% of
//! terminal callbacks and delays every callback; then fewer renders without faults.
//!
//! Prints renders succeeded / failed, duplicate submissions, and the spend per render of the
//! faulty run as a ratio of the fault-free run's (what the retries cost). Starts its own stack
//! on free ports, the Worker on Miniflare alone (`WORKER_RUNTIME=wrangler` for `wrangler dev`).
//! `RENDERS` (default 100), `BASELINE_RENDERS` (default 20) and `SHOTS` (default 3) size the runs.

use std::time::Duration;

use e2e::bench_env::number;
use e2e::fault_run::{RunReport, run, transient_faults};
use e2e::{Stack, StackOptions, WorkerRuntime};
use serde_json::json;

fn print(label: &str, r: &RunReport, renders: usize) {
    println!(
        "  {label}: {} of {renders} succeeded, {} failed, {} duplicate submissions, {} regenerations, ${:.2} spent, {:.0} s",
        r.succeeded,
        r.failed.len(),
        r.duplicate_submissions,
        r.regenerations,
        r.cost_usd,
        r.elapsed.as_secs_f64()
    );
    for f in r.failed.iter().take(10) {
        println!("    failed: {f}");
    }
}

#[tokio::main]
async fn main() {
    let renders = number::<usize>("RENDERS", 100);
    let baseline = number::<usize>("BASELINE_RENDERS", 20);
    let shots = number::<usize>("SHOTS", 3);
    // Miniflare alone: `wrangler dev`'s proxy grows without bound at this load (WORKER_RUNTIME=
    // wrangler runs it anyway).
    let stack = match Stack::start_with(StackOptions {
        runtime: WorkerRuntime::from_env(WorkerRuntime::Miniflare),
        ..StackOptions::default()
    }) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("bench_faults: the stack did not start: {e}");
            std::process::exit(1);
        }
    };
    println!(
        "bench_faults: {renders} renders of {shots} shots at once with faults, then {baseline} without"
    );
    let timeout = Duration::from_secs(3600);
    // Each run is printed as it ends: the faulty one is the figure that matters, and a long
    // baseline must not hide it.
    let faulty = match run(
        &stack.worker_url,
        &stack.sim_url,
        &transient_faults(0.10),
        renders,
        shots,
        timeout,
    )
    .await
    {
        Ok(f) => f,
        Err(e) => {
            eprintln!("bench_faults: {e}");
            std::process::exit(1);
        }
    };
    print("10% transient faults", &faulty, renders);
    println!("    faults injected: {}", faulty.faults);
    // The baseline is smaller (every render still queues at the one assembler) and compared
    // per render.
    match run(
        &stack.worker_url,
        &stack.sim_url,
        &json!({"faults": {}}),
        baseline,
        shots,
        timeout,
    )
    .await
    {
        Ok(clean) => {
            print("no faults (baseline)", &clean, baseline);
            let per = |r: &RunReport, n: usize| r.cost_usd / n.max(1) as f64;
            let clean_per = per(&clean, baseline);
            let ratio = if clean_per > 0.0 {
                per(&faulty, renders) / clean_per
            } else {
                0.0
            };
            println!("  spend per render with faults vs without: {ratio:.3}x");
        }
        Err(e) => eprintln!("bench_faults: baseline: {e}"),
    }
    if !faulty.failed.is_empty() {
        std::process::exit(1);
    }
}
