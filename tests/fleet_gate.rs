//! The provider gate: slots, rate, 429 back-off, fairness between creators, leases and waiters
//! that run out, and a persisted gate behaving like the live one.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use studio::api::tier_limits::Tier;
use studio::fleet::gate::{
    Admission, Decision, Gate, GateConfig, GateError, Grant, LeaseId, OUTCOME_WINDOW, OVERLOAD_MIN,
    ProviderLimits, Release, Renewal, RequesterKey, SlotRequest, TaskOutcome,
};
use studio::ids::{Attempt, CreatorId, JobId, ModelId, StageId};
use studio::time::{Millis, Timestamp};

const T0: Timestamp = Timestamp(1_700_000_000_000);

fn at(ms: u64) -> Timestamp {
    T0.plus(Millis(ms))
}

fn key(job: &str) -> RequesterKey {
    RequesterKey {
        job: JobId::from(job),
        stage: StageId::from("s01.motion"),
        attempt: Attempt(1),
    }
}

fn request(job: &str, creator: &str, tier: Tier) -> SlotRequest {
    SlotRequest {
        key: key(job),
        creator: CreatorId::from(creator),
        tier,
        model: ModelId::from("veo-3"),
        hero: false,
        deadline: None,
        lease_ttl: None,
    }
}

/// A gate whose rate limit and TTLs stay out of the way unless a test sets them
fn config(max_concurrent: u32) -> GateConfig {
    let mut config = GateConfig::new(ProviderLimits {
        max_concurrent,
        requests_per_minute: 60_000,
        burst: 1_000,
    });
    config.lease_ttl = Millis::from_secs(3_600);
    config.waiter_ttl = Millis::from_secs(3_600);
    config
}

fn granted(decision: Decision<Admission>) -> Grant {
    assert!(decision.grants.is_empty(), "{decision:?}");
    match decision.answer {
        Admission::Granted(grant) => grant,
        Admission::Waiting { .. } => panic!("expected a grant, got {decision:?}"),
    }
}

fn waiting(decision: Decision<Admission>) -> usize {
    assert!(decision.grants.is_empty(), "{decision:?}");
    match decision.answer {
        Admission::Waiting { ahead, .. } => ahead,
        Admission::Granted(_) => panic!("expected to wait, got {decision:?}"),
    }
}

/// 429s enough to read as an overload (`OVERLOAD_MIN` at one moment, on a gate with no other
/// outcomes yet): the limit halves once
fn overload(gate: &mut Gate, now: Timestamp, retry_after: Option<Millis>) {
    for _ in 0..OVERLOAD_MIN {
        let _ = gate.rate_limited(now, retry_after);
    }
}

fn acquire(gate: &mut Gate, now: Timestamp, request: SlotRequest) -> Decision<Admission> {
    gate.acquire(now, request).expect("the line has room")
}

/// Releases `grant` as succeeded and returns the grants it caused
fn finish(gate: &mut Gate, now: Timestamp, grant: &Grant) -> Vec<Grant> {
    let decision = gate.release(now, &grant.key, Some(grant.lease), TaskOutcome::Succeeded);
    assert_eq!(decision.answer, Release::Released);
    decision.grants
}

/// Drains a gate of one slot held by `first`: releases each holder in turn and returns the
/// jobs in grant order
fn drain_one_slot(gate: &mut Gate, first: Grant, mut now: Timestamp) -> Vec<String> {
    let mut order = Vec::new();
    let mut holder = first;
    loop {
        now = now.plus(Millis(1));
        let grants = finish(gate, now, &holder);
        assert!(grants.len() <= 1, "one slot, one grant: {grants:?}");
        let Some(next) = grants.into_iter().next() else {
            return order;
        };
        order.push(next.key.job.0.clone());
        holder = next;
    }
}

#[test]
fn requests_per_minute_are_honoured() {
    let mut config = config(100);
    config.limits.requests_per_minute = 6;
    config.limits.burst = 2;
    let mut gate = Gate::new(config, T0);
    let mut times = Vec::new();
    for i in 0..30 {
        let decision = acquire(&mut gate, T0, request(&format!("j{i}"), "c", Tier::Pro));
        if let Admission::Granted(_) = decision.answer {
            times.push(T0);
        }
    }
    assert_eq!(times.len(), 2, "the burst goes out at once");
    assert_eq!(gate.waiting(), 28);

    let mut now = T0;
    while gate.waiting() > 0 {
        let wake = gate.next_wake().expect("waiters need a wake-up");
        assert!(wake > now, "the alarm must move forward");
        // An early tick must not grant anything.
        assert!(gate.tick(Timestamp(wake.0 - 1)).is_empty());
        now = wake;
        for _ in gate.tick(now) {
            times.push(now);
        }
    }
    assert_eq!(times.len(), 30);
    for pair in times[2..].windows(2) {
        assert_eq!(pair[1].since(pair[0]), Millis::from_secs(10), "6 a minute");
    }
    for (i, start) in times.iter().enumerate() {
        let within = times[i..]
            .iter()
            .take_while(|t| t.since(*start) < Millis::from_secs(60))
            .count();
        assert!(
            within <= 2 + 6,
            "{within} grants in a minute from {start:?}"
        );
    }
}

