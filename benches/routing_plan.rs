//! Routing a 500-shot brief natively (target: at most 20 ms), against the 12-shot example brief
//! as the baseline measured in the same run. Prints figures; asserts nothing about time.

#[path = "../tests/support/routing.rs"]
mod common;

use std::hint::black_box;
use std::time::{Duration, Instant};

use studio::brief::{Brief, ShotKind};
use studio::routing::{Registry, route_plan};

fn big_brief(shots: usize) -> Brief {
    let mut brief = common::lighthouse();
    let template = brief.shots.clone();
    brief.shots = (0..shots)
        .map(|i| {
            let mut s = template[i % template.len()].clone();
            s.id = format!("s{i:03}").as_str().into();
            s.kind = ShotKind::ALL[i % ShotKind::ALL.len()];
            s.hero = i % 10 == 0;
            s
        })
        .collect();
    brief.budget_usd = 2_000.0;
    brief.deadline_s = 3 * 3600;
    brief
}

fn time(iterations: usize, mut f: impl FnMut()) -> (Duration, Duration) {
    for _ in 0..3 {
        f();
    }
    let mut samples: Vec<Duration> = (0..iterations)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    samples.sort();
    (samples[0], samples[samples.len() / 2])
}

fn main() {
    let registry = Registry::builtin();

    let small = common::lighthouse();
    let small_stages = common::stage_requests(&small);
    let small_ctx = common::ctx("demo", small.budget_usd, small.deadline_s as f64);
    let (_, base) = time(200, || {
        black_box(route_plan(&registry, black_box(&small_stages), &small_ctx).ok());
    });

    let big = big_brief(500);
    let stages = common::stage_requests(&big);
    let ctx = common::ctx("demo", big.budget_usd, big.deadline_s as f64);
    let plan = route_plan(&registry, &stages, &ctx).expect("the 500-shot brief routes");
    let (min, median) = time(30, || {
        black_box(route_plan(&registry, black_box(&stages), &ctx).ok());
    });

    println!(
        "routing_plan: 500 shots ({} stages): median {:.2} ms, min {:.2} ms (target <= 20 ms)",
        stages.len(),
        median.as_secs_f64() * 1e3,
        min.as_secs_f64() * 1e3
    );
    println!(
        "routing_plan: baseline 12-shot example ({} stages): median {:.3} ms; ratio {:.1}x for {:.1}x the stages",
        small_stages.len(),
        base.as_secs_f64() * 1e3,
        median.as_secs_f64() / base.as_secs_f64(),
        stages.len() as f64 / small_stages.len() as f64
    );
    println!(
        "routing_plan: 500-shot plan costs ${:.2} of ${:.2}; deadline {}",
        plan.total_cost_usd,
        big.budget_usd,
        if plan.deadline.fits() {
            "fits"
        } else {
            "missed"
        }
    );
}
