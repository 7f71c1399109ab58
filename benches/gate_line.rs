//! A provider gate with a long line: what one re-ask (a waiting stage asking again to keep its
//! place) costs the gate object natively, with 10 waiters against 1,200, stored as the gate
//! object stores it (a head row plus the changed waiter rows, `fleet::stored_desk`) against the
//! one-document layout it replaced (the whole desk as JSON after every call). Prints figures;
//! asserts nothing about time.

use std::hint::black_box;
use std::time::{Duration, Instant};

use studio::api::tier_limits::Tier;
use studio::fleet::desk::{AcquireCall, Desk};
use studio::fleet::gate::{ProviderLimits, RequesterKey};
use studio::ids::{Attempt, CreatorId, JobId, ModelId, StageId};
use studio::job::SlotPriority;
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
    let limits = ProviderLimits {
        max_concurrent: 8,
        requests_per_minute: 10_000,
        burst: 10_000,
    };
    let mut desk = Desk::new(ProviderKind::Veo, limits, Timestamp(0));
    for i in 0..waiting + 8 {
        let _ = desk.acquire(Timestamp(1), call(i), Millis(600_000));
    }
    desk
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
            written = changes.head.len()
                + changes
                    .waiters
                    .iter()
                    .map(|w| w.key.len() + w.json.as_ref().map_or(0, String::len))
                    .sum::<usize>();
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
        let (head, all) = d.all_rows().unwrap();
        let load = median(|| {
            black_box(
                Desk::from_rows(&head, all.iter().filter_map(|w| w.json.as_deref())).unwrap(),
            );
        });
        println!(
            "{waiting:>5} waiting: rows {rows:?} ({written} bytes written) vs one document {document:?} ({whole} bytes): {:.1}x; loading the rows {load:?}",
            document.as_secs_f64() / rows.as_secs_f64()
        );
    }
}
