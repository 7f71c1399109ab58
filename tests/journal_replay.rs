//! Property: whatever happens (faults, duplicates, late alarms, evictions, cancels), replaying
//! the journal rebuilds exactly the live job, and the rows written from `take_changes()`
//! rebuild it too (the harness checks the latter after every step).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Fault, World, created, small_brief};
use proptest::prelude::*;
use studio::job::{Input, Job, JobError};
use studio::journal::{Actor, JournalEntry};
use studio::providers::ProviderError;
use studio::time::{Millis, Timestamp};

#[derive(Debug, Clone)]
enum Op {
    /// Deliver the next n events
    Steps(u8),
    /// Deliver a past input again, now
    Duplicate(u16),
    /// The alarm fires late, at now + ms
    LateTick(u32),
    /// The object is evicted and reloaded from its rows
    Evict,
    /// The app cancels
    Cancel,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (1u8..30).prop_map(Op::Steps),
        2 => any::<u16>().prop_map(Op::Duplicate),
        2 => (0u32..400_000).prop_map(Op::LateTick),
        1 => Just(Op::Evict),
        1 => Just(Op::Cancel),
    ]
}

fn fault() -> impl Strategy<Value = Fault> {
    prop_oneof![
        Just(Fault::SubmitError(ProviderError::Transient {
            reason: "502".into()
        })),
        Just(Fault::SubmitError(ProviderError::RateLimited {
            retry_after: Some(Millis(3_000))
        })),
        Just(Fault::SubmitError(ProviderError::Rejected {
            reason: "bad".into()
        })),
        Just(Fault::FailStatus {
            reason: "oom".into(),
            retryable: true
        }),
        Just(Fault::Moderate),
        Just(Fault::Lost),
        Just(Fault::Silent),
        Just(Fault::BadOutput),
    ]
}

const STAGES: [&str; 8] = [
    "s01.keyframe",
    "s01.motion",
    "s02.keyframe",
    "s02.motion",
    "s03.keyframe",
    "s03.motion",
    "assembly",
    "s04.dialogue",
];

fn script() -> impl Strategy<Value = (u64, Vec<(usize, Fault)>, Vec<Op>, bool)> {
    (
        any::<u64>(),
        prop::collection::vec((0..STAGES.len(), fault()), 0..6),
        prop::collection::vec(op(), 0..40),
        any::<bool>(),
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn replaying_the_journal_rebuilds_the_same_job((seed, faults, ops, finish) in script()) {
        let mut w = World::with(created(small_brief(4), seed, false), |f| {
            for (i, fault) in &faults {
                f.fault_stage(STAGES[*i], [fault.clone()]);
            }
        });
        for op in ops {
            match op {
                Op::Steps(n) => {
                    for _ in 0..n {
                        if !w.step() {
                            break;
                        }
                    }
                }
                Op::Duplicate(i) => {
                    let past: Vec<Input> = w.journal.iter().skip(1).map(|e| e.input.clone()).collect();
                    if !past.is_empty() {
                        let input = past[usize::from(i) % past.len()].clone();
                        w.deliver(Actor::System, input).unwrap();
                    }
                }
                Op::LateTick(ms) => {
                    w.now = w.now.plus(Millis(u64::from(ms)));
                    w.deliver(Actor::Alarm, Input::Tick).unwrap();
                }
                Op::Evict => w.job = w.store.load(),
                Op::Cancel => {
                    w.deliver(Actor::App { by: "sk_test_demo".into() }, Input::Cancel { by: "sk_test_demo".into() }).unwrap();
                }
            }
        }
        if finish {
            w.run();
            prop_assert!(w.status().is_terminal());
        }
        let replayed = Job::replay(&w.journal).unwrap();
        prop_assert!(replayed == w.job);
        prop_assert_eq!(replayed.view(), w.job.view());
        prop_assert_eq!(replayed.next_deadline(), w.job.next_deadline());
    }
}

#[test]
fn a_journal_must_start_with_the_creation() {
    assert!(matches!(Job::replay(&[]), Err(JobError::EmptyJournal)));
    let entry = JournalEntry {
        seq: 1,
        at: Timestamp(1),
        actor: Actor::Alarm,
        input: Input::Tick,
    };
    assert!(matches!(
        Job::replay(&[entry]),
        Err(JobError::NotCreatedFirst {
            seq: 1,
            input: "tick"
        })
    ));
}

#[test]
fn journal_entries_round_trip_through_json() {
    let mut w = World::new(small_brief(2));
    w.run();
    let json = serde_json::to_string(&w.journal).unwrap();
    let back: Vec<JournalEntry> = serde_json::from_str(&json).unwrap();
    assert_eq!(back, w.journal);
    assert!(Job::replay(&back).unwrap() == w.job);
}
