//! Scenario harness: a job, a fake outside world and a virtual clock (quinn's `Pair`, str0m's
//! `progress`). `step` moves time to the next scheduled input or the job's next deadline,
//! whichever comes first, and delivers it; nothing sleeps.
//!
//! After every step the harness checks the invariants the shell relies on:
//! - a store written only from `take_changes()` equals the live job (persistence contract);
//! - `Job::from_parts` of the stored parts equals the live job (incremental == recomputed);
//! - committed spend never exceeds the budget, and no model holds more slots than its limit.
#![allow(
    dead_code,
    unused_imports,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

pub mod fake;

use std::collections::BTreeMap;

pub use fake::{Fake, Fault, Received, WebhookFault};
use studio::brief::{Brief, CastMember, DialogueLine, Energy, Pacing, Platform, Shot, ShotKind};
use studio::ids::{CreatorId, JobId, ModelId, ShotId, StageId};
use studio::job::{
    Changes, Created, Effect, Input, Job, JobError, JobHeader, JobSpec, JobStatus, StageRow,
    StageState, SupportAction,
};
use studio::journal::{Actor, JournalEntry};
use studio::routing::Registry;
use studio::time::{Millis, Timestamp};

/// The start of every scenario
pub const T0: Timestamp = Timestamp(1_800_000_000_000);
/// The project's example brief
pub const EXAMPLE: &str = include_str!("../../examples/brief.json");

/// The example brief, parsed
pub fn example_brief() -> Brief {
    studio::brief::parse_brief(EXAMPLE.as_bytes())
        .expect("example brief is valid")
        .brief
}

/// A brief with `n` shots cycling through the shot kinds, every fourth with a line
pub fn synthetic_brief(n: usize, budget_usd: f64) -> Brief {
    let mut brief = example_brief();
    brief.budget_usd = budget_usd;
    brief.deadline_s = 86_400;
    brief.cast = vec![CastMember {
        id: "keeper".into(),
        name: "Ines".into(),
        description: "oilskin coat".into(),
    }];
    brief.shots = (0..n)
        .map(|i| {
            let kind = ShotKind::ALL[i % ShotKind::ALL.len()];
            Shot {
                id: ShotId(format!("s{:04}", i + 1)),
                kind,
                prompt: format!("shot {i} of the lighthouse"),
                duration_s: 5.0,
                hero: i % 7 == 0,
                cast: if i % 3 == 0 {
                    vec!["keeper".into()]
                } else {
                    vec![]
                },
                dialogue: (kind == ShotKind::Dialogue).then(|| DialogueLine {
                    character: "keeper".into(),
                    line: "One more night.".into(),
                }),
            }
        })
        .collect();
    brief.pacing = Some(Pacing {
        target_duration_s: 5.0 * n as f64,
        energy: Energy::Steady,
    });
    brief.score = None;
    brief.platforms = vec![Platform::Youtube, Platform::Tiktok];
    brief
}

/// The example brief cut to its first `n` shots, without narration or music
pub fn small_brief(n: usize) -> Brief {
    let mut brief = example_brief();
    brief.shots.truncate(n);
    brief.voiceover = None;
    brief.score = None;
    if let Some(p) = brief.pacing.as_mut() {
        p.target_duration_s = brief.shots.iter().map(|s| s.duration_s).sum();
    }
    brief
}

/// Where the webhook scenarios' status changes go
pub const WEBHOOK_URL: &str = "https://app.example/hooks/render";

/// [`small_brief`] with a `webhook_url`
pub fn webhook_brief(n: usize) -> Brief {
    let mut brief = small_brief(n);
    brief.webhook_url = Some(WEBHOOK_URL.into());
    brief
}

/// The registry the job scenarios were written against: version 5. Newer built-in versions
/// add candidates, which changes which faults exhaust a stage; `tests/registry_v6.rs` covers
/// version 6 itself.
pub fn scenario_registry() -> Registry {
    Registry::builtin_version(5).expect("built-in version 5")
}

/// The scenario registry with only the listed models
pub fn registry_of(models: &[&str]) -> Registry {
    let mut r = scenario_registry();
    r.models.retain(|m| models.contains(&m.id.as_str()));
    r
}

