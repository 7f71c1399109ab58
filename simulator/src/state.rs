//! Shared state: tasks, counters, configuration and fault decisions behind one mutex.
//!
//! The lock is never held across an `.await`: every access goes through [`Sim::with`].

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ed25519_dalek::SigningKey;
use serde::Serialize;
use serde_json::Value;
use tokio::sync::watch;

use crate::config::{Settings, SimConfig};
use crate::faults::{CallbackFaults, FaultKind, FaultState, SubmitFault};
use crate::limits::{LimitReport, Limits, Refused, Release, SlotId};
use crate::media::{MediaKind, Shape, StageRef};
use crate::providers::Provider;

/// How a task ends
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Output produced
    Succeeded,
    /// Refused by the provider's moderation
    Moderated,
    /// Failed for this reason (invalid input found late, failed challenge, ...)
    Failed(String),
}

/// Where a task is in its life, as polls and callbacks see it
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Accepted, not started (the first 20% of the latency)
    Queued,
    /// Generating
    Running,
    /// Finished: see the task's [`Outcome`]
    Done,
}

impl Phase {
    /// A short name, used in webhook ids
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Done => "done",
        }
    }
}

/// One generation task at one provider
#[derive(Debug, Clone)]
pub struct Task {
    /// The provider
    pub provider: Provider,
    /// The provider's id of the task
    pub id: String,
    /// `provider:identity`, the key of `submissions_by_task`
    pub identity: String,
    /// When it was accepted
    pub created: Instant,
    /// When it was accepted, wall clock
    pub created_unix_ms: u64,
    /// When its submit request arrived (its head, before the body was read), wall clock in
    /// microseconds: on loopback, when the client sent it
    pub received_unix_us: u64,
    /// Its callback deliveries so far, in the order they were made
    pub deliveries: Vec<DeliveryRecord>,
    /// Its output downloads so far, in the order they were asked for
    pub downloads: Vec<DownloadRecord>,
    /// When a status request first found it done, wall clock in microseconds: for a polled
    /// provider, the moment the client learnt of the result
    pub done_polled_unix_us: Option<u64>,
    /// How long it takes (scaled)
    pub latency: Duration,
    /// How it ends
    pub outcome: Outcome,
    /// The model named in the request
    pub model: String,
    /// The prompt (or text) of the request
    pub prompt: String,
    /// The request body, echoed where the provider echoes it
    pub input: Value,
    /// Where callbacks go, when the provider takes a per-request URL
    pub callback_url: Option<String>,
    /// BFL's per-request webhook secret
    pub webhook_secret: Option<String>,
    /// What the output is
    pub media: MediaKind,
    /// Duration of the output, for videos and audio
    pub seconds: f64,
    /// Frame size and rate, audio encoding and voice of the output
    pub shape: Shape,
    /// Its pictures and score are the shared file of their shape (`SIM_MEDIA_VARIETY`)
    pub media_per_shape: bool,
    /// The job, stage and attempt of ours that asked (from the callback URL or idempotency
    /// key), when the request names them; the stage id is drawn on pictures and clips
    pub stage: Option<StageRef>,
    /// Provider-specific detail (Kling endpoint, fal app, Replicate event filter, ...)
    pub aux: String,
    /// How long the output URL lives after completion (scaled; zero: expired at once)
    pub ttl: Duration,
    /// The callback faults of this task
    pub callbacks: CallbackFaults,
    /// Cancelled by the client
    pub cancelled: bool,
    /// The reset epoch it belongs to
    pub epoch: u64,
}

impl Task {
    /// When it becomes done
    pub fn ready_at(&self) -> Instant {
        self.created + self.latency
    }

    /// Its phase at `now`
    pub fn phase_at(&self, now: Instant) -> Phase {
        let elapsed = now.saturating_duration_since(self.created);
        if elapsed >= self.latency {
            Phase::Done
        } else if elapsed.as_secs_f64() < self.latency.as_secs_f64() * 0.2 {
            Phase::Queued
        } else {
            Phase::Running
        }
    }

