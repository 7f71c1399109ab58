//! A provider gate with a long line: what one re-ask (a waiting stage asking again to keep its
//! place) costs the gate object natively, with 10 waiters against 1,200, stored as the gate
//! object stores it (a head row plus the changed waiter rows, `fleet::stored_desk`) against the
//! one-document layout it replaced (the whole desk as JSON after every call). Then a gate whose
//! account lets a fleet hold many slots at once: what a grant and its release write with each
//! lease a row of its own, against every lease in the head row as before (1,000 leases is 50
//! renders' keyframes at one image provider). Last, a gate whose health book is as full as after a
//! load run (many models, each with a window of outcomes): what `take_changes` costs after an
//! acquire and after a release, and the bytes it hands the shell. Prints figures; asserts nothing
//! about time.

use std::hint::black_box;
use std::time::{Duration, Instant};

use studio::api::tier_limits::Tier;
use studio::fleet::desk::{AcquireCall, Desk, ReleaseCall};
use studio::fleet::gate::{ProviderLimits, RequesterKey};
use studio::fleet::stored_desk::{DeskChanges, LeaseRow};
use studio::ids::{Attempt, CreatorId, JobId, ModelId, StageId};
use studio::job::{SlotOutcome, SlotPriority};
use studio::providers::ProviderKind;
use studio::time::{Millis, Timestamp};

fn call(i: usize) -> AcquireCall {
    AcquireCall {
        key: RequesterKey {
            job: JobId::from(format!("rnd_{:032x}", i / 12).as_str()),
            stage: StageId::from(format!("s{:02}.motion", i % 12).as_str()),
            attempt: Attempt(1),
        },
        model: ModelId::from("veo-3.1-fast"),
        creator: CreatorId::from(["studio", "label", "demo"][i % 3]),
        tier: if i % 3 == 2 { Tier::Pro } else { Tier::Studio },
        priority: SlotPriority {
            hero: i.is_multiple_of(10),
            deadline: Timestamp(3_600_000 + i as u64),
        },
        lease_ms: 600_000,
    }
}

fn desk(waiting: usize) -> Desk {
    desk_of(8, waiting + 8)
}

/// A gate of `slots` slots after `asked` acquires
fn desk_of(slots: u32, asked: usize) -> Desk {
    let limits = ProviderLimits {
        max_concurrent: slots,
        requests_per_minute: 10_000,
        burst: 10_000,
    };
    let mut desk = Desk::new(ProviderKind::Veo, limits, Timestamp(0));
    for i in 0..asked {
        let _ = desk.acquire(Timestamp(1), call(i), Millis(600_000));
    }
    desk
}

/// Bytes of a call's rows: the head, the health row if given and each lease row (a deleted one,
/// its id)
fn lease_bytes(head: &str, health: Option<&str>, leases: &[LeaseRow]) -> usize {
    head.len()
        + health.map_or(0, str::len)
        + leases
            .iter()
            .map(|l| l.json.as_ref().map_or(8, String::len))
            .sum::<usize>()
}

/// One grant and its release, for call `n`, with `rows` taken after each: the bytes of both
fn grant_and_release(d: &mut Desk, n: usize, rows: impl Fn(&mut Desk) -> usize) -> usize {
    let _ = black_box(d.acquire(Timestamp(2), call(n), Millis(600_000)));
    let granted = rows(d);
    let ended = call(n);
    let _ = black_box(d.release(
        Timestamp(2),
        &ReleaseCall {
            key: ended.key,
            model: ended.model,
            outcome: SlotOutcome::Succeeded { latency_ms: 900 },
        },
    ));
    granted + rows(d)
}

/// A grant and its release at a gate already holding `held` leases: what the rows written
/// cost against the head row with every lease in it (the layout before lease rows)
fn leases_held(held: usize) {
    let mut d = desk_of(100_000, held);
    let _ = d.all_rows().unwrap();
    let mut n = held;
    let mut written = 0;
    let rows = median(|| {
        n += 1;
        written = grant_and_release(&mut d, n, |d| {
            let changes = d.take_changes().unwrap();
            lease_bytes(&changes.head, changes.health.as_deref(), &changes.leases)
        });
    });
    let mut whole = 0;
    let in_head = median(|| {
        n += 1;
        // Each call's head row with every lease inside: all_rows serialises exactly that (this
        // gate has nobody waiting).
        whole = grant_and_release(&mut d, n, |d| {
            let all = d.all_rows().unwrap();
            lease_bytes(&all.head, Some(&all.health), &all.leases)
        });
    });
    println!(
        "{held:>5} leases held: a grant and its release write {rows:?} ({written} bytes) vs leases in the head {in_head:?} ({whole} bytes): {:.1}x",
        in_head.as_secs_f64() / rows.as_secs_f64()
    );
}

/// Models with history after a load run at one provider account
const BUSY_MODELS: usize = 16;

/// A release's outcome for call `i`: mostly successes with spread latencies, some failures and
/// 429s (too few failures in a row to open a breaker)
fn outcome(i: usize) -> SlotOutcome {
    match i % 10 {
        3 => SlotOutcome::Failed,
        7 => SlotOutcome::RateLimited {
            retry_after_ms: Some(2_000),
        },
        _ => SlotOutcome::Succeeded {
            latency_ms: 20_000 + (i as u64 * 7_919) % 90_000,
        },
    }
}

/// Call `i` at one of the busy models
fn busy_call(i: usize) -> AcquireCall {
    AcquireCall {
        model: ModelId::from(format!("model-{:02}", i % BUSY_MODELS).as_str()),
        ..call(i)
    }
}

