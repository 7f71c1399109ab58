//! Model health: the window, the circuit breaker and the latency blend of `fleet::health`,
//! driven with virtual time.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use proptest::prelude::*;
use studio::fleet::health::{
    Admission, BreakerState, FailureKind, HealthBook, HealthConfig, Latency, Outcome, RefusedBy,
    TripCause,
};
use studio::ids::ModelId;
use studio::job::Failure;
use studio::time::{Millis, Timestamp};

/// 2023-11-14 12:00:00 UTC, so refusal texts read as times of day
const NOON: Timestamp = Timestamp((1_699_920_000 + 12 * 3600) * 1000);
const LEASE: Millis = Millis::from_secs(120);

fn veo() -> ModelId {
    ModelId::from("veo-3")
}

fn at(secs: u64) -> Timestamp {
    NOON.plus(Millis::from_secs(secs))
}

fn fail() -> Outcome {
    Outcome::Failed {
        failure: FailureKind::Transient,
    }
}

fn ok(secs: u64) -> Outcome {
    Outcome::Succeeded {
        latency: Millis::from_secs(secs),
    }
}

fn is_refused(a: &Admission) -> bool {
    matches!(a, Admission::Refuse(_))
}

/// Fails `veo-3` at seconds 1, 2, ... until the breaker opens; returns when it opened
fn trip(book: &mut HealthBook, from_secs: u64) -> Timestamp {
    for i in from_secs..from_secs + 100 {
        if let Some(BreakerState::Open { .. }) = book.record(at(i), &veo(), fail()) {
            return at(i);
        }
    }
    panic!("the breaker never opened");
}

fn open_until(book: &HealthBook, now: Timestamp) -> (Timestamp, TripCause) {
    match book.snapshot(now, &veo()).breaker {
        BreakerState::Open { until, trip, .. } => (until, trip.cause),
        other => panic!("expected open, got {other:?}"),
    }
}

#[test]
fn a_model_failing_every_attempt_trips_at_min_samples() {
    let mut book = HealthBook::default();
    for i in 1..=4 {
        assert_eq!(book.record(at(i), &veo(), fail()), None, "failure {i}");
        assert_eq!(book.admits(at(i), &veo(), LEASE), Admission::Admit);
    }
    let change = book.record(at(5), &veo(), fail());
    assert!(
        matches!(change, Some(BreakerState::Open { .. })),
        "{change:?}"
    );
    assert!(is_refused(&book.admits(at(5), &veo(), LEASE)));
    let (until, cause) = open_until(&book, at(5));
    assert_eq!(until, at(35), "first cool-down is 30 s");
    assert_eq!(cause, TripCause::FailureRate);
    // Other models of the provider are unaffected.
    assert_eq!(
        book.admits(at(5), &"kling-2".into(), LEASE),
        Admission::Admit
    );
}

#[test]
fn failures_in_a_row_trip_even_at_a_low_rate() {
    let mut book = HealthBook::default();
    for i in 0..20 {
        book.record(at(i), &veo(), ok(10));
    }
    for i in 20..24 {
        assert_eq!(book.record(at(i), &veo(), fail()), None);
    }
    assert!(book.record(at(24), &veo(), fail()).is_some());
    let (_, cause) = open_until(&book, at(24));
    assert_eq!(cause, TripCause::ConsecutiveFailures { count: 5 });
}