    /// Its progress in 0..=1 at `now`
    pub fn progress_at(&self, now: Instant) -> f64 {
        if self.latency.is_zero() {
            return 1.0;
        }
        let elapsed = now.saturating_duration_since(self.created).as_secs_f64();
        (elapsed / self.latency.as_secs_f64()).clamp(0.0, 1.0)
    }

    /// When it completed (or will), wall clock
    pub fn completed_unix_ms(&self) -> u64 {
        self.created_unix_ms + u64::try_from(self.latency.as_millis()).unwrap_or(u64::MAX / 4)
    }

    /// When its output URL expires, wall clock
    pub fn expires_unix_ms(&self) -> u64 {
        self.completed_unix_ms() + u64::try_from(self.ttl.as_millis()).unwrap_or(u64::MAX / 4)
    }

    /// Whether it can still deliver its output: running, or done, succeeded and not expired
    pub fn may_deliver(&self, now: Instant) -> bool {
        if self.cancelled || !matches!(self.outcome, Outcome::Succeeded) {
            return false;
        }
        self.phase_at(now) != Phase::Done || now < self.ready_at() + self.ttl
    }

    /// Whether its output can be downloaded at `now` (done, succeeded, not expired)
    pub fn output_available(&self, now: Instant) -> Result<(), Unavailable> {
        if self.phase_at(now) != Phase::Done || self.cancelled {
            return Err(Unavailable::NotReady);
        }
        if self.outcome != Outcome::Succeeded {
            return Err(Unavailable::NotReady);
        }
        if now >= self.ready_at() + self.ttl {
            return Err(Unavailable::Expired);
        }
        Ok(())
    }
}

/// One callback delivery (with its retries) of a task, for `GET /__sim/tasks`
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeliveryRecord {
    /// The phase it reported (`queued`, `running`, `done`)
    pub phase: &'static str,
    /// When its first attempt started, wall clock in microseconds
    pub sent_unix_us: u64,
    /// When its last attempt ended (answered, failed or gave up), wall clock in microseconds
    pub answered_unix_us: u64,
    /// Whether an attempt got a 2xx answer
    pub ok: bool,
}

/// One output download of a task, for `GET /__sim/tasks`
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DownloadRecord {
    /// When it was asked for, wall clock in microseconds
    pub asked_unix_us: u64,
    /// When its file was ready to stream (made on first download, else found in the cache)
    pub ready_unix_us: u64,
}

/// Why an output cannot be served
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unavailable {
    /// Not done, not succeeded, or cancelled
    NotReady,
    /// Its URL has expired
    Expired,
}

