//! Provider limits: a per-provider cap on concurrent tasks and on submits per minute, and the
//! gauges `GET /__sim/stats` reports (tasks in flight, the peak, submits in the window).
//!
//! Sans-IO: every method takes `now` and the window, and the caller holds the state lock, so
//! checking a cap and taking the slot are one step even under concurrent requests.
//!
//! A submit goes through three steps:
//! 1. [`Limits::admit`] checks the caps, counts the submit and, for a new task, reserves a slot
//!    (the submit is still being processed: faults, idempotency, Hailuo's challenge);
//! 2. [`Limits::bind`] turns the reservation into a task once it is created;
//! 3. the slot frees itself when the task completes ([`Release::AtCompletion`]), or is freed by
//!    [`Limits::release`] when the request ends ([`Release::WithRequest`], synchronous
//!    providers; also a reservation whose submit was refused) or by [`Limits::finish`] (cancel).
//!
//! Expired entries are dropped lazily on every call, so no timer is needed: a task is in flight
//! exactly while `now < end`, and the peak can only rise when a task is bound.

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;
use std::time::Instant;

use serde::Serialize;

use crate::config::ProviderLimits;
use crate::providers::Provider;

/// A slot of the concurrency count; minted from the state's counter, so unique across resets
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SlotId(pub u64);

/// When a bound task stops counting as concurrent
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Release {
    /// At its completion time (asynchronous providers: the result is final then)
    AtCompletion,
    /// When its request ends (synchronous providers: the answer is the result)
    WithRequest,
}

/// Why a submit was refused: a configured cap is reached
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    /// As many tasks as the cap are in flight (or being submitted)
    #[error("{cap} concurrent tasks in flight")]
    ConcurrentTasks {
        /// The cap
        cap: u32,
        /// Until the earliest of them is expected to end
        retry_after: Duration,
    },
    /// As many submits as the cap were made within the window
    #[error("{cap} submits within the last minute")]
    RequestsPerMinute {
        /// The cap
        cap: u32,
        /// Until the oldest of them leaves the window
        retry_after: Duration,
    },
}

impl Refused {
    /// How long until a retry can pass this cap
    pub fn retry_after(&self) -> Duration {
        match self {
            Self::ConcurrentTasks { retry_after, .. }
            | Self::RequestsPerMinute { retry_after, .. } => *retry_after,
        }
    }

    /// The `Retry-After` header value: whole seconds rounded up, at least 1
    pub fn retry_after_s(&self) -> u64 {
        // `Retry-After: 0` would invite a busy loop; a fraction must not round down to it
        (self.retry_after().as_secs_f64().ceil() as u64).max(1)
    }
}

/// What holds a slot
#[derive(Debug, Clone, PartialEq, Eq)]
enum Hold {
    /// A submit still being processed; counts against the cap, is not a task yet
    Reserved,
    /// A task that completes at the entry's `end`
    Task(String),
    /// A task whose request is still open (the entry's `end` is only the expected end)
    Request(String),
}

#[derive(Debug, Clone)]
struct Entry {
    slot: SlotId,
    hold: Hold,
    /// When it ends (for `Reserved` and `Request`, the estimate used for `Retry-After`)
    end: Instant,
}

impl Entry {
    /// Counts against the concurrency cap at `now`
    fn occupies(&self, now: Instant) -> bool {
        match self.hold {
            Hold::Reserved | Hold::Request(_) => true,
            Hold::Task(_) => now < self.end,
        }
    }

    /// Is a task in flight at `now` (reservations are not tasks)
    fn in_flight(&self, now: Instant) -> bool {
        match self.hold {
            Hold::Reserved => false,
            Hold::Request(_) => true,
            Hold::Task(_) => now < self.end,
        }
    }
}

/// One provider's slots, recent submits and peak
#[derive(Debug, Default)]
struct Usage {
    entries: Vec<Entry>,
    /// Accepted submits, oldest first
    submits: VecDeque<Instant>,
    peak: u64,
}

