//! Transient faults never fail a render: ten small renders at once, with 15% of submissions
//! answered 5xx, 15% 429, 15% of outputs already expired, 15% of terminal callbacks duplicated
//! and every callback late. Every render must succeed (the short form of `bench_faults`, on the
//! same runtime: Miniflare without `wrangler dev`'s proxy).

use std::time::Duration;

use e2e::fault_run::{run, transient_faults};
use e2e::{StackOptions, WorkerRuntime, shared_stack_with};

#[tokio::test]
async fn every_render_succeeds_through_transient_faults() {
    let stack = shared_stack_with(|| StackOptions {
        runtime: WorkerRuntime::Miniflare,
        ..StackOptions::default()
    });
    let report = run(
        &stack.worker_url,
        &stack.sim_url,
        &transient_faults(0.15),
        10,
        3,
        Duration::from_secs(900),
    )
    .await
    .expect("the run");
    assert!(
        report.failed.is_empty(),
        "{} failed: {:?}",
        report.failed.len(),
        report.failed
    );
    assert_eq!(report.succeeded, 10);
    // The faults were really there.
    let injected: u64 = report
        .faults
        .as_object()
        .map(|by_provider| {
            by_provider
                .values()
                .filter_map(|kinds| kinds.as_object())
                .flat_map(|kinds| kinds.values().filter_map(|n| n.as_u64()))
                .sum()
        })
        .unwrap_or(0);
    assert!(injected >= 5, "faults injected: {}", report.faults);
}
