//! A long line at the providers' gates, on the real stack: `RENDERS` 12-shot renders (default
//! 100: 1,200 keyframes, 1,200 motions) started at once against provider accounts capped at
//! `CAP` tasks (default 2, the Worker's `PROVIDER_LIMITS` and the simulator's caps alike), so
//! about a thousand stages wait at one gate. For `SAMPLE_S` seconds (default 180) it reads
//! `GET /v1/support/providers` every 5 s and reports:
//!
//! - how long that read takes with the lines long, against the same read before any render
//!   started (each gate answers it after the calls ahead of it, so it shows how busy they are);
//! - the longest line seen, and how full the gates with a line kept their slots: slots in use
//!   over the effective limit, averaged over samples where someone waited (1.0: no slot idle
//!   while a stage waits);
//! - waiting stages dropped for not asking again (0: nobody lost a place), leases expired.
//!
//! It does not wait for the renders to end (that is `bench_fleet`'s run). Before this, the gate
//! rewrote its whole line as one JSON row on every call and every waiter re-asked every 20 s:
//! with 1,173 waiting at one gate, this read took 51 s and submits fell to a few a minute.
//! Starts its own stack on free loopback ports; reports, does not judge: exits 0 once it ran.

use std::time::{Duration, Instant};

use e2e::bench_env::number;
use e2e::fault_run::small_render;
use e2e::fleet_run::{creators_for, percentile, sim_config};
use e2e::render::create;
use e2e::{Client, Stack, StackOptions, WorkerRuntime};
use serde_json::{Value, json};

const SHOTS: usize = 12;
const EVERY: Duration = Duration::from_secs(5);

/// One read of the fleet view: how long it took, and each gate's (provider, waiting, in use,
/// effective limit, waiters dropped, leases expired)
struct Sample {
    took: Duration,
    gates: Vec<(String, u64, u64, u64, u64, u64)>,
}

