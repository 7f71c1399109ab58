//! The job's writes to the D1 index, the cost ledger and the memory graph are effects with
//! deadlines and results: recorded in the header, re-issued from the alarm (with the same id and
//! payload) until acknowledged, and kept across an eviction.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{T0, World, small_brief};
use studio::ids::{Attempt, DeliveryId, StageId};
use studio::job::{
    Effect, Input, JobStatus, MAX_WRITE_ATTEMPTS, WRITE_RESULT_TIMEOUT, WriteId, WriteKind,
    WriteState, write_backoff,
};
use studio::memory::MemoryContext;
use studio::providers::{Output, ProviderStatus};

fn ack(write: WriteId) -> Input {
    Input::WriteResult {
        write,
        ok: true,
        error: None,
    }
}

fn failed(write: WriteId) -> Input {
    Input::WriteResult {
        write,
        ok: false,
        error: Some("D1 renders status: network connection lost".into()),
    }
}

/// The index writes among effects: (write, seq, status)
fn index_writes(fx: &[Effect]) -> Vec<(WriteId, u32, JobStatus)> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::StatusChanged { write, seq, to, .. } => Some((*write, *seq, *to)),
            _ => None,
        })
        .collect()
}

#[test]
fn an_unacknowledged_index_write_is_reissued_at_its_deadline_even_after_an_eviction() {
    let mut w = World::manual(small_brief(1));
    let first: Vec<Effect> = w.effects.iter().map(|(_, e)| e.clone()).collect();
    assert_eq!(
        index_writes(&first),
        vec![(WriteId(1), 2, JobStatus::Planning)],
        "the creation's status change is write 1, seq 2 (queued was 1)"
    );
    let deadline = T0.plus(WRITE_RESULT_TIMEOUT);
    assert_eq!(w.job.next_deadline(), Some(deadline));
    // The isolate dies before the write answers: a new one loads the rows.
    w.job = w.store.load();
    assert_eq!(w.job.next_deadline(), Some(deadline));
    w.now = deadline;
    let (fx, _) = w.poke(Input::Tick);
    assert_eq!(
        index_writes(&fx),
        vec![(WriteId(1), 2, JobStatus::Planning)],
        "the same write, same seq"
    );
    let pending = &w.job.header().writes;
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].attempts, 2);
    w.assert_replays();
}

#[test]
fn an_acknowledged_write_is_not_reissued() {
    let mut w = World::manual(small_brief(1));
    let (fx, changes) = w.poke(ack(WriteId(1)));
    assert!(fx.is_empty());
    assert!(changes.header, "the outbox shrank");
    assert!(w.job.header().writes.is_empty());
    // The memory context deadline is the only one left (the fetch was never answered).
    let next = w.job.next_deadline().unwrap();
    w.now = T0.plus(WRITE_RESULT_TIMEOUT).max(next);
    let (fx, _) = w.poke(Input::Tick);
    assert!(index_writes(&fx).is_empty(), "{fx:?}");
    // A late duplicate of the acknowledgement changes nothing.
    w.assert_noop(ack(WriteId(1)));
    w.assert_replays();
}

#[test]
fn a_failed_write_backs_off_and_a_newer_status_supersedes_it() {
    let mut w = World::manual(small_brief(1));
    w.poke(failed(WriteId(1)));
    let pending = w.job.header().writes.clone();
    assert!(matches!(
        &pending[0].state,
        WriteState::Retrying { next_at, last_error } if *next_at == T0.plus(write_backoff(1))
            && last_error.contains("network")
    ));
    // A repeat of the failure (or of an older issue's result) does not push it further out.
    w.assert_noop(failed(WriteId(1)));
    // Planning -> rendering: the new index write replaces the pending older one.
    let (fx, _) = w.poke(Input::MemoryContext {
        context: MemoryContext::default(),
    });
    assert_eq!(w.status(), JobStatus::Rendering);
    assert_eq!(
        index_writes(&fx),
        vec![(WriteId(2), 3, JobStatus::Rendering)]
    );
    let ids: Vec<WriteId> = w.job.header().writes.iter().map(|p| p.id).collect();
    assert_eq!(ids, vec![WriteId(2)]);
    // The superseded write's result is ignored.
    w.assert_noop(ack(WriteId(1)));
    w.assert_replays();
}