#[test]
fn an_open_breaker_refuses_with_the_figures_and_the_retry_time() {
    let mut book = HealthBook::new(HealthConfig {
        min_samples: 10,
        trip_consecutive: 0,
        ..HealthConfig::default()
    });
    book.record(at(0), &veo(), ok(10));
    let opened = trip(&mut book, 1);
    assert_eq!(opened, at(9));
    let Admission::Refuse(refusal) = book.admits(at(20), &veo(), LEASE) else {
        panic!("an open breaker admitted");
    };
    assert_eq!(refusal.retry_at, at(39));
    match refusal.by {
        RefusedBy::Open { trip } => {
            assert_eq!((trip.failed, trip.samples), (9, 10));
            assert_eq!(trip.at, opened);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        refusal.to_string(),
        "breaker open on veo-3 since 12:00:09 UTC: 9 of 10 failed in the last 10 min; \
         retry from 12:00:39 UTC"
    );
    // Routing's read-only question gives the same answer.
    assert_eq!(book.refusal(at(20), &veo()), Some(refusal));
}

#[test]
fn after_the_cooldown_exactly_one_probe_is_admitted() {
    let mut book = HealthBook::default();
    let opened = trip(&mut book, 1);
    let reopens = opened.plus(Millis::from_secs(30));
    assert_eq!(book.next_wake(), Some(reopens));
    assert!(is_refused(&book.admits(
        Timestamp(reopens.0 - 1),
        &veo(),
        LEASE
    )));
    // Planning does not take the slot.
    assert_eq!(book.refusal(reopens, &veo()), None);
    assert_eq!(
        book.admits(reopens, &veo(), LEASE),
        Admission::Probe {
            lease_until: reopens.plus(LEASE)
        }
    );
    assert_eq!(book.next_wake(), Some(reopens.plus(LEASE)));
    let later = reopens.plus(Millis::from_secs(5));
    let Admission::Refuse(second) = book.admits(later, &veo(), LEASE) else {
        panic!("a second concurrent probe was admitted");
    };
    assert!(
        matches!(second.by, RefusedBy::ProbeInFlight { probe_since, .. } if probe_since == reopens)
    );
    assert_eq!(second.retry_at, reopens.plus(LEASE));
    assert!(
        second.to_string().contains("probe is in flight"),
        "{second}"
    );
    assert_eq!(book.refusal(later, &veo()), Some(second));
}

#[test]
fn a_silent_probe_frees_its_slot_when_the_lease_ends() {
    let mut book = HealthBook::default();
    let reopens = trip(&mut book, 1).plus(Millis::from_secs(30));
    assert!(matches!(
        book.admits(reopens, &veo(), LEASE),
        Admission::Probe { .. }
    ));
    let expiry = reopens.plus(LEASE);
    assert!(is_refused(&book.admits(
        Timestamp(expiry.0 - 1),
        &veo(),
        LEASE
    )));
    assert_eq!(
        book.admits(expiry, &veo(), LEASE),
        Admission::Probe {
            lease_until: expiry.plus(LEASE)
        }
    );
}

#[test]
fn a_probe_success_closes_and_resets_the_cooldown() {
    let mut book = HealthBook::default();
    // Open twice so the cool-down has grown to 60 s before the probe succeeds.
    let reopens = trip(&mut book, 1).plus(Millis::from_secs(30));
    book.admits(reopens, &veo(), LEASE);
    book.record(reopens, &veo(), fail());
    let (until, _) = open_until(&book, reopens);
    assert_eq!(until, reopens.plus(Millis::from_secs(60)));
    book.admits(until, &veo(), LEASE);
    let closed = book.record(until, &veo(), ok(40));
    assert!(
        matches!(closed, Some(BreakerState::Closed { .. })),
        "{closed:?}"
    );
    assert_eq!(book.admits(until, &veo(), LEASE), Admission::Admit);
    assert_eq!(book.next_wake(), None);
    // The failures that opened it are still in the window but do not re-open it at once.
    // Counted from the close, the probe's success and 3 failures are 4 samples: no trip yet.
    let base = until.since(NOON).0 / 1000;
    for i in 1..=3 {
        assert_eq!(
            book.record(at(base + i), &veo(), fail()),
            None,
            "failure {i}"
        );
    }
    let reopened = trip(&mut book, base + 4);
    assert_eq!(reopened, at(base + 4), "4 of 5 failed since the close");
    let (until, _) = open_until(&book, reopened);
    assert_eq!(
        until,
        reopened.plus(Millis::from_secs(30)),
        "cool-down reset"
    );
}

#[test]
fn a_probe_failure_reopens_with_a_doubled_cooldown_up_to_the_cap() {
    let mut book = HealthBook::default();
    let mut now = trip(&mut book, 1);
    let mut cooldowns = Vec::new();
    for _ in 0..7 {
        let (until, _) = open_until(&book, now);
        cooldowns.push(until.since(now).0 / 1000);
        now = until;
        assert!(matches!(
            book.admits(now, &veo(), LEASE),
            Admission::Probe { .. }
        ));
        let change = book.record(now, &veo(), fail());
        assert!(
            matches!(change, Some(BreakerState::Open { trip, .. }) if trip.cause == TripCause::ProbeFailed)
        );
    }
    assert_eq!(cooldowns, vec![30, 60, 120, 240, 480, 600, 600]);
}

#[test]
fn outcomes_while_open_do_not_end_the_cooldown() {
    let mut book = HealthBook::default();
    let opened = trip(&mut book, 1);
    assert_eq!(book.record(opened.plus(Millis(10)), &veo(), ok(10)), None);
    assert!(is_refused(&book.admits(
        opened.plus(Millis(20)),
        &veo(),
        LEASE
    )));
}

#[test]
fn rate_limits_never_trip_the_breaker() {
    let mut book = HealthBook::default();
    for i in 0..50 {
        assert_eq!(book.record(at(i), &veo(), Outcome::RateLimited), None);
    }
    assert_eq!(book.admits(at(50), &veo(), LEASE), Admission::Admit);
    let f = book.figures(at(50), &veo());
    assert_eq!((f.attempts, f.rate_limited, f.failed), (50, 50, 0));
    assert_eq!(f.rate_limit_rate, 1.0);
    assert_eq!(f.failure_rate, 0.0);
    // Nor do they dilute the failure rate: 3 failures of 6 samples among 429s is 50%.
    for i in 51..54 {
        book.record(at(i), &veo(), ok(5));
    }
    for i in 54..56 {
        book.record(at(i), &veo(), fail());
    }
    assert!(book.record(at(56), &veo(), fail()).is_some());
    assert_eq!(book.figures(at(56), &veo()).failure_rate, 0.5);
}

#[test]
fn rate_limits_neither_break_nor_extend_a_run_of_failures() {
    let mut book = HealthBook::new(HealthConfig {
        min_samples: 100,
        ..HealthConfig::default()
    });
    for i in 0..4 {
        book.record(at(2 * i), &veo(), fail());
        book.record(at(2 * i + 1), &veo(), Outcome::RateLimited);
    }
    assert_eq!(book.snapshot(at(8), &veo()).consecutive_failures, 4);
    assert!(book.admits(at(8), &veo(), LEASE) == Admission::Admit);
    assert!(book.record(at(9), &veo(), fail()).is_some());
}

#[test]
fn the_window_forgets_old_outcomes() {
    let mut book = HealthBook::default();
    for i in 0..4 {
        book.record(at(i), &veo(), fail());
    }
    // Eleven minutes later the burst is out of the 10-minute window: one failure is not five.
    let later = at(3 + 11 * 60);
    assert_eq!(book.record(later, &veo(), fail()), None);
    assert_eq!(book.admits(later, &veo(), LEASE), Admission::Admit);
    let snap = book.snapshot(later, &veo());
    assert_eq!((snap.figures.attempts, snap.consecutive_failures), (1, 1));
    assert_eq!(book.stored_outcomes(&veo()), 1);
    // A healthy model with nothing left in its window is forgotten entirely.
    book.tick(later.plus(Millis::from_secs(600)));
    assert_eq!(book.stored_outcomes(&veo()), 0);
    assert!(
        book.snapshots(later.plus(Millis::from_secs(600)))
            .is_empty()
    );
}

#[test]
fn the_window_keeps_at_most_max_outcomes() {
    let mut book = HealthBook::new(HealthConfig {
        max_outcomes: 20,
        ..HealthConfig::default()
    });
    for i in 0..30 {
        book.record(at(0), &veo(), ok(i));
    }
    assert_eq!(book.stored_outcomes(&veo()), 20);
    // The newest 20 (10..30 s) are the ones kept.
    let f = book.figures(at(0), &veo());
    assert_eq!(f.latency_p50, Some(Millis::from_secs(19)));
}

#[test]
fn percentiles_are_exact_over_known_latencies() {
    let mut book = HealthBook::default();
    // 1..=100 s in a scrambled order (37 is coprime with 100).
    for i in 0..100 {
        book.record(at(0), &veo(), ok((i * 37) % 100 + 1));
    }
    book.record(at(0), &veo(), fail());
    let f = book.figures(at(0), &veo());
    assert_eq!(f.latency_p50, Some(Millis::from_secs(50)));
    assert_eq!(f.latency_p95, Some(Millis::from_secs(95)));
    assert_eq!((f.succeeded, f.failed, f.attempts), (100, 1, 101));

    let mut small = HealthBook::default();
    for s in [9, 3, 7, 1, 5, 10, 2, 8, 4, 6] {
        small.record(at(0), &veo(), ok(s));
    }
    let f = small.figures(at(0), &veo());
    assert_eq!(f.latency_p50, Some(Millis::from_secs(5)));
    assert_eq!(f.latency_p95, Some(Millis::from_secs(10)));
    assert_eq!(
        HealthBook::default().figures(at(0), &veo()).latency_p50,
        None
    );
}

#[test]
fn latency_blends_the_prior_with_evidence() {
    let prior = Latency {
        p50: Millis::from_secs(10),
        p95: Millis::from_secs(30),
    };
    let config = HealthConfig {
        max_outcomes: 2000,
        ..HealthConfig::default()
    };
    let blended = |n: u64| {
        let mut book = HealthBook::new(config.clone());
        for _ in 0..n {
            book.record(at(0), &veo(), ok(20));
        }
        book.blended_latency(at(0), &veo(), prior)
    };
    assert_eq!(blended(0), prior);
    // 10 samples weigh as much as the prior (k = 10): halfway.
    assert_eq!(
        blended(10),
        Latency {
            p50: Millis::from_secs(15),
            p95: Millis::from_secs(25),
        }
    );
    // 1000 samples: (10 * 10 + 20 * 1000) / 1010 s, within 1% of the observation.
    let lots = blended(1000);
    assert_eq!(lots.p50, Millis(19_901));
    assert_eq!(lots.p95, Millis(20_099));
    // Failures and 429s are no latency evidence.
    let mut book = HealthBook::default();
    book.record(at(0), &veo(), fail());
    book.record(at(0), &veo(), Outcome::RateLimited);
    assert_eq!(book.blended_latency(at(0), &veo(), prior), prior);
}

#[test]
fn job_failures_map_to_health_outcomes() {
    let reason = || "x".to_owned();
    assert_eq!(
        Outcome::of_failure(&Failure::TimedOut { reason: reason() }),
        Some(fail())
    );
    assert_eq!(
        Outcome::of_failure(&Failure::ModelUnusable { reason: reason() }),
        Some(Outcome::Failed {
            failure: FailureKind::Permanent
        })
    );
    assert_eq!(
        Outcome::of_failure(&Failure::RateLimited { retry_after: None }),
        Some(Outcome::RateLimited)
    );
    assert_eq!(
        Outcome::of_failure(&Failure::Moderated { reason: reason() }),
        None
    );
}

/// A book with a model in each breaker state
fn busy_book() -> (HealthBook, Timestamp) {
    let mut book = HealthBook::default();
    let reopens = trip(&mut book, 1).plus(Millis::from_secs(30));
    book.admits(reopens, &veo(), LEASE);
    for i in 0..6 {
        book.record(reopens, &"kling-2".into(), fail());
        book.record(reopens, &"flux".into(), ok(i + 1));
    }
    (book, reopens)
}

#[test]
fn a_serde_round_trip_keeps_behaviour() {
    let (mut book, now) = busy_book();
    let json = serde_json::to_string(&book).unwrap();
    let mut back: HealthBook = serde_json::from_str(&json).unwrap();
    assert_eq!(back, book);
    assert!(
        is_refused(&back.clone().admits(now, &veo(), LEASE)),
        "the probe lease survived"
    );
    for model in ["veo-3", "kling-2", "flux"] {
        let model = ModelId::from(model);
        for dt in [0, 10_000, 60_000, 200_000] {
            let t = now.plus(Millis(dt));
            assert_eq!(back.snapshot(t, &model), book.snapshot(t, &model));
            assert_eq!(
                back.admits(t, &model, LEASE),
                book.admits(t, &model, LEASE),
                "{model} at +{dt} ms"
            );
        }
    }
    assert_eq!(back.next_wake(), book.next_wake());
}

#[derive(Debug, Clone)]
enum Op {
    Record(usize, u8, u64),
    Admit(usize),
    Wait(u64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..3usize, 0..4u8, 1..600_000u64).prop_map(|(m, k, l)| Op::Record(m, k, l)),
        2 => (0..3usize).prop_map(Op::Admit),
        1 => (0..200_000u64).prop_map(Op::Wait),
    ]
}

