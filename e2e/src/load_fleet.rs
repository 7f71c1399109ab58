//! The other renders of the fleet-load run (`--bin bench_headline`, issue 14 item 8): what each
//! one is and how they arrive around the measured render.
//!
//! Two arrival patterns, reported side by side:
//! - **together**: every other render created at once just before the measured one. Their
//!   stages share the same latencies, so their results come back in waves (fifty renders'
//!   keyframes finishing within one moment) that the measured render meets at their back on
//!   the runtime's one thread. The worst case.
//! - **steady**: a fleet kept at the same size all along. The others' first creates are spread
//!   over about one render's time before the measured one starts, and each other render is
//!   replaced by a new one as it ends, until the measured render has ended: as many renders in
//!   flight at every moment, at every phase of their own DAGs, as a busy service sees.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::task::JoinHandle;

use crate::Client;
use crate::fault_run::small_render;
use crate::render::{create, is_terminal, wait_for_every};

/// Longest wait for any render of the load run
pub const LOAD_TIMEOUT: Duration = Duration::from_secs(900);
/// Shots of each other render: twice the measured one's, so that in the together pattern the
/// others are still generating when it assembles
pub const OTHER_SHOTS: usize = 24;
/// How often each other render is polled: 50 of them make 25 reads a second, so the harness's
/// own polling stays a small part of the load
pub const OTHERS_POLL: Duration = Duration::from_secs(2);
/// How often the steady fleet's size is sampled while the measured render runs
const SAMPLE_EVERY: Duration = Duration::from_millis(250);

/// How the other renders arrive
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arrival {
    /// All at once, just before the measured render
    Together,
    /// Spread out, the fleet's size kept by replacing each render as it ends
    Steady,
}

impl Arrival {
    /// The patterns `ARRIVAL` names: `together`, `steady`, or both (unset, `both`)
    pub fn from_env() -> Result<Vec<Arrival>, String> {
        match std::env::var("ARRIVAL").ok().as_deref() {
            None | Some("both") | Some("") => Ok(vec![Arrival::Together, Arrival::Steady]),
            Some("together") => Ok(vec![Arrival::Together]),
            Some("steady") => Ok(vec![Arrival::Steady]),
            Some(other) => Err(format!(
                "ARRIVAL={other}: expected together, steady or both"
            )),
        }
    }

    /// The short name in the report's rows
    pub fn name(self) -> &'static str {
        match self {
            Arrival::Together => "arriving together",
            Arrival::Steady => "arriving steadily",
        }
    }

    /// How the others were started, for the report
    pub fn describe(self) -> &'static str {
        match self {
            Arrival::Together => {
                "all created at once just before it (their results come back in waves: the worst case)"
            }
            Arrival::Steady => {
                "first created one by one over the lone render's time before it, each replaced by a new one as it ended until it had ended (as many in flight all along, at every phase)"
            }
        }
    }
}

/// Another render: the sample's shots twice over ([`OTHER_SHOTS`]), one platform, texts unique
/// to `n`
pub fn other_brief(n: usize) -> Value {
    let mut brief = small_render(12, n);
    let shots: Vec<Value> = brief["shots"].as_array().cloned().unwrap_or_default();
    let doubled: Vec<Value> = (0..OTHER_SHOTS)
        .filter_map(|i| {
            let mut shot = shots.get(i % shots.len().max(1))?.clone();
            shot["id"] = json!(format!("o{:02}", i + 1));
            Some(shot)
        })
        .collect();
    let total: f64 = doubled
        .iter()
        .filter_map(|s| s["duration_s"].as_f64())
        .sum();
    brief["shots"] = Value::Array(doubled);
    brief["pacing"]["target_duration_s"] = json!(total);
    brief["score"]["duration_s"] = json!(total);
    // Within the studio tier's caps, and above what twice the sample's shots cost
    brief["budget_usd"] = json!(200.0);
    brief["project_id"] = json!(format!("proj_headline_other_{n}"));
    brief
}

/// What one slot of the fleet (one render at a time, in turn) saw
#[derive(Debug, Default)]
struct SlotOutcome {
    created: usize,
    succeeded: usize,
    failed: Vec<String>,
}

/// The other renders, running
pub struct Fleet {
    stop: Arc<AtomicBool>,
    in_flight: Arc<AtomicUsize>,
    slots: Vec<JoinHandle<SlotOutcome>>,
    sampler: JoinHandle<Vec<usize>>,
}

/// What the fleet did, once every render of it has ended
#[derive(Debug)]
pub struct FleetOutcome {
    /// Renders that succeeded
    pub succeeded: usize,
    /// Renders created in all
    pub created: usize,
    /// Why each other render that did not succeed did not
    pub failed: Vec<String>,
    /// Renders in flight while the measured one ran, sampled
    in_flight: Vec<usize>,
    /// Renders still in flight when the measured one ended
    at_end: usize,
}

impl FleetOutcome {
    /// The fleet in the report's words
    pub fn describe(&self) -> String {
        let mut text = format!(
            "{} of {} created succeeded; in flight while it ran",
            self.succeeded, self.created
        );
        match (self.in_flight.iter().min(), self.in_flight.iter().max()) {
            (Some(min), Some(max)) => {
                let mean =
                    self.in_flight.iter().sum::<usize>() as f64 / self.in_flight.len() as f64;
                text += &format!(" {min} to {max}, mean {mean:.1}");
            }
            _ => text += " not sampled",
        }
        text + &format!(", {} when it finished", self.at_end)
    }
}

