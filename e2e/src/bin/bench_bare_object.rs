//! `make bench`, issue 14 item 2: signed provider callbacks per second into ONE running job
//! object, against requests per second into a bare Durable Object that does one SQLite write
//! per request; same load generator, same concurrency, same run.
//!
//! - Ours: the Worker bundle on workerd through Miniflare alone (`scripts/runtime.mjs`, the
//!   `Miniflare` runtime of the stack), with the simulator holding every BFL keyframe in flight.
//!   Each request is a genuine BFL progress webhook, signed with the simulator's BFL secret, on
//!   the callback URL of one running keyframe (our token for that job, stage and attempt), so
//!   every request is verified and reaches the same job object. The job keeps no BFL progress
//!   figure (a "Pending" is the news it already had), so it counts each one as a duplicate
//!   callback: one counter upsert in a transaction, the same one durable write per request as
//!   the bare object's INSERT. The run prints the job's skipped-step counts to show it.
//! - Bare: the bench-only Worker in `e2e/bare-object/` (never production) on the same kind of
//!   runtime: its fetch handler sends every request to one named object (as every callback of a
//!   job reaches one object), which INSERTs the request body into SQLite and answers 200. It gets
//!   the same body bytes and headers.
//!
//! The generator is closed-loop: `c` workers each send the next request as soon as their last
//! one answered, until a fixed number of requests were sent (bounded). Both are warmed up first;
//! then, for each concurrency, the phases alternate ours/bare and bare/ours round by round, so
//! the shared machine's noise hits both alike. A request counts only if it answered the expected
//! status (a failed callback is not throughput); errors are counted and fail the bench.
//!
//! Three more rows decompose the cost: a callback whose signature is wrong (our Worker does the
//! URL token check, the body read and the HMAC, then answers 401 without touching the object),
//! the bare Worker answering without its object (the runtime's floor), and a GET of a path
//! our Worker has no route for (404: our Worker's own floor, before any callback check).
//!
//! Two more split the gap between the toolchain and our code: the same bare object written in
//! Rust with workers-rs (`e2e/bare-object-rs/`, built like our Worker: the same workers-rs and
//! wasm-bindgen, release profile and wasm-opt), and its Worker answering without the object.
//! What that twin loses to the JavaScript object is glue no code of ours can remove.
//!
//! The last column is the CPU time the probe's runtime (Miniflare's node and its workerd) spent
//! per request during its phases: on a shared machine it moves much less than wall time.
//!
//! Ratios: throughput ours / bare, p50 latency bare / ours; 1.0 is parity, the target >= 0.8.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use e2e::keyframe_target::{
    BFL_WEBHOOK_SECRET, KeyframeTarget, hold_keyframes, progress_callback, running_keyframe,
};
use e2e::render::{create, sample_brief, wait_for_support};
use e2e::stack::StateMedium;
use e2e::{BareKind, BareObject, Client, Stack, StackOptions, WorkerRuntime};

/// Closed-loop concurrencies measured, each in its own phases
const CONCURRENCY: [usize; 2] = [1, 8];
/// Requests per phase
const REQUESTS: usize = 400;
/// Rounds per concurrency; each round runs every probe once, order alternating
const ROUNDS: usize = 4;
/// Requests per probe before anything is measured (JIT, connections, object start)
const WARM_UP: usize = 100;

/// What one request is
#[derive(Clone, Copy, PartialEq, Eq)]
enum Probe {
    /// A signed BFL progress callback into the running keyframe of our job
    Ours,
    /// A POST of the same body into the bare object (one SQLite INSERT)
    Bare,
    /// The same callback with a wrong signature: our Worker up to the HMAC, no object
    OursBadSignature,
    /// The bare Worker answering without its object: the runtime's floor
    BareWorkerOnly,
    /// A GET of a path our Worker has no route for (404): our Worker's own floor (entry into
    /// the Rust code, routing, an error answer), before any callback check
    OursNoRoute,
    /// The bare object's POST into its Rust twin (`e2e/bare-object-rs/`, workers-rs): the
    /// floor of any Worker built with our toolchain
    BareRust,
    /// The Rust twin's Worker answering without its object
    BareRustWorkerOnly,
}