proptest! {
    #[test]
    fn the_window_stays_bounded_and_figures_stay_in_range(
        max in 1..30u32,
        ops in prop::collection::vec(op(), 1..300),
    ) {
        let models = [ModelId::from("a"), ModelId::from("b"), ModelId::from("c")];
        let mut book = HealthBook::new(HealthConfig { max_outcomes: max, ..HealthConfig::default() });
        let mut now = NOON;
        for op in ops {
            match op {
                Op::Record(m, kind, latency) => {
                    let outcome = match kind {
                        0 => Outcome::Succeeded { latency: Millis(latency) },
                        1 => Outcome::Failed { failure: FailureKind::Transient },
                        2 => Outcome::Failed { failure: FailureKind::Permanent },
                        _ => Outcome::RateLimited,
                    };
                    book.record(now, &models[m], outcome);
                }
                Op::Admit(m) => {
                    if let Admission::Probe { .. } = book.admits(now, &models[m], LEASE) {
                        // Exactly one probe at a time.
                        prop_assert!(is_refused(&book.admits(now, &models[m], LEASE)));
                    }
                }
                Op::Wait(ms) => now = now.plus(Millis(ms)),
            }
            for m in &models {
                prop_assert!(book.stored_outcomes(m) <= max as usize);
                let s = book.snapshot(now, m);
                let f = &s.figures;
                prop_assert!(f.attempts <= max);
                prop_assert_eq!(f.attempts, f.succeeded + f.failed + f.rate_limited);
                prop_assert!((0.0..=1.0).contains(&f.failure_rate));
                prop_assert!((0.0..=1.0).contains(&f.rate_limit_rate));
                prop_assert!(f.latency_p50 <= f.latency_p95);
                prop_assert!(s.consecutive_failures <= f.failed);
                if let Some(wake) = book.next_wake() {
                    prop_assert!(s.wakes_at.is_none_or(|w| w >= wake));
                }
            }
        }
    }
}

