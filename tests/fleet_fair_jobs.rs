//! Fairness with whole jobs: a free and a paid creator each start ten jobs against a tight
//! gate; both make progress, and the paid creator's median finish is earlier.
//!
//! Every job is a `common::World` (the job state machine, its store checks and the fake
//! providers), but its slot effects do not go to the fake's gates: the fake's gates are set
//! `down` (so they answer nothing) and this driver carries every `AcquireSlot` and
//! `ReleaseSlot` to ONE real [`Desk`] per provider, shared by all twenty jobs, mapping the
//! answers as the Worker shell does (`actors/src/render_job/effects.rs`,
//! `actors/src/provider_gate.rs`, `actors/src/fleet_client.rs`):
//!
//! ```text
//! AcquireSlot -> desk.acquire (+ desk.tick, as `with_desk` does after every call)
//!                Granted -> SlotGranted, Queued{ahead} -> SlotQueued, Refused -> SlotRefused
//! ReleaseSlot -> desk.release (+ desk.tick); nothing comes back to the releasing job
//! notices     -> SlotGranted to the job that waited (`push_grant` -> `POST /slot`)
//! alarm       -> desk.tick at desk.next_wake()
//! ```
//!
//! One virtual clock: the driver always delivers the earliest event of any world (its inbox or
//! its job's next deadline) or any desk's wake, so nothing sleeps and every run is the same.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;

use common::{T0, World, created, small_brief};
use studio::api::tier_limits::Tier;
use studio::fleet::desk::{AcquireAnswer, Desk, SlotNotice};
use studio::fleet::gate::ProviderLimits;
use studio::fleet::job_calls;
use studio::ids::{CreatorId, JobId};
use studio::job::{Effect, Input, JobStatus, StageState};
use studio::journal::Actor;
use studio::providers::ProviderKind;
use studio::routing::Registry;
use studio::time::{Millis, Timestamp};

/// Slots per provider: tight for twenty jobs
const LIMIT: u32 = 2;
/// Jobs per creator
const JOBS: usize = 10;
/// Shots per job
const SHOTS: usize = 2;
/// How long a gate call or a push takes to reach the job (as the fake gates answer)
const HOP: Millis = Millis(5);
/// Every event of every world and every desk wake counts; a livelock fails instead of hanging
const MAX_STEPS: usize = 400_000;

/// One creator of the run
#[derive(Debug, Clone, Copy)]
struct Creator {
    name: &'static str,
    tier: Tier,
    paid: bool,
}

const FREE: Creator = Creator {
    name: "free_fern",
    tier: Tier::Free,
    paid: false,
};
const STUDIO: Creator = Creator {
    name: "studio_sol",
    tier: Tier::Studio,
    paid: true,
};

/// A paid creator on the middle tier
const PRO: Creator = Creator {
    name: "pro_pia",
    tier: Tier::Pro,
    paid: true,
};

/// The paid creator with a free creator's share of the gate (same plan, same badge)
const PAID_AT_FREE_WEIGHT: Creator = Creator {
    name: "studio_sol",
    tier: Tier::Free,
    paid: true,
};

fn limits() -> ProviderLimits {
    ProviderLimits {
        max_concurrent: LIMIT,
        // High enough never to be what holds a submit back.
        requests_per_minute: 100_000,
        burst: 1_000,
    }
}

/// Twenty jobs, their shared desks and the one clock
struct Fleet {
    now: Timestamp,
    worlds: Vec<World>,
    /// The creator (0 or 1) of each world
    owner: Vec<usize>,
    by_job: BTreeMap<JobId, usize>,
    /// Effects of each world already carried to the desks
    routed: Vec<usize>,
    desks: BTreeMap<ProviderKind, Desk>,
    /// When each job reached a terminal status
    finished: Vec<Option<Timestamp>>,
    /// The most leases each desk ever showed at once
    peak: BTreeMap<ProviderKind, usize>,
    /// Answers and pushes delivered: (granted at once, queued, refused, pushed grants)
    granted: usize,
    queued: usize,
    refused: usize,
    pushed: usize,
    steps: usize,
}