impl Probe {
    const ALL: [Self; 7] = [
        Self::Ours,
        Self::Bare,
        Self::OursBadSignature,
        Self::BareWorkerOnly,
        Self::OursNoRoute,
        Self::BareRust,
        Self::BareRustWorkerOnly,
    ];

    fn label(self) -> &'static str {
        match self {
            Self::Ours => "ours: signed callback into one running job object",
            Self::Bare => "bare: POST into one SQLite object, one INSERT",
            Self::OursBadSignature => "ours: callback with a bad signature (401, no object)",
            Self::BareWorkerOnly => "bare Worker without its object (runtime floor)",
            Self::OursNoRoute => "ours: GET of a path without a route (404, our Worker's floor)",
            Self::BareRust => "bare in Rust (workers-rs): POST into one SQLite object, one INSERT",
            Self::BareRustWorkerOnly => "bare Worker in Rust without its object (toolchain floor)",
        }
    }

    fn expected_status(self) -> u16 {
        match self {
            Self::OursBadSignature => 401,
            Self::OursNoRoute => 404,
            _ => 200,
        }
    }
}

/// Where the requests go
struct Targets {
    http: reqwest::Client,
    /// Our callback URL of the running keyframe
    ours: String,
    /// The keyframe's BFL task id, which the callback body names
    task: String,
    bare: String,
    bare_worker_only: String,
    /// A path of our Worker without a route
    ours_no_route: String,
    bare_rust: String,
    bare_rust_worker_only: String,
}

impl Targets {
    /// One request; its latency in ms if it answered the expected status
    async fn send(&self, probe: Probe, n: usize) -> Result<f64, String> {
        // A real progress webhook (BFL's shape); the bare object gets the same bytes.
        let secret = if probe == Probe::OursBadSignature {
            "not-the-webhook-secret"
        } else {
            BFL_WEBHOOK_SECRET
        };
        let (body, signature) = progress_callback(&self.task, n, secret)?;
        let url = match probe {
            Probe::Ours | Probe::OursBadSignature => &self.ours,
            Probe::Bare => &self.bare,
            Probe::BareWorkerOnly => &self.bare_worker_only,
            Probe::OursNoRoute => &self.ours_no_route,
            Probe::BareRust => &self.bare_rust,
            Probe::BareRustWorkerOnly => &self.bare_rust_worker_only,
        };
        // The no-route probe is a GET without a body: a POST answered 404 before its body was
        // read broke the kept-alive connection ("error sending request" on the next request
        // it carried), so that probe could not be a POST.
        let request = if probe == Probe::OursNoRoute {
            self.http.get(url)
        } else {
            self.http
                .post(url)
                .header("content-type", "application/json")
                .header("x-bfl-signature", signature)
                .body(body)
        };
        let started = Instant::now();
        let resp = request.send().await.map_err(|e| e.to_string())?;
        let status = resp.status().as_u16();
        // The whole answer is part of the request's cost.
        let text = resp.text().await.map_err(|e| e.to_string())?;
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        if status != probe.expected_status() {
            return Err(format!("{} answered {status}: {text}", probe.label()));
        }
        // Ours must have been accepted by the job, not merely answered 200.
        if probe == Probe::Ours && !text.contains("\"accepted\":true") {
            return Err(format!("callback not accepted: {text}"));
        }
        Ok(ms)
    }
}

/// What the phases of one probe at one concurrency measured, pooled over rounds
#[derive(Default)]
struct Tally {
    latencies_ms: Vec<f64>,
    busy: Duration,
    /// CPU time the probe's runtime (starter and workerd) used during its phases
    cpu_s: f64,
    errors: usize,
    first_error: Option<String>,
}

impl Tally {
    /// The runtime's CPU time per request, ms (over every request sent)
    fn cpu_ms_per_request(&self) -> f64 {
        let sent = self.latencies_ms.len() + self.errors;
        self.cpu_s * 1000.0 / sent.max(1) as f64
    }

    fn per_second(&self) -> f64 {
        self.latencies_ms.len() as f64 / self.busy.as_secs_f64().max(1e-9)
    }

    fn quantile(&self, q: f64) -> f64 {
        let mut sorted = self.latencies_ms.clone();
        sorted.sort_by(f64::total_cmp);
        let at = ((sorted.len() as f64 * q) as usize).min(sorted.len().saturating_sub(1));
        sorted.get(at).copied().unwrap_or(f64::NAN)
    }
}