#[test]
fn an_expired_lease_goes_to_the_next_waiter_and_its_late_release_is_a_no_op() {
    let mut config = config(1);
    config.lease_ttl = Millis::from_secs(60);
    let mut gate = Gate::new(config, T0);
    let a = granted(acquire(&mut gate, T0, request("a", "c1", Tier::Free)));
    assert_eq!(a.expires_at, at(60_000));
    assert_eq!(
        waiting(acquire(&mut gate, at(1), request("b", "c2", Tier::Free))),
        0
    );

    assert_eq!(gate.next_wake(), Some(a.expires_at));
    assert!(gate.tick(at(59_999)).is_empty());
    let grants = gate.tick(a.expires_at);
    assert_eq!(grants.len(), 1);
    assert_eq!(grants[0].key, key("b"));
    assert_ne!(grants[0].lease, a.lease);

    for _ in 0..2 {
        let late = gate.release(at(61_000), &a.key, Some(a.lease), TaskOutcome::Succeeded);
        assert_eq!(late.answer, Release::NotHeld);
        assert!(late.grants.is_empty());
        assert_eq!(gate.in_use(), 1, "b keeps its slot");
        assert_eq!(
            gate.lease_of(&key("b")).map(|l| l.id),
            Some(grants[0].lease)
        );
    }
    assert_eq!(
        gate.renew(at(61_000), &a.key, Some(a.lease)).answer,
        Renewal::NotHeld
    );
    assert_eq!(gate.snapshot(at(61_000)).leases_expired_total, 1);
}

#[test]
fn a_renewed_lease_does_not_expire() {
    let mut config = config(1);
    config.lease_ttl = Millis::from_secs(60);
    let mut gate = Gate::new(config, T0);
    let a = granted(acquire(&mut gate, T0, request("a", "c1", Tier::Free)));
    waiting(acquire(&mut gate, T0, request("b", "c1", Tier::Free)));
    let renewed = gate.renew(at(50_000), &a.key, Some(a.lease));
    assert_eq!(
        renewed.answer,
        Renewal::Renewed {
            expires_at: at(110_000)
        }
    );
    assert!(gate.tick(at(100_000)).is_empty());
    assert_eq!(gate.in_use(), 1);
    // A release that names another lease of the key is stale and frees nothing.
    let stale = gate.release(
        at(100_000),
        &a.key,
        Some(LeaseId(a.lease.0 + 7)),
        TaskOutcome::Failed,
    );
    assert_eq!(stale.answer, Release::NotHeld);
    assert_eq!(gate.lease_of(&a.key).map(|l| l.id), Some(a.lease));
}

#[test]
fn a_request_may_name_its_lease_length_and_be_released_by_key_alone() {
    let mut gate = Gate::new(config(1), T0);
    let mut long_task = request("a", "c", Tier::Pro);
    long_task.lease_ttl = Some(Millis::from_secs(10));
    let a = granted(acquire(&mut gate, T0, long_task));
    assert_eq!(a.expires_at, at(10_000));
    assert_eq!(
        gate.renew(at(5_000), &a.key, None).answer,
        Renewal::Renewed {
            expires_at: at(15_000)
        },
        "a renewal extends by the lease's own length"
    );
    waiting(acquire(&mut gate, at(6_000), request("b", "c", Tier::Pro)));
    let freed = gate.release(at(7_000), &a.key, None, TaskOutcome::Failed);
    assert_eq!(freed.answer, Release::Released);
    assert_eq!(freed.grants.len(), 1);
    assert_eq!(freed.grants[0].key, key("b"));
    // The gate's default length for a request that names none.
    assert_eq!(
        freed.grants[0].expires_at,
        at(7_000).plus(gate.config().lease_ttl)
    );
    let again = gate.release(at(8_000), &a.key, None, TaskOutcome::Failed);
    assert_eq!(again.answer, Release::NotHeld);
    assert_eq!(gate.in_use(), 1);
}