async fn sample(support: &Client) -> Result<Sample, String> {
    let started = Instant::now();
    let r = support
        .get("/v1/support/providers")
        .await
        .map_err(|e| e.to_string())?;
    let took = started.elapsed();
    if !r.status.is_success() {
        return Err(format!("/v1/support/providers: {} {}", r.status, r.text));
    }
    let n = |v: &Value| v.as_u64().unwrap_or(0);
    let gates = r.json["providers"]
        .as_array()
        .map(|ps| {
            ps.iter()
                .filter(|p| p["gate"].is_object())
                .map(|p| {
                    let g = &p["gate"];
                    let in_use = g["slots"].as_array().map_or(0, Vec::len) as u64;
                    (
                        p["provider"].as_str().unwrap_or("?").to_owned(),
                        n(&g["waiting"]),
                        in_use,
                        n(&g["effective_limit"]),
                        n(&g["waiters_dropped_total"]),
                        n(&g["leases_expired_total"]),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(Sample { took, gates })
}

fn ms(d: Option<Duration>) -> String {
    d.map_or_else(
        || "-".into(),
        |d| format!("{:.0} ms", d.as_secs_f64() * 1e3),
    )
}

async fn bench() -> Result<(), String> {
    let renders = usize::try_from(number::<u64>("RENDERS", 100)).unwrap_or(100);
    let cap = u32::try_from(number::<u64>("CAP", 2).max(1)).unwrap_or(2);
    let sample_for = Duration::from_secs(number::<u64>("SAMPLE_S", 180));
    let stack = Stack::start_with(StackOptions {
        worker_vars: vec![
            ("FLEET_GATES".into(), "on".into()),
            (
                "PROVIDER_LIMITS".into(),
                json!({ "*": { "max_concurrent": cap } }).to_string(),
            ),
        ],
        sim_env: vec![("SIM_MEDIA_VARIETY".into(), "per-shape".into())],
        without_assembler: true,
        runtime: WorkerRuntime::from_env(WorkerRuntime::Miniflare),
        // `STACK_DIR` keeps the stack's state and logs there after the run
        persist_dir: std::env::var_os("STACK_DIR").map(Into::into),
        ..StackOptions::default()
    })
    .map_err(|e| format!("the stack did not start: {e}"))?;
    let sim = Client::new(&stack.sim_url, None);
    let set = sim
        .post("/__sim/config", &sim_config(None, Some(cap)))
        .await
        .map_err(|e| e.to_string())?;
    if !set.status.is_success() {
        return Err(format!("/__sim/config: {}", set.text));
    }
    let support = Client::new(&stack.worker_url, Some("sk_test_support"));

    // The read with nothing waiting: the baseline.
    let mut idle = Vec::new();
    for _ in 0..10 {
        idle.push(sample(&support).await?.took);
    }

    let creators = creators_for(renders);
    let started = Instant::now();
    let creates = creators.iter().flat_map(|c| {
        let client = Client::new(&stack.worker_url, Some(&c.key));
        (0..c.renders).map(move |i| (client.clone(), c.key.clone(), i))
    });
    let made = futures_util::future::join_all(creates.map(|(client, key, i)| async move {
        let mut brief = small_render(SHOTS, 700_000 + i);
        brief["project_id"] = json!(format!("proj_line_{key}_{i}"));
        create(&client, &brief).await
    }))
    .await;
    let created = made.iter().filter(|r| r.is_ok()).count();
    if let Some(Err(e)) = made.iter().find(|r| r.is_err()) {
        return Err(format!("a create was refused: {e}"));
    }
    println!(
        "bench_gate_line: {created} renders of {SHOTS} shots created in {:.1} s, every provider capped at {cap}",
        started.elapsed().as_secs_f64()
    );

    let mut busy = Vec::new();
    let mut longest = (String::new(), 0);
    let mut fill = Vec::new();
    let mut last = None;
    let until = Instant::now() + sample_for;
    let mut failed_reads = 0;
    while Instant::now() < until {
        let s = match sample(&support).await {
            Ok(s) => s,
            Err(e) => {
                failed_reads += 1;
                println!("  t={:>4.0} s: {e}", started.elapsed().as_secs_f64());
                tokio::time::sleep(EVERY).await;
                continue;
            }
        };
        for (provider, waiting, in_use, limit, ..) in &s.gates {
            if *waiting > longest.1 {
                longest = (provider.clone(), *waiting);
            }
            if *waiting > 0 && *limit > 0 {
                fill.push(*in_use as f64 / *limit as f64);
            }
        }
        let waiting: u64 = s.gates.iter().map(|g| g.1).sum();
        if waiting > 0 {
            busy.push(s.took);
        }
        println!(
            "  t={:>4.0} s: providers view {:>6}, waiting {waiting}, in use {}",
            started.elapsed().as_secs_f64(),
            ms(Some(s.took)),
            s.gates.iter().map(|g| g.2).sum::<u64>()
        );
        last = Some(s);
        tokio::time::sleep(EVERY).await;
    }
    let p50_idle = percentile(&idle, 50.0);
    let p50_busy = percentile(&busy, 50.0);
    println!(
        "  providers view: p50 {} / p95 {} / max {} with stages waiting ({} reads, {failed_reads} failed), against p50 {} with none: {}",
        ms(p50_busy),
        ms(percentile(&busy, 95.0)),
        ms(busy.iter().max().copied()),
        busy.len(),
        ms(p50_idle),
        match (p50_busy, p50_idle) {
            (Some(b), Some(i)) if i > Duration::ZERO =>
                format!("{:.2}x", b.as_secs_f64() / i.as_secs_f64()),
            _ => "n/a".into(),
        }
    );
    let mean_fill = if fill.is_empty() {
        0.0
    } else {
        fill.iter().sum::<f64>() / fill.len() as f64
    };
    println!(
        "  longest line: {} waiting at {}; slots in use over the effective limit where stages waited: {mean_fill:.2} ({} gate samples)",
        longest.1,
        longest.0,
        fill.len()
    );
    if let Some(s) = last {
        let dropped: u64 = s.gates.iter().map(|g| g.4).sum();
        let expired: u64 = s.gates.iter().map(|g| g.5).sum();
        println!(
            "  waiting stages dropped for not asking again: {dropped}; leases expired: {expired}"
        );
    }
    Ok(())
}

#[tokio::main]
async fn main() {
    if let Err(e) = bench().await {
        eprintln!("bench_gate_line: {e}");
        std::process::exit(1);
    }
}
