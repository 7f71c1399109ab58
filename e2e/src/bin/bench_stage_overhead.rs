//! Stage overhead on the local stack (issue 14, item 3): how long a stage whose inputs are ready
//! takes to leave for its provider.
//!
//! Renders the sample brief `RUNS` times (default 3), one after the other and after one warm-up
//! render that is not measured, with the simulator's latency of every model at its registry
//! median x 0.25 (as `bench`'s critical-path run) and its media one file per shape (so the
//! warm-up makes every file and a measured download only streams it, as from a real provider),
//! and for every stage that depends on another stage's output measures:
//!
//! - (a) last input stored -> submit leaves: the journal time of the last dependency's
//!   `artifact_stored` (the job's step, `Date.now()` in workerd) to the moment the stage's submit
//!   arrived at the simulator (`GET /__sim/tasks`, stamped before its body is read; on loopback,
//!   when it left);
//! - (b) callback sent -> submit leaves: the moment the simulator sent the callback that
//!   completed that dependency to the same submit arrival. This includes copying the output
//!   into R2. Webhook providers only: a polled provider's result is learnt by the poll that
//!   finds it done, reported on its own row, and a synchronous one's with its submit's answer,
//!   which the simulator does not time.
//!
//! and the parts between: callback sent -> the job's step for it; that step -> the output's
//! download asked at the simulator, the simulator making the file (not ours), file ready ->
//! stored (the copy into R2 and its step); then (a) apart for the stages granted their slot
//! before their input was stored (they asked while it was copied) and for the others: stored ->
//! slot granted by the provider's gate, slot granted -> submit leaves.
//! A stage whose gate put it in line (its model's slots all busy) waited for capacity, not for
//! us: such stages are left out of (a) and (b) and counted on their own row, as is the assembly
//! stage (our assembler is not the simulator: its submit is bounded by the journal only). So
//! did a stage whose job already held its model's concurrency of slots: the target row of (a)
//! measures it from the moment another stage of the job on that model left its provider (the
//! job's step for that stage's final status) when that came after its input was stored, and the
//! plain stored -> submit figure is shown next to it.
//!
//! Both clocks are this machine's wall clock (workerd's `Date.now()` and the simulator's
//! `SystemTime`), so differences are good to about a millisecond: journal times are whole
//! milliseconds.
//!
//! Starts its own stack on free loopback ports, the Worker on workerd alone as on the platform
//! (`WORKER_RUNTIME=wrangler` puts `wrangler dev`'s proxy in front, which adds to every request
//! here: the 500-shot create of `bench` takes 44 ms at the client through it, 29 without);
//! prints a markdown table; exits 1 if a render failed or nothing was measured. `DUMP_DIR=...`
//! writes each render's support view, journal and simulator tasks there as JSON, and
//! `VERBOSE=1` lists each stage's parts on stderr, for looking into what dominates.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use e2e::bench_env::number;
use e2e::render::{create, is_terminal, sample_brief, support_view, wait_for};
use e2e::stage_timing::{self, Entry, SimTask, entries, journal, sim_tasks, task_of};
use e2e::stats::nearest_rank;
use e2e::{Client, Stack, StackOptions, WorkerRuntime};
use serde_json::{Value, json};
use studio::routing::Registry;

/// Latencies are the registry medians times this (as `bench`'s critical path)
const LATENCY_SCALE: f64 = 0.25;
/// The target of (a) and (b) at p50, ms
const TARGET_P50_MS: f64 = 5.0;
/// One render's bound (the sample brief takes about a minute at this scale)
const RENDER_TIMEOUT: Duration = Duration::from_secs(600);

/// `p50 / p95 / max (n)` in ms
fn summary(v: &[f64]) -> String {
    match (
        nearest_rank(v, 50.0),
        nearest_rank(v, 95.0),
        nearest_rank(v, 100.0),
    ) {
        (Some(p50), Some(p95), Some(max)) => {
            format!("{p50:.1} / {p95:.1} / {max:.1} ms (n={})", v.len())
        }
        _ => "no samples".to_owned(),
    }
}

/// How a dependency's result reached the job
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Learnt {
    /// A provider callback (sent at the time held)
    Callback,
    /// A poll that found it done
    Poll,
    /// Neither: a synchronous provider's answer, or a stage the simulator did not run
    Other,
}

