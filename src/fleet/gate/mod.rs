//! The provider gate: one per provider account, it hands out submit slots to every job.
//!
//! Each job used to limit only its own concurrency, so 200 jobs put 200 times a model's limit on
//! one account. Now a job asks the gate for a slot before it submits and gives it back when the
//! task ends. The gate enforces the account's `max_concurrent` and `requests_per_minute`, backs
//! off for everybody when the provider answers 429, and shares the waiting line fairly between
//! creators, weighted by tier (weighted fair queuing, described in `fairness.rs`).
//!
//! Slots are leases: granted until `now + lease_ttl` (the gate's, or the length the request
//! names), renewed by the holder while its task runs, and freed by [`Gate::tick`] when they run out, so a job that dies never leaks a slot.
//! Waiting requests expire the same way after `waiter_ttl` unless asked again. Every method
//! first applies what time alone changed (expiries, refills, the end of a pause) and may hand
//! freed slots to waiters: those grants come back as data and the shell notifies each job.
//!
//! ```text
//! input -> gate.acquire / renew / release / withdraw / rate_limited / tick (now, ...)
//!       -> persist the gate (serde) -> arm the alarm at gate.next_wake() -> notify the grants
//! ```
//!
//! Why one gate object per account is enough: a decision is a few map operations, microseconds,
//! and a Durable Object serves on the order of 500-1,000 requests a second. 200 concurrent jobs
//! whose tasks last tens of seconds send an acquire, a few renewals and a release per task, well
//! under 100 requests a second. If an account ever carries enough traffic to approach the
//! object's throughput (thousands of short tasks a minute), shard by model: one gate per
//! (account, model group) with the account's `max_concurrent` and `requests_per_minute` split
//! between the shards in proportion to their traffic; fairness then holds within a shard.

mod bucket;
mod config;
mod error;
mod fairness;
mod lease;
mod snapshot;
mod throttle;

use serde::{Deserialize, Serialize};

pub use config::{GateConfig, ProviderLimits, TierWeights};
pub use error::GateError;
pub use lease::{Grant, Lease, LeaseId, RequesterKey, SlotRequest};
pub use snapshot::{CreatorWaiting, GateSnapshot};
pub use throttle::{OUTCOME_WINDOW, OVERLOAD_MIN};

use super::touched::Touched;
use bucket::TokenBucket;
use fairness::FairQueue;
use throttle::Throttle;

use crate::time::{Millis, Timestamp};

/// Places in line per step of the re-ask pace (see [`Gate::pace`])
pub const FAR_STRIDE: usize = 64;
/// The slowest re-ask pace, in thirds of `waiter_ttl` (3 minutes at the default 60 s)
pub const MAX_PACE_STEPS: usize = 9;

/// An answer plus the slots the same call handed to other, waiting jobs
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[must_use = "grants must be delivered to the jobs that waited for them"]
pub struct Decision<T> {
    /// The answer to the caller
    pub answer: T,
    /// Slots granted to waiting requests; the shell notifies each job
    pub grants: Vec<Grant>,
}

/// The answer to `acquire`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Admission {
    /// The slot is the caller's: submit, renew it while the task runs, release it at the end
    Granted(Grant),
    /// In line: the slot will come as a grant. Ask again before `refresh_by` to stay in line.
    Waiting {
        /// Requests that would be granted first under the current order (see [`Gate::position`])
        ahead: usize,
        /// When to ask again: sooner near the front of the line (see [`Gate::pace`])
        ask_again_at: Timestamp,
        /// The request is dropped at this moment unless asked again (three paces on)
        refresh_by: Timestamp,
    },
}

/// The answer to `renew`
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Renewal {
    /// The lease now lasts until `expires_at`
    Renewed {
        /// The new expiry
        expires_at: Timestamp,
    },
    /// No such lease: it ran out, was released, or belongs to an older acquire of the key
    NotHeld,
}

/// The answer to `release`
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Release {
    /// The slot is free again
    Released,
    /// No such lease (ran out, already released, or stale): nothing was freed
    NotHeld,
}