impl Fleet {
    /// `order` lists the creators' jobs in creation order (all at [`T0`]): the index into
    /// `creators` of each job's creator
    fn new(creators: [Creator; 2], order: &[usize]) -> Self {
        let mut fleet = Self {
            now: T0,
            worlds: Vec::new(),
            owner: Vec::new(),
            by_job: BTreeMap::new(),
            routed: Vec::new(),
            desks: BTreeMap::new(),
            finished: Vec::new(),
            peak: BTreeMap::new(),
            granted: 0,
            queued: 0,
            refused: 0,
            pushed: 0,
            steps: 0,
        };
        let mut made = [0usize; 2];
        for &c in order {
            let who = creators[c];
            let n = made[c];
            made[c] += 1;
            // Both creators' n-th jobs share a seed, so their plans are the same.
            let mut spec = created(small_brief(SHOTS), 1_000 + n as u64, who.paid);
            spec.job_id = JobId(format!("rnd_{}_{n:02}", who.name));
            spec.creator = CreatorId(who.name.into());
            spec.fleet = Some(who.tier);
            spec.registry = Registry::builtin();
            // What is measured is the gate's fairness, so every job must do the same work: a
            // keyframe whose line grows long would otherwise move to the same FLUX at Replicate
            // (the spill-over `job_slots` tests), and only the later jobs' lines grow long.
            spec.registry
                .models
                .retain(|m| m.id.as_str() != "flux-1.1-pro-replicate");
            let world = World::with(spec.clone(), |f| {
                // The fake's own gates answer nothing: the real desks below do.
                f.gates.down = true;
            });
            let i = fleet.worlds.len();
            fleet.by_job.insert(spec.job_id, i);
            fleet.worlds.push(world);
            fleet.owner.push(c);
            fleet.routed.push(0);
            fleet.finished.push(None);
            fleet.after(i);
        }
        fleet
    }