/// When the measured calls start
const T0: u64 = 3_600_000;

/// The health window's span (`HealthConfig::default`), in ms
const WINDOW_MS: u64 = 600_000;

/// A gate of 64 slots whose health book holds `per_model` outcomes for each busy model, evenly
/// spread over the window ending at `T0`: as time moves on by the same step per outcome, one
/// leaves the window for each recorded, so the book keeps its size while it is measured
fn busy_desk(per_model: usize) -> (Desk, u64) {
    let total = per_model * BUSY_MODELS;
    let step = WINDOW_MS / total as u64;
    let mut d = desk_of(64, 0);
    for i in 0..total {
        let c = busy_call(i);
        let at = Timestamp(T0 - WINDOW_MS + (i as u64 + 1) * step);
        let _ = d.acquire(at, c.clone(), Millis(600_000));
        let _ = d.release(
            at,
            &ReleaseCall {
                key: c.key,
                model: c.model,
                outcome: outcome(i),
            },
        );
    }
    (d, step)
}

/// Bytes a call's changes hand the shell: the head, the health row if changed and each changed row
fn change_bytes(c: &DeskChanges) -> usize {
    c.head.len()
        + c.health.as_ref().map_or(0, String::len)
        + c.waiters
            .iter()
            .map(|w| w.key.len() + w.json.as_ref().map_or(0, String::len))
            .sum::<usize>()
        + c.leases
            .iter()
            .map(|l| l.json.as_ref().map_or(8, String::len))
            .sum::<usize>()
}

/// What `take_changes` costs after an acquire and after a release, at a gate whose health book
/// holds `per_model` outcomes per busy model
fn busy_health(per_model: usize) {
    let (mut d, step) = busy_desk(per_model);
    let _ = d.all_rows().unwrap();
    let mut n = per_model * BUSY_MODELS;
    let mut now = T0;
    let (mut on_acquire, mut on_release) = (Vec::new(), Vec::new());
    // Before the health row, every call's head row carried the book: the same work plus this.
    let mut book_in_head = Vec::new();
    let (mut acquire_bytes, mut release_bytes) = (0, 0);
    for _ in 0..400 {
        n += 1;
        now += step / 2;
        let c = busy_call(n);
        let _ = black_box(d.acquire(Timestamp(now), c.clone(), Millis(600_000)));
        let t = Instant::now();
        let changes = black_box(d.take_changes().unwrap());
        on_acquire.push(t.elapsed());
        acquire_bytes = change_bytes(&changes);
        let t = Instant::now();
        let _ = black_box(serde_json::to_string(d.health()).unwrap());
        book_in_head.push(t.elapsed());
        now += step - step / 2;
        let _ = black_box(d.release(
            Timestamp(now),
            &ReleaseCall {
                key: c.key,
                model: c.model,
                outcome: outcome(n),
            },
        ));
        let t = Instant::now();
        let changes = black_box(d.take_changes().unwrap());
        on_release.push(t.elapsed());
        release_bytes = change_bytes(&changes);
    }
    let (a, r, book) = (middle(on_acquire), middle(on_release), middle(book_in_head));
    let before = a + book;
    println!(
        "{per_model:>4} outcomes x {BUSY_MODELS} models: take_changes after an acquire {a:?} ({acquire_bytes} bytes) vs the book in the head row as before {before:?}: {:.1}x; after a release {r:?} ({release_bytes} bytes)",
        before.as_secs_f64() / a.as_secs_f64().max(1e-12)
    );
}

fn middle(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn median(mut f: impl FnMut()) -> Duration {
    let mut samples: Vec<Duration> = (0..200)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    samples.sort();
    samples[samples.len() / 2]
}

fn main() {
    println!("a re-ask at a gate of 8 slots, median of 200 (natively):");
    for waiting in [10, 1_200] {
        let mut d = desk(waiting);
        let _ = d.all_rows().unwrap();
        let mut n = 0;
        let mut written = 0;
        let rows = median(|| {
            n = (n + 1) % waiting;
            let _ = black_box(d.acquire(Timestamp(2), call(8 + n), Millis(600_000)));
            let changes = d.take_changes().unwrap();
            written = change_bytes(&changes);
            black_box(changes);
        });
        let mut whole = 0;
        let document = median(|| {
            n = (n + 1) % waiting;
            let _ = black_box(d.acquire(Timestamp(2), call(8 + n), Millis(600_000)));
            let json = serde_json::to_string(&d).unwrap();
            whole = json.len();
            black_box(json);
        });
        let all = d.all_rows().unwrap();
        let load = median(|| {
            black_box(
                Desk::from_rows(
                    &all.head,
                    Some(&all.health),
                    all.waiters.iter().filter_map(|w| w.json.as_deref()),
                    all.leases.iter().filter_map(|l| l.json.as_deref()),
                )
                .unwrap(),
            );
        });
        println!(
            "{waiting:>5} waiting: rows {rows:?} ({written} bytes written) vs one document {document:?} ({whole} bytes): {:.1}x; loading the rows {load:?}",
            document.as_secs_f64() / rows.as_secs_f64()
        );
    }
    println!("a grant and its release at a gate of 100,000 slots, median of 200 (natively):");
    for held in [10, 1_000] {
        leases_held(held);
    }
    println!("a gate with a full health book, median of 400 (natively):");
    for per_model in [10, 40] {
        busy_health(per_model);
    }
}