#[test]
fn acquire_is_idempotent_per_requester_key() {
    let mut gate = Gate::new(config(1), T0);
    let first = granted(acquire(&mut gate, T0, request("a", "c1", Tier::Pro)));
    let again = granted(acquire(&mut gate, at(10), request("a", "c1", Tier::Pro)));
    assert_eq!(again.lease, first.lease);
    assert_eq!(gate.in_use(), 1);

    assert_eq!(
        waiting(acquire(&mut gate, at(20), request("b", "c1", Tier::Pro))),
        0
    );
    assert_eq!(
        waiting(acquire(&mut gate, at(30), request("b", "c1", Tier::Pro))),
        0
    );
    assert_eq!(gate.waiting(), 1, "asking twice is one place in line");

    // The next attempt of a stage is another request.
    let mut retry = request("a", "c1", Tier::Pro);
    retry.key.attempt = Attempt(2);
    assert_eq!(waiting(acquire(&mut gate, at(40), retry)), 1);
    assert_eq!(gate.waiting(), 2);

    let grants = finish(&mut gate, at(50), &first);
    assert_eq!(grants.len(), 1);
    assert_eq!(grants[0].key, key("b"));
    // Asking after the grant returns the granted lease, not a second slot.
    let b = granted(acquire(&mut gate, at(60), request("b", "c1", Tier::Pro)));
    assert_eq!(b.lease, grants[0].lease);
    assert_eq!(gate.in_use(), 1);
    assert_eq!(gate.waiting(), 1);
}

#[test]
fn a_429_pauses_everyone_until_retry_after_and_an_overload_halves_the_limit() {
    let mut gate = Gate::new(config(8), T0);
    let held: Vec<Grant> = (0..8)
        .map(|i| {
            granted(acquire(
                &mut gate,
                T0,
                request(&format!("j{i}"), "c", Tier::Pro),
            ))
        })
        .collect();
    for i in 8..11 {
        waiting(acquire(
            &mut gate,
            T0,
            request(&format!("j{i}"), "c", Tier::Pro),
        ));
    }

    let limited = |gate: &mut Gate, g: &Grant| {
        let hit = gate.release(
            at(1_000),
            &g.key,
            Some(g.lease),
            TaskOutcome::RateLimited {
                retry_after: Some(Millis::from_secs(30)),
            },
        );
        assert_eq!(hit.answer, Release::Released);
        assert!(
            hit.grants.is_empty(),
            "paused: the freed slot is not handed on"
        );
    };
    // One 429: the provider's Retry-After holds for everyone, the limit stays.
    limited(&mut gate, &held[0]);
    let snap = gate.snapshot(at(1_000));
    assert_eq!(snap.effective_limit, 8);
    assert!(snap.paused);
    assert_eq!(snap.paused_until, Some(at(31_000)));
    // Three of three: an overload. The limit halves.
    limited(&mut gate, &held[1]);
    limited(&mut gate, &held[2]);
    let snap = gate.snapshot(at(1_000));
    assert_eq!(snap.effective_limit, 4);
    assert_eq!(snap.paused_until, Some(at(31_000)));
    assert_eq!(snap.rate_limited_total, 3);
    assert_eq!(snap.rate_limited_recent, 3);
    assert_eq!(snap.last_rate_limited_at, Some(at(1_000)));

    // Two tasks end well; they went out before the halving, so the limit does not grow, and
    // the pause holds every slot back although only three are in use.
    for g in &held[3..5] {
        assert!(finish(&mut gate, at(2_000), g).is_empty());
    }
    assert_eq!(gate.in_use(), 3);
    assert_eq!(gate.snapshot(at(2_000)).effective_limit, 4);
    assert_eq!(gate.next_wake(), Some(at(31_000)));
    assert!(gate.tick(at(30_999)).is_empty());

    let resumed = gate.tick(at(31_000));
    assert_eq!(resumed.len(), 1, "up to the halved limit only");
    assert_eq!(gate.in_use(), 4);
    assert!(!gate.snapshot(at(31_000)).paused);

    // A task granted after the halving ends well: +1, and the next waiter gets the room.
    let grants = finish(&mut gate, at(32_000), &resumed[0]);
    assert_eq!(gate.snapshot(at(32_000)).effective_limit, 5);
    assert_eq!(
        grants.len(),
        2,
        "its own slot and the one the limit grew by"
    );
}

#[test]
fn scattered_429s_among_successes_do_not_collapse_the_limit() {
    // One task in ten answered 429 without Retry-After, as a provider's capacity blips are:
    // nothing pauses and the limit stays whole.
    let mut gate = Gate::new(config(8), T0);
    let mut now = T0;
    for i in 0..200 {
        now = now.plus(Millis(500));
        let g = granted(acquire(
            &mut gate,
            now,
            request(&format!("t{i}"), "c", Tier::Pro),
        ));
        let outcome = if i % 10 == 9 {
            TaskOutcome::RateLimited { retry_after: None }
        } else {
            TaskOutcome::Succeeded
        };
        let _ = gate.release(now.plus(Millis(100)), &g.key, Some(g.lease), outcome);
    }
    let snap = gate.snapshot(now);
    assert_eq!(snap.rate_limited_total, 20);
    assert_eq!(snap.effective_limit, 8);
    assert!(!snap.paused);
    // Then the provider refuses most submits: within the window it reads as an overload.
    for i in 0..OUTCOME_WINDOW {
        now = now.plus(Millis(10_000));
        if let Admission::Granted(g) =
            acquire(&mut gate, now, request(&format!("o{i}"), "c", Tier::Pro)).answer
        {
            let _ = gate.release(
                now,
                &g.key,
                Some(g.lease),
                TaskOutcome::RateLimited { retry_after: None },
            );
        }
    }
    assert!(gate.snapshot(now).effective_limit < 8);
}