/// One closed-loop phase: `concurrency` workers share `requests` requests; `cpu_s` reads the
/// CPU time of the runtime the probe targets
async fn phase(
    targets: &Targets,
    probe: Probe,
    concurrency: usize,
    requests: usize,
    cpu_s: impl Fn() -> Option<f64>,
    tally: &mut Tally,
) {
    let next = AtomicUsize::new(0);
    let cpu_before = cpu_s();
    let started = Instant::now();
    let workers = (0..concurrency).map(|_| async {
        let mut mine = Vec::new();
        loop {
            let n = next.fetch_add(1, Ordering::Relaxed);
            if n >= requests {
                break mine;
            }
            mine.push(targets.send(probe, n).await);
        }
    });
    let results = futures_util::future::join_all(workers).await;
    tally.busy += started.elapsed();
    if let (Some(before), Some(after)) = (cpu_before, cpu_s()) {
        tally.cpu_s += after - before;
    }
    for result in results.into_iter().flatten() {
        match result {
            Ok(ms) => tally.latencies_ms.push(ms),
            Err(e) => {
                tally.errors += 1;
                tally.first_error.get_or_insert(e);
            }
        }
    }
}

/// The callback URL (path and query, on our Worker) of a running BFL keyframe, and its task id;
/// the support view names the model and task id, the app's view does not
/// One probe of ours alone at concurrency 1, in rounds of [`REQUESTS`], for at most `seconds`
async fn profile_ours(
    targets: &Targets,
    stack: &Stack,
    probe: Probe,
    seconds: u64,
) -> Result<(String, bool), String> {
    let mut tally = Tally::default();
    phase(targets, probe, 8, WARM_UP, || None, &mut tally).await;
    let mut tally = Tally::default();
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(seconds.min(600)) {
        phase(
            targets,
            probe,
            1,
            REQUESTS,
            || stack.worker_cpu_s(),
            &mut tally,
        )
        .await;
    }
    if let Some(e) = tally.first_error {
        return Err(e);
    }
    let report = format!(
        "profile run of {}: {} requests, {:.0}/s, p50 {:.2} ms, runtime CPU {:.2} ms each\n",
        probe.label(),
        tally.latencies_ms.len(),
        tally.per_second(),
        tally.quantile(0.5),
        tally.cpu_ms_per_request()
    );
    Ok((report, false))
}

fn ratio_cell(ratio: f64) -> String {
    let verdict = if ratio >= 0.8 { "met" } else { "NOT met" };
    format!("**{ratio:.2}** ({verdict})")
}