/// The counters served by `GET /__sim/stats`
#[derive(Debug, Default, Serialize)]
pub struct Stats {
    /// Accepted submissions per provider (idempotent replays included)
    pub submissions: BTreeMap<String, u64>,
    /// Accepted submissions per task identity `provider:identity`
    pub submissions_by_task: BTreeMap<String, u64>,
    /// Callbacks delivered with a 2xx answer, per provider (duplicates included)
    pub callbacks_sent: BTreeMap<String, u64>,
    /// Callback deliveries that failed after every retry
    pub callbacks_failed: u64,
    /// Callback delivery attempts (retries included), per provider
    pub callback_attempts: BTreeMap<String, u64>,
    /// Repeat submissions of one identity that no idempotency key absorbed, made while the
    /// identity's last task could still deliver its output (running, or done and not expired)
    pub duplicate_submissions: u64,
    /// Repeat submissions of one identity after its last task could no longer deliver (its
    /// output expired, or it failed or was cancelled): asking again is the only way to get it
    pub regenerations: u64,
    /// Repeat submissions answered with the existing task thanks to an idempotency key
    pub idempotent_replays: u64,
    /// Status requests per provider
    pub polls: BTreeMap<String, u64>,
    /// Output downloads served, per provider
    pub downloads: BTreeMap<String, u64>,
    /// Downloads refused because the URL had expired, per provider
    pub expired_downloads: BTreeMap<String, u64>,
    /// Downloads answered 500 because the output could not be rendered (ffmpeg missing or
    /// failing), per provider
    pub media_failures: BTreeMap<String, u64>,
    /// Requests refused for bad credentials or bad input, per provider
    pub rejected_requests: BTreeMap<String, u64>,
    /// Hailuo callback challenges sent
    pub challenges: u64,
    /// Hailuo callback challenges not echoed (the task failed)
    pub challenges_failed: u64,
    /// Faults injected, per provider and kind
    pub faults_injected: BTreeMap<String, BTreeMap<String, u64>>,
    /// Reference images (a cast member's look) received in accepted submissions, per provider:
    /// BFL Kontext's `input_image`..`input_image_4`, the images after the first of Kling's
    /// `image_list`
    pub reference_images: BTreeMap<String, u64>,
    /// Instant voice clones made (`POST /elevenlabs/v1/voices/add`)
    pub voice_clones: u64,
    /// Submits refused with a 429 because a configured provider limit was reached, per provider
    /// (injected 429s are in `faults_injected`)
    pub rate_limited_by_cap: BTreeMap<String, u64>,
}

/// What `GET /__sim/stats` serves: the counters, then the limiter's gauges at one instant
#[derive(Debug, Serialize)]
pub struct StatsReport<'a> {
    /// The counters
    #[serde(flatten)]
    pub counters: &'a Stats,
    /// Tasks in flight, their peak and recent submits, per provider
    #[serde(flatten)]
    pub limits: LimitReport,
}

/// Increments `map[key]`
pub fn bump(map: &mut BTreeMap<String, u64>, key: &str) {
    *map.entry(key.to_string()).or_insert(0) += 1;
}

/// Everything mutable
#[derive(Debug)]
pub struct State {
    /// The runtime configuration
    pub config: SimConfig,
    /// Tasks by (provider, provider's id)
    pub tasks: HashMap<(Provider, String), Task>,
    /// Honored idempotency keys: (provider, key) -> task id
    pub idempotency: HashMap<(Provider, String), String>,
    /// The newest task of each submission identity (`provider:...`): its id
    pub last_task_of: HashMap<String, String>,
    /// Counters
    pub stats: Stats,
    /// Fault decision counters
    pub faults: FaultState,
    /// Incremented by every reset; callbacks of older epochs are dropped
    pub epoch: u64,
    /// Voices cloned by `POST /elevenlabs/v1/voices/add`, oldest first, as the library lists them
    pub cloned_voices: Vec<Value>,
    /// Concurrency slots and recent submits per provider
    pub limits: Limits,
    counter: u64,
}

impl State {
    fn new(config: SimConfig) -> Self {
        Self {
            config,
            tasks: HashMap::new(),
            idempotency: HashMap::new(),
            last_task_of: HashMap::new(),
            stats: Stats::default(),
            faults: FaultState::default(),
            epoch: 0,
            cloned_voices: Vec::new(),
            limits: Limits::default(),
            counter: 0,
        }
    }

    /// Checks a submit against the provider's caps at `now` and counts it. A submit that may
    /// create a task (`new_task`: not a replay of an honored idempotency key) reserves a slot,
    /// returned for [`State::bind_slot`]. A refusal is counted in `rate_limited_by_cap`.
    pub fn admit_submit(
        &mut self,
        p: Provider,
        new_task: bool,
        now: Instant,
    ) -> Result<Option<SlotId>, Refused> {
        let reserve = new_task.then(|| (self.next_slot(), now + self.config.latency(p)));
        let admitted = self.limits.admit(
            p,
            self.config.limits(p),
            now,
            self.config.limit_window(),
            reserve,
        );
        match admitted {
            Ok(()) => Ok(reserve.map(|(slot, _)| slot)),
            Err(refused) => {
                bump(&mut self.stats.rate_limited_by_cap, p.as_str());
                Err(refused)
            }
        }
    }