/// How the task behind a lease ended, as the job reports it with the release
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TaskOutcome {
    /// The task succeeded: the effective limit may grow
    Succeeded,
    /// The task failed for a reason other than rate limiting (or was cancelled)
    Failed,
    /// The provider answered 429: the gate backs off for everybody
    RateLimited {
        /// The `Retry-After` the provider sent
        retry_after: Option<Millis>,
    },
}

/// One provider account's gate. The shell persists it as JSON between calls.
///
/// Leases are a plain list in the order they were granted (by id): there are never more than
/// `max_concurrent` of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gate {
    config: GateConfig,
    leases: Vec<Lease>,
    /// Leases granted, renewed or gone since the last [`Gate::take_changed_leases`]
    #[serde(skip)]
    leases_touched: Touched<LeaseId>,
    queue: FairQueue,
    bucket: TokenBucket,
    throttle: Throttle,
    /// The next lease's number
    next_lease: u64,
    /// Leases that ran out without a release
    expired_total: u64,
    /// Waiting requests dropped for not being asked again
    dropped_total: u64,
}

/// A gate's stored form without its waiting requests and leases: the same fields under the same
/// names as the gate's own serde form, with each flow's `waiters` empty and no `leases`. The
/// requests and the leases are rows of their own ([`Gate::waiter_rows`],
/// [`Gate::take_changed_waiters`], [`Gate::lease_rows`], [`Gate::take_changed_leases`]), so a
/// call that touches one request of a long line, or one lease of a large account, writes one
/// row, not all of them.
#[derive(Serialize)]
pub struct GateHead<'a> {
    config: &'a GateConfig,
    queue: fairness::QueueHead<'a>,
    bucket: &'a TokenBucket,
    throttle: &'a Throttle,
    next_lease: u64,
    expired_total: u64,
    dropped_total: u64,
}

