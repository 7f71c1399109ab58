//! A provider account's desk: retirements, the breaker and the gate behind one acquire/release,
//! and the live health routing reads.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

use studio::api::tier_limits::Tier;
use studio::fleet::desk::{AcquireAnswer, AcquireCall, Desk, ReleaseCall};
use studio::fleet::gate::{ProviderLimits, RequesterKey};
use studio::fleet::health::Latency;
use studio::ids::{Attempt, CreatorId, JobId, ModelId, StageId};
use studio::job::{SlotOutcome, SlotPriority};
use studio::providers::ProviderKind;
use studio::time::{Millis, Timestamp};

const T0: Timestamp = Timestamp(1_800_000_000_000);

fn limits(n: u32) -> ProviderLimits {
    ProviderLimits {
        max_concurrent: n,
        requests_per_minute: 600,
        burst: 100,
    }
}

fn key(job: &str, stage: &str) -> RequesterKey {
    RequesterKey {
        job: JobId(job.into()),
        stage: StageId(stage.into()),
        attempt: Attempt(1),
    }
}

fn call(job: &str, stage: &str, model: &str) -> AcquireCall {
    AcquireCall {
        key: key(job, stage),
        model: ModelId(model.into()),
        creator: CreatorId("demo".into()),
        tier: Tier::Pro,
        priority: SlotPriority {
            hero: false,
            deadline: T0.plus(Millis::from_secs(3600)),
        },
        lease_ms: 600_000,
    }
}

fn release(job: &str, stage: &str, model: &str, outcome: SlotOutcome) -> ReleaseCall {
    ReleaseCall {
        key: key(job, stage),
        model: ModelId(model.into()),
        outcome,
    }
}

const PROBE: Millis = Millis::from_secs(300);

#[test]
fn a_full_gate_queues_and_a_release_hands_the_slot_to_the_waiter() {
    let mut d = Desk::new(ProviderKind::Kling, limits(1), T0);
    let (a, n) = d.acquire(T0, call("j1", "s1", "kling-2.1"), PROBE);
    assert_eq!(a, AcquireAnswer::Granted);
    assert!(n.is_empty());
    let (b, _) = d.acquire(T0, call("j2", "s1", "kling-2.1"), PROBE);
    let pace = Some(20_000);
    assert_eq!(
        b,
        AcquireAnswer::Queued {
            ahead: 0,
            ask_again_ms: pace
        }
    );
    let notices = d.release(
        T0.plus(Millis(30_000)),
        &release(
            "j1",
            "s1",
            "kling-2.1",
            SlotOutcome::Succeeded { latency_ms: 30_000 },
        ),
    );
    assert_eq!(notices.len(), 1);
    assert_eq!(notices[0].key, key("j2", "s1"));
    assert_eq!(notices[0].model, ModelId("kling-2.1".into()));
    // Asking again with the same key finds the lease, not a second slot.
    let (again, _) = d.acquire(
        T0.plus(Millis(30_001)),
        call("j2", "s1", "kling-2.1"),
        PROBE,
    );
    assert_eq!(again, AcquireAnswer::Granted);
    let (third, _) = d.acquire(
        T0.plus(Millis(30_002)),
        call("j3", "s1", "kling-2.1"),
        PROBE,
    );
    assert!(matches!(third, AcquireAnswer::Queued { .. }));
}

#[test]
fn a_retired_model_is_refused_for_good_from_its_date() {
    let mut d = Desk::new(ProviderKind::Sora, limits(4), T0);
    let retire_at = T0.plus(Millis::from_secs(60));
    d.set_retired(BTreeMap::from([(ModelId("sora-2".into()), retire_at)]));
    let (before, _) = d.acquire(T0, call("j1", "s1", "sora-2"), PROBE);
    assert_eq!(before, AcquireAnswer::Granted);
    let (after, _) = d.acquire(retire_at, call("j2", "s1", "sora-2"), PROBE);
    let AcquireAnswer::Refused { reason, retired } = after else {
        panic!("{after:?}")
    };
    assert!(retired);
    assert!(
        reason.contains("sora-2") && reason.contains("retired"),
        "{reason}"
    );
}

