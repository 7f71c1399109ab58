//! Time per provider callback handled by the job machine, natively: a 500-shot job against a
//! 12-shot job, printed as a ratio, plus the rows and bytes each callback makes the shell write.
//!
//! The whole job runs in virtual time against the fake providers of `tests/common`; only
//! `Job::handle` is timed, and only for provider callbacks (`ProviderUpdate`). A flat ratio is
//! the point: handling one callback must not grow with the job.
//!
//! Run with `cargo bench -p studio --bench job_callback`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::hint::black_box;
use std::time::Instant;

use common::{T0, World, created, synthetic_brief};
use studio::ids::{Attempt, DeliveryId, ProviderRef, StageId};
use studio::job::{Effect, Input, Job, JobStatus};
use studio::memory::MemoryContext;
use studio::providers::{Output, ProviderStatus};
use studio::time::Millis;

struct Figures {
    /// Mean ns of callbacks producing 0, 1, 2 or more effects, and how many
    by_effects: [(f64, usize); 3],
    callbacks: usize,
    mean_ns: f64,
    p50_ns: u128,
    p99_ns: u128,
    rows_per_callback: f64,
    bytes_per_callback: f64,
}

fn run(shots: usize) -> Figures {
    let mut w = World::with(
        created(synthetic_brief(shots, 100.0 * shots as f64), 7, false),
        |_| {},
    );
    w.checks = false;
    w.timing = true;
    w.store.measure = true;
    w.run();
    assert_eq!(
        w.status(),
        JobStatus::Succeeded,
        "{:?}",
        w.job.view().failure
    );
    // timings[i] is the i-th handled input; store.writes/bytes have one extra entry for `new`
    let mut times = Vec::new();
    let (mut rows, mut bytes) = (0usize, 0usize);
    let mut by_effects = [(0f64, 0usize); 3];
    for (i, (name, ns, effects)) in w.timings.iter().enumerate() {
        if *name == "provider_update" {
            times.push(*ns);
            let b = &mut by_effects[(*effects).min(2)];
            b.0 += *ns as f64;
            b.1 += 1;
            rows += w.store.writes[i + 1];
            bytes += w.store.bytes[i + 1];
        }
    }
    let n = times.len();
    let mean_ns = times.iter().sum::<u128>() as f64 / n as f64;
    times.sort_unstable();
    for b in &mut by_effects {
        b.0 /= b.1.max(1) as f64;
    }
    Figures {
        by_effects,
        callbacks: n,
        mean_ns,
        p50_ns: times[n / 2],
        p99_ns: times[(n * 99 / 100).min(n - 1)],
        rows_per_callback: rows as f64 / n as f64,
        bytes_per_callback: bytes as f64 / n as f64,
    }
}

fn median_run(shots: usize, runs: usize) -> Figures {
    let mut all: Vec<Figures> = (0..runs).map(|_| run(shots)).collect();
    all.sort_by(|a, b| a.mean_ns.total_cmp(&b.mean_ns));
    all.swap_remove(runs / 2)
}

fn print(label: &str, f: &Figures) {
    println!(
        "job_callback {label:>9}: {:>6} callbacks, mean {:>7.2} us, p50 {:>7.2} us, p99 {:>7.2} us, {:.2} stage rows + header, {:>6.0} bytes written per callback",
        f.callbacks,
        f.mean_ns / 1000.0,
        f.p50_ns as f64 / 1000.0,
        f.p99_ns as f64 / 1000.0,
        f.rows_per_callback,
        f.bytes_per_callback
    );
    let [a, b, c] = f.by_effects;
    println!(
        "job_callback {label:>9}:   by effects produced: none {:>5.2} us (x{}), one {:>5.2} us (x{}), two or more {:>5.2} us (x{})",
        a.0 / 1000.0,
        a.1,
        b.0 / 1000.0,
        b.1,
        c.0 / 1000.0,
        c.1
    );
}

/// A job with every keyframe running at once (concurrency lifted so that nothing queues):
/// returns it, the time, and its running keyframes
fn all_running(shots: usize) -> (Job, studio::time::Timestamp, Vec<StageId>) {
    let mut c = created(synthetic_brief(shots, 100.0 * shots as f64), 7, false);
    for m in &mut c.registry.models {
        m.concurrency = 100_000;
    }
    let (mut job, _) = Job::new(T0, c).unwrap();
    let now = T0.plus(Millis(100));
    let fx = job
        .handle(
            now,
            Input::MemoryContext {
                context: MemoryContext::default(),
            },
        )
        .unwrap();
    let mut keyframes = Vec::new();
    for e in fx {
        if let Effect::Submit { stage, attempt, .. } = e {
            let r = ProviderRef(format!("t-{stage}"));
            let _ = job
                .handle(
                    now,
                    Input::SubmitAccepted {
                        stage: stage.clone(),
                        attempt,
                        provider_ref: r,
                    },
                )
                .unwrap();
            if stage.as_str().ends_with(".keyframe") {
                keyframes.push(stage);
            }
        }
    }
    job.take_changes();
    (job, now.plus(Millis(1_000)), keyframes)
}

