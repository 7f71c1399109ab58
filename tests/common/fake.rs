//! A fake outside world as another deterministic machine: providers, R2 and the memory graph
//! answer the job's effects with inputs scheduled in virtual time.
//!
//! Faults are scripted per model (or per stage) and consumed one per submit; the webhook
//! receiver's faults are consumed one per delivery.

use std::collections::{BTreeMap, VecDeque};

use studio::ids::{Attempt, DeliveryId, ModelId, ProviderRef, StageId};
use studio::job::{
    Delivery, Effect, IdempotencyKey, Input, SlotOutcome, StageInputs, StatusEvent, delivery,
};
use studio::journal::Actor;
use studio::memory::MemoryContext;
use studio::providers::{Output, ProviderError, ProviderKind, ProviderStatus};
use studio::routing::Registry;
use studio::time::{Millis, Timestamp};

/// What the provider does with one submit
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// The submit call fails
    SubmitError(ProviderError),
    /// Accepted, then a terminal failure
    FailStatus { reason: String, retryable: bool },
    /// Accepted, then refused by moderation
    Moderate,
    /// The submit is lost: no answer at all (the isolate died mid-call)
    Lost,
    /// Accepted, then never finishes (callbacks never come, polls say running)
    Silent,
    /// Accepted, then waits this long in the provider's queue (polls say queued) before it
    /// starts (a callback provider says so) and runs for its usual time
    QueuedFor(Millis),
    /// Accepted and finishes, but the output URL cannot be copied
    BadOutput,
    /// The provider makes the task, but its answer never comes back (the isolate died while
    /// the call was in flight); callbacks still come
    Crashed,
    /// The provider makes the task, but the submit call times out in our shell (a saturated
    /// runtime, a slow network): the shell reports `SubmitUnanswered` after the call timeout;
    /// callbacks still come
    Unanswered,
}

/// What the app's webhook receiver does with one delivery
#[derive(Debug, Clone, PartialEq)]
pub enum WebhookFault {
    /// It answers with an error status (and maybe a Retry-After)
    Fail {
        status: u16,
        retry_after: Option<Millis>,
    },
    /// The delivery never reports back (the isolate died mid-call)
    Lost,
}

/// One delivery the receiver saw
#[derive(Debug, Clone, PartialEq)]
pub struct Received {
    pub at: Timestamp,
    pub notification: u32,
    pub attempt: u32,
    pub webhook_id: String,
    pub payload: StatusEvent,
}

/// The shell's deadline on a provider call (the Worker's `outbound::CALL_TIMEOUT`)
pub const SUBMIT_CALL_TIMEOUT: Millis = Millis::from_secs(30);

/// One task at a provider
#[derive(Debug, Clone)]
pub struct Task {
    pub stage: StageId,
    pub attempt: Attempt,
    pub model: ModelId,
    pub provider: ProviderKind,
    /// When it leaves the provider's queue
    pub started_at: Timestamp,
    pub done_at: Timestamp,
    pub fault: Option<Fault>,
    /// How many outputs it makes (assembly: master + variants)
    pub outputs: usize,
}

/// The fake world
#[derive(Debug, Clone)]
pub struct Fake {
    pub registry: Registry,
    /// Time from a submit to its acknowledgement
    pub ack_after: Millis,
    /// Time to copy into R2
    pub store_after: Millis,
    /// Multiplies every model's p50 (tests shorten time this way)
    pub latency_percent: u64,
    /// Faults for the next submits of a model
    pub model_faults: BTreeMap<ModelId, VecDeque<Fault>>,
    /// Faults for the next submits of a stage
    pub stage_faults: BTreeMap<StageId, VecDeque<Fault>>,
    /// Memory graph down: fetches are not answered
    pub memory_down: bool,
    /// The context the memory graph answers
    pub memory: MemoryContext,
    /// Tasks by idempotency key (a re-issued submit gets the same task)
    pub tasks: BTreeMap<IdempotencyKey, ProviderRef>,
    pub by_ref: BTreeMap<ProviderRef, Task>,
    /// Every submit call, re-issues included
    pub submit_calls: Vec<(StageId, Attempt, ModelId, IdempotencyKey)>,
    /// Every cancel
    pub cancels: Vec<(StageId, Attempt)>,
    /// Every lookup of an in-doubt submit
    pub lookups: Vec<(StageId, Attempt)>,
    /// Every cost record
    pub costs: Vec<(StageId, ModelId, f64)>,
    /// Time from a webhook POST to its result
    pub webhook_after: Millis,
    /// Faults for the next deliveries of a notification, by id
    pub webhook_faults: BTreeMap<u32, VecDeque<WebhookFault>>,
    /// Every webhook delivery, lost ones included
    pub received: Vec<Received>,
    /// Outputs every task reports beyond its real ones (a provider answering with a flood)
    pub extra_outputs: usize,
    /// The providers' gates, for jobs created with `fleet`
    pub gates: Gates,
    next_ref: u64,
    next_delivery: u64,
}