impl Usage {
    fn prune(&mut self, now: Instant, window: Duration) {
        self.entries.retain(|e| e.occupies(now));
        while self.submits.front().is_some_and(|t| *t + window <= now) {
            self.submits.pop_front();
        }
    }

    fn in_flight(&self, now: Instant) -> u64 {
        self.entries.iter().filter(|e| e.in_flight(now)).count() as u64
    }
}

/// The per-provider usage since the last reset
#[derive(Debug, Default)]
pub struct Limits {
    usage: BTreeMap<Provider, Usage>,
}

impl Limits {
    /// Checks `caps` for one submit at `now`; on success counts it and, when `reserve` names a
    /// slot and its expected end (a new task, not an idempotent replay), reserves that slot.
    /// `window` is the scaled minute of the requests-per-minute cap.
    pub fn admit(
        &mut self,
        p: Provider,
        caps: ProviderLimits,
        now: Instant,
        window: Duration,
        reserve: Option<(SlotId, Instant)>,
    ) -> Result<(), Refused> {
        let usage = self.usage.entry(p).or_default();
        usage.prune(now, window);
        let mut refusals = Vec::new();
        if let Some(cap) = caps.requests_per_minute
            && usage.submits.len() >= cap.get() as usize
            && let Some(oldest) = usage.submits.front()
        {
            refusals.push(Refused::RequestsPerMinute {
                cap: cap.get(),
                retry_after: (*oldest + window).saturating_duration_since(now),
            });
        }
        if let Some(cap) = caps.max_concurrent_tasks
            && reserve.is_some()
            && usage.entries.len() >= cap.get() as usize
        {
            let first_end = usage.entries.iter().map(|e| e.end).min().unwrap_or(now);
            refusals.push(Refused::ConcurrentTasks {
                cap: cap.get(),
                retry_after: first_end.saturating_duration_since(now),
            });
        }
        // Both caps must pass for a retry to succeed: answer with the longer wait
        if let Some(worst) = refusals.into_iter().max_by_key(Refused::retry_after) {
            return Err(worst);
        }
        usage.submits.push_back(now);
        if let Some((slot, end)) = reserve {
            usage.entries.push(Entry {
                slot,
                hold: Hold::Reserved,
                end,
            });
        }
        Ok(())
    }

    /// Binds a slot to the task created for it (a new slot when the reservation is gone, e.g.
    /// after a reset), ending at `end` or with its request, and updates the peak
    pub fn bind(
        &mut self,
        p: Provider,
        slot: SlotId,
        task_id: &str,
        release: Release,
        end: Instant,
        now: Instant,
    ) {
        let usage = self.usage.entry(p).or_default();
        let hold = match release {
            Release::AtCompletion => Hold::Task(task_id.to_string()),
            Release::WithRequest => Hold::Request(task_id.to_string()),
        };
        match usage.entries.iter_mut().find(|e| e.slot == slot) {
            Some(e) => {
                e.hold = hold;
                e.end = end;
            }
            None => usage.entries.push(Entry { slot, hold, end }),
        }
        usage.entries.retain(|e| e.occupies(now));
        usage.peak = usage.peak.max(usage.in_flight(now));
    }

    /// Frees a slot held by a submit or a request that has ended; a task that completes on its
    /// own keeps its slot until then
    pub fn release(&mut self, p: Provider, slot: SlotId) {
        if let Some(usage) = self.usage.get_mut(&p) {
            usage
                .entries
                .retain(|e| e.slot != slot || matches!(e.hold, Hold::Task(_)));
        }
    }

    /// Frees the slot of a task whose result became final early (cancelled)
    pub fn finish(&mut self, p: Provider, task_id: &str) {
        if let Some(usage) = self.usage.get_mut(&p) {
            usage.entries.retain(|e| match &e.hold {
                Hold::Task(id) | Hold::Request(id) => id != task_id,
                Hold::Reserved => true,
            });
        }
    }

