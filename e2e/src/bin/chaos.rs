//! The long chaos run: more renders and many SIGKILLs of the runtime at seeded random moments
//! (`CHAOS_JOBS`, `CHAOS_KILLS`, `CHAOS_SEED`), on its own stack. Prints what it saw: renders
//! that did not end as undisturbed ones do, and second submissions per provider, those the
//! in-doubt plans allow (providers with no idempotency) apart from any other; exits 1 on either
//! of the latter.

use std::time::Duration;

use e2e::Stack;
use e2e::chaos::{self, Chaos};

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::main]
async fn main() {
    let chaos = Chaos {
        jobs: env_or("CHAOS_JOBS", 6) as usize,
        kills: env_or("CHAOS_KILLS", 20) as usize,
        submit_every: 2,
        shots: None,
        stagger: false,
        seed: env_or("CHAOS_SEED", 0x5EED_C4A0),
        finish_within: Duration::from_secs(900),
    };
    let mut stack = match Stack::start_with(chaos::stack_options()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("chaos: cannot start the stack: {e}");
            std::process::exit(2);
        }
    };
    let report = match chaos::run(&mut stack, chaos).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("chaos: {e}\n{}", stack.worker_log());
            std::process::exit(2);
        }
    };
    stack.stop();
    println!(
        "chaos: {} renders, {} SIGKILLs ({} inside a submit), seed {:#x}, {:.0} s",
        chaos.jobs, report.kills, report.kills_in_submit, chaos.seed, report.seconds
    );
    println!(
        "chaos: renders not ending as undisturbed ones: {}",
        report.broken.len()
    );
    for b in &report.broken {
        println!("  {b}");
    }
    println!(
        "chaos: second submissions at providers with no idempotency (allowed): {:?}",
        report.allowed_duplicates
    );
    println!(
        "chaos: second submissions anywhere else: {:?}",
        report.unexpected_duplicates
    );
    if !report.broken.is_empty() || !report.unexpected_duplicates.is_empty() {
        std::process::exit(1);
    }
}
