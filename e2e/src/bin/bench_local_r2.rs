//! `make bench`, beside issue 14 item 8: what storing one provider output costs the local
//! runtime's one thread, alone and in a wave of the fleet-load run's size.
//!
//! On the local stack, R2 is Miniflare's emulator: one Durable Object per bucket, in the same
//! workerd process, on the same thread, as every job object and the Worker. Every output a job
//! copies goes through it (a put that digests the bytes and writes a blob and a SQLite row). On
//! the platform R2 is a service of its own and spends none of our objects' CPU. When fifty
//! renders started in the same second finish their keyframes together (`bench_headline`'s
//! `ARRIVAL=together`), their puts queue on that one thread with everything else; this bench
//! measures that share on its own, on the bench-only Worker of `e2e/bare-object/` (never
//! production), so the fleet row can be read against it.
//!
//! For each size: puts one at a time (the latency and CPU of a put alone), then a wave of
//! [`wave_size`] puts at once (the keyframes of the together run: fifty 24-shot renders and
//! the measured 12-shot one), twice. CPU is the runtime's processes' (Miniflare's node and its
//! workerd) from `/proc` around each phase.

use std::time::{Duration, Instant};

use e2e::BareObject;
use e2e::load_fleet::OTHER_SHOTS;
use e2e::render::sample_brief;
use e2e::stack::StateMedium;
use e2e::stats::nearest_rank;

/// Puts measured one at a time, per size
const ALONE: usize = 20;
/// Waves per size
const WAVES: usize = 2;
/// Other renders of the fleet-load run
const OTHERS: usize = 50;
/// Longest wait for one request
const TIMEOUT: Duration = Duration::from_secs(600);

/// Sizes put, what each stands for (the simulator's outputs here, and a real keyframe's), and
/// whether a wave of it is put: 1,212 puts of 1 MB at once broke the runtime's connection (the
/// emulator's one isolate holds every put in flight), so that size is measured alone only
const SIZES: [(usize, &str, bool); 4] = [
    (
        48 * 1024,
        "a keyframe as the simulator makes it (PNG)",
        true,
    ),
    (40 * 1024, "a clip as the simulator makes it (MP4)", true),
    (
        100 * 1024,
        "a voice line as the simulator makes it (MP3)",
        true,
    ),
    (
        1024 * 1024,
        "a 1 MB output (a real provider's keyframe is about this size)",
        false,
    ),
];

/// The keyframes that finish together in the fleet-load run's first wave
fn wave_size() -> usize {
    let measured = sample_brief()["shots"].as_array().map_or(12, Vec::len);
    OTHERS * OTHER_SHOTS + measured
}

/// One request of `n` puts of `size` bytes; the wall time and the runtime's CPU it took
async fn puts(
    http: &reqwest::Client,
    bare: &BareObject,
    n: usize,
    size: usize,
) -> Result<(f64, f64), String> {
    let cpu_before = bare.cpu_s().ok_or("the runtime's CPU could not be read")?;
    let started = Instant::now();
    let resp = http
        .post(format!("{}/r2-puts?n={n}&size={size}", bare.url))
        .timeout(TIMEOUT)
        .send()
        .await
        .map_err(|e| format!("{n} puts of {size} B: {e}"))?;
    let status = resp.status();
    let text = resp.text().await.map_err(|e| e.to_string())?;
    let wall_s = started.elapsed().as_secs_f64();
    let cpu_s = bare.cpu_s().ok_or("the runtime's CPU could not be read")? - cpu_before;
    if !status.is_success() || text.trim() != n.to_string() {
        return Err(format!("{n} puts of {size} B answered {status}: {text}"));
    }
    Ok((wall_s, cpu_s))
}

async fn run() -> Result<String, String> {
    // In memory, as the fleet-load run keeps the stack's state (`bench_headline`).
    let state = StateMedium::from_env(StateMedium::Memory);
    let bare = BareObject::start_in(state).map_err(|e| e.to_string())?;
    let http = reqwest::Client::new();
    // Warm-up: JIT, the bucket's object and its tables.
    puts(&http, &bare, 100, 48 * 1024).await?;
    let wave = wave_size();
    let mut rows = String::from("| figure | measured | target | how |\n|---|---|---|---|\n");
    for (size, what, in_wave) in SIZES {
        let mut latencies_ms = Vec::with_capacity(ALONE);
        let mut cpu_alone_s = 0.0;
        for _ in 0..ALONE {
            let (wall_s, cpu_s) = puts(&http, &bare, 1, size).await?;
            latencies_ms.push(wall_s * 1000.0);
            cpu_alone_s += cpu_s;
        }
        let mut waves = Vec::with_capacity(WAVES);
        for _ in 0..if in_wave { WAVES } else { 0 } {
            let (wall_s, cpu_s) = puts(&http, &bare, wave, size).await?;
            waves.push(format!(
                "{wall_s:.2} s, {:.2} ms of CPU a put ({:.2} cores)",
                cpu_s * 1000.0 / wave as f64,
                cpu_s / wall_s.max(1e-9)
            ));
        }
        let waves = if in_wave {
            format!("; the wave {}", waves.join("; "))
        } else {
            "; no wave (see `SIZES`)".to_owned()
        };
        rows.push_str(&format!(
            "| the local R2 emulator storing {} KB, {what}: one put alone; a wave of {wave} at once, until the last is stored | alone p50 {:.1} ms, {:.2} ms of CPU a put{waves} | | `bench_local_r2`: the bench-only Worker (`e2e/bare-object/`) on workerd through Miniflare, as the stack runs; {ALONE} puts one by one, then {WAVES} waves of {wave} (the keyframes of {OTHERS} {OTHER_SHOTS}-shot renders and the 12-shot one finishing together in `bench_headline`'s together run); {}; CPU of the runtime's processes from /proc |\n",
            size / 1024,
            nearest_rank(&latencies_ms, 50.0).unwrap_or(f64::NAN),
            cpu_alone_s * 1000.0 / ALONE as f64,
            state.describe(),
        ));
    }
    Ok(rows)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let started = Instant::now();
    match run().await {
        Ok(table) => {
            println!("{table}");
            println!(
                "bench_local_r2 wall time {:.1} s",
                started.elapsed().as_secs_f64()
            );
        }
        Err(e) => {
            eprintln!("bench_local_r2 failed: {e}");
            std::process::exit(1);
        }
    }
}