impl Fleet {
    /// Creates `size` renders at once across `clients`, in turn, and watches each to its end
    pub async fn together(clients: &[Client], size: usize) -> Result<Fleet, String> {
        let creates = (0..size).map(|n| {
            let client = clients[n % clients.len()].clone();
            async move {
                create(&client, &other_brief(1000 + n))
                    .await
                    .map(|id| (client, id))
            }
        });
        let created: Vec<(Client, String)> = futures_util::future::join_all(creates)
            .await
            .into_iter()
            .collect::<Result<_, _>>()?;
        let in_flight = Arc::new(AtomicUsize::new(created.len()));
        let slots = created
            .into_iter()
            .map(|(client, id)| {
                let in_flight = in_flight.clone();
                tokio::spawn(async move {
                    let mut outcome = SlotOutcome {
                        created: 1,
                        ..SlotOutcome::default()
                    };
                    watch(&client, &id, &mut outcome).await;
                    in_flight.fetch_sub(1, Ordering::SeqCst);
                    outcome
                })
            })
            .collect();
        Ok(Fleet::running(
            Arc::new(AtomicBool::new(false)),
            in_flight,
            slots,
        ))
    }

    /// Starts `size` slots `spacing` apart; each creates a render, waits for its end and
    /// creates the next until [`Fleet::finish`]. Returns once the last slot has created its
    /// first render.
    pub async fn steady(clients: &[Client], size: usize, spacing: Duration) -> Fleet {
        let stop = Arc::new(AtomicBool::new(false));
        let in_flight = Arc::new(AtomicUsize::new(0));
        let mut slots = Vec::with_capacity(size);
        for slot in 0..size {
            if slot > 0 {
                tokio::time::sleep(spacing).await;
            }
            let (client, stop, in_flight) = (
                clients[slot % clients.len()].clone(),
                stop.clone(),
                in_flight.clone(),
            );
            slots.push(tokio::spawn(async move {
                let mut outcome = SlotOutcome::default();
                // Bounded: a slot of a run that never stops makes at most this many renders
                for round in 0..100 {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    match create(&client, &other_brief(1000 + slot + size * round)).await {
                        Ok(id) => {
                            outcome.created += 1;
                            in_flight.fetch_add(1, Ordering::SeqCst);
                            watch(&client, &id, &mut outcome).await;
                            in_flight.fetch_sub(1, Ordering::SeqCst);
                        }
                        Err(e) => {
                            outcome.failed.push(format!("creating: {e}"));
                            break;
                        }
                    }
                }
                outcome
            }));
        }
        Fleet::running(stop, in_flight, slots)
    }

    /// The fleet once its renders are started: `stop` ends the slots' rounds and the sampling
    fn running(
        stop: Arc<AtomicBool>,
        in_flight: Arc<AtomicUsize>,
        slots: Vec<JoinHandle<SlotOutcome>>,
    ) -> Fleet {
        let (sampled, sampler_stop) = (in_flight.clone(), stop.clone());
        let sampler = tokio::spawn(async move {
            let mut samples = Vec::new();
            // Bounded: at most an hour of samples
            for _ in 0..(3_600_000 / SAMPLE_EVERY.as_millis() as usize) {
                if sampler_stop.load(Ordering::SeqCst) {
                    break;
                }
                samples.push(sampled.load(Ordering::SeqCst));
                tokio::time::sleep(SAMPLE_EVERY).await;
            }
            samples
        });
        Fleet {
            stop,
            in_flight,
            slots,
            sampler,
        }
    }

    /// Stops sampling and creating (call when the measured render has ended), then waits for
    /// every render of the fleet to end
    pub async fn finish(self) -> FleetOutcome {
        let Fleet {
            stop,
            in_flight,
            slots,
            sampler,
        } = self;
        stop.store(true, Ordering::SeqCst);
        let at_end = in_flight.load(Ordering::SeqCst);
        let in_flight = sampler.await.unwrap_or_default();
        let mut outcome = FleetOutcome {
            succeeded: 0,
            created: 0,
            failed: Vec::new(),
            in_flight,
            at_end,
        };
        for slot in slots {
            match slot.await {
                Ok(slot) => {
                    outcome.succeeded += slot.succeeded;
                    outcome.created += slot.created;
                    outcome.failed.extend(slot.failed);
                }
                Err(e) => outcome.failed.push(e.to_string()),
            }
        }
        outcome
    }
}

/// Polls render `id` to its end, counting how it ended
async fn watch(client: &Client, id: &str, outcome: &mut SlotOutcome) {
    match wait_for_every(client, id, LOAD_TIMEOUT, is_terminal, OTHERS_POLL).await {
        Ok(view) if view["status"] == "succeeded" => outcome.succeeded += 1,
        Ok(view) => outcome.failed.push(format!(
            "render {id} ended {}: {}",
            view["status"], view["failure"]
        )),
        Err(e) => outcome.failed.push(e),
    }
}
