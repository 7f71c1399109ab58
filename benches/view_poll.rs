//! What a poll of a changed job costs the job object: the creator's view encoded whole with a
//! digest of its text (before `CreatorViewText`) against the view kept in parts, where only the
//! stages a step changed are encoded again. Printed side by side as a ratio, for a 24-shot and
//! a 500-shot job, measured after every step of the whole job (each step changes a stage or a
//! few, as under fleet load, where an app's poll most often finds its job changed).
//!
//! Run with `cargo bench -p studio --bench view_poll`.
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

use common::{World, created, synthetic_brief};
use sha2::{Digest, Sha256};
use studio::job::{CreatorViewText, JobStatus};

/// Mean ns per poll: (whole, parts), and the view's mean size in bytes
fn run(shots: usize) -> (f64, f64, usize) {
    let mut w = World::with(
        created(synthetic_brief(shots, 100.0 * shots as f64), 7, false),
        |_| {},
    );
    w.checks = false;
    let mut parts = CreatorViewText::default();
    let (mut whole_ns, mut parts_ns, mut bytes, mut polls) = (0u128, 0u128, 0usize, 0usize);
    for _ in 0..1_000_000 {
        if !w.step() {
            break;
        }
        parts.forget(&w.store.last);
        let started = Instant::now();
        let json = serde_json::to_string(&w.job.creator_view()).unwrap();
        black_box(Sha256::digest(json.as_bytes()));
        whole_ns += started.elapsed().as_nanos();
        let started = Instant::now();
        let kept = parts.encode(&w.job).unwrap();
        parts_ns += started.elapsed().as_nanos();
        assert_eq!(kept.json.len(), json.len());
        bytes += json.len();
        polls += 1;
    }
    assert_eq!(w.status(), JobStatus::Succeeded);
    let n = polls.max(1) as f64;
    (
        whole_ns as f64 / n,
        parts_ns as f64 / n,
        bytes / polls.max(1),
    )
}

fn main() {
    println!("| a poll of a job changed since the last one | whole view | kept parts | ratio |");
    println!("|---|---|---|---|");
    for shots in [24, 500] {
        let (whole, parts, bytes) = run(shots);
        println!(
            "| {shots} shots, view {:.0} KB, after each of its steps | {:.1} us | {:.1} us | {:.2}x |",
            bytes as f64 / 1024.0,
            whole / 1000.0,
            parts / 1000.0,
            parts / whole
        );
    }
}