impl Fake {
    pub fn new(registry: Registry) -> Self {
        Self {
            registry,
            ack_after: Millis(500),
            store_after: Millis(300),
            latency_percent: 100,
            model_faults: BTreeMap::new(),
            stage_faults: BTreeMap::new(),
            memory_down: false,
            memory: MemoryContext::default(),
            tasks: BTreeMap::new(),
            by_ref: BTreeMap::new(),
            submit_calls: Vec::new(),
            cancels: Vec::new(),
            lookups: Vec::new(),
            costs: Vec::new(),
            webhook_after: Millis(150),
            webhook_faults: BTreeMap::new(),
            received: Vec::new(),
            extra_outputs: 0,
            gates: Gates::default(),
            next_ref: 0,
            next_delivery: 0,
        }
    }

    /// Queues faults for the next submits to a model
    pub fn fault_model(&mut self, model: &ModelId, faults: impl IntoIterator<Item = Fault>) {
        self.model_faults
            .entry(model.clone())
            .or_default()
            .extend(faults);
    }

    /// Queues faults for the next deliveries of notification `id`
    pub fn fault_webhook(&mut self, id: u32, faults: impl IntoIterator<Item = WebhookFault>) {
        self.webhook_faults.entry(id).or_default().extend(faults);
    }

    /// Queues faults for the next submits of a stage
    pub fn fault_stage(&mut self, stage: &str, faults: impl IntoIterator<Item = Fault>) {
        self.stage_faults
            .entry(StageId(stage.into()))
            .or_default()
            .extend(faults);
    }

    fn latency(&self, model: &ModelId) -> Millis {
        let p50 = self
            .registry
            .get(model)
            .map_or(10_000, |m| m.latency_p50_ms);
        Millis(p50 * self.latency_percent / 100)
    }

    fn delivery_id(&mut self) -> Option<DeliveryId> {
        self.next_delivery += 1;
        Some(DeliveryId(format!("dlv-{}", self.next_delivery)))
    }

    fn output(&self, task: &Task, now: Timestamp) -> Vec<Output> {
        let url = |name: &str| Output::Url {
            url: format!(
                "https://sim.local/{}/{}/{}/{name}",
                task.provider.as_str(),
                task.stage,
                task.attempt
            ),
            content_type: Some("video/mp4".into()),
            expires_at: Some(now.plus(Millis::from_secs(600))),
        };
        (0..task.outputs + self.extra_outputs)
            .map(|i| url(&format!("out{i}")))
            .collect()
    }

    /// The status a task has at `now`
    fn status(&self, task: &Task, now: Timestamp) -> ProviderStatus {
        if now < task.started_at {
            return ProviderStatus::Queued;
        }
        if now < task.done_at {
            return ProviderStatus::Running;
        }
        match &task.fault {
            Some(Fault::FailStatus { reason, retryable }) => ProviderStatus::Failed {
                reason: reason.clone(),
                retryable: *retryable,
            },
            Some(Fault::Moderate) => ProviderStatus::Moderated {
                reason: "depicts a real person".into(),
            },
            Some(Fault::Silent) => ProviderStatus::Running,
            Some(Fault::BadOutput | Fault::Crashed | Fault::Unanswered | Fault::QueuedFor(_))
            | None => ProviderStatus::Succeeded {
                outputs: self.output(task, now),
            },
            Some(Fault::SubmitError(_) | Fault::Lost) => ProviderStatus::Running,
        }
    }