#[test]
fn a_burst_of_429s_halves_once_and_a_later_one_halves_again() {
    let mut config = config(16);
    config.decrease_holdoff = Millis::from_secs(5);
    let mut gate = Gate::new(config, T0);
    for i in 0..20 {
        assert!(gate.rate_limited(at(i * 100), None).is_empty());
    }
    let snap = gate.snapshot(at(2_000));
    assert_eq!(snap.effective_limit, 8);
    assert_eq!(snap.rate_limited_total, 20);
    assert_eq!(
        snap.paused_until,
        Some(at(1_900).plus(gate.config().default_pause))
    );

    let _ = gate.rate_limited(at(8_000), Some(Millis::from_secs(1)));
    assert_eq!(gate.snapshot(at(8_000)).effective_limit, 4);
    assert_eq!(
        gate.snapshot(at(8_000)).paused_until,
        Some(at(1_900).plus(gate.config().default_pause)),
        "a shorter Retry-After does not cut an earlier pause short"
    );

    for i in 0..10 {
        let _ = gate.rate_limited(at(20_000 + i * 10_000), None);
    }
    assert_eq!(gate.snapshot(at(120_000)).effective_limit, 1, "floor 1");
    // The recent count forgets what is older than the window.
    let window = gate.config().rate_limit_window;
    let later = gate.snapshot(at(120_000).plus(window).plus(Millis::from_secs(60)));
    assert_eq!(later.rate_limited_recent, 0);
    assert_eq!(later.rate_limited_total, 31);
}

#[test]
fn the_limit_recovers_additively_by_interval_after_the_pause() {
    let mut config = config(8);
    config.recovery_interval = Millis::from_secs(10);
    let mut gate = Gate::new(config, T0);
    overload(&mut gate, T0, Some(Millis::from_secs(20)));
    assert_eq!(gate.snapshot(T0).effective_limit, 4);
    // The pause is 20 s, then one step every 10 s.
    assert_eq!(gate.snapshot(T0).next_recovery_at, Some(at(30_000)));
    let _ = gate.tick(at(29_999));
    assert_eq!(gate.snapshot(at(29_999)).effective_limit, 4);
    let _ = gate.tick(at(30_000));
    assert_eq!(gate.snapshot(at(30_000)).effective_limit, 5);
    let _ = gate.tick(at(55_000));
    assert_eq!(gate.snapshot(at(55_000)).effective_limit, 7);
    let _ = gate.tick(at(600_000));
    let snap = gate.snapshot(at(600_000));
    assert_eq!(snap.effective_limit, 8, "never above max_concurrent");
    assert_eq!(snap.next_recovery_at, None);
}

#[test]
fn a_waiting_job_wakes_when_the_limit_recovers() {
    let mut config = config(2);
    config.recovery_interval = Millis::from_secs(10);
    let mut gate = Gate::new(config, T0);
    let a = granted(acquire(&mut gate, T0, request("a", "c", Tier::Free)));
    overload(&mut gate, at(1), Some(Millis::from_secs(5)));
    assert_eq!(gate.snapshot(at(1)).effective_limit, 1);
    waiting(acquire(&mut gate, at(2), request("b", "c", Tier::Free)));
    assert_eq!(gate.next_wake(), Some(at(5_001)), "the pause ends");
    assert!(gate.tick(at(5_001)).is_empty(), "a holds the only slot");
    assert_eq!(gate.next_wake(), Some(at(15_001)), "the limit grows");
    let grants = gate.tick(at(15_001));
    assert_eq!(grants.len(), 1);
    assert_eq!(grants[0].key, key("b"));
    assert_eq!(gate.in_use(), 2);
    assert_eq!(gate.lease_of(&a.key).map(|l| l.id), Some(a.lease));
}