    /// The gauges at `now`, for every provider submitted to since the last reset
    pub fn report(&self, now: Instant, window: Duration) -> LimitReport {
        let mut r = LimitReport::default();
        for (p, usage) in &self.usage {
            let key = p.as_str().to_string();
            r.tasks_in_flight_now
                .insert(key.clone(), usage.in_flight(now));
            r.max_concurrent_tasks_seen.insert(key.clone(), usage.peak);
            let recent = usage.submits.iter().filter(|t| **t + window > now).count();
            r.submits_in_last_minute.insert(key, recent as u64);
        }
        r
    }
}

/// The limiter's part of `GET /__sim/stats`, per provider
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct LimitReport {
    /// Tasks whose result is not final yet
    pub tasks_in_flight_now: BTreeMap<String, u64>,
    /// The most tasks in flight at once since the last reset
    pub max_concurrent_tasks_seen: BTreeMap<String, u64>,
    /// Submits accepted within the last (scaled) minute
    pub submits_in_last_minute: BTreeMap<String, u64>,
}

#[cfg(test)]
mod tests {
    use std::num::NonZeroU32;

    use super::*;

    const P: Provider = Provider::Kling;
    const MINUTE: Duration = Duration::from_secs(60);

    fn caps(concurrent: Option<u32>, rpm: Option<u32>) -> ProviderLimits {
        ProviderLimits {
            max_concurrent_tasks: concurrent.and_then(NonZeroU32::new),
            requests_per_minute: rpm.and_then(NonZeroU32::new),
        }
    }

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    /// Admits and binds one asynchronous task of `latency`
    fn run(l: &mut Limits, c: ProviderLimits, slot: u64, now: Instant, latency: Duration) -> bool {
        let end = now + latency;
        let ok = l
            .admit(P, c, now, MINUTE, Some((SlotId(slot), end)))
            .is_ok();
        if ok {
            l.bind(
                P,
                SlotId(slot),
                &format!("t{slot}"),
                Release::AtCompletion,
                end,
                now,
            );
        }
        ok
    }

    #[test]
    fn the_concurrency_cap_refuses_until_the_first_task_ends() {
        let t0 = Instant::now();
        let mut l = Limits::default();
        let c = caps(Some(2), None);
        assert!(run(&mut l, c, 1, t0, secs(10)));
        assert!(run(&mut l, c, 2, t0 + secs(2), secs(10)));
        let refused = l.admit(P, c, t0 + secs(3), MINUTE, Some((SlotId(3), t0)));
        assert_eq!(
            refused,
            Err(Refused::ConcurrentTasks {
                cap: 2,
                retry_after: secs(7)
            })
        );
        assert!(run(&mut l, c, 4, t0 + secs(10), secs(10)), "slot 1 ended");
        let r = l.report(t0 + secs(10), MINUTE);
        assert_eq!(r.tasks_in_flight_now["kling"], 2);
        assert_eq!(r.max_concurrent_tasks_seen["kling"], 2);
        assert_eq!(
            r.submits_in_last_minute["kling"], 3,
            "the refusal is not counted"
        );
    }

    #[test]
    fn a_reservation_counts_against_the_cap_but_not_as_a_task() {
        let t0 = Instant::now();
        let mut l = Limits::default();
        let c = caps(Some(1), None);
        l.admit(P, c, t0, MINUTE, Some((SlotId(1), t0 + secs(5))))
            .unwrap();
        assert!(
            l.admit(P, c, t0, MINUTE, Some((SlotId(2), t0 + secs(5))))
                .is_err()
        );
        assert_eq!(l.report(t0, MINUTE).max_concurrent_tasks_seen["kling"], 0);
        l.release(P, SlotId(1));
        assert!(
            l.admit(P, c, t0, MINUTE, Some((SlotId(3), t0 + secs(5))))
                .is_ok()
        );
    }