    /// Answers one effect with inputs at future times
    pub fn answer(&mut self, now: Timestamp, effect: &Effect) -> Vec<(Timestamp, Actor, Input)> {
        let mut out = Vec::new();
        match effect {
            Effect::FetchMemoryContext { .. } => {
                if !self.memory_down {
                    out.push((
                        now.plus(Millis(100)),
                        Actor::System,
                        Input::MemoryContext {
                            context: self.memory.clone(),
                        },
                    ));
                }
            }
            Effect::Submit {
                stage,
                attempt,
                model,
                provider,
                idempotency_key,
                inputs,
                ..
            } => {
                self.submit_calls.push((
                    stage.clone(),
                    *attempt,
                    model.clone(),
                    idempotency_key.clone(),
                ));
                let actor = Actor::Provider {
                    provider: *provider,
                };
                if let Some(r) = self.tasks.get(idempotency_key).cloned() {
                    // Idempotent re-issue: the same task, acknowledged again.
                    out.push((
                        now.plus(self.ack_after),
                        actor,
                        Input::SubmitAccepted {
                            stage: stage.clone(),
                            attempt: *attempt,
                            provider_ref: r,
                        },
                    ));
                    return out;
                }
                let fault = self
                    .stage_faults
                    .get_mut(stage)
                    .and_then(VecDeque::pop_front)
                    .or_else(|| {
                        self.model_faults
                            .get_mut(model)
                            .and_then(VecDeque::pop_front)
                    });
                match &fault {
                    Some(Fault::SubmitError(e)) => {
                        out.push((
                            now.plus(self.ack_after),
                            actor,
                            Input::SubmitFailed {
                                stage: stage.clone(),
                                attempt: *attempt,
                                error: e.clone(),
                            },
                        ));
                        return out;
                    }
                    Some(Fault::Lost) => {
                        // The call never comes back; a re-issue with the same key will get a task.
                        return out;
                    }
                    _ => {}
                }
                self.next_ref += 1;
                let r = ProviderRef(format!("task-{}", self.next_ref));
                self.tasks.insert(idempotency_key.clone(), r.clone());
                let queued = match fault {
                    Some(Fault::QueuedFor(q)) => q,
                    _ => Millis(0),
                };
                let task = Task {
                    stage: stage.clone(),
                    attempt: *attempt,
                    model: model.clone(),
                    provider: *provider,
                    started_at: now.plus(queued),
                    done_at: now.plus(queued).plus(self.latency(model)),
                    fault: fault.clone(),
                    outputs: match inputs {
                        StageInputs::Assembly { timeline } => 1 + timeline.variants.len(),
                        _ => 1,
                    },
                };
                if fault == Some(Fault::Unanswered) {
                    out.push((
                        now.plus(SUBMIT_CALL_TIMEOUT),
                        Actor::System,
                        Input::SubmitUnanswered {
                            stage: stage.clone(),
                            attempt: *attempt,
                            reason: "POST timed out after 30s".into(),
                        },
                    ));
                }
                if fault != Some(Fault::Crashed) && fault != Some(Fault::Unanswered) {
                    out.push((
                        now.plus(self.ack_after),
                        actor.clone(),
                        Input::SubmitAccepted {
                            stage: stage.clone(),
                            attempt: *attempt,
                            provider_ref: r.clone(),
                        },
                    ));
                }
                let callback =
                    delivery(*provider) == Delivery::Callback && fault != Some(Fault::Silent);
                if callback && queued > Millis(0) {
                    // Callback providers say when a queued task starts
                    let delivery_id = self.delivery_id();
                    out.push((
                        task.started_at,
                        actor.clone(),
                        Input::ProviderUpdate {
                            stage: stage.clone(),
                            attempt: *attempt,
                            status: ProviderStatus::Running,
                            delivery_id,
                        },
                    ));
                }
                if callback {
                    let status = self.status(&task, task.done_at);
                    let delivery_id = self.delivery_id();
                    out.push((
                        task.done_at,
                        actor,
                        Input::ProviderUpdate {
                            stage: stage.clone(),
                            attempt: *attempt,
                            status,
                            delivery_id,
                        },
                    ));
                }
                self.by_ref.insert(r, task);
            }
            Effect::Poll {
                stage,
                attempt,
                provider_ref,
                provider,
                ..
            } => {
                let actor = Actor::Provider {
                    provider: *provider,
                };
                match self.by_ref.get(provider_ref) {
                    Some(task) => {
                        let status = self.status(task, now);
                        out.push((
                            now.plus(Millis(200)),
                            actor,
                            Input::ProviderUpdate {
                                stage: stage.clone(),
                                attempt: *attempt,
                                status,
                                delivery_id: None,
                            },
                        ));
                    }
                    None => out.push((
                        now.plus(Millis(200)),
                        actor,
                        Input::PollFailed {
                            stage: stage.clone(),
                            attempt: *attempt,
                            error: ProviderError::Rejected {
                                reason: "no such task".into(),
                            },
                        },
                    )),
                }
            }
            Effect::StoreArtifact {
                stage,
                attempt,
                key,
                output,
            } => {
                let bad = match output {
                    Output::Url { url, .. } => self.by_ref.values().any(|t| {
                        &t.stage == stage
                            && t.attempt == *attempt
                            && t.fault == Some(Fault::BadOutput)
                            && url.contains("sim.local")
                    }),
                    Output::Stored { .. } => false,
                };
                let input = if bad {
                    Input::ArtifactFailed {
                        stage: stage.clone(),
                        attempt: *attempt,
                        key: key.clone(),
                        reason: "403 from the output URL: expired".into(),
                    }
                } else {
                    Input::ArtifactStored {
                        stage: stage.clone(),
                        attempt: *attempt,
                        key: key.clone(),
                        content_type: "video/mp4".into(),
                        bytes: 1_000_000,
                    }
                };
                out.push((now.plus(self.store_after), Actor::System, input));
            }
            Effect::LookUp {
                stage,
                attempt,
                provider,
                idempotency_key,
                ..
            } => {
                // The provider's history: the task this attempt's submit made, if it arrived.
                self.lookups.push((stage.clone(), *attempt));
                let actor = Actor::Provider {
                    provider: *provider,
                };
                let at = now.plus(Millis(200));
                let found = self.tasks.get(idempotency_key).cloned();
                match found.and_then(|r| Some((self.by_ref.get(&r)?.clone(), r))) {
                    Some((task, r)) => {
                        out.push((
                            at,
                            actor.clone(),
                            Input::SubmitAccepted {
                                stage: stage.clone(),
                                attempt: *attempt,
                                provider_ref: r,
                            },
                        ));
                        let status = self.status(&task, at);
                        out.push((
                            at,
                            actor,
                            Input::ProviderUpdate {
                                stage: stage.clone(),
                                attempt: *attempt,
                                status,
                                delivery_id: None,
                            },
                        ));
                    }
                    None => out.push((
                        at,
                        actor,
                        Input::LookUpMissed {
                            stage: stage.clone(),
                            attempt: *attempt,
                            error: None,
                        },
                    )),
                }
            }
            Effect::AcquireSlot {
                stage,
                attempt,
                model,
                provider,
                ..
            } => out.extend(self.gates.acquire(now, *provider, stage, *attempt, model)),
            Effect::ReleaseSlot {
                stage,
                attempt,
                model,
                provider,
                outcome,
            } => out.extend(
                self.gates
                    .release(now, *provider, stage, *attempt, model, *outcome),
            ),
            Effect::CancelTask { stage, attempt, .. } => {
                self.cancels.push((stage.clone(), *attempt))
            }
            Effect::RecordCost {
                stage,
                model,
                usd,
                write,
                ..
            } => {
                self.costs.push((stage.clone(), model.clone(), *usd));
                out.push((now, Actor::System, write_ok(*write)));
            }
            Effect::Notify {
                notification,
                attempt,
                payload,
                webhook_id,
                ..
            } => {
                self.received.push(Received {
                    at: now,
                    notification: *notification,
                    attempt: *attempt,
                    webhook_id: webhook_id.clone(),
                    payload: payload.clone(),
                });
                let result = |ok, retry_after, error| Input::NotifyResult {
                    notification: *notification,
                    attempt: *attempt,
                    ok,
                    retry_after,
                    error,
                };
                let fault = self
                    .webhook_faults
                    .get_mut(notification)
                    .and_then(VecDeque::pop_front);
                let input = match fault {
                    None => result(true, None, None),
                    Some(WebhookFault::Fail {
                        status,
                        retry_after,
                    }) => result(false, retry_after, Some(format!("HTTP {status}"))),
                    Some(WebhookFault::Lost) => return out,
                };
                out.push((now.plus(self.webhook_after), Actor::System, input));
            }
            // D1 and the memory graph acknowledge every write at once.
            Effect::StatusChanged { write, .. } | Effect::EnrichMemory { write, .. } => {
                out.push((now, Actor::System, write_ok(*write)));
            }
        }
        out
    }
}

