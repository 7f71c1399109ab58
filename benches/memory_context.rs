//! Building the memory context for a 12-shot brief from a creator's past shots: 5,000 (target:
//! at most 10 ms) and 50,000 recorded (at most 15 ms; retention keeps the newest 6,000 in full
//! and folds the rest into aggregates, see `studio::memory::compact`), against a 100-shot graph
//! as the baseline measured in the same run. Past renders have 12 shots each, like the sample
//! brief, so 5,000 shots fit the 500 renders kept in full. Prints figures; asserts nothing about
//! time.

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

/// Shots per past render, as in the sample brief
const SHOTS_PER_RENDER: usize = 12;

/// A graph after `shots` past shots were recorded (renders of [`SHOTS_PER_RENDER`] shots with
/// varied prompts, outcomes on every other render)
fn graph(shots: usize) -> MemoryGraph {
    let renders = shots.div_ceil(SHOTS_PER_RENDER);
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
        let shots = (0..SHOTS_PER_RENDER)
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

/// Median time of `build_context` for `brief` over `graph`
fn context_time(graph: &MemoryGraph, brief: &Brief, iterations: usize) -> (Duration, Duration) {
    let embedder = NgramEmbedder::default();
    time(iterations, || {
        black_box(build_context(
            black_box(graph),
            brief,
            &embedder,
            DEFAULT_SIMILAR,
        ));
    })
}

fn main() {
    let brief: Brief =
        serde_json::from_str(include_str!("../examples/brief.json")).expect("example brief parses");
    let embedder = NgramEmbedder::default();

    let small = graph(100);
    let (_, base) = context_time(&small, &brief, 100);

    let big = graph(5_000);
    assert!(big.shots.len() >= 5_000, "every shot of 5,000 kept in full");
    let (min, median) = context_time(&big, &brief, 30);

    let started = Instant::now();
    let huge = graph(50_000);
    let build_huge = started.elapsed();
    let (huge_min, huge_median) = context_time(&huge, &brief, 30);
    let started = Instant::now();
    let stored = serde_json::to_string(&huge).expect("graph serialises");
    let encode = started.elapsed();
    let started = Instant::now();
    let loaded: MemoryGraph = serde_json::from_str(&stored).expect("graph loads");
    let decode = started.elapsed();
    black_box(loaded);

    let ctx = build_context(&big, &brief, &embedder, DEFAULT_SIMILAR);
    println!(
        "memory_context: 12-shot brief, 5,000 past shots: median {:.2} ms, min {:.2} ms (target <= 10 ms)",
        median.as_secs_f64() * 1e3,
        min.as_secs_f64() * 1e3
    );
    println!(
        "memory_context: 50,000 past shots recorded ({} kept in full, {} folded rows): median {:.2} ms, min {:.2} ms (target <= 15 ms); {:.2}x the 5,000",
        huge.shots.len(),
        huge.folded.len(),
        huge_median.as_secs_f64() * 1e3,
        huge_min.as_secs_f64() * 1e3,
        huge_median.as_secs_f64() / median.as_secs_f64(),
    );
    println!(
        "memory_context: the 50,000-shot graph as JSON: {:.1} MB, encoded in {:.0} ms, loaded in {:.0} ms (recording the 50,000 took {:.1} s)",
        stored.len() as f64 / 1e6,
        encode.as_secs_f64() * 1e3,
        decode.as_secs_f64() * 1e3,
        build_huge.as_secs_f64(),
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