    #[test]
    fn a_task_held_by_its_request_ends_with_the_request_not_the_clock() {
        let t0 = Instant::now();
        let mut l = Limits::default();
        let c = caps(Some(1), None);
        l.admit(P, c, t0, MINUTE, Some((SlotId(1), t0 + secs(1))))
            .unwrap();
        l.bind(P, SlotId(1), "a", Release::WithRequest, t0 + secs(1), t0);
        let late = t0 + secs(5);
        let refused = l.admit(P, c, late, MINUTE, Some((SlotId(2), late)));
        assert_eq!(
            refused.map_err(|r| r.retry_after_s()),
            Err(1),
            "overdue: 1 s"
        );
        assert_eq!(l.report(late, MINUTE).tasks_in_flight_now["kling"], 1);
        l.release(P, SlotId(1));
        assert_eq!(l.report(late, MINUTE).tasks_in_flight_now["kling"], 0);
        assert!(l.admit(P, c, late, MINUTE, Some((SlotId(3), late))).is_ok());
    }

    #[test]
    fn releasing_an_asynchronous_task_keeps_it_until_completion_but_cancel_ends_it() {
        let t0 = Instant::now();
        let mut l = Limits::default();
        let c = caps(Some(1), None);
        assert!(run(&mut l, c, 1, t0, secs(10)));
        l.release(P, SlotId(1));
        assert!(!run(&mut l, c, 2, t0 + secs(1), secs(10)));
        l.finish(P, "t1");
        assert!(run(&mut l, c, 3, t0 + secs(1), secs(10)));
    }

    #[test]
    fn the_rpm_cap_slides_with_the_window_and_counts_replays() {
        let t0 = Instant::now();
        let mut l = Limits::default();
        let c = caps(None, Some(3));
        let w = secs(6);
        for i in 0..3 {
            l.admit(P, c, t0 + secs(i), w, None).unwrap();
        }
        let refused = l.admit(P, c, t0 + secs(4), w, None);
        assert_eq!(
            refused,
            Err(Refused::RequestsPerMinute {
                cap: 3,
                retry_after: secs(2)
            })
        );
        assert_eq!(refused.map_err(|r| r.retry_after_s()), Err(2));
        assert!(l.admit(P, c, t0 + secs(6), w, None).is_ok(), "t0 left");
        assert_eq!(l.report(t0 + secs(6), w).submits_in_last_minute["kling"], 3);
    }

    #[test]
    fn with_both_caps_reached_the_longer_wait_is_answered() {
        let t0 = Instant::now();
        let mut l = Limits::default();
        let c = caps(Some(1), Some(1));
        assert!(run(&mut l, c, 1, t0, secs(3)));
        let refused = l.admit(P, c, t0 + secs(1), MINUTE, Some((SlotId(2), t0)));
        assert_eq!(
            refused,
            Err(Refused::RequestsPerMinute {
                cap: 1,
                retry_after: secs(59)
            })
        );
    }

    #[test]
    fn without_caps_everything_passes_and_the_peak_is_tracked() {
        let t0 = Instant::now();
        let mut l = Limits::default();
        let c = caps(None, None);
        for i in 0..5 {
            assert!(run(&mut l, c, i, t0 + Duration::from_millis(i), secs(1)));
        }
        assert!(run(&mut l, c, 9, t0 + secs(5), secs(1)));
        let r = l.report(t0 + secs(5), MINUTE);
        assert_eq!(r.max_concurrent_tasks_seen["kling"], 5);
        assert_eq!(r.tasks_in_flight_now["kling"], 1);
        assert_eq!(r.submits_in_last_minute["kling"], 6);
    }

    #[test]
    fn a_fractional_wait_rounds_up_to_a_whole_second() {
        let r = Refused::ConcurrentTasks {
            cap: 1,
            retry_after: Duration::from_millis(1200),
        };
        assert_eq!(r.retry_after_s(), 2);
    }
}