/// A write's acknowledgement, as the shell reports it
pub fn write_ok(write: studio::job::WriteId) -> Input {
    Input::WriteResult {
        write,
        ok: true,
        error: None,
    }
}

/// The providers' gates as the shell answers for them: a concurrency limit per provider,
/// first come first served, and models the gates refuse
#[derive(Debug, Clone, Default)]
pub struct Gates {
    /// Slots per provider; a provider not listed grants at once
    pub limit: BTreeMap<ProviderKind, usize>,
    /// Models refused, and whether as retired (else an open breaker)
    pub refuse: BTreeMap<ModelId, bool>,
    /// Answers are lost (the gate cannot be reached)
    pub down: bool,
    /// Slots held now
    pub held: BTreeMap<ProviderKind, Vec<(StageId, Attempt, ModelId)>>,
    /// Requests waiting
    pub waiting: BTreeMap<ProviderKind, VecDeque<(StageId, Attempt, ModelId)>>,
    /// The most slots held at once per provider
    pub peak: BTreeMap<ProviderKind, usize>,
    /// Every acquire asked
    pub asked: Vec<(StageId, Attempt, ModelId)>,
    /// Every release, with its outcome
    pub released: Vec<(StageId, Attempt, ModelId, SlotOutcome)>,
}

impl Gates {
    fn grant(&mut self, provider: ProviderKind, key: (StageId, Attempt, ModelId)) -> Input {
        let held = self.held.entry(provider).or_default();
        held.push(key.clone());
        let n = held.len();
        let peak = self.peak.entry(provider).or_default();
        *peak = (*peak).max(n);
        Input::SlotGranted {
            stage: key.0,
            attempt: key.1,
            model: key.2,
        }
    }

