//! Building the memory context for a 12-shot brief from a graph holding 5,000 past shots
//! (target: at most 50 ms), against a 100-shot graph as the baseline measured in the same run.
//! Prints figures; asserts nothing about time.

use std::hint::black_box;
use std::time::{Duration, Instant};

use studio::brief::{Brief, OutcomeTarget, ShotKind};
use studio::ids::{JobId, ModelId, ShotId};
use studio::memory::{
    DEFAULT_SIMILAR, FinishedRender, FinishedShot, MemoryGraph, NgramEmbedder, build_context,
    parse_outcomes, record_outcomes, record_render,
};
use studio::time::Timestamp;

const WORDS: [&str; 24] = [
    "storm",
    "lighthouse",
    "harbour",
    "gull",
    "keeper",
    "lamp",
    "rain",
    "dawn",
    "cliff",
    "boat",
    "fisherman",
    "rope",
    "window",
    "letter",
    "brass",
    "gears",
    "waves",
    "beam",
    "night",
    "village",
    "kitchen",
    "market",
    "forest",
    "street",
];
const MODELS: [&str; 6] = [
    "veo-3",
    "sora-2",
    "kling-2.1",
    "runway-gen4-turbo",
    "luma-ray-2",
    "hailuo-02",
];

/// A graph of `renders` renders x 5 shots with varied prompts, outcomes on every other render
fn graph(renders: usize) -> MemoryGraph {
    let embedder = NgramEmbedder::default();
    let mut g = MemoryGraph::new("bench".into());
    let mut seed: u64 = 42;
    let mut next = move || {
        // xorshift: a fixed sequence, so every run builds the same graph
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for r in 0..renders {
        let shots = (0..5)
            .map(|s| {
                let prompt: Vec<&str> = (0..8)
                    .map(|_| WORDS[(next() % WORDS.len() as u64) as usize])
                    .collect();
                FinishedShot {
                    shot: ShotId(format!("s{s:02}")),
                    kind: ShotKind::ALL[(next() % 6) as usize],
                    model: ModelId(MODELS[(next() % 6) as usize].into()),
                    prompt: prompt.join(" "),
                    duration_s: 5.0,
                    hero: s == 0,
                    cast: vec![],
                }
            })
            .collect();
        let job = JobId(format!("rnd_{r:05}"));
        let render = FinishedRender {
            job: job.clone(),
            format: "short_doc".into(),
            outcome_target: OutcomeTarget::WatchTime,
            cost_usd: 10.0,
            finished_at: Timestamp(r as u64),
            shots,
        };
        record_render(&mut g, &render, &embedder).expect("valid render");
        if r % 2 == 0 {
            let retention = 0.4 + (next() % 50) as f64 / 100.0;
            let body = format!(r#"{{"views": 1000, "retention_3s": {retention}}}"#);
            record_outcomes(&mut g, &job, &parse_outcomes(&body).expect("valid"))
                .expect("known job");
        }
    }
    g
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
    let brief: Brief =
        serde_json::from_str(include_str!("../examples/brief.json")).expect("example brief parses");
    let embedder = NgramEmbedder::default();

    let small = graph(20);
    let (_, base) = time(100, || {
        black_box(build_context(
            black_box(&small),
            &brief,
            &embedder,
            DEFAULT_SIMILAR,
        ));
    });

    let big = graph(1000);
    assert_eq!(big.shots.len(), 5000);
    let (min, median) = time(30, || {
        black_box(build_context(
            black_box(&big),
            &brief,
            &embedder,
            DEFAULT_SIMILAR,
        ));
    });
    let ctx = build_context(&big, &brief, &embedder, DEFAULT_SIMILAR);

    println!(
        "memory_context: 12-shot brief, 5,000 past shots: median {:.2} ms, min {:.2} ms (target <= 50 ms)",
        median.as_secs_f64() * 1e3,
        min.as_secs_f64() * 1e3
    );
    println!(
        "memory_context: baseline 100 past shots: median {:.3} ms; ratio {:.1}x for 50x the shots",
        base.as_secs_f64() * 1e3,
        median.as_secs_f64() / base.as_secs_f64()
    );
    println!(
        "memory_context: {} outcome statistics, {} similar-shot lists of {}",
        ctx.outcomes.len(),
        ctx.similar.len(),
        DEFAULT_SIMILAR
    );
}