#[test]
fn a_studio_creator_gets_a_larger_share_and_a_free_creator_does_not_starve() {
    let mut gate = Gate::new(config(1), T0);
    let first = granted(acquire(&mut gate, T0, request("warm", "other", Tier::Pro)));
    // The free creator queues first, which would win under plain arrival order.
    for i in 0..10 {
        waiting(acquire(
            &mut gate,
            at(1),
            request(&format!("free{i}"), "f", Tier::Free),
        ));
    }
    for i in 0..10 {
        waiting(acquire(
            &mut gate,
            at(2),
            request(&format!("studio{i}"), "s", Tier::Studio),
        ));
    }
    let order = drain_one_slot(&mut gate, first, at(3));
    assert_eq!(order.len(), 20);

    let positions = |prefix: &str| -> Vec<usize> {
        order
            .iter()
            .enumerate()
            .filter(|(_, job)| job.starts_with(prefix))
            .map(|(i, _)| i)
            .collect()
    };
    let free = positions("free");
    let studio = positions("studio");
    assert!(
        free[0] < studio[9],
        "the free creator is served before the studio creator is done: {order:?}"
    );
    let median = |p: &[usize]| (p[4] + p[5]) as f64 / 2.0;
    assert!(median(&studio) < median(&free), "{order:?}");
    // Six to one while both wait: the first seven grants hold exactly one free request.
    assert_eq!(free.iter().filter(|&&i| i < 7).count(), 1, "{order:?}");
    // Each creator's own requests keep their arrival order.
    let numbers = |prefix: &str| -> Vec<String> {
        order
            .iter()
            .filter(|j| j.starts_with(prefix))
            .cloned()
            .collect()
    };
    assert_eq!(
        numbers("free"),
        (0..10).map(|i| format!("free{i}")).collect::<Vec<_>>()
    );
}

#[test]
fn a_creator_joining_late_gets_its_share_from_then_on() {
    let mut gate = Gate::new(config(1), T0);
    let mut holder = granted(acquire(&mut gate, T0, request("warm", "x", Tier::Pro)));
    for i in 0..20 {
        waiting(acquire(
            &mut gate,
            at(1),
            request(&format!("s{i}"), "s", Tier::Studio),
        ));
    }
    for _ in 0..6 {
        let grants = finish(&mut gate, at(2), &holder);
        holder = grants.into_iter().next().expect("studio requests wait");
    }
    // Six to one from now on: neither first (no credit for having been idle) nor behind all
    // fourteen studio requests still waiting.
    let ahead = waiting(acquire(&mut gate, at(3), request("late", "f", Tier::Free)));
    assert_eq!(ahead, 6);
    let order = drain_one_slot(&mut gate, holder, at(4));
    assert_eq!(order.iter().position(|j| j == "late"), Some(6), "{order:?}");
}

#[test]
fn within_a_creator_hero_shots_go_first_then_the_nearest_deadline() {
    let mut gate = Gate::new(config(1), T0);
    let first = granted(acquire(&mut gate, T0, request("warm", "c", Tier::Pro)));
    let shaped = |job: &str, hero: bool, deadline: Option<u64>| {
        let mut r = request(job, "c", Tier::Pro);
        r.hero = hero;
        r.deadline = deadline.map(at);
        r
    };
    let queued = [
        shaped("plain", false, None),
        shaped("due500", false, Some(500_000)),
        shaped("due100", false, Some(100_000)),
        shaped("hero900", true, Some(900_000)),
        shaped("hero", true, None),
        shaped("due100-later", false, Some(100_000)),
    ];
    for r in queued {
        waiting(acquire(&mut gate, at(1), r));
    }
    assert_eq!(gate.position(&key("hero900")), Some(0));
    assert_eq!(gate.position(&key("plain")), Some(5));
    let order = drain_one_slot(&mut gate, first, at(2));
    assert_eq!(
        order,
        [
            "hero900",
            "hero",
            "due100",
            "due100-later",
            "due500",
            "plain"
        ]
    );
}

#[test]
fn a_waiter_not_asking_again_is_dropped() {
    let mut config = config(1);
    config.waiter_ttl = Millis::from_secs(60);
    let mut gate = Gate::new(config, T0);
    let a = granted(acquire(&mut gate, T0, request("a", "c", Tier::Free)));
    waiting(acquire(&mut gate, T0, request("gone", "c", Tier::Free)));
    waiting(acquire(&mut gate, T0, request("alive", "c", Tier::Free)));
    assert_eq!(gate.next_wake(), Some(at(60_000)));
    assert_eq!(
        waiting(acquire(
            &mut gate,
            at(30_000),
            request("alive", "c", Tier::Free)
        )),
        1
    );

    assert!(gate.tick(at(60_000)).is_empty());
    assert_eq!(gate.position(&key("gone")), None);
    assert_eq!(gate.position(&key("alive")), Some(0));
    assert_eq!(gate.snapshot(at(60_000)).waiters_dropped_total, 1);
    assert_eq!(gate.next_wake(), Some(at(90_000)));

    let grants = finish(&mut gate, at(61_000), &a);
    assert_eq!(
        grants.iter().map(|g| g.key.clone()).collect::<Vec<_>>(),
        [key("alive")]
    );
}