impl Gate {
    /// The stored form without the waiting requests
    pub fn head(&self) -> GateHead<'_> {
        GateHead {
            config: &self.config,
            queue: self.queue.head(),
            bucket: &self.bucket,
            throttle: &self.throttle,
            next_lease: self.next_lease,
            expired_total: self.expired_total,
            dropped_total: self.dropped_total,
        }
    }

    /// Every waiting request as a stored row (its key and JSON naming its creator)
    pub fn waiter_rows(&self) -> serde_json::Result<Vec<(RequesterKey, String)>> {
        self.queue.rows()
    }

    /// The waiting requests' rows changed since the last call (`None`: no longer waiting)
    pub fn take_changed_waiters(
        &mut self,
    ) -> serde_json::Result<Vec<(RequesterKey, Option<String>)>> {
        self.queue.take_touched()
    }

    /// Every lease as a stored row (its id and JSON), for a first write. Clears the record of
    /// changes, which these rows include.
    pub fn lease_rows(&mut self) -> serde_json::Result<Vec<(LeaseId, String)>> {
        self.leases_touched.take();
        self.leases
            .iter()
            .map(|l| Ok((l.id, serde_json::to_string(l)?)))
            .collect()
    }

    /// The leases' rows changed since the last call (`None`: the lease is gone)
    pub fn take_changed_leases(&mut self) -> serde_json::Result<Vec<(LeaseId, Option<String>)>> {
        let touched = self.leases_touched.take();
        touched
            .into_iter()
            .map(|id| {
                let row = self
                    .leases
                    .iter()
                    .find(|l| l.id == id)
                    .map(serde_json::to_string)
                    .transpose()?;
                Ok((id, row))
            })
            .collect()
    }

    /// An idle gate with a full rate bucket
    pub fn new(config: GateConfig, now: Timestamp) -> Self {
        Self {
            bucket: TokenBucket::full(&config.limits, now),
            throttle: Throttle::new(&config),
            config,
            leases: Vec::new(),
            leases_touched: Touched::default(),
            queue: FairQueue::default(),
            next_lease: 1,
            expired_total: 0,
            dropped_total: 0,
        }
    }

    /// The gate's configuration
    pub fn config(&self) -> &GateConfig {
        &self.config
    }

    /// Takes a new configuration (the provider's limits changed). Leases beyond a smaller
    /// limit are not revoked: they run out or are released, and no new grant is made meanwhile.
    #[must_use = "grants must be delivered to the jobs that waited for them"]
    pub fn reconfigure(&mut self, now: Timestamp, config: GateConfig) -> Vec<Grant> {
        let mut grants = self.advance(now);
        self.config = config;
        self.bucket.clamp(&self.config.limits);
        self.throttle.reconfigure(&self.config);
        grants.extend(self.pump(now));
        grants
    }

    /// Asks for a slot. Idempotent per [`RequesterKey`]: a key that holds a lease gets the same
    /// lease back (renewed, since asking is a sign of life), a key in line keeps its place and
    /// is refreshed. A new request is granted at once only when nobody waits and a slot and a
    /// submit are free; otherwise it joins the line.
    ///
    /// A key whose lease was released and that asks again gets a new lease: a duplicate acquire
    /// delivered after the release can hold a slot at most until its lease runs out.
    pub fn acquire(
        &mut self,
        now: Timestamp,
        request: SlotRequest,
    ) -> Result<Decision<Admission>, GateError> {
        let grants = self.advance(now);
        if let Some(lease) = self.leases.iter_mut().find(|l| l.key == request.key) {
            lease.expires_at = lease.expires_at.max(now.plus(lease.ttl));
            self.leases_touched.insert(lease.id);
            let answer = Admission::Granted(Grant::from(&*lease));
            return Ok(Decision { answer, grants });
        }
        let refresh_by = now.plus(self.config.waiter_ttl);
        let key = request.key.clone();
        if !self.queue.refresh(&key, refresh_by) {
            // `advance` has granted whatever it could, so a line that is not empty now is
            // blocked and a new request must not pass it.
            if self.queue.is_empty() && self.can_grant(now) {
                let answer = Admission::Granted(self.grant(now, request));
                return Ok(Decision { answer, grants });
            }
            // Grants pop waiters, so a full line means `advance` granted nothing: no grant is
            // lost with this error.
            let capacity = self.config.max_waiters;
            if self.queue.len() >= usize::try_from(capacity).unwrap_or(usize::MAX) {
                return Err(GateError::QueueFull { capacity });
            }
            let weight = self.config.weights.of(request.tier);
            self.queue.push(request, weight, now, refresh_by);
        }
        let ahead = self.queue.ahead(&key).unwrap_or(0);
        let pace = self.pace(ahead);
        let refresh_by = now.plus(Millis(pace.0.saturating_mul(3)));
        self.queue.refresh(&key, refresh_by);
        let ask_again_at = now.plus(pace);
        let answer = Admission::Waiting {
            ahead,
            ask_again_at,
            refresh_by,
        };
        Ok(Decision { answer, grants })
    }

    /// How often a request `ahead` places back should ask again to keep its place: a third of
    /// `waiter_ttl` near the front, one more third for every [`FAR_STRIDE`] places further back,
    /// at most [`MAX_PACE_STEPS`] thirds. Why: grants are pushed, so asking again only guards a
    /// lost push and refreshes the place; 1,200 stages waiting at one gate all asking every
    /// 20 s were 60 calls a second to one object, for positions that change slowly at the back.
    /// The price: a lost push to a stage far back is found up to three minutes later.
    pub fn pace(&self, ahead: usize) -> Millis {
        let third = self.config.waiter_ttl.0 / 3;
        let steps = (ahead / FAR_STRIDE).saturating_add(1).min(MAX_PACE_STEPS);
        Millis(third.saturating_mul(u64::try_from(steps).unwrap_or(u64::MAX)))
    }

    /// Extends a lease by its length from `now`; the holder calls it while its task runs.
    /// `lease` names the lease to fence out messages about an older lease of the same key;
    /// `None` renews whatever lease the key holds.
    pub fn renew(
        &mut self,
        now: Timestamp,
        key: &RequesterKey,
        lease: Option<LeaseId>,
    ) -> Decision<Renewal> {
        let grants = self.advance(now);
        let answer = match self.leases.iter_mut().find(|l| holds(l, key, lease)) {
            Some(held) => {
                held.expires_at = held.expires_at.max(now.plus(held.ttl));
                self.leases_touched.insert(held.id);
                Renewal::Renewed {
                    expires_at: held.expires_at,
                }
            }
            None => Renewal::NotHeld,
        };
        Decision { answer, grants }
    }

    /// Gives a slot back when its task ended, and hands it to the next waiter. Releasing a
    /// lease that is not held frees nothing (no double free); a 429 outcome still slows the
    /// gate, since the provider's answer is real whoever held the slot. `lease` as in
    /// [`Self::renew`].
    pub fn release(
        &mut self,
        now: Timestamp,
        key: &RequesterKey,
        lease: Option<LeaseId>,
        outcome: TaskOutcome,
    ) -> Decision<Release> {
        let mut grants = self.advance(now);
        let held = self
            .leases
            .iter()
            .position(|l| holds(l, key, lease))
            // `remove`, not `swap_remove`: the list stays in grant order, as it loads back.
            .map(|i| self.leases.remove(i));
        if let Some(held) = &held {
            self.leases_touched.insert(held.id);
        }
        match outcome {
            TaskOutcome::Succeeded => {
                if let Some(held) = &held {
                    self.throttle.succeeded(held.granted_at, &self.config);
                }
            }
            TaskOutcome::Failed => {
                if held.is_some() {
                    self.throttle.failed();
                }
            }
            TaskOutcome::RateLimited { retry_after } => {
                self.throttle.rate_limited(now, retry_after, &self.config);
            }
        }
        grants.extend(self.pump(now));
        let answer = match held {
            Some(_) => Release::Released,
            None => Release::NotHeld,
        };
        Decision { answer, grants }
    }

    /// Takes a waiting request out of line (its job was cancelled); false when it did not wait
    pub fn withdraw(&mut self, now: Timestamp, key: &RequesterKey) -> Decision<bool> {
        let grants = self.advance(now);
        let answer = self.queue.remove(key).is_some();
        Decision { answer, grants }
    }

    /// A 429 the provider sent outside a release (e.g. to a status poll): pause until
    /// `retry_after` has passed, and halve the effective limit if 429s are a real share of the
    /// provider's recent answers (see `throttle.rs`)
    #[must_use = "grants must be delivered to the jobs that waited for them"]
    pub fn rate_limited(&mut self, now: Timestamp, retry_after: Option<Millis>) -> Vec<Grant> {
        let grants = self.advance(now);
        self.throttle.rate_limited(now, retry_after, &self.config);
        grants
    }

    /// Applies what time alone changed: expires leases and stale waiters, refills the rate
    /// bucket, ends a pause, grows the effective limit, and grants what became free.
    /// Calling it early or twice is harmless.
    #[must_use = "grants must be delivered to the jobs that waited for them"]
    pub fn tick(&mut self, now: Timestamp) -> Vec<Grant> {
        self.advance(now)
    }

    /// The earliest moment something changes by time alone: a lease or a waiter running out,
    /// or, while requests wait, the end of the pause, a recovery step or a rate token that
    /// could unblock them. The shell arms its alarm here; `None` means nothing to wake for.
    pub fn next_wake(&self) -> Option<Timestamp> {
        let lease = self.leases.iter().map(|l| l.expires_at).min();
        let waiter = self.queue.next_expiry();
        let unblock = if self.queue.is_empty() {
            None
        } else if let Some(until) = self.throttle.pause_end() {
            // `advance` forgets pauses that are over, so a stored one is still ahead.
            Some(until)
        } else if self.in_use() >= self.effective_limit() {
            // Lease expiries are counted above; the limit growing is the other way out.
            self.throttle.next_step()
        } else {
            self.bucket.next_token_at(&self.config.limits)
        };
        [lease, waiter, unblock].into_iter().flatten().min()
    }

    /// How many waiting requests would be granted before `key` if no other request arrived;
    /// `None` when it does not wait. Exact for the current line; a later hero shot or nearer
    /// deadline of the same creator, or a newly waiting creator, may still pass it.
    pub fn position(&self, key: &RequesterKey) -> Option<usize> {
        self.queue.ahead(key)
    }

    /// Slots in use
    pub fn in_use(&self) -> usize {
        self.leases.len()
    }

    /// Requests waiting
    pub fn waiting(&self) -> usize {
        self.queue.len()
    }

    /// The lease `key` holds, if any
    pub fn lease_of(&self, key: &RequesterKey) -> Option<&Lease> {
        self.leases.iter().find(|l| l.key == *key)
    }

    /// A view for support at `now`. Time-dependent figures (pause, tokens, recent 429s) are
    /// computed for `now`; leases and waiters are as of the last call, so call [`Self::tick`]
    /// first (which the shell does anyway to deliver its grants).
    pub fn snapshot(&self, now: Timestamp) -> GateSnapshot {
        let mut bucket = self.bucket.clone();
        bucket.refill(now, &self.config.limits);
        let paused_until = self.throttle.paused_until(now);
        GateSnapshot {
            limits: self.config.limits,
            effective_limit: self.throttle.effective(),
            tokens: bucket.tokens(),
            slots: self.leases.clone(),
            waiting: self.queue.len(),
            waiting_by_creator: self
                .queue
                .by_creator()
                .into_iter()
                .map(|(creator, waiting)| CreatorWaiting { creator, waiting })
                .collect(),
            rate_limited_total: self.throttle.total(),
            rate_limited_recent: self.throttle.recent(now, &self.config),
            rate_limit_window: self.config.rate_limit_window,
            last_rate_limited_at: self.throttle.last_at(),
            paused: paused_until.is_some(),
            paused_until,
            next_recovery_at: self.throttle.next_step(),
            leases_expired_total: self.expired_total,
            waiters_dropped_total: self.dropped_total,
        }
    }

    fn effective_limit(&self) -> usize {
        usize::try_from(self.throttle.effective()).unwrap_or(usize::MAX)
    }

    /// Whether a new grant may be made now: a slot under the effective limit, no pause, a token
    fn can_grant(&self, now: Timestamp) -> bool {
        self.in_use() < self.effective_limit()
            && self.throttle.paused_until(now).is_none()
            && self.bucket.has_token()
    }

    /// Makes a lease for `request`, spending a rate token
    fn grant(&mut self, now: Timestamp, request: SlotRequest) -> Grant {
        self.bucket.take();
        let ttl = request.lease_ttl.unwrap_or(self.config.lease_ttl);
        let lease = Lease {
            id: LeaseId(self.next_lease),
            key: request.key,
            creator: request.creator,
            model: request.model,
            granted_at: now,
            expires_at: now.plus(ttl),
            ttl,
        };
        self.next_lease = self.next_lease.saturating_add(1);
        let grant = Grant::from(&lease);
        self.leases_touched.insert(lease.id);
        self.leases.push(lease);
        grant
    }

    /// Grants to waiters, in fair order, while the gate allows
    fn pump(&mut self, now: Timestamp) -> Vec<Grant> {
        let mut grants = Vec::new();
        while !self.queue.is_empty() && self.can_grant(now) {
            let Some(waiter) = self.queue.pop() else {
                break;
            };
            grants.push(self.grant(now, waiter.request));
        }
        grants
    }

    /// Applies what time changed by `now`, then grants what became free
    fn advance(&mut self, now: Timestamp) -> Vec<Grant> {
        self.bucket.refill(now, &self.config.limits);
        self.throttle.advance(now, &self.config);
        let dropped = self.queue.expire(now);
        self.dropped_total = self
            .dropped_total
            .saturating_add(u64::try_from(dropped).unwrap_or(u64::MAX));
        let before = self.leases.len();
        let touched = &mut self.leases_touched;
        self.leases.retain(|l| {
            let live = now < l.expires_at;
            if !live {
                touched.insert(l.id);
            }
            live
        });
        let expired = before.saturating_sub(self.leases.len());
        self.expired_total = self
            .expired_total
            .saturating_add(u64::try_from(expired).unwrap_or(u64::MAX));
        self.pump(now)
    }
}

/// Whether `lease` is the one `key` names (any of its leases when `id` is `None`)
fn holds(lease: &Lease, key: &RequesterKey, id: Option<LeaseId>) -> bool {
    lease.key == *key && id.is_none_or(|id| lease.id == id)
}