async fn run() -> Result<(String, bool), String> {
    // The same runtime kind as the bare object: workerd through Miniflare alone.
    let stack = Stack::start_with(StackOptions {
        runtime: WorkerRuntime::Miniflare,
        ..Default::default()
    })
    .map_err(|e| e.to_string())?;
    let bare = BareObject::start().map_err(|e| e.to_string())?;
    let bare_rust = BareObject::start_kind(BareKind::Rust, StateMedium::Disk)
        .map_err(|e| format!("{e} (is it built? scripts/build-worker.sh e2e/bare-object-rs)"))?;
    let sim = Client::new(&stack.sim_url, None);
    hold_keyframes(&sim).await?;
    let app = Client::new(&stack.worker_url, Some("sk_test_demo"));
    let job = create(&app, &sample_brief()).await?;
    let KeyframeTarget { path, task } = running_keyframe(&app, &job).await?;
    let mut targets = Targets {
        http: reqwest::Client::new(),
        ours: format!("{}{path}", stack.worker_url),
        task,
        bare: format!("{}/callback", bare.url),
        bare_worker_only: format!("{}/worker-only", bare.url),
        ours_no_route: format!("{}/no-such-route", stack.worker_url),
        bare_rust: format!("{}/callback", bare_rust.url),
        bare_rust_worker_only: format!("{}/worker-only", bare_rust.url),
    };
    // A profile of one of our probes alone (`scripts/cpu-profile.mjs` attached): warm up, then
    // send nothing but it for the seconds asked, and stop without a report.
    // PROFILE_OURS_S=N profiles the signed callback; with PROFILE_NO_ROUTE=1, the 404.
    if let Some(seconds) = std::env::var("PROFILE_OURS_S")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
    {
        let probe = if std::env::var_os("PROFILE_NO_ROUTE").is_some() {
            Probe::OursNoRoute
        } else {
            Probe::Ours
        };
        return profile_ours(&targets, &stack, probe, seconds).await;
    }
    let bench_started = Instant::now();
    for probe in Probe::ALL {
        let mut warm = Tally::default();
        phase(&targets, probe, 8, WARM_UP, || None, &mut warm).await;
        if let Some(e) = warm.first_error {
            return Err(format!("warm-up: {e}"));
        }
    }
    let mut tallies: Vec<(usize, Probe, Tally)> = Vec::new();
    let mut retargeted = 0usize;
    for concurrency in CONCURRENCY {
        for probe in Probe::ALL {
            tallies.push((concurrency, probe, Tally::default()));
        }
        for round in 0..ROUNDS {
            // Ours first in even rounds, the bare object first in odd ones.
            let mut order = Probe::ALL.to_vec();
            if round % 2 == 1 {
                order.reverse();
            }
            for probe in order {
                if probe == Probe::Ours {
                    // The keyframe's attempt may have ended meanwhile (on a loaded machine an
                    // attempt can outlive its deadline and be retried): every measured callback
                    // goes to a stage running now, not to one the job would count as stale.
                    let KeyframeTarget { path, task } = running_keyframe(&app, &job).await?;
                    let url = format!("{}{path}", stack.worker_url);
                    // The query (the token's expiry) differs on every look-up; the path names
                    // the job, stage and attempt.
                    let route = |u: &str| u.split('?').next().unwrap_or_default().to_owned();
                    if route(&url) != route(&targets.ours) || task != targets.task {
                        retargeted += 1;
                    }
                    targets.ours = url;
                    targets.task = task;
                }
                if let Some((_, _, tally)) = tallies
                    .iter_mut()
                    .find(|(c, p, _)| *c == concurrency && *p == probe)
                {
                    let cpu_s = || match probe {
                        Probe::Bare | Probe::BareWorkerOnly => bare.cpu_s(),
                        Probe::BareRust | Probe::BareRustWorkerOnly => bare_rust.cpu_s(),
                        Probe::Ours | Probe::OursBadSignature | Probe::OursNoRoute => {
                            stack.worker_cpu_s()
                        }
                    };
                    phase(&targets, probe, concurrency, REQUESTS, cpu_s, tally).await;
                }
            }
        }
    }
    let measured_s = bench_started.elapsed().as_secs_f64();
    // What the job says it did with the callbacks: the duplicates must show as counted.
    let support = app.with_key(Some("sk_test_support"));
    let skipped = wait_for_support(&support, &job, Duration::from_secs(10), |_| true)
        .await
        .map(|v| v["skipped_steps"].to_string())
        .unwrap_or_else(|e| format!("(support view failed: {e})"));

    let mut detail = String::from(
        "| probe | concurrency | ok / sent | errors | req/s | p50 | p95 | runtime CPU / request |\n|---|---|---|---|---|---|---|---|\n",
    );
    let mut failed = false;
    for (concurrency, probe, tally) in &tallies {
        let sent = ROUNDS * REQUESTS;
        detail.push_str(&format!(
            "| {} | {concurrency} | {} / {sent} | {} | {:.0} | {:.2} ms | {:.2} ms | {:.2} ms |\n",
            probe.label(),
            tally.latencies_ms.len(),
            tally.errors,
            tally.per_second(),
            tally.quantile(0.5),
            tally.quantile(0.95),
            tally.cpu_ms_per_request(),
        ));
        if let Some(e) = &tally.first_error {
            failed = true;
            eprintln!(
                "{} at concurrency {concurrency}: {} errors, first: {e}",
                probe.label(),
                tally.errors
            );
        }
    }

    let mut rows = String::new();
    for concurrency in CONCURRENCY {
        let find = |probe: Probe| {
            tallies
                .iter()
                .find(|(c, p, _)| *c == concurrency && *p == probe)
                .map(|(_, _, t)| {
                    (
                        t.per_second(),
                        t.quantile(0.5),
                        t.quantile(0.95),
                        t.cpu_ms_per_request(),
                    )
                })
                .unwrap_or((f64::NAN, f64::NAN, f64::NAN, f64::NAN))
        };
        let (ours_rps, ours_p50, ours_p95, ours_cpu) = find(Probe::Ours);
        let (bare_rps, bare_p50, bare_p95, bare_cpu) = find(Probe::Bare);
        let (_, _, _, front_cpu) = find(Probe::OursBadSignature);
        let (_, _, _, floor_cpu) = find(Probe::BareWorkerOnly);
        let (_, _, _, no_route_cpu) = find(Probe::OursNoRoute);
        let (rust_rps, rust_p50, _, rust_cpu) = find(Probe::BareRust);
        let (_, _, _, rust_floor_cpu) = find(Probe::BareRustWorkerOnly);
        rows.push_str(&format!(
            "| signed callbacks/s into one running job object vs bare SQLite object, concurrency {concurrency} | ours {ours_rps:.0}/s, bare {bare_rps:.0}/s: {} | >= 0.8 | `bench_bare_object`: closed loop, {ROUNDS}x{REQUESTS} requests each, phases alternated, same run |\n",
            ratio_cell(ours_rps / bare_rps),
        ));
        rows.push_str(&format!(
            "| p50 latency of the same, concurrency {concurrency} (bare / ours; p95 ours {ours_p95:.1} ms, bare {bare_p95:.1} ms) | ours {ours_p50:.2} ms, bare {bare_p50:.2} ms: {} | >= 0.8 | same phases |\n",
            ratio_cell(bare_p50 / ours_p50),
        ));
        // Not a target of the issue: where the gap comes from, in the figure that moves least
        // on a shared machine. The bad-signature callback stops before the object, the bare
        // Worker-only request before its object, so each side splits into Worker and object.
        rows.push_str(&format!(
            "| runtime CPU per request, concurrency {concurrency} (bare / ours) | ours {ours_cpu:.2} ms = {no_route_cpu:.2} Worker floor (404) + {:.2} callback checks (token, body, signature) + {:.2} past them (object call, step, write, answer); bare {bare_cpu:.2} ms = {floor_cpu:.2} Worker alone + {:.2} object call and INSERT: {bare_cpu_ratio:.2} | diagnostic | CPU of each runtime's processes from /proc around its phases |\n",
            front_cpu - no_route_cpu,
            ours_cpu - front_cpu,
            bare_cpu - floor_cpu,
            bare_cpu_ratio = bare_cpu / ours_cpu,
        ));
        // Not a target either: the same bare object built with our toolchain. What it loses to
        // the JavaScript one is glue no code of ours can remove; what we lose to it is ours.
        rows.push_str(&format!(
            "| the bare object in Rust (workers-rs, built like ours), concurrency {concurrency} | {rust_rps:.0}/s, p50 {rust_p50:.2} ms, CPU {rust_cpu:.2} ms = {rust_floor_cpu:.2} Worker alone + {:.2} object call and INSERT. Against the JavaScript bare object: **{:.2}** throughput, {:.2} p50, {:.2} CPU. Ours against it: **{:.2}** throughput, {:.2} p50, {:.2} CPU | diagnostic | same phases, alternated with the others |\n",
            rust_cpu - rust_floor_cpu,
            rust_rps / bare_rps,
            bare_p50 / rust_p50,
            bare_cpu / rust_cpu,
            ours_rps / rust_rps,
            rust_p50 / ours_p50,
            rust_cpu / ours_cpu,
        ));
    }
    let table = format!(
        "| figure | measured | target | how |\n|---|---|---|---|\n{rows}\n{detail}\nmeasured phases took {measured_s:.1} s (after stack start and warm-up of {WARM_UP} requests per probe)\njob's skipped steps after the run: {skipped}; running keyframe re-targeted {retargeted} times\n"
    );
    Ok((table, failed))
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let started = Instant::now();
    match run().await {
        Ok((table, failed)) => {
            println!("{table}");
            println!(
                "bench_bare_object wall time {:.1} s",
                started.elapsed().as_secs_f64()
            );
            if failed {
                std::process::exit(1);
            }
        }
        Err(e) => {
            eprintln!("bench_bare_object failed: {e}");
            std::process::exit(1);
        }
    }
}