#[test]
fn the_back_of_a_long_line_is_asked_to_ask_again_less_often_and_kept_as_long() {
    let mut config = config(1);
    config.waiter_ttl = Millis::from_secs(60);
    let mut gate = Gate::new(config, T0);
    granted(acquire(&mut gate, T0, request("holder", "c", Tier::Free)));
    let mut answers = Vec::new();
    for i in 0..700 {
        let decision = acquire(&mut gate, T0, request(&format!("w{i}"), "c", Tier::Free));
        match decision.answer {
            Admission::Waiting {
                ahead,
                ask_again_at,
                refresh_by,
            } => answers.push((ahead, ask_again_at, refresh_by)),
            Admission::Granted(_) => panic!("the slot is held"),
        }
    }
    let pace = |i: usize| answers[i].1.0 - T0.0;
    // A third of the waiter TTL at the front, one more third per 64 places, at most nine.
    assert_eq!(pace(0), 20_000);
    assert_eq!(pace(63), 20_000);
    assert_eq!(pace(64), 40_000);
    assert_eq!(pace(200), 80_000);
    assert_eq!(pace(699), 180_000);
    assert_eq!(gate.pace(699), Millis::from_secs(180));
    // Each waiter is kept three of its paces: the back of the line does not fall out of it.
    for (ahead, ask_again_at, refresh_by) in &answers {
        assert_eq!(
            refresh_by.0 - T0.0,
            3 * (ask_again_at.0 - T0.0),
            "at {ahead}"
        );
    }
    assert!(gate.tick(at(61_000)).is_empty());
    assert_eq!(
        gate.position(&key("w63")),
        None,
        "the front asks every 20 s"
    );
    assert_eq!(gate.position(&key("w64")), Some(0), "kept 120 s");
    assert_eq!(gate.waiting(), 700 - 64);
}

#[test]
fn a_withdrawn_waiter_leaves_the_line() {
    let mut gate = Gate::new(config(1), T0);
    let a = granted(acquire(&mut gate, T0, request("a", "c", Tier::Free)));
    waiting(acquire(&mut gate, T0, request("b", "c", Tier::Free)));
    waiting(acquire(&mut gate, T0, request("c", "d", Tier::Free)));
    assert!(gate.withdraw(at(1), &key("b")).answer);
    assert!(!gate.withdraw(at(1), &key("b")).answer);
    let grants = finish(&mut gate, at(2), &a);
    assert_eq!(grants[0].key, key("c"));
}

#[test]
fn the_line_is_bounded() {
    let mut config = config(1);
    config.max_waiters = 3;
    let mut gate = Gate::new(config, T0);
    granted(acquire(&mut gate, T0, request("a", "c", Tier::Studio)));
    for job in ["b", "c", "d"] {
        waiting(acquire(&mut gate, T0, request(job, "c", Tier::Studio)));
    }
    assert_eq!(
        gate.acquire(T0, request("e", "c", Tier::Studio)),
        Err(GateError::QueueFull { capacity: 3 })
    );
    assert_eq!(gate.waiting(), 3);
    // Those already in line may still ask again.
    assert_eq!(
        waiting(acquire(&mut gate, at(1), request("d", "c", Tier::Studio))),
        2
    );
}

#[test]
fn a_snapshot_names_the_holders_and_the_waiting_per_creator() {
    let mut gate = Gate::new(config(2), T0);
    granted(acquire(&mut gate, T0, request("a", "c1", Tier::Free)));
    granted(acquire(&mut gate, T0, request("b", "c2", Tier::Free)));
    for job in ["c", "d"] {
        waiting(acquire(&mut gate, T0, request(job, "c1", Tier::Free)));
    }
    waiting(acquire(&mut gate, T0, request("e", "c3", Tier::Free)));
    let snap = gate.snapshot(T0);
    let holders: BTreeSet<_> = snap
        .slots
        .iter()
        .map(|l| (l.key.job.0.clone(), l.creator.0.clone(), l.model.0.clone()))
        .collect();
    assert_eq!(
        holders,
        BTreeSet::from([
            ("a".to_owned(), "c1".to_owned(), "veo-3".to_owned()),
            ("b".to_owned(), "c2".to_owned(), "veo-3".to_owned()),
        ])
    );
    assert_eq!(snap.waiting, 3);
    let by_creator: BTreeMap<_, _> = snap
        .waiting_by_creator
        .iter()
        .map(|w| (w.creator.0.clone(), w.waiting))
        .collect();
    assert_eq!(
        by_creator,
        BTreeMap::from([("c1".to_owned(), 2), ("c3".to_owned(), 1)])
    );
    assert!(!snap.paused);
    assert_eq!(snap.effective_limit, 2);
}

