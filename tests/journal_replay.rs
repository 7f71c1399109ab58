//! Property: whatever happens (faults, duplicates, late alarms, evictions, cancels, support
//! actions accepted or refused, webhook deliveries failing, throttled, lost, or reported late),
//! replaying the journal rebuilds exactly the live job, and the rows written from
//! `take_changes()` rebuild it too (the harness checks the latter after every step).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Fault, WebhookFault, World, created, small_brief, webhook_brief};
use proptest::prelude::*;
use studio::ids::{ModelId, StageId};
use studio::job::{Input, Job, JobError, JobStatus, SupportAction};
use studio::journal::{Actor, JournalEntry, Record};
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
    /// Support acts (accepted or refused: a refused action is not journaled)
    Support(Act),
    /// A webhook result arrives out of band: for notification n, attempt a (maybe stale)
    NotifyResult { id: u8, attempt: u8, ok: bool },
}

#[derive(Debug, Clone)]
enum Act {
    Pause,
    Resume,
    Cancel,
    Retry(usize),
    Reroute(usize, usize),
    Restart(usize),
    NoReason,
}

/// Models a reroute may name: some fit the motion stages, some cannot run anything asked
const MODELS: [&str; 5] = [
    "pika-2.2",
    "seedance-1-pro",
    "flux-1.1-pro",
    "wan-2.2",
    "nope",
];

fn act() -> impl Strategy<Value = Act> {
    prop_oneof![
        3 => Just(Act::Pause),
        3 => Just(Act::Resume),
        1 => Just(Act::Cancel),
        3 => (0..STAGES.len()).prop_map(Act::Retry),
        3 => (0..STAGES.len(), 0..MODELS.len()).prop_map(|(s, m)| Act::Reroute(s, m)),
        3 => (0..STAGES.len()).prop_map(Act::Restart),
        1 => Just(Act::NoReason),
    ]
}

impl Act {
    fn input(&self) -> Input {
        let stage = |i: &usize| StageId(STAGES[*i].into());
        let (reason, action) = match self {
            Self::Pause => ("hold", SupportAction::Pause),
            Self::Resume => ("go", SupportAction::Resume),
            Self::Cancel => ("stop", SupportAction::Cancel),
            Self::Retry(s) => ("again", SupportAction::RetryStage { stage: stage(s) }),
            Self::Reroute(s, m) => (
                "elsewhere",
                SupportAction::Reroute {
                    stage: stage(s),
                    model: ModelId(MODELS[*m].into()),
                },
            ),
            Self::Restart(s) => ("redo", SupportAction::RestartFrom { stage: stage(s) }),
            Self::NoReason => (" ", SupportAction::Pause),
        };
        Input::Support {
            by: "sam@support".into(),
            reason: reason.into(),
            action,
        }
    }
}

fn op() -> impl Strategy<Value = Op> {
    // Cancels are rare: everything after one is refused or ignored.
    prop_oneof![
        18 => (1u8..30).prop_map(Op::Steps),
        6 => any::<u16>().prop_map(Op::Duplicate),
        6 => (0u32..400_000).prop_map(Op::LateTick),
        3 => Just(Op::Evict),
        1 => Just(Op::Cancel),
        10 => act().prop_map(Op::Support),
        3 => (0u8..8, 0u8..4, any::<bool>()).prop_map(|(id, attempt, ok)| Op::NotifyResult { id, attempt, ok }),
    ]
}