/// The `Created` input of a scenario
pub fn created(brief: Brief, seed: u64, paid_tier: bool) -> Created {
    Created {
        job_id: JobId("rnd_test".into()),
        creator: CreatorId("demo".into()),
        brief,
        seed,
        registry: scenario_registry(),
        paid_tier,
        submitted_by: "sk_test_demo".into(),
        fleet: None,
    }
}

/// What the shell would have stored, written only from `take_changes()`
#[derive(Debug, Clone, Default)]
pub struct Store {
    pub spec: Option<JobSpec>,
    pub header: Option<JobHeader>,
    pub stages: BTreeMap<StageId, StageRow>,
    /// Stage rows written per step, for granularity assertions
    pub writes: Vec<usize>,
    /// What the last step changed
    pub last: Changes,
    /// Measure the bytes each step writes (serialised header and stage rows)
    pub measure: bool,
    /// Bytes written per step, when measuring
    pub bytes: Vec<usize>,
}

impl Store {
    fn persist(&mut self, job: &mut Job) {
        let changes = job.take_changes();
        if self.measure {
            let mut n = 0;
            if changes.header {
                n += serde_json::to_vec(job.header()).map_or(0, |v| v.len());
            }
            for id in &changes.stages {
                n += job
                    .stage(id)
                    .and_then(|r| serde_json::to_vec(r).ok())
                    .map_or(0, |v| v.len());
            }
            self.bytes.push(n);
        }
        if changes.spec {
            self.spec = Some(job.spec().clone());
        }
        if changes.header {
            self.header = Some(job.header().clone());
        }
        for id in &changes.stages {
            self.stages.insert(
                id.clone(),
                job.stage(id).expect("changed stage exists").clone(),
            );
        }
        self.writes.push(changes.stages.len());
        self.last = changes;
    }

    /// Loads a job from the stored rows, as the shell does after an eviction
    pub fn load(&self) -> Job {
        Job::from_parts(
            self.spec.clone().unwrap(),
            self.header.clone().unwrap(),
            self.stages.values().cloned(),
        )
        .unwrap()
    }
}

/// One scenario
pub struct World {
    pub now: Timestamp,
    pub job: Job,
    pub fake: Fake,
    pub journal: Vec<JournalEntry>,
    /// Scheduled inputs by (time, sequence)
    pub inbox: BTreeMap<(Timestamp, u64), (Actor, Input)>,
    /// Every effect, with the time it was emitted
    pub effects: Vec<(Timestamp, Effect)>,
    pub store: Store,
    /// Answer effects with the fake (off: the test plays the providers itself)
    pub auto: bool,
    /// Check the invariants after every step (off for big jobs)
    pub checks: bool,
    /// Time every `handle`: (input name, nanoseconds, effects produced)
    pub timing: bool,
    pub timings: Vec<(&'static str, u128, usize)>,
    seq: u64,
}

impl World {
    /// A job from a brief, created at [`T0`], seed 42, free tier
    pub fn new(brief: Brief) -> Self {
        Self::with(created(brief, 42, false), |_| {})
    }

    /// A job from a `Created`, with the fake set up by `setup` before anything happens
    pub fn with(created: Created, setup: impl FnOnce(&mut Fake)) -> Self {
        let mut fake = Fake::new(created.registry.clone());
        setup(&mut fake);
        let entry = JournalEntry {
            seq: 1,
            at: T0,
            actor: Actor::App {
                by: created.submitted_by.clone(),
            },
            input: Input::Created(created.clone()),
        };
        let (job, effects) = Job::new(T0, created).expect("valid job");
        let mut world = Self {
            now: T0,
            job,
            fake,
            journal: vec![entry],
            inbox: BTreeMap::new(),
            effects: Vec::new(),
            store: Store::default(),
            auto: true,
            checks: true,
            timing: false,
            timings: Vec::new(),
            seq: 1,
        };
        world.after_step(effects);
        world
    }

    /// Delivers an input now, as the shell would: handle, persist, journal, perform effects
    pub fn deliver(&mut self, actor: Actor, input: Input) -> Result<Vec<Effect>, JobError> {
        let started = self.timing.then(std::time::Instant::now);
        let effects = self.job.handle(self.now, input.clone())?;
        if let Some(t) = started {
            self.timings
                .push((input.name(), t.elapsed().as_nanos(), effects.len()));
        }
        self.seq += 1;
        self.journal.push(JournalEntry {
            seq: self.seq,
            at: self.now,
            actor,
            input,
        });
        self.after_step(effects.clone());
        Ok(effects)
    }