/// One scripted call to a gate, for the property tests and the round trip
#[derive(Debug, Clone)]
enum Op {
    Acquire {
        job: u8,
        creator: u8,
        hero: bool,
        deadline: Option<u16>,
    },
    /// Releases the n-th held lease (modulo how many there are)
    Release {
        nth: u8,
        outcome: u8,
        /// Name no lease, only the key
        by_key: bool,
    },
    Renew {
        nth: u8,
    },
    Withdraw {
        job: u8,
    },
    RateLimited {
        retry_after_s: Option<u8>,
    },
    Wait {
        ms: u32,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0u8..16, 0u8..4, any::<bool>(), prop::option::of(0u16..600))
            .prop_map(|(job, creator, hero, deadline)| Op::Acquire { job, creator, hero, deadline }),
        3 => (any::<u8>(), 0u8..3, any::<bool>())
            .prop_map(|(nth, outcome, by_key)| Op::Release { nth, outcome, by_key }),
        1 => any::<u8>().prop_map(|nth| Op::Renew { nth }),
        1 => (0u8..16).prop_map(|job| Op::Withdraw { job }),
        1 => prop::option::of(0u8..40).prop_map(|retry_after_s| Op::RateLimited { retry_after_s }),
        2 => (0u32..90_000).prop_map(|ms| Op::Wait { ms }),
    ]
}

const TIERS: [Tier; 3] = [Tier::Free, Tier::Pro, Tier::Studio];

fn scripted_request(job: u8, creator: u8, hero: bool, deadline: Option<u16>) -> SlotRequest {
    let mut r = request(
        &format!("j{job}"),
        &format!("c{creator}"),
        TIERS[usize::from(creator) % TIERS.len()],
    );
    r.hero = hero;
    r.deadline = deadline.map(|s| at(u64::from(s) * 1_000));
    r
}

/// Everything one call returned, to compare two gates call by call
#[derive(Debug, PartialEq)]
enum Answer {
    Acquired(Result<Decision<Admission>, GateError>),
    Released(Decision<Release>),
    Renewed(Decision<Renewal>),
    Withdrawn(Decision<bool>),
    Granted(Vec<Grant>),
}

/// Applies one op at `*now` and returns what the gate answered
fn apply(gate: &mut Gate, now: &mut Timestamp, op: &Op) -> Answer {
    let held = |gate: &Gate, nth: u8| {
        let slots = gate.snapshot(*now).slots;
        (!slots.is_empty()).then(|| slots[usize::from(nth) % slots.len()].clone())
    };
    match op {
        Op::Acquire {
            job,
            creator,
            hero,
            deadline,
        } => {
            Answer::Acquired(gate.acquire(*now, scripted_request(*job, *creator, *hero, *deadline)))
        }
        Op::Release {
            nth,
            outcome,
            by_key,
        } => {
            let outcome = match outcome {
                0 => TaskOutcome::Succeeded,
                1 => TaskOutcome::Failed,
                _ => TaskOutcome::RateLimited {
                    retry_after: Some(Millis::from_secs(3)),
                },
            };
            match held(gate, *nth) {
                Some(lease) => Answer::Released(gate.release(
                    *now,
                    &lease.key,
                    (!by_key).then_some(lease.id),
                    outcome,
                )),
                None => Answer::Released(gate.release(*now, &key("nobody"), None, outcome)),
            }
        }
        Op::Renew { nth } => match held(gate, *nth) {
            Some(lease) => Answer::Renewed(gate.renew(*now, &lease.key, Some(lease.id))),
            None => Answer::Granted(gate.tick(*now)),
        },
        Op::Withdraw { job } => Answer::Withdrawn(gate.withdraw(*now, &key(&format!("j{job}")))),
        Op::RateLimited { retry_after_s } => Answer::Granted(
            gate.rate_limited(*now, retry_after_s.map(|s| Millis::from_secs(u64::from(s)))),
        ),
        Op::Wait { ms } => {
            *now = now.plus(Millis(u64::from(*ms)));
            Answer::Granted(gate.tick(*now))
        }
    }
}

fn grants_of(answer: &Answer) -> Vec<Grant> {
    match answer {
        Answer::Acquired(Ok(d)) => d.grants.clone(),
        Answer::Acquired(Err(_)) => Vec::new(),
        Answer::Released(d) => d.grants.clone(),
        Answer::Renewed(d) => d.grants.clone(),
        Answer::Withdrawn(d) => d.grants.clone(),
        Answer::Granted(g) => g.clone(),
    }
}