fn webhook_fault() -> impl Strategy<Value = WebhookFault> {
    prop_oneof![
        Just(WebhookFault::Fail {
            status: 500,
            retry_after: None
        }),
        Just(WebhookFault::Fail {
            status: 429,
            retry_after: Some(Millis(45_000))
        }),
        Just(WebhookFault::Lost),
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

type Script = (
    u64,
    Vec<(usize, Fault)>,
    Vec<(u32, WebhookFault)>,
    Vec<Op>,
    bool,
);

fn script() -> impl Strategy<Value = Script> {
    (
        any::<u64>(),
        prop::collection::vec((0..STAGES.len(), fault()), 0..6),
        prop::collection::vec((1u32..8, webhook_fault()), 0..6),
        prop::collection::vec(op(), 0..40),
        any::<bool>(),
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn replaying_the_journal_rebuilds_the_same_job((seed, faults, hooks, ops, finish) in script()) {
        // Half the scripts have a webhook (the seed's low bit), so both paths are exercised.
        let brief = if seed % 2 == 0 { webhook_brief(4) } else { small_brief(4) };
        let mut w = World::with(created(brief, seed, false), |f| {
            for (i, fault) in &faults {
                f.fault_stage(STAGES[*i], [fault.clone()]);
            }
            for (id, fault) in &hooks {
                f.fault_webhook(*id, [fault.clone()]);
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
                        // Support actions are commands, not facts: a repeat may no longer apply.
                        let command = matches!(input, Input::Support { .. });
                        let result = w.deliver(Actor::System, input);
                        prop_assert!(command || result.is_ok(), "{:?}", result);
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
                Op::Support(a) => {
                    let journaled = w.journal.len();
                    let before = w.job.clone();
                    if w.deliver(Actor::Support { by: "sam@support".into() }, a.input()).is_err() {
                        prop_assert!(w.job == before, "a refused action changed the job");
                        prop_assert_eq!(w.journal.len(), journaled);
                    }
                }
                Op::NotifyResult { id, attempt, ok } => {
                    let input = Input::NotifyResult {
                        notification: u32::from(id),
                        attempt: u32::from(attempt),
                        ok,
                        retry_after: None,
                        error: (!ok).then(|| "HTTP 503".into()),
                    };
                    // Unknown ids are refused (and not journaled); stale ones are no-ops.
                    let _ = w.deliver(Actor::System, input);
                }
            }
        }
        if finish {
            // A paused job waits for support: resume it so the script can finish.
            if w.status() == JobStatus::Paused {
                w.deliver(Actor::Support { by: "sam@support".into() }, Act::Resume.input()).unwrap();
            }
            w.run();
            prop_assert!(w.status().is_terminal() || w.status() == JobStatus::Paused);
            prop_assert!(w.job.header().outbox.iter().all(|n| n.state.is_settled()));
            // The fake acknowledges every index, ledger and memory write.
            prop_assert!(w.job.header().writes.is_empty(), "{:?}", w.job.header().writes);
        }
        let replayed = Job::replay(&w.journal).unwrap();
        prop_assert!(replayed == w.job);
        prop_assert_eq!(replayed.view(), w.job.view());
        prop_assert_eq!(replayed.next_deadline(), w.job.next_deadline());
        // The shell journals only the steps that changed something: that journal rebuilds the
        // same job too.
        let pruned = prune(&w.journal);
        prop_assert!(pruned.len() <= w.journal.len());
        let replayed = Job::replay(&pruned).unwrap();
        prop_assert!(replayed == w.job);
        prop_assert_eq!(replayed.next_deadline(), w.job.next_deadline());
    }
}

/// The journal the shell keeps: every entry whose step changed something (`Record::of`)
fn prune(journal: &[JournalEntry]) -> Vec<JournalEntry> {
    let mut kept = Vec::new();
    let mut job: Option<Job> = None;
    for entry in journal {
        match (&mut job, &entry.input) {
            (None, Input::Created(c)) => {
                let (mut j, _) = Job::new(entry.at, c.clone()).unwrap();
                j.take_changes();
                job = Some(j);
                kept.push(entry.clone());
            }
            (Some(j), input) => {
                let _effects = j.handle(entry.at, input.clone()).unwrap();
                if Record::of(&j.take_changes()) == Record::Append {
                    kept.push(entry.clone());
                }
            }
            (None, other) => panic!("journal starts with {}", other.name()),
        }
    }
    kept
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