    /// Delivers an input now and returns its effects and what it changed
    pub fn poke(&mut self, input: Input) -> (Vec<Effect>, Changes) {
        let effects = self.deliver(Actor::System, input).expect("input accepted");
        (effects, self.store.last.clone())
    }

    /// A support action by `sam`, delivered now as the shell would (journaled only when accepted)
    pub fn act(&mut self, action: SupportAction, reason: &str) -> Result<Vec<Effect>, JobError> {
        let by = "sam@support".to_owned();
        let input = Input::Support {
            by: by.clone(),
            reason: reason.into(),
            action,
        };
        self.deliver(Actor::Support { by }, input)
    }

    /// Asserts a support action is refused and leaves the job, its pending changes and the
    /// journal exactly as they were; returns the error
    pub fn refused(&mut self, action: SupportAction, reason: &str) -> JobError {
        let before = self.job.clone();
        let view = self.job.view();
        let journal = self.journal.len();
        let err = match self.act(action.clone(), reason) {
            Ok(fx) => panic!("{action:?} accepted in {:?}: {fx:?}", self.status()),
            Err(e) => e,
        };
        assert!(self.job == before, "refused {action:?} changed the job");
        assert_eq!(self.job.view(), view, "refused {action:?} changed the view");
        assert!(
            self.job.take_changes().is_empty(),
            "refused {action:?} left changes to persist"
        );
        assert_eq!(
            self.journal.len(),
            journal,
            "refused {action:?} was journaled"
        );
        err
    }

    /// Every `Notify` effect so far: (time, notification, attempt)
    pub fn notifies(&self) -> Vec<(Timestamp, u32, u32)> {
        self.effects
            .iter()
            .filter_map(|(t, e)| match e {
                Effect::Notify {
                    notification,
                    attempt,
                    ..
                } => Some((*t, *notification, *attempt)),
                _ => None,
            })
            .collect()
    }

    /// Acknowledges every pending index, ledger and memory write now (for manual worlds, whose
    /// effects nobody answers)
    pub fn ack_writes(&mut self) {
        let ids: Vec<_> = self.job.header().writes.iter().map(|w| w.id).collect();
        for id in ids {
            self.poke(fake::write_ok(id));
        }
    }

    /// Delivers an input and asserts it changed nothing at all
    pub fn assert_noop(&mut self, input: Input) {
        let before = self.job.clone();
        let (effects, changes) = self.poke(input.clone());
        assert!(effects.is_empty(), "{input:?} produced {effects:?}");
        assert!(changes.is_empty(), "{input:?} changed {changes:?}");
        assert!(self.job == before, "{input:?} changed the job");
    }

    /// A world whose effects nobody answers: the test plays every provider
    pub fn manual(brief: Brief) -> Self {
        let mut w = Self::new(brief);
        w.auto = false;
        w
    }

    fn after_step(&mut self, effects: Vec<Effect>) {
        self.store.persist(&mut self.job);
        // No submit leaves before its inputs are stored, however early the stage took its slot.
        for e in &effects {
            if let Effect::Submit { stage, .. } = e {
                let rows = self.job.stages();
                let row = rows.iter().find(|r| &r.spec.id == stage).expect("a stage");
                for dep in &row.spec.deps {
                    let done = rows
                        .iter()
                        .any(|r| &r.spec.id == dep && matches!(r.state, StageState::Done { .. }));
                    assert!(done, "{stage} submitted before its input {dep} was stored");
                }
            }
        }
        if self.checks {
            self.check();
        }
        for e in effects {
            if self.auto {
                for (t, actor, input) in self.fake.answer(self.now, &e) {
                    self.schedule(t, actor, input);
                }
            }
            self.effects.push((self.now, e));
        }
    }

    /// Schedules an input
    pub fn schedule(&mut self, at: Timestamp, actor: Actor, input: Input) {
        self.seq += 1;
        self.inbox.insert((at, self.seq), (actor, input));
    }

    /// Moves to the next event and delivers it; false when nothing is left
    pub fn step(&mut self) -> bool {
        let next_input = self.inbox.keys().next().map(|(t, _)| *t);
        let next_alarm = self.job.next_deadline();
        let input_first = match (next_input, next_alarm) {
            (None, None) => return false,
            (Some(t), Some(a)) => t <= a,
            (Some(_), None) => true,
            (None, Some(_)) => false,
        };
        if input_first {
            let ((t, _), (actor, input)) = self.inbox.pop_first().unwrap();
            self.now = self.now.max(t);
            if let Err(e) = self.deliver(actor, input.clone()) {
                panic!("input {input:?} refused: {e}");
            }
        } else if let Some(a) = next_alarm {
            self.now = self.now.max(a);
            self.deliver(Actor::Alarm, Input::Tick).unwrap();
        }
        true
    }