fn short_ttls(max_concurrent: u32) -> GateConfig {
    let mut config = config(max_concurrent);
    config.limits.requests_per_minute = 30;
    config.limits.burst = 3;
    config.lease_ttl = Millis::from_secs(60);
    config.waiter_ttl = Millis::from_secs(40);
    config
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn never_more_leases_than_max_concurrent(
        max in 1u32..5,
        ops in prop::collection::vec(op(), 1..80),
    ) {
        let mut gate = Gate::new(short_ttls(max), T0);
        let mut now = T0;
        for op in &ops {
            let waiting_before: BTreeSet<RequesterKey> = (0u8..16)
                .map(|j| key(&format!("j{j}")))
                .filter(|k| gate.position(k).is_some())
                .collect();
            let answer = apply(&mut gate, &mut now, op);
            let snap = gate.snapshot(now);
            prop_assert!(snap.slots.len() <= max as usize, "{} leases over {max}", snap.slots.len());
            prop_assert!(snap.effective_limit >= 1 && snap.effective_limit <= max);
            let keys: BTreeSet<_> = snap.slots.iter().map(|l| l.key.clone()).collect();
            prop_assert_eq!(keys.len(), snap.slots.len(), "a key holds two slots");
            for grant in grants_of(&answer) {
                prop_assert!(waiting_before.contains(&grant.key), "a grant to a request that was not waiting");
                prop_assert!(gate.position(&grant.key).is_none(), "granted and still waiting");
            }
            if let Some(wake) = gate.next_wake() {
                prop_assert!(wake > now, "the alarm would fire in the past: {:?} <= {:?}", wake, now);
            }
        }
    }

    #[test]
    fn a_waiters_position_is_how_many_are_granted_before_it(
        queued in prop::collection::vec((0u8..5, any::<bool>(), prop::option::of(0u16..50)), 1..40),
    ) {
        let mut gate = Gate::new(config(1), T0);
        let first = granted(acquire(&mut gate, T0, request("warm", "x", Tier::Free)));
        for (i, (creator, hero, deadline)) in queued.iter().enumerate() {
            let mut r = scripted_request(0, *creator, *hero, *deadline);
            r.key = key(&format!("q{i}"));
            waiting(acquire(&mut gate, T0, r));
        }
        let predicted: BTreeMap<String, usize> = (0..queued.len())
            .map(|i| (format!("q{i}"), gate.position(&key(&format!("q{i}"))).unwrap_or(usize::MAX)))
            .collect();
        let order = drain_one_slot(&mut gate, first, at(1));
        prop_assert_eq!(order.len(), queued.len());
        for (i, job) in order.iter().enumerate() {
            prop_assert_eq!(predicted[job], i, "{} predicted at {}, granted at {}", job, predicted[job], i);
        }
    }

    #[test]
    fn a_persisted_gate_behaves_like_the_live_one(
        setup in prop::collection::vec(op(), 1..60),
        after in prop::collection::vec(op(), 1..60),
    ) {
        let mut live = Gate::new(short_ttls(3), T0);
        let mut now = T0;
        for op in &setup {
            let _ = apply(&mut live, &mut now, op);
        }
        let json = serde_json::to_string(&live).expect("a gate serializes");
        let mut loaded: Gate = serde_json::from_str(&json).expect("and deserializes");
        prop_assert_eq!(&loaded, &live);
        let mut loaded_now = now;
        for op in &after {
            let a = apply(&mut live, &mut now, op);
            let b = apply(&mut loaded, &mut loaded_now, op);
            prop_assert_eq!(a, b);
            prop_assert_eq!(live.next_wake(), loaded.next_wake());
        }
        prop_assert_eq!(live.snapshot(now), loaded.snapshot(now));
    }
}

#[test]
fn a_busy_gate_survives_a_json_round_trip() {
    let mut gate = Gate::new(short_ttls(2), T0);
    granted(acquire(&mut gate, T0, request("a", "c1", Tier::Free)));
    granted(acquire(&mut gate, T0, request("b", "c2", Tier::Studio)));
    for (job, creator, tier) in [
        ("c", "c1", Tier::Free),
        ("d", "c2", Tier::Studio),
        ("e", "c3", Tier::Pro),
    ] {
        waiting(acquire(&mut gate, at(5), request(job, creator, tier)));
    }
    let _ = gate.rate_limited(at(6), Some(Millis::from_secs(10)));
    let json = serde_json::to_string(&gate).expect("serializes");
    let mut loaded: Gate = serde_json::from_str(&json).expect("deserializes");
    assert_eq!(loaded, gate);
    assert_eq!(loaded.next_wake(), gate.next_wake());
    for k in ["c", "d", "e"] {
        assert_eq!(loaded.position(&key(k)), gate.position(&key(k)));
    }
    let wake = gate.next_wake().expect("waiters and leases");
    assert_eq!(loaded.tick(wake), gate.tick(wake));
    let held = gate.snapshot(wake).slots[0].clone();
    assert_eq!(
        loaded.release(wake, &held.key, Some(held.id), TaskOutcome::Succeeded),
        gate.release(wake, &held.key, Some(held.id), TaskOutcome::Succeeded)
    );
    assert_eq!(loaded.snapshot(wake), gate.snapshot(wake));
}