#[test]
fn a_model_that_keeps_failing_is_refused_with_the_figures_then_probed_and_closed() {
    let mut d = Desk::new(ProviderKind::Veo, limits(20), T0);
    let mut now = T0;
    // Five failures in a row trip it.
    for i in 0..5 {
        let stage = format!("s{i}");
        let (a, _) = d.acquire(now, call("j1", &stage, "veo-3"), PROBE);
        assert_eq!(a, AcquireAnswer::Granted, "attempt {i}");
        now = now.plus(Millis(1_000));
        let _ = d.release(now, &release("j1", &stage, "veo-3", SlotOutcome::Failed));
    }
    let (refused, _) = d.acquire(now, call("j2", "s1", "veo-3"), PROBE);
    let AcquireAnswer::Refused { reason, retired } = refused else {
        panic!("{refused:?}")
    };
    assert!(!retired);
    assert!(reason.contains("breaker open on veo-3"), "{reason}");
    // Routing sees it too, and another model of the provider is untouched.
    let live = d.health_of(
        now,
        &[
            (
                ModelId("veo-3".into()),
                Latency {
                    p50: Millis(60_000),
                    p95: Millis(120_000),
                },
            ),
            (
                ModelId("veo-3.1".into()),
                Latency {
                    p50: Millis(60_000),
                    p95: Millis(120_000),
                },
            ),
        ],
    );
    assert!(live[0].refused.is_some());
    assert!(live[1].refused.is_none());
    // After the cool-down one probe goes through; its success closes the breaker.
    let later = now.plus(Millis::from_secs(11 * 60));
    let (probe, _) = d.acquire(later, call("j3", "s1", "veo-3"), PROBE);
    assert_eq!(probe, AcquireAnswer::Granted);
    let _ = d.release(
        later.plus(Millis(30_000)),
        &release(
            "j3",
            "s1",
            "veo-3",
            SlotOutcome::Succeeded { latency_ms: 30_000 },
        ),
    );
    let (open_again, _) = d.acquire(later.plus(Millis(30_001)), call("j4", "s1", "veo-3"), PROBE);
    assert_eq!(open_again, AcquireAnswer::Granted);
}

#[test]
fn observed_latency_moves_routing_away_from_the_prior() {
    let mut d = Desk::new(ProviderKind::Kling, limits(50), T0);
    let mut now = T0;
    for i in 0..40 {
        let stage = format!("s{i}");
        let _ = d.acquire(now, call("j1", &stage, "kling-2.1"), PROBE);
        now = now.plus(Millis(10));
        let _ = d.release(
            now,
            &release(
                "j1",
                &stage,
                "kling-2.1",
                SlotOutcome::Succeeded { latency_ms: 20_000 },
            ),
        );
    }
    let prior = Latency {
        p50: Millis(120_000),
        p95: Millis(300_000),
    };
    let live = d.health_of(now, &[(ModelId("kling-2.1".into()), prior)]);
    assert!(live[0].p50_ms < 60_000, "{:?}", live[0]);
    assert!(
        live[0].p50_ms > 20_000,
        "the prior still weighs: {:?}",
        live[0]
    );
}

#[test]
fn rate_limited_attempts_slow_the_gate_for_everyone() {
    let mut d = Desk::new(ProviderKind::Runway, limits(4), T0);
    for i in 0..4 {
        let (a, _) = d.acquire(T0, call("j1", &format!("s{i}"), "runway-gen4"), PROBE);
        assert_eq!(a, AcquireAnswer::Granted);
    }
    // Three of the account's tasks come back 429: an overload, not a stray refusal.
    for s in ["s0", "s1", "s2"] {
        let _ = d.release(
            T0.plus(Millis(100)),
            &release(
                "j1",
                s,
                "runway-gen4",
                SlotOutcome::RateLimited {
                    retry_after_ms: Some(30_000),
                },
            ),
        );
    }
    // One slot is still held, the limit was halved to 2 and the Retry-After holds: another
    // job waits.
    let (b, _) = d.acquire(T0.plus(Millis(200)), call("j2", "s1", "runway-gen4"), PROBE);
    assert!(matches!(b, AcquireAnswer::Queued { .. }), "{b:?}");
    let view = d.view(T0.plus(Millis(200)));
    assert_eq!(view.gate.slots.len(), 1);
    assert_eq!(view.gate.effective_limit, 2);
    assert!(view.gate.paused);
    assert_eq!(view.gate.rate_limited_total, 3);
}

#[test]
fn a_desk_survives_a_json_round_trip() {
    let mut d = Desk::new(ProviderKind::Kling, limits(1), T0);
    let _ = d.acquire(T0, call("j1", "s1", "kling-2.1"), PROBE);
    let _ = d.acquire(T0, call("j2", "s1", "kling-2.1"), PROBE);
    let json = serde_json::to_string(&d).unwrap();
    let mut back: Desk = serde_json::from_str(&json).unwrap();
    assert_eq!(back, d);
    let notices = back.release(
        T0.plus(Millis(5)),
        &release("j1", "s1", "kling-2.1", SlotOutcome::Unused),
    );
    assert_eq!(notices.len(), 1);
}