    /// Steps until nothing is left (bounded, so a livelock fails instead of hanging)
    pub fn run(&mut self) -> &mut Self {
        for _ in 0..200_000 {
            if !self.step() {
                return self;
            }
        }
        panic!("scenario did not settle: {:?}", self.job.view().status);
    }

    /// Steps until `pred` holds; false when the world ran out first
    pub fn run_until(&mut self, mut pred: impl FnMut(&World) -> bool) -> bool {
        for _ in 0..200_000 {
            if pred(self) {
                return true;
            }
            if !self.step() {
                return pred(self);
            }
        }
        panic!("run_until did not settle");
    }

    /// Delivers everything scheduled up to `t` (and the alarms before it), then sets the clock
    pub fn advance_to(&mut self, t: Timestamp) {
        loop {
            let next_input = self.inbox.keys().next().map(|(t, _)| *t);
            let next = match (next_input, self.job.next_deadline()) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            match next {
                Some(n) if n <= t => {
                    self.step();
                }
                _ => break,
            }
        }
        self.now = self.now.max(t);
    }

    /// Advances by `d`
    pub fn advance(&mut self, d: Millis) {
        self.advance_to(self.now.plus(d));
    }

    pub fn status(&self) -> JobStatus {
        self.job.status()
    }

    pub fn stage(&self, id: &str) -> &StageRow {
        self.job.stage(&StageId(id.into())).expect("stage exists")
    }

    pub fn state(&self, id: &str) -> &StageState {
        &self.stage(id).state
    }

    /// The decision's candidate models of a stage, best first
    pub fn candidates(&self, id: &str) -> Vec<ModelId> {
        self.stage(id)
            .decision
            .candidates
            .iter()
            .map(|c| c.model.clone())
            .collect()
    }

    /// Every Submit effect so far: (time, stage, attempt, model, idempotency key)
    pub fn submits(&self) -> Vec<(Timestamp, StageId, u32, ModelId, String)> {
        self.effects
            .iter()
            .filter_map(|(t, e)| match e {
                Effect::Submit {
                    stage,
                    attempt,
                    model,
                    idempotency_key,
                    ..
                } => Some((
                    *t,
                    stage.clone(),
                    attempt.0,
                    model.clone(),
                    idempotency_key.0.clone(),
                )),
                _ => None,
            })
            .collect()
    }

    /// Submit effects of one stage
    pub fn submits_of(&self, id: &str) -> Vec<(Timestamp, u32, ModelId, String)> {
        self.submits()
            .into_iter()
            .filter(|s| s.1.as_str() == id)
            .map(|(t, _, a, m, k)| (t, a, m, k))
            .collect()
    }

    /// The effects emitted at or after `t`
    pub fn effects_since(&self, t: Timestamp) -> Vec<&Effect> {
        self.effects
            .iter()
            .filter(|(at, _)| *at >= t)
            .map(|(_, e)| e)
            .collect()
    }

    /// The invariants the shell relies on
    pub fn check(&self) {
        let loaded = self.store.load();
        assert!(
            loaded == self.job,
            "rows written from take_changes() do not rebuild the live job"
        );
        let h = self.job.header();
        assert!(
            h.committed <= h.budget,
            "committed {} over budget {}",
            h.committed,
            h.budget
        );
        let mut slots: BTreeMap<&ModelId, u32> = BTreeMap::new();
        for row in self.job.stages().iter() {
            if let Some(m) = row.state.slot() {
                *slots.entry(m).or_default() += 1;
            }
        }
        for (m, n) in slots {
            let limit = self.job.spec().registry.get(m).map_or(1, |s| s.concurrency);
            assert!(n <= limit, "{m} holds {n} slots, limit {limit}");
        }
    }

    /// Replays the journal and compares with the live job
    pub fn assert_replays(&self) {
        let replayed = Job::replay(&self.journal).expect("journal replays");
        assert!(
            replayed == self.job,
            "replayed job differs from the live one"
        );
    }
}