    /// The earliest event of a world: its next input or its job's next deadline
    fn next_of(w: &World) -> Option<Timestamp> {
        let input = w.inbox.keys().next().map(|(t, _)| *t);
        match (input, w.job.next_deadline()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Delivers the earliest event anywhere; false when no job has anything left to do
    fn step(&mut self) -> bool {
        self.steps += 1;
        assert!(self.steps <= MAX_STEPS, "the fleet did not settle");
        let world = self
            .worlds
            .iter()
            .enumerate()
            .filter_map(|(i, w)| Some((Self::next_of(w)?, i)))
            .min();
        let Some((at, i)) = world else {
            // Every job is done: a desk has nothing left to hand out.
            return false;
        };
        let wake = self
            .desks
            .iter()
            .filter_map(|(p, d)| Some((d.next_wake()?, *p)))
            .min();
        if let Some((t, provider)) = wake
            && t <= at
        {
            // The gate object's alarm: `with_desk(|_| ())` is a tick, then the pushes.
            self.now = self.now.max(t);
            let desk = self.desks.get_mut(&provider).unwrap();
            let notices = desk.tick(self.now);
            self.check_desk(provider);
            self.push(notices);
            return true;
        }
        self.now = self.now.max(at);
        assert!(self.worlds[i].step(), "world {i} had an event");
        self.after(i);
        true
    }

    /// After world `i` moved: record its finish, check the slots its jobs hold, and carry its
    /// new slot effects to the desks
    fn after(&mut self, i: usize) {
        let w = &self.worlds[i];
        if self.finished[i].is_none() && w.status().is_terminal() {
            self.finished[i] = Some(w.now);
        }
        let new: Vec<(Timestamp, Effect)> = w.effects[self.routed[i]..].to_vec();
        self.routed[i] = w.effects.len();
        for (at, effect) in new {
            assert!(at <= self.now, "an effect from the future");
            self.perform(i, effect);
        }
        self.check_jobs();
    }

    /// Performs one slot effect of world `i` at the desk of its provider, as the Worker does
    fn perform(&mut self, i: usize, effect: Effect) {
        let now = self.now;
        let spec = self.worlds[i].job.spec();
        if let Some(ask) = job_calls::acquire_of(spec, &effect) {
            let Effect::AcquireSlot {
                stage,
                attempt,
                model,
                ..
            } = effect
            else {
                unreachable!("acquire_of answers only for AcquireSlot");
            };
            let provider = ask.provider;
            let desk = self
                .desks
                .entry(provider)
                .or_insert_with(|| Desk::new(provider, limits(), T0));
            let (answer, mut notices) = desk.acquire(now, ask.call, ask.probe_lease);
            notices.extend(desk.tick(now));
            self.check_desk(provider);
            match answer {
                AcquireAnswer::Granted => self.granted += 1,
                AcquireAnswer::Queued { .. } => self.queued += 1,
                AcquireAnswer::Refused { .. } => self.refused += 1,
            }
            let input = answer.into_input(stage, attempt, model);
            self.worlds[i].schedule(now.plus(HOP), Actor::System, input);
            self.push(notices);
        } else if let Some((provider, call)) = job_calls::release_of(spec, &effect) {
            let desk = self
                .desks
                .get_mut(&provider)
                .expect("a slot is released only where it was asked for");
            let mut notices = desk.release(now, &call);
            notices.extend(desk.tick(now));
            self.check_desk(provider);
            self.push(notices);
        }
        // Everything else the world's fake has answered already.
    }

    /// `push_grant`: each notice reaches its job as `SlotGranted` (`POST /slot`)
    fn push(&mut self, notices: Vec<SlotNotice>) {
        for n in notices {
            let i = *self
                .by_job
                .get(&n.key.job)
                .expect("a notice for a known job");
            self.pushed += 1;
            let input = Input::SlotGranted {
                stage: n.key.stage,
                attempt: n.key.attempt,
                model: n.model,
            };
            self.worlds[i].schedule(self.now.plus(HOP), Actor::System, input);
        }
    }

    /// The desk's own view after a call: never more leases than the provider's limit
    fn check_desk(&mut self, provider: ProviderKind) {
        let view = self.desks[&provider].view(self.now);
        let held = view.gate.slots.len();
        assert!(
            held <= LIMIT as usize,
            "{provider} holds {held} slots at {:?}, limit {LIMIT}: {:?}",
            self.now,
            view.gate.slots
        );
        assert!(view.gate.effective_limit <= LIMIT);
        let peak = self.peak.entry(provider).or_default();
        *peak = (*peak).max(held);
    }

    /// The jobs' own view: stages submitting or running on a provider, across all jobs
    fn check_jobs(&self) {
        let mut holding: BTreeMap<ProviderKind, usize> = BTreeMap::new();
        for w in &self.worlds {
            for row in w.job.stages().iter() {
                if let StageState::Submitting { model, .. } | StageState::Running { model, .. } =
                    &row.state
                {
                    let provider = w.job.spec().registry.get(model).unwrap().provider;
                    *holding.entry(provider).or_default() += 1;
                }
            }
        }
        for (provider, n) in holding {
            assert!(
                n <= LIMIT as usize,
                "jobs run {n} tasks on {provider} at {:?}, limit {LIMIT}",
                self.now
            );
        }
    }

    fn run(mut self) -> Outcome {
        while self.step() {}
        for w in &self.worlds {
            assert_eq!(
                w.status(),
                JobStatus::Succeeded,
                "{}: {:?}",
                w.job.spec().job_id,
                w.job.view().failure
            );
            w.assert_replays();
        }
        // The two creators' jobs did the same work (same plans, same models), so any difference
        // in when they finished is the gate's.
        let work = |c: usize| -> Vec<Vec<(String, String)>> {
            (0..self.worlds.len())
                .filter(|&i| self.owner[i] == c)
                .map(|i| {
                    let mut w: Vec<_> = self.worlds[i]
                        .fake
                        .submit_calls
                        .iter()
                        .map(|(s, _, m, _)| (s.to_string(), m.to_string()))
                        .collect();
                    w.sort();
                    w
                })
                .collect()
        };
        assert_eq!(work(0), work(1), "the creators' jobs did different work");
        for (p, d) in &self.desks {
            let view = d.view(self.now);
            assert!(view.gate.slots.is_empty(), "{p}: a slot leaked");
            assert_eq!(view.gate.waiting, 0, "{p}: somebody still waits");
            assert_eq!(view.gate.leases_expired_total, 0, "{p}: a lease ran out");
            assert_eq!(
                view.gate.waiters_dropped_total, 0,
                "{p}: a waiter was dropped"
            );
        }
        let finishes = |c: usize| -> Vec<Millis> {
            let mut v: Vec<Millis> = (0..self.worlds.len())
                .filter(|&i| self.owner[i] == c)
                .map(|i| self.finished[i].unwrap().since(T0))
                .collect();
            v.sort();
            v
        };
        Outcome {
            finishes: [finishes(0), finishes(1)],
            peak: self.peak.clone(),
            granted: self.granted,
            queued: self.queued,
            refused: self.refused,
            pushed: self.pushed,
            steps: self.steps,
        }
    }
}

/// What a run measured
#[derive(Debug)]
struct Outcome {
    /// Each creator's finish times since [`T0`], sorted
    finishes: [Vec<Millis>; 2],
    peak: BTreeMap<ProviderKind, usize>,
    granted: usize,
    queued: usize,
    refused: usize,
    pushed: usize,
    steps: usize,
}

impl Outcome {
    /// A creator's median finish, in ms since [`T0`]
    fn median(&self, c: usize) -> u64 {
        let f = &self.finishes[c];
        assert_eq!(f.len(), JOBS);
        (f[JOBS / 2 - 1].0 + f[JOBS / 2].0) / 2
    }

    fn first(&self, c: usize) -> Millis {
        self.finishes[c][0]
    }

    fn last(&self, c: usize) -> Millis {
        self.finishes[c][JOBS - 1]
    }

    fn secs(&self, c: usize) -> Vec<u64> {
        self.finishes[c].iter().map(|m| m.0 / 1000).collect()
    }

    /// The gate was tight: some provider was full and jobs waited for pushed slots
    fn assert_contended(&self) {
        assert!(
            self.peak.values().any(|&n| n == LIMIT as usize),
            "no provider was ever full: {:?}",
            self.peak
        );
        assert!(
            self.granted > 0 && self.queued > 0 && self.pushed > 0,
            "{self:?}"
        );
        assert_eq!(self.refused, 0, "{self:?}");
    }
}

/// A creation order: all of one creator's jobs, then all of the other's
fn blocks(first: usize) -> Vec<usize> {
    let mut v = vec![first; JOBS];
    v.extend(vec![1 - first; JOBS]);
    v
}

/// The gate was tight, and both creators progressed: each finished a job before the other's
/// last one
fn assert_both_progress(name: &str, out: &Outcome) {
    out.assert_contended();
    assert!(
        out.first(0) < out.last(1),
        "{name}: creator 0 starved: {out:?}"
    );
    assert!(
        out.first(1) < out.last(0),
        "{name}: creator 1 starved: {out:?}"
    );
}

fn report(name: &str, creators: [Creator; 2], out: &Outcome) {
    eprintln!(
        "{name}: {} ({:?}) median {} ms, finishes {:?} s | {} ({:?}) median {} ms, finishes {:?} s | {} steps, peak {:?}",
        creators[0].name,
        creators[0].tier,
        out.median(0),
        out.secs(0),
        creators[1].name,
        creators[1].tier,
        out.median(1),
        out.secs(1),
        out.steps,
        out.peak
    );
}

/// The studio creator's jobs created after all of the free creator's: both tests read it, so
/// it runs once
fn studio_created_last() -> &'static Outcome {
    static RUN: std::sync::OnceLock<Outcome> = std::sync::OnceLock::new();
    RUN.get_or_init(|| Fleet::new([FREE, STUDIO], &blocks(0)).run())
}

#[test]
fn a_paid_creator_finishes_earlier_and_a_free_creator_still_progresses() {
    // Free first favours the free creator by arrival; the paid creator must win anyway.
    let studio_last = studio_created_last();
    let studio_first = Fleet::new([FREE, STUDIO], &blocks(1)).run();
    let pro_last = Fleet::new([FREE, PRO], &blocks(0)).run();
    for (name, paid, out) in [
        ("studio, free created first", STUDIO, studio_last),
        ("studio, studio created first", STUDIO, &studio_first),
        ("pro, free created first", PRO, &pro_last),
    ] {
        let creators = [FREE, paid];
        report(name, creators, out);
        assert_both_progress(name, out);
        assert!(
            out.median(1) < out.median(0),
            "{name}: the paid creator's median finish is not earlier: {out:?}"
        );
    }
}

/// How far two medians of mirrored runs may differ: they are equal today, since besides their
/// names the two creators' jobs differ only in the badge a paid job burns in
const MIRROR_MARGIN_MS: u64 = 2_000;

#[test]
fn at_equal_tiers_only_the_order_of_creation_separates_the_creators() {
    let creators = [FREE, PAID_AT_FREE_WEIGHT];
    let free_first = Fleet::new(creators, &blocks(0)).run();
    report("equal tiers, free created first", creators, &free_first);
    let paid_first = Fleet::new(creators, &blocks(1)).run();
    report("equal tiers, paid created first", creators, &paid_first);
    for (name, out) in [("free first", &free_first), ("paid first", &paid_first)] {
        assert_both_progress(name, out);
    }
    // By design the creator created first is ahead at equal weights: its first requests are
    // granted before the other creator waits at all, and equal tags go to the flow that
    // started waiting first. So medians at equal tiers are not close in one run...
    assert!(
        free_first.median(0) < free_first.median(1),
        "{free_first:?}"
    );
    assert!(
        paid_first.median(1) < paid_first.median(0),
        "{paid_first:?}"
    );
    // ...but the lead belongs to the order, not to the creator: swapping the order swaps the
    // medians, so over both orders the two creators' medians are the same.
    for (a, b) in [
        (free_first.median(0), paid_first.median(1)),
        (free_first.median(1), paid_first.median(0)),
    ] {
        assert!(
            a.abs_diff(b) <= MIRROR_MARGIN_MS,
            "the same position in the order gives {a} ms and {b} ms"
        );
    }
    let mean = |x: u64, y: u64| x.midpoint(y);
    let free_mean = mean(free_first.median(0), paid_first.median(0));
    let paid_mean = mean(free_first.median(1), paid_first.median(1));
    eprintln!("equal tiers over both orders: free {free_mean} ms, paid {paid_mean} ms");
    assert!(free_mean.abs_diff(paid_mean) <= MIRROR_MARGIN_MS);
    // The tier weighs more than the order: a studio creator created last finishes its median
    // job earlier than the same creator at a free weight created first, and the free creator
    // created first does worse against a studio rival than created last against an equal one.
    let studio_last = studio_created_last();
    assert!(
        studio_last.median(1) < paid_first.median(1),
        "studio last {} ms, free weight first {} ms",
        studio_last.median(1),
        paid_first.median(1)
    );
    assert!(
        studio_last.median(0) > paid_first.median(0),
        "free first vs studio {} ms, free last vs equal {} ms",
        studio_last.median(0),
        paid_first.median(0)
    );
}