/// One dependent stage's timings, ms since the epoch
#[derive(Debug, Clone)]
struct Sample {
    stage: String,
    /// The stage's kind (`motion`, `assembly`, ...)
    kind: String,
    /// The provider the stage submitted to
    provider: String,
    dep: String,
    dep_provider: String,
    learnt: Learnt,
    /// The dependency's callback sent, or the poll that found it done
    signal_ms: Option<f64>,
    /// The job's step for the dependency's final status (`callback` or `provider_update`)
    step_ms: Option<f64>,
    /// The dependency's output download at the simulator: asked, file ready
    download: Option<(f64, f64)>,
    stored_ms: f64,
    granted_ms: Option<f64>,
    queued: bool,
    /// For a stage granted its slot after its input was stored: the last moment before the
    /// grant that another stage of the job on the same model left its provider (the job's step
    /// for its final status), which is when the job's own slot for the model came free
    freed_ms: Option<f64>,
    /// The submit's arrival at the simulator, or (`provider` "assembler") the job's
    /// `submit_accepted` step, which also holds the assembler's answer
    submit_ms: f64,
}

/// Every dependent stage of one render
fn samples(view: &Value, journal: &[Entry], tasks: &[SimTask]) -> Vec<Sample> {
    let stages = view["stages"].as_array().cloned().unwrap_or_default();
    let by_id: BTreeMap<&str, &Value> = stages
        .iter()
        .filter_map(|s| Some((s["id"].as_str()?, s)))
        .collect();
    let last_at = |kind: &str, stage: &str, attempt: u64, before: f64| {
        stage_timing::last_at(journal, kind, stage, attempt, before)
    };
    // Each stage's model and the job's step for its final status at the provider (when it left
    // the provider and gave the job's own slot for its model back)
    let finished: Vec<(&str, &str, f64)> = stages
        .iter()
        .filter_map(|s| {
            let id = s["id"].as_str()?;
            let attempt = s["attempt"].as_u64()?;
            let stored = last_at("artifact_stored", id, attempt, f64::INFINITY)?;
            let step = ["callback", "provider_update", "submit_accepted"]
                .iter()
                .filter_map(|kind| last_at(kind, id, attempt, stored))
                .reduce(f64::max)?;
            Some((id, s["model"].as_str()?, step))
        })
        .collect();
    let mut out = Vec::new();
    for s in &stages {
        let (Some(id), Some(attempt)) = (s["id"].as_str(), s["attempt"].as_u64()) else {
            continue;
        };
        let deps: Vec<&str> = s["deps"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        if deps.is_empty() || s["status"] != "done" {
            continue;
        }
        let task = task_of(s, tasks);
        let (provider, submit_ms) = match task {
            Some(t) => (t.provider.clone(), t.received_ms),
            // Our assembler is not the simulator: the job's step for its answer bounds the
            // submit from above
            None => match last_at("submit_accepted", id, attempt, f64::INFINITY) {
                Some(at) => ("assembler".to_owned(), at),
                None => continue,
            },
        };
        // The last dependency stored before the submit: the input the stage waited for (a
        // journal time is a whole ms, so up to 1 ms after the arrival still counts)
        let last = deps
            .iter()
            .filter_map(|d| {
                let dep = by_id.get(d)?;
                let dep_attempt = dep["attempt"].as_u64()?;
                let at = last_at("artifact_stored", d, dep_attempt, submit_ms + 1.0)?;
                Some((*d, *dep, dep_attempt, at))
            })
            .max_by(|a, b| a.3.total_cmp(&b.3));
        let Some((dep, dep_view, dep_attempt, stored_ms)) = last else {
            continue;
        };
        let step_ms = ["callback", "provider_update"]
            .iter()
            .filter_map(|kind| last_at(kind, dep, dep_attempt, stored_ms))
            .reduce(f64::max);
        let dep_task = task_of(dep_view, tasks);
        let (learnt, signal_ms) = match dep_task {
            Some(SimTask {
                done_callback: Some((sent, _)),
                ..
            }) => (Learnt::Callback, Some(*sent)),
            Some(SimTask {
                done_polled_ms: Some(at),
                ..
            }) => (Learnt::Poll, Some(*at)),
            _ => (Learnt::Other, None),
        };
        let mine = |kind: &str| last_at(kind, id, attempt, f64::INFINITY);
        let granted_ms = mine("slot_granted");
        let model = s["model"].as_str().unwrap_or("");
        let freed_ms = granted_ms.filter(|&g| g > stored_ms).and_then(|g| {
            finished
                .iter()
                .filter(|(other, m, at)| {
                    *other != id && *m == model && *at >= stored_ms && *at <= g
                })
                .map(|(_, _, at)| *at)
                .reduce(f64::max)
        });
        out.push(Sample {
            stage: id.to_owned(),
            kind: s["kind"].as_str().unwrap_or("").to_owned(),
            provider,
            dep: dep.to_owned(),
            dep_provider: dep_task.map_or_else(|| "-".to_owned(), |t| t.provider.clone()),
            learnt,
            signal_ms,
            step_ms,
            download: dep_task.and_then(|t| t.download),
            stored_ms,
            granted_ms,
            queued: mine("slot_queued").is_some(),
            freed_ms,
            submit_ms,
        });
    }
    out
}

/// One render: its dependent stages, and the round trips of its `done` callbacks
struct Run {
    samples: Vec<Sample>,
    round_trips: Vec<f64>,
}

async fn render(stack: &Stack, n: usize) -> Result<Run, String> {
    let app = Client::new(&stack.worker_url, Some("sk_test_demo"));
    let support = app.with_key(Some("sk_test_support"));
    let sim = Client::new(&stack.sim_url, None);
    let started = Instant::now();
    let id = create(&app, &sample_brief()).await?;
    let view = wait_for(&app, &id, RENDER_TIMEOUT, is_terminal).await?;
    if view["status"] != "succeeded" {
        return Err(format!("render {id} ended {}", view["status"]));
    }
    eprintln!(
        "render {n} (0 is the warm-up, not measured): {id} succeeded in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let full = support_view(&support, &id).await?;
    let raw_journal = journal(&support, &id).await?;
    let tasks = sim
        .get("/__sim/tasks")
        .await
        .map_err(|e| e.to_string())?
        .json;
    if let Ok(dir) = std::env::var("DUMP_DIR") {
        let dump = json!({ "view": full, "journal": raw_journal, "sim_tasks": tasks });
        let path = std::path::Path::new(&dir).join(format!("{id}.json"));
        std::fs::write(&path, dump.to_string()).map_err(|e| format!("{path:?}: {e}"))?;
    }
    let tasks = sim_tasks(&tasks);
    let round_trips = tasks
        .iter()
        .filter_map(|t| t.done_callback.map(|(_, rt)| rt))
        .collect();
    Ok(Run {
        samples: samples(&full, &entries(&raw_journal), &tasks),
        round_trips,
    })
}

fn row(t: &mut String, figure: &str, v: &[f64], target: &str, how: &str) {
    t.push_str(&format!(
        "| {figure} | {} | {target} | {how} |\n",
        summary(v)
    ));
}

fn table(samples: &[Sample], round_trips: &[f64], runs: usize) -> String {
    // The simulator's submits only, whose gate slot was free at once
    let free: Vec<&Sample> = samples
        .iter()
        .filter(|s| !s.queued && s.kind != "assembly")
        .collect();
    let a: Vec<f64> = free.iter().map(|s| s.submit_ms - s.stored_ms).collect();
    // The same, from the later of "input stored" and "the job's own slot for the model came
    // free": a stage whose job already had its model's slots in use waited for capacity, as one
    // in its gate's line does
    let a_net: Vec<f64> = free
        .iter()
        .map(|s| s.submit_ms - s.freed_ms.map_or(s.stored_ms, |f| f.max(s.stored_ms)))
        .collect();
    let webhook: Vec<&Sample> = free
        .iter()
        .copied()
        .filter(|s| s.learnt == Learnt::Callback)
        .collect();
    let over = |set: &[&Sample], f: &dyn Fn(&Sample) -> Option<f64>| -> Vec<f64> {
        set.iter().filter_map(|s| f(s)).collect()
    };
    let b = over(&webhook, &|s| Some(s.submit_ms - s.signal_ms?));
    let polled: Vec<&Sample> = free
        .iter()
        .copied()
        .filter(|s| s.learnt == Learnt::Poll)
        .collect();
    let b_poll = over(&polled, &|s| Some(s.submit_ms - s.signal_ms?));
    let verdict = |v: &[f64]| match nearest_rank(v, 50.0) {
        Some(p50) if p50 <= TARGET_P50_MS => "p50 at most 5 ms: **met**",
        Some(_) => "p50 at most 5 ms: **not met**",
        None => "p50 at most 5 ms",
    };
    let mut t = String::from("| figure | measured | target | how |\n|---|---|---|---|\n");
    row(
        &mut t,
        "(a) last input stored (or the job's own slot for the model freed, if later) -> dependent submit leaves, p50 / p95 / max",
        &a_net,
        verdict(&a_net),
        "the stages below; a stage whose job's own slots for its model were all in use (see the rows below) is measured from the moment one came free",
    );
    row(
        &mut t,
        "(a) last input stored -> dependent submit leaves, p50 / p95 / max",
        &a,
        "",
        &format!(
            "`bench_stage_overhead`: sample brief x {runs}, one at a time, simulator latencies = registry medians x {LATENCY_SCALE}, fleet gates on; \
             every dependent stage the simulator ran whose gate slot was free at once; journal `artifact_stored` time of its last dependency to its submit's arrival at the simulator"
        ),
    );
    row(
        &mut t,
        "(b) provider callback sent -> dependent submit leaves, p50 / p95 / max",
        &b,
        verdict(&b),
        "same stages whose last dependency ran on a webhook provider: the simulator's send of the `done` callback to the submit's arrival; includes the copy into R2",
    );
    row(
        &mut t,
        "part of (b): callback sent -> the job's step for it",
        &over(&webhook, &|s| Some(s.step_ms? - s.signal_ms?)),
        "",
        "journal `callback` time",
    );
    row(
        &mut t,
        "part of (b): the step -> the output's download asked at the provider",
        &over(&webhook, &|s| Some(s.download?.0 - s.step_ms?)),
        "",
        "simulator's download arrival",
    );
    row(
        &mut t,
        "part of (b), not ours: the simulator makes the output file (first download)",
        &over(&webhook, &|s| {
            s.download.map(|(asked, ready)| ready - asked)
        }),
        "",
        "a real provider has its file before it calls back",
    );
    row(
        &mut t,
        "part of (b): file ready -> stored (stream into R2, the job's step)",
        &over(&webhook, &|s| Some(s.stored_ms - s.download?.1)),
        "",
        "journal `artifact_stored`",
    );
    // A stage whose only missing input is being copied asks its gate meanwhile (the job's
    // `early_slots`): most are granted before the copy ends and submit in the step that ends it.
    let (early, late): (Vec<&Sample>, Vec<&Sample>) = free
        .iter()
        .copied()
        .partition(|s| s.granted_ms.is_some_and(|g| g <= s.stored_ms));
    row(
        &mut t,
        "(a) for stages granted their slot while the input was still being stored",
        &over(&early, &|s| Some(s.submit_ms - s.stored_ms)),
        "",
        "the gate's `slot_granted` came before the input's `artifact_stored`: stored -> submit leaves is the job's step and the submit alone",
    );
    row(
        &mut t,
        "(a) for stages that asked once the input was stored: stored -> slot granted",
        &over(&late, &|s| Some(s.granted_ms? - s.stored_ms)),
        "",
        "journal `artifact_stored` to the stage's `slot_granted` (it did not ask early: the job's own slots for its model were in use, or another of its stages was queued for it)",
    );
    let (own, other_late): (Vec<&Sample>, Vec<&Sample>) =
        late.iter().copied().partition(|s| s.freed_ms.is_some());
    row(
        &mut t,
        "(a) for the same, waiting for the job's own slot: stored -> another stage on the model left its provider",
        &over(&own, &|s| Some(s.freed_ms? - s.stored_ms)),
        "",
        "the job holds at most its model's concurrency of slots at once: capacity, as the gate's line",
    );
    row(
        &mut t,
        "(a) for the same: that slot freed -> submit leaves",
        &over(&own, &|s| Some(s.submit_ms - s.freed_ms?)),
        "",
        "the job's step for the other stage's end, the gate's round trip, the submit",
    );
    row(
        &mut t,
        "(a) late asks with no slot of the job freed meanwhile: stored -> slot granted",
        &over(&other_late, &|s| Some(s.granted_ms? - s.stored_ms)),
        "",
        "",
    );
    row(
        &mut t,
        "(a) for every late ask: slot granted -> submit leaves",
        &over(&late, &|s| Some(s.submit_ms - s.granted_ms?)),
        "",
        "journal `slot_granted` to the submit's arrival (a Veo submit carries the keyframe inline: kept from the copy, base64)",
    );
    let mut providers: Vec<&str> = free.iter().map(|s| s.provider.as_str()).collect();
    providers.sort_unstable();
    providers.dedup();
    for p in providers {
        row(
            &mut t,
            &format!("(a) for submits to {p}"),
            &over(&free, &|s| {
                (s.provider == p).then_some(s.submit_ms - s.stored_ms)
            }),
            "",
            "",
        );
    }
    row(
        &mut t,
        "(b, polled) poll finds the dependency done -> dependent submit leaves",
        &b_poll,
        "",
        "last dependency on a polled provider: from the simulator's answer to the first poll that saw it done (the poll interval before it is not included); in the sample brief only the assembly stage has one",
    );
    t.push_str(&format!(
        "| for scale: provider callback round trip (sent -> answered), median | {} | | every `done` callback of the same renders |\n",
        nearest_rank(round_trips, 50.0).map_or_else(
            || "no samples".to_owned(),
            |m| format!("{m:.1} ms (n={})", round_trips.len())
        )
    ));
    row(
        &mut t,
        "left out: stages that waited in their gate's line (their model's slots all busy)",
        &samples
            .iter()
            .filter(|s| s.queued && s.kind != "assembly")
            .map(|s| s.submit_ms - s.stored_ms)
            .collect::<Vec<_>>(),
        "",
        "stored -> submit leaves, the wait for capacity included",
    );
    row(
        &mut t,
        "left out: the assembly stage",
        &samples
            .iter()
            .filter(|s| s.kind == "assembly")
            .map(|s| s.submit_ms - s.stored_ms)
            .collect::<Vec<_>>(),
        "",
        "last input stored -> submit: our assembler's (its `submit_accepted` step, an upper bound holding the assembler's answer), or the simulated hosted route's when the job fell back to it",
    );
    let other = free.iter().filter(|s| s.learnt == Learnt::Other).count();
    if other > 0 {
        t.push_str(&format!(
            "| left out of (b): last dependency on a synchronous provider | {other} stages | | in (a) only |\n"
        ));
    }
    t
}

async fn run() -> Result<String, String> {
    let runs = number::<u64>("RUNS", 3).clamp(1, 20) as usize;
    let registry = Registry::builtin();
    let mut provider_latency: BTreeMap<&str, u64> = BTreeMap::new();
    for m in &registry.models {
        // One latency per provider in the simulator: the registry has one model per provider.
        provider_latency.insert(
            m.provider.as_str(),
            (m.latency_p50_ms as f64 * LATENCY_SCALE) as u64,
        );
    }
    // Every picture and clip of one shape is one file, in a cache of this run's own, made by
    // a warm-up render that is not measured: the simulator makes a file on its first download
    // (ffmpeg, seconds of CPU), which a real provider has done before it calls back, and twelve
    // of those at once would be most of what is measured here.
    let media = tempfile::Builder::new()
        .prefix("stage-overhead-media-")
        .tempdir()
        .map_err(|e| e.to_string())?;
    let options = StackOptions {
        sim_env: vec![
            ("SIM_MEDIA_VARIETY".into(), "per-shape".into()),
            (
                "SIM_MEDIA_DIR".into(),
                media.path().to_string_lossy().into_owned(),
            ),
        ],
        worker_vars: vec![("REGISTRY_LATENCY_SCALE".into(), LATENCY_SCALE.to_string())],
        runtime: WorkerRuntime::from_env(WorkerRuntime::Miniflare),
        ..Default::default()
    };
    let stack = Stack::start_with(options).map_err(|e| e.to_string())?;
    let sim = Client::new(&stack.sim_url, None);
    sim.post("/__sim/config", &json!({ "latency_ms": provider_latency }))
        .await
        .map_err(|e| e.to_string())?;
    render(&stack, 0).await?;
    let (mut samples, mut round_trips) = (Vec::new(), Vec::new());
    for n in 1..=runs {
        let run = render(&stack, n).await?;
        samples.extend(run.samples);
        round_trips.extend(run.round_trips);
    }
    if std::env::var("VERBOSE").is_ok() {
        for s in &samples {
            eprintln!(
                "{:<16} {:<9} <- {:<16} {:<10} {:?} signal->step {:>7.1} step->stored {:>7.1} stored->grant {:>7.1} grant->submit {:>7.1} queued {}",
                s.stage,
                s.provider,
                s.dep,
                s.dep_provider,
                s.learnt,
                s.step_ms.zip(s.signal_ms).map_or(f64::NAN, |(a, b)| a - b),
                s.step_ms.map_or(f64::NAN, |a| s.stored_ms - a),
                s.granted_ms.map_or(f64::NAN, |g| g - s.stored_ms),
                s.granted_ms.map_or(f64::NAN, |g| s.submit_ms - g),
                s.queued
            );
        }
    }
    if samples.is_empty() {
        return Err("no dependent stage was measured".into());
    }
    Ok(table(&samples, &round_trips, runs))
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let started = Instant::now();
    match run().await {
        Ok(table) => {
            println!("{table}");
            eprintln!("wall time {:.0} s", started.elapsed().as_secs_f64());
        }
        Err(e) => {
            eprintln!("bench_stage_overhead failed: {e}");
            std::process::exit(1);
        }
    }
}