    /// Binds a task to the slot its submit reserved (a fresh slot when it reserved none), so
    /// it counts as concurrent until `release` says it ends; returns the slot
    pub fn bind_slot(
        &mut self,
        task: &Task,
        slot: Option<SlotId>,
        release: Release,
        now: Instant,
    ) -> SlotId {
        let slot = slot.unwrap_or_else(|| self.next_slot());
        self.limits
            .bind(task.provider, slot, &task.id, release, task.ready_at(), now);
        slot
    }

    /// The counters and gauges served by `GET /__sim/stats`, at `now`
    pub fn stats_report(&self, now: Instant) -> StatsReport<'_> {
        StatsReport {
            counters: &self.stats,
            limits: self.limits.report(now, self.config.limit_window()),
        }
    }

    fn next_slot(&mut self) -> SlotId {
        // The counter survives resets, so a request that outlives one cannot free a new slot
        self.counter += 1;
        SlotId(self.counter)
    }

    /// Decides one fault occurrence and counts it when it fires
    pub fn fault(&mut self, p: Provider, kind: FaultKind, identity: &str) -> bool {
        let spec = self.config.faults(p);
        let fired = self
            .faults
            .decide(self.config.seed, p, kind, &spec, identity);
        if fired {
            self.count_fault(p, kind);
        }
        fired
    }

    /// Counts an injected fault
    pub fn count_fault(&mut self, p: Provider, kind: FaultKind) {
        bump(
            self.stats
                .faults_injected
                .entry(p.as_str().to_string())
                .or_default(),
            kind.as_str(),
        );
    }

    /// Decides the fault (if any) that replaces the answer to one submission
    pub fn submit_fault(&mut self, p: Provider, identity: &str) -> Option<SubmitFault> {
        let spec = self.config.faults(p);
        if self.fault(p, FaultKind::Submit5xx, identity) {
            return Some(SubmitFault::ServerError);
        }
        if self.fault(p, FaultKind::Submit429, identity) {
            return Some(SubmitFault::RateLimited {
                retry_after_s: spec.retry_after_s.unwrap_or(2),
            });
        }
        if self.fault(p, FaultKind::Timeout, identity) {
            let hold = spec.timeout_hold_ms.unwrap_or(30_000).min(120_000);
            return Some(SubmitFault::Timeout {
                hold: Duration::from_millis(hold),
                accept: spec.timeout_then_accept,
            });
        }
        if self.fault(p, FaultKind::Malformed, identity) {
            return Some(SubmitFault::Malformed);
        }
        None
    }

    /// Counts a poll and decides whether its answer is malformed; notes the first poll that
    /// finds the task done
    pub fn poll(&mut self, p: Provider, task_id: &str) -> bool {
        bump(&mut self.stats.polls, p.as_str());
        if let Some(t) = self.tasks.get_mut(&(p, task_id.to_string()))
            && t.done_polled_unix_us.is_none()
            && t.phase_at(Instant::now()) == Phase::Done
        {
            t.done_polled_unix_us = Some(crate::util::now_unix_us());
        }
        self.fault(p, FaultKind::Malformed, &format!("poll:{task_id}"))
    }

    /// Returns a fresh 64-bit number for ids
    pub fn next_u64(&mut self, nonce: u64) -> u64 {
        self.counter += 1;
        crate::util::hash64(&[&nonce.to_le_bytes(), &self.counter.to_le_bytes()])
    }
}

/// The simulator: cheap to clone, shared by every handler and background task
#[derive(Clone)]
pub struct Sim {
    inner: Arc<Inner>,
}

