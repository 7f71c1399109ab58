//! The short chaos run of `make test`: three renders of four shots, started one per kill, and
//! four SIGKILLs of the runtime, each inside a submit call in flight when one comes within 20 s
//! (from seeded random moments), the simulator and the assembler alive throughout. The long run is
//! `cargo run -p e2e --bin chaos` (in `make bench`).

use std::time::Duration;

use e2e::Stack;
use e2e::chaos::{self, Chaos};

#[tokio::test]
async fn renders_end_as_undisturbed_ones_through_sigkills_with_duplicates_only_where_allowed() {
    let mut stack = Stack::start_with(chaos::stack_options()).expect("stack");
    let chaos = Chaos {
        jobs: 3,
        kills: 4,
        submit_every: 1,
        shots: Some(4),
        stagger: true,
        seed: 0x00C4_A05E,
        // They end within about two minutes of the last restart; the margin is for a slow host.
        finish_within: Duration::from_secs(240),
    };
    let report = chaos::run(&mut stack, chaos)
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", stack.worker_log()));
    println!("{report:#?}");
    assert!(
        report.broken.is_empty(),
        "{report:#?}\n{}",
        stack.worker_log()
    );
    assert!(report.unexpected_duplicates.is_empty(), "{report:#?}");
    let allowed: u64 = report.allowed_duplicates.values().sum();
    assert_eq!(report.sim_duplicate_submissions, allowed, "{report:#?}");
    assert!(
        report.kills_in_submit >= 1,
        "no kill inside a submit: {report:#?}"
    );
    stack.stop();
}