#[test]
fn only_what_a_load_cannot_replay_is_left_to_write() {
    let mut book = HealthBook::default();
    assert!(!book.take_unwritten(), "a fresh book");
    let opened = trip(&mut book, 1);
    assert!(book.take_unwritten(), "outcomes recorded");
    assert!(!book.take_unwritten(), "taken once");
    // Refused while open, then half-open by time alone: nothing the stored book lacks.
    assert!(is_refused(&book.admits(opened, &veo(), LEASE)));
    let (until, _) = open_until(&book, opened);
    book.tick(until.plus(Millis::from_secs(1)));
    assert!(!book.take_unwritten(), "time alone");
    // The probe slot taken must survive a load, or a second prober would be let through.
    let probe = book.admits(until.plus(Millis::from_secs(2)), &veo(), LEASE);
    assert!(matches!(probe, Admission::Probe { .. }), "{probe:?}");
    assert!(book.take_unwritten(), "the probe slot");
    book.set_config(HealthConfig::default());
    assert!(book.take_unwritten(), "new knobs");
    // A stored book ticked to the same moment is the live one.
    let stored: HealthBook = serde_json::from_str(&serde_json::to_string(&book).unwrap()).unwrap();
    let later = until.plus(Millis::from_secs(3_600));
    book.tick(later);
    assert!(!book.take_unwritten(), "old outcomes leaving the window");
    let mut loaded = stored;
    loaded.tick(later);
    assert_eq!(loaded, book);
}
