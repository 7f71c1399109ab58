//! Only steps that change the job are journaled; the rest are counted by kind (duplicate
//! callback, stale callback, no-op tick), so a storm of duplicates or idle alarms leaves the
//! journal as it was, and the shorter journal still replays to the live job.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;

use common::{World, small_brief};
use studio::ids::{Attempt, DeliveryId, ProviderRef, StageId};
use studio::job::{Input, Job, JobStatus};
use studio::journal::{Actor, JournalEntry, Record, Skipped};
use studio::memory::MemoryContext;
use studio::providers::{ProviderKind, ProviderStatus};
use studio::time::Millis;

/// The shell's rule over a live job: journal what changed something, count the rest
struct Shell {
    world: World,
    journal: Vec<JournalEntry>,
    counts: BTreeMap<Skipped, u64>,
}

impl Shell {
    fn new(world: World) -> Self {
        let journal = world.journal.clone();
        Self {
            world,
            journal,
            counts: BTreeMap::new(),
        }
    }

    fn deliver(&mut self, input: Input) {
        self.world
            .deliver(Actor::System, input.clone())
            .expect("accepted");
        match Record::of(&self.world.store.last) {
            Record::Append => {
                let seq = self.journal.len() as u64 + 1;
                self.journal.push(JournalEntry {
                    seq,
                    at: self.world.now,
                    actor: Actor::System,
                    input,
                });
            }
            Record::Count(kind) => *self.counts.entry(kind).or_default() += 1,
        }
    }
}

fn running(stage: &StageId) -> Input {
    Input::Callback {
        provider: ProviderKind::Bfl,
        stage: stage.clone(),
        attempt: Attempt(1),
        status: ProviderStatus::Running,
        delivery_id: Some(DeliveryId("evt-1".into())),
    }
}

#[test]
fn a_thousand_duplicate_callbacks_leave_the_journal_as_it_was() {
    let mut shell = Shell::new(World::manual(small_brief(1)));
    shell.deliver(Input::MemoryContext {
        context: MemoryContext::default(),
    });
    let kf = StageId("s01.keyframe".into());
    shell.deliver(Input::SubmitAccepted {
        stage: kf.clone(),
        attempt: Attempt(1),
        provider_ref: ProviderRef("task-1".into()),
    });
    // The first delivery moves the stage from queued to running: journaled.
    shell.deliver(running(&kf));
    let length = shell.journal.len();
    for _ in 0..1_000 {
        shell.deliver(running(&kf));
    }
    assert_eq!(shell.journal.len(), length, "duplicates were journaled");
    assert_eq!(shell.counts.get(&Skipped::DuplicateCallback), Some(&1_000));
    // The same news again without a delivery id is a duplicate too.
    shell.deliver(Input::ProviderUpdate {
        stage: kf.clone(),
        attempt: Attempt(1),
        status: ProviderStatus::Running,
        delivery_id: None,
    });
    assert_eq!(shell.counts.get(&Skipped::DuplicateCallback), Some(&1_001));
    assert_eq!(shell.journal.len(), length);
    let replayed = Job::replay(&shell.journal).unwrap();
    assert!(replayed == shell.world.job, "the short journal replays");
}

#[test]
fn stale_callbacks_and_idle_alarms_are_counted_by_kind() {
    let mut shell = Shell::new(World::manual(small_brief(1)));
    shell.deliver(Input::MemoryContext {
        context: MemoryContext::default(),
    });
    let kf = StageId("s01.keyframe".into());
    // A callback for an attempt never issued: stale.
    shell.deliver(Input::Callback {
        provider: ProviderKind::Bfl,
        stage: kf.clone(),
        attempt: Attempt(7),
        status: ProviderStatus::Running,
        delivery_id: Some(DeliveryId("evt-7".into())),
    });
    assert_eq!(shell.counts.get(&Skipped::StaleCallback), Some(&1));
    // An alarm with nothing due, twice.
    let length = shell.journal.len();
    shell.world.now = shell.world.now.plus(Millis(1));
    shell.deliver(Input::Tick);
    shell.deliver(Input::Tick);
    assert_eq!(shell.counts.get(&Skipped::NoOpTick), Some(&2));
    // After the end, the attempt's own callbacks are stale.
    shell.deliver(Input::Cancel { by: "app".into() });
    assert_eq!(shell.world.status(), JobStatus::Cancelled);
    shell.deliver(running(&kf));
    assert_eq!(shell.counts.get(&Skipped::StaleCallback), Some(&2));
    // A repeated cancel is some other no-op.
    shell.deliver(Input::Cancel { by: "app".into() });
    assert_eq!(shell.counts.get(&Skipped::Other), Some(&1));
    assert_eq!(
        shell.journal.len(),
        length + 1,
        "only the cancel was journaled"
    );
    let replayed = Job::replay(&shell.journal).unwrap();
    assert!(replayed == shell.world.job);
}

#[test]
fn a_step_that_changed_something_is_always_journaled() {
    let mut w = World::manual(small_brief(1));
    let (_, changes) = w.poke(Input::MemoryContext {
        context: MemoryContext::default(),
    });
    assert_eq!(changes.skipped, None);
    assert_eq!(Record::of(&changes), Record::Append);
}