struct Inner {
    settings: Settings,
    public_url: String,
    client: reqwest::Client,
    state: Mutex<State>,
    shutdown: watch::Sender<bool>,
    nonce: u64,
    fal_key: SigningKey,
}

impl Sim {
    /// Builds the simulator for `settings`, returning absolute URLs under `public_url`
    pub fn new(settings: Settings, public_url: String) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .no_proxy()
            .connect_timeout(Duration::from_secs(5))
            .build()?;
        let (shutdown, _) = watch::channel(false);
        let config = SimConfig::from_settings(&settings);
        Ok(Self {
            inner: Arc::new(Inner {
                settings,
                public_url: public_url.trim_end_matches('/').to_string(),
                client,
                state: Mutex::new(State::new(config)),
                shutdown,
                nonce: crate::util::now_unix_ms(),
                fal_key: crate::signing::fal_signing_key(),
            }),
        })
    }

    /// Runs `f` with the state locked (never across an await)
    pub fn with<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        let mut guard = self
            .inner
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut guard)
    }

    /// The base of absolute URLs, without a trailing slash
    pub fn public_url(&self) -> &str {
        &self.inner.public_url
    }

    /// The absolute URL of `path` under a provider's prefix
    pub fn url(&self, p: Provider, path: &str) -> String {
        format!("{}/{}/{}", self.public_url(), p.as_str(), path)
    }

    /// The HTTP client for callbacks
    pub fn client(&self) -> &reqwest::Client {
        &self.inner.client
    }

    /// The fal signing key
    pub fn fal_key(&self) -> &SigningKey {
        &self.inner.fal_key
    }

    /// A copy of the runtime configuration
    pub fn config(&self) -> SimConfig {
        self.with(|s| s.config.clone())
    }

    /// A fresh 64-bit number for ids
    pub fn next_u64(&self) -> u64 {
        let nonce = self.inner.nonce;
        self.with(|s| s.next_u64(nonce))
    }

    /// A copy of a task
    pub fn task(&self, p: Provider, id: &str) -> Option<Task> {
        self.with(|s| s.tasks.get(&(p, id.to_string())).cloned())
    }

    /// Changes a task in place (gone after a reset: nothing to change)
    pub fn with_task(&self, p: Provider, id: &str, f: impl FnOnce(&mut Task)) {
        self.with(|s| {
            if let Some(t) = s.tasks.get_mut(&(p, id.to_string())) {
                f(t);
            }
        });
    }

    /// Clears tasks, counters and faults and restores the start-up configuration
    pub fn reset(&self) {
        let config = SimConfig::from_settings(&self.inner.settings);
        self.with(|s| {
            let epoch = s.epoch + 1;
            let counter = s.counter;
            *s = State::new(config);
            s.epoch = epoch;
            s.counter = counter;
        });
    }

    /// Signals every background task and held request to stop
    pub fn shutdown(&self) {
        self.inner.shutdown.send_replace(true);
    }

    /// Whether shutdown has been signalled
    pub fn is_shutting_down(&self) -> bool {
        *self.inner.shutdown.borrow()
    }

    /// Waits until shutdown is signalled
    pub async fn shutdown_signalled(&self) {
        let mut rx = self.inner.shutdown.subscribe();
        // An error means the sender is gone, which only happens when the simulator is dropped
        let _ = rx.wait_for(|stop| *stop).await;
    }

    /// Sleeps for `d`; returns false if shutdown came first
    pub async fn sleep(&self, d: Duration) -> bool {
        if self.is_shutting_down() {
            return false;
        }
        tokio::select! {
            () = tokio::time::sleep(d) => !self.is_shutting_down(),
            () = self.shutdown_signalled() => false,
        }
    }

    /// Sleeps until `at`; returns false if shutdown came first
    pub async fn sleep_until(&self, at: Instant) -> bool {
        self.sleep(at.saturating_duration_since(Instant::now()))
            .await
    }
}