    fn acquire(
        &mut self,
        now: Timestamp,
        provider: ProviderKind,
        stage: &StageId,
        attempt: Attempt,
        model: &ModelId,
    ) -> Vec<(Timestamp, Actor, Input)> {
        self.asked.push((stage.clone(), attempt, model.clone()));
        if self.down {
            return Vec::new();
        }
        let key = (stage.clone(), attempt, model.clone());
        let at = now.plus(Millis(5));
        if let Some(&retired) = self.refuse.get(model) {
            let input = Input::SlotRefused {
                stage: stage.clone(),
                attempt,
                model: model.clone(),
                reason: if retired {
                    "retired".into()
                } else {
                    "breaker open".into()
                },
                retired,
            };
            return vec![(at, Actor::System, input)];
        }
        if self.held.get(&provider).is_some_and(|h| h.contains(&key)) {
            return vec![(at, Actor::System, self.grant_again(&key))];
        }
        let queue = self.waiting.entry(provider).or_default();
        if let Some(pos) = queue.iter().position(|k| k == &key) {
            let input = Input::SlotQueued {
                stage: stage.clone(),
                attempt,
                ahead: u32::try_from(pos).unwrap(),
                ask_again_ms: None,
            };
            return vec![(at, Actor::System, input)];
        }
        let limit = self.limit.get(&provider).copied().unwrap_or(usize::MAX);
        let in_use = self.held.get(&provider).map_or(0, Vec::len);
        if in_use < limit && queue.is_empty() {
            return vec![(at, Actor::System, self.grant(provider, key))];
        }
        queue.push_back(key);
        let input = Input::SlotQueued {
            stage: stage.clone(),
            attempt,
            ahead: u32::try_from(queue.len() - 1).unwrap(),
            ask_again_ms: None,
        };
        vec![(at, Actor::System, input)]
    }

    fn grant_again(&self, key: &(StageId, Attempt, ModelId)) -> Input {
        Input::SlotGranted {
            stage: key.0.clone(),
            attempt: key.1,
            model: key.2.clone(),
        }
    }

    fn release(
        &mut self,
        now: Timestamp,
        provider: ProviderKind,
        stage: &StageId,
        attempt: Attempt,
        model: &ModelId,
        outcome: SlotOutcome,
    ) -> Vec<(Timestamp, Actor, Input)> {
        self.released
            .push((stage.clone(), attempt, model.clone(), outcome));
        let key = (stage.clone(), attempt, model.clone());
        if let Some(q) = self.waiting.get_mut(&provider) {
            q.retain(|k| k != &key);
        }
        if let Some(h) = self.held.get_mut(&provider) {
            h.retain(|k| k != &key);
        }
        let limit = self.limit.get(&provider).copied().unwrap_or(usize::MAX);
        let mut out = Vec::new();
        while self.held.get(&provider).map_or(0, Vec::len) < limit {
            let Some(next) = self
                .waiting
                .get_mut(&provider)
                .and_then(VecDeque::pop_front)
            else {
                break;
            };
            let input = self.grant(provider, next);
            out.push((now.plus(Millis(5)), Actor::System, input));
        }
        out
    }
}