/// The same three callbacks at both sizes, each handled once per running keyframe (no clones,
/// no warm-up tricks): progress (queued -> running), success (-> storing, copy issued), the
/// copy's result (-> done, the shot's motion submitted). Returns mean ns per kind.
fn controlled(shots: usize, samples: usize) -> [f64; 3] {
    let mut totals = [0u128; 3];
    let mut n = 0usize;
    while n < samples {
        let (mut job, t, keyframes) = all_running(shots);
        for (k, make) in [progress as fn(&StageId, usize) -> Input, success, stored]
            .iter()
            .enumerate()
        {
            for (i, stage) in keyframes.iter().enumerate() {
                let input = make(stage, i);
                let started = Instant::now();
                let fx = job.handle(t, input).unwrap();
                let changes = job.take_changes();
                totals[k] += started.elapsed().as_nanos();
                black_box((fx, changes));
            }
        }
        n += keyframes.len();
    }
    totals.map(|t| t as f64 / n as f64)
}

fn progress(stage: &StageId, i: usize) -> Input {
    Input::ProviderUpdate {
        stage: stage.clone(),
        attempt: Attempt(1),
        status: ProviderStatus::Running,
        delivery_id: Some(DeliveryId(format!("p{i}"))),
    }
}

fn success(stage: &StageId, i: usize) -> Input {
    let outputs = vec![Output::Url {
        url: format!("https://x/{i}.png"),
        content_type: None,
        expires_at: None,
    }];
    Input::ProviderUpdate {
        stage: stage.clone(),
        attempt: Attempt(1),
        status: ProviderStatus::Succeeded { outputs },
        delivery_id: Some(DeliveryId(format!("s{i}"))),
    }
}

fn stored(stage: &StageId, _: usize) -> Input {
    Input::ArtifactStored {
        stage: stage.clone(),
        attempt: Attempt(1),
        key: format!("renders/rnd_test/{stage}/1/output"),
        content_type: "image/png".into(),
        bytes: 1,
    }
}

fn main() {
    // Alternating rounds, median per kind: the machine is shared, so single runs are noisy.
    let samples = 3_000;
    let _ = controlled(12, samples);
    let mut rounds: (Vec<[f64; 3]>, Vec<[f64; 3]>) = (Vec::new(), Vec::new());
    for _ in 0..7 {
        rounds.0.push(controlled(12, samples));
        rounds.1.push(controlled(500, samples));
    }
    let median = |v: &[[f64; 3]], k: usize| {
        let mut xs: Vec<f64> = v.iter().map(|r| r[k]).collect();
        xs.sort_by(f64::total_cmp);
        xs[xs.len() / 2]
    };
    let small_c = [0, 1, 2].map(|k| median(&rounds.0, k));
    let big_c = [0, 1, 2].map(|k| median(&rounds.1, k));
    for (k, name) in ["progress", "success", "stored"].iter().enumerate() {
        println!(
            "job_callback controlled {name:>8}: 12 shots {:>6.2} us, 500 shots {:>6.2} us, ratio {:.2}x",
            small_c[k] / 1000.0,
            big_c[k] / 1000.0,
            big_c[k] / small_c[k]
        );
    }
    let small_sum: f64 = small_c.iter().sum();
    let big_sum: f64 = big_c.iter().sum();
    println!(
        "job_callback controlled ratio 500/12: {:.2}x per callback",
        big_sum / small_sum
    );

    // warm up allocator and caches
    let _ = run(12);
    let small = median_run(12, 5);
    let big = median_run(500, 3);
    print("12 shots", &small);
    print("500 shots", &big);
    println!(
        "job_callback ratio 500/12: time per callback {:.2}x (p50 {:.2}x), bytes written per callback {:.2}x",
        big.mean_ns / small.mean_ns,
        big.p50_ns as f64 / small.p50_ns as f64,
        big.bytes_per_callback / small.bytes_per_callback
    );
}