#[test]
fn a_write_never_acknowledged_is_given_up_with_a_note() {
    let mut w = World::manual(small_brief(1));
    w.poke(Input::Cancel { by: "app".into() });
    // The cancelled job's index write (2) goes through; its memory write (3) fails for good.
    w.poke(ack(WriteId(1)));
    w.poke(ack(WriteId(2)));
    let memory = WriteId(3);
    let mut issues = 1;
    for _ in 0..200 {
        w.poke(failed(memory));
        let Some(next) = w.job.header().writes.iter().find(|p| p.id == memory) else {
            break;
        };
        w.now = next.state.wake_at();
        let (fx, _) = w.poke(Input::Tick);
        issues += fx
            .iter()
            .filter(|e| matches!(e, Effect::EnrichMemory { write, .. } if *write == memory))
            .count() as u32;
    }
    assert_eq!(issues, MAX_WRITE_ATTEMPTS);
    assert!(w.job.header().writes.is_empty());
    assert_eq!(
        w.job.next_deadline(),
        None,
        "nothing keeps the alarm after giving up"
    );
    let notes = &w.job.header().notes;
    assert!(
        notes
            .iter()
            .any(|n| n.starts_with("gave up the memory write 3")),
        "{notes:?}"
    );
    w.assert_replays();
}

#[test]
fn a_ledger_line_is_reissued_with_the_same_stage_and_attempt_until_acknowledged() {
    let mut w = World::manual(small_brief(1));
    w.poke(Input::MemoryContext {
        context: MemoryContext::default(),
    });
    w.ack_writes();
    let kf = StageId("s01.keyframe".into());
    w.poke(Input::SubmitAccepted {
        stage: kf.clone(),
        attempt: Attempt(1),
        provider_ref: studio::ids::ProviderRef("task-1".into()),
    });
    w.poke(Input::ProviderUpdate {
        stage: kf.clone(),
        attempt: Attempt(1),
        status: ProviderStatus::Succeeded {
            outputs: vec![Output::Url {
                url: "https://bfl.example/x.png".into(),
                content_type: Some("image/png".into()),
                expires_at: None,
            }],
        },
        delivery_id: Some(DeliveryId("d1".into())),
    });
    let key = match w.state("s01.keyframe") {
        studio::job::StageState::Storing { pending, .. } => pending[0].key.clone(),
        other => panic!("{other:?}"),
    };
    let (fx, _) = w.poke(Input::ArtifactStored {
        stage: kf.clone(),
        attempt: Attempt(1),
        key,
        content_type: "image/png".into(),
        bytes: 10,
    });
    let cost = |fx: &[Effect]| -> Vec<(WriteId, StageId, Attempt)> {
        fx.iter()
            .filter_map(|e| match e {
                Effect::RecordCost {
                    write,
                    stage,
                    attempt,
                    ..
                } => Some((*write, stage.clone(), *attempt)),
                _ => None,
            })
            .collect()
    };
    let first = cost(&fx);
    assert_eq!(first.len(), 1, "{fx:?}");
    assert_eq!((&first[0].1, first[0].2), (&kf, Attempt(1)));
    let pending = w.job.header().writes.clone();
    assert!(matches!(pending[0].kind, WriteKind::Cost { .. }));
    w.job = w.store.load();
    w.now = pending[0].state.wake_at();
    let (fx, _) = w.poke(Input::Tick);
    assert_eq!(cost(&fx), first, "re-issued as the same ledger line");
    w.poke(ack(first[0].0));
    w.now = w.now.plus(WRITE_RESULT_TIMEOUT);
    let (fx, _) = w.poke(Input::Tick);
    assert!(cost(&fx).is_empty());
    w.assert_replays();
}

#[test]
fn a_finished_job_keeps_its_alarm_until_its_index_and_memory_writes_are_acknowledged() {
    let mut w = World::manual(small_brief(1));
    w.ack_writes();
    let (fx, _) = w.poke(Input::Cancel { by: "app".into() });
    assert_eq!(w.status(), JobStatus::Cancelled);
    let kinds: Vec<&str> = w
        .job
        .header()
        .writes
        .iter()
        .map(|p| p.kind.name())
        .collect();
    assert_eq!(kinds, vec!["index", "memory"]);
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::EnrichMemory { summary, .. } if summary.status == JobStatus::Cancelled))
    );
    let at = w.job.next_deadline().unwrap();
    w.now = at;
    let (fx, _) = w.poke(Input::Tick);
    assert_eq!(index_writes(&fx).len(), 1);
    assert!(fx.iter().any(|e| matches!(e, Effect::EnrichMemory { .. })));
    w.ack_writes();
    assert_eq!(w.job.next_deadline(), None);
    assert_eq!(w.job.header().writes_issued, 3);
    w.assert_replays();
}
