//! Renders through transient faults: 100 to 200 sample renders at once against a simulator that
//! fails 10% of submissions with a 5xx, 10% with a 429, expires 10% of outputs, duplicates 10% of
//! terminal callbacks and delays every callback; then the same renders without faults.
//!
//! Prints renders succeeded / failed, duplicate submissions, and the spend of the faulty run as
//! a ratio of the fault-free run's (what the retries cost). Starts its own stack on free ports.
//! `RENDERS` (default 100) and `SHOTS` (default 3) size the run.

use std::time::Duration;

use e2e::fault_run::{RunReport, run, transient_faults};
use e2e::{Stack, StackOptions};
use serde_json::json;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn print(label: &str, r: &RunReport, renders: usize) {
    println!(
        "  {label}: {} of {renders} succeeded, {} failed, {} duplicate submissions, ${:.2} spent, {:.0} s",
        r.succeeded,
        r.failed.len(),
        r.duplicate_submissions,
        r.cost_usd,
        r.elapsed.as_secs_f64()
    );
    for f in r.failed.iter().take(10) {
        println!("    failed: {f}");
    }
}

#[tokio::main]
async fn main() {
    let renders = env_usize("RENDERS", 100);
    let shots = env_usize("SHOTS", 3);
    let stack = match Stack::start_with(StackOptions::default()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("bench_faults: the stack did not start: {e}");
            std::process::exit(1);
        }
    };
    println!("bench_faults: {renders} renders of {shots} shots at once");
    let timeout = Duration::from_secs(3600);
    let faulty = run(
        &stack.worker_url,
        &stack.sim_url,
        &transient_faults(0.10),
        renders,
        shots,
        timeout,
    )
    .await;
    let clean = run(
        &stack.worker_url,
        &stack.sim_url,
        &json!({"faults": {}}),
        renders,
        shots,
        timeout,
    )
    .await;
    match (faulty, clean) {
        (Ok(f), Ok(c)) => {
            print("10% transient faults", &f, renders);
            println!("    faults injected: {}", f.faults);
            print("no faults (baseline)", &c, renders);
            let ratio = if c.cost_usd > 0.0 {
                f.cost_usd / c.cost_usd
            } else {
                0.0
            };
            println!("  spend with faults vs without: {ratio:.3}x");
            if !f.failed.is_empty() {
                std::process::exit(1);
            }
        }
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("bench_faults: {e}");
            std::process::exit(1);
        }
    }
}
