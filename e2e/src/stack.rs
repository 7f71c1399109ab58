//! Starting and stopping the real stack.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Errors starting or driving the stack
#[derive(Debug, thiserror::Error)]
pub enum StackError {
    /// A command could not be run
    #[error("running {what}: {source}")]
    Spawn {
        /// The command
        what: String,
        /// Why
        source: std::io::Error,
    },
    /// A setup command exited with failure
    #[error("{what} failed: {output}")]
    Failed {
        /// The command
        what: String,
        /// Its output
        output: String,
    },
    /// A part did not answer its health check in time
    #[error("{what} did not become healthy within {secs}s; log tail:\n{log}")]
    Unhealthy {
        /// The part
        what: String,
        /// The wait
        secs: u64,
        /// The end of its log
        log: String,
    },
}

/// How to start a stack
#[derive(Debug, Clone, Default)]
pub struct StackOptions {
    /// Where Durable Object, D1 and R2 state lives; a fresh temporary folder when `None`
    pub persist_dir: Option<PathBuf>,
    /// Where that fresh temporary folder is made: the system's temp folder when `None`
    /// (see [`StateMedium`])
    pub state_parent: Option<PathBuf>,
    /// Extra environment for the simulator (`SIM_LATENCY_MS`, `SIM_TIME_SCALE`, ...)
    pub sim_env: Vec<(String, String)>,
    /// Extra `--var NAME:VALUE` for the Worker
    pub worker_vars: Vec<(String, String)>,
    /// Leave our assembler out (assembly then routes to the hosted route in the simulator)
    pub without_assembler: bool,
    /// Extra environment for the assembler
    pub assembler_env: Vec<(String, String)>,
    /// What runs the Worker
    pub runtime: WorkerRuntime,
}

/// What runs the Worker: both are workerd with the same bundle, bindings and state folder
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum WorkerRuntime {
    /// `wrangler dev`, as a developer runs it (its proxy worker in front of the Worker)
    #[default]
    WranglerDev,
    /// Miniflare alone (`scripts/runtime.mjs`), without `wrangler dev`'s proxy, whose memory
    /// grows without bound under hundreds of concurrent renders: for the large benchmarks
    Miniflare,
}

impl WorkerRuntime {
    /// `WORKER_RUNTIME` (`wrangler` or `miniflare`) when set, else `default`
    pub fn from_env(default: Self) -> Self {
        match std::env::var("WORKER_RUNTIME").as_deref() {
            Ok("wrangler") => Self::WranglerDev,
            Ok("miniflare") => Self::Miniflare,
            _ => default,
        }
    }
}

/// What the local runtime's state folder (SQLite of every object, D1, R2) is written to.
///
/// One workerd runs every object of every render on one thread and commits each object's SQLite
/// there, waiting on the disk: under fifty renders, the object call of a slow callback took
/// p50 420 ms (p90 620 ms) after the job had already taken its step, while the process used 70
/// to 85% of a core. We infer the output gate held the answer until the write was durable: with
/// the state in memory, callbacks were answered in p50 0.7 to 2.5 s against 3.1 to 4.0 s. On
/// the platform each object commits on its own machine and no object waits on another's disk,
/// so the fleet benchmark puts the state in memory to measure our orchestration rather than
/// this virtual disk. A run killed before it ends leaves its folder in `/dev/shm`
/// (`studio-e2e-*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateMedium {
    /// The system's temp folder (a disk here)
    Disk,
    /// `/dev/shm` (tmpfs), where it exists; the temp folder otherwise
    Memory,
}

impl StateMedium {
    /// `BENCH_STATE` (`disk` or `memory`) when set, else `default`
    pub fn from_env(default: Self) -> Self {
        match std::env::var("BENCH_STATE").as_deref() {
            Ok("disk") => Self::Disk,
            Ok("memory") => Self::Memory,
            _ => default,
        }
    }

    /// The folder the stack's state folder is made in (`None`: the system's temp folder)
    pub fn parent(self) -> Option<PathBuf> {
        let shm = PathBuf::from("/dev/shm");
        (self == Self::Memory && shm.is_dir()).then_some(shm)
    }

    /// Says where the state went, for a benchmark's row
    pub fn describe(self) -> &'static str {
        match (self, self.parent()) {
            (Self::Memory, Some(_)) => "the runtime's state in memory (tmpfs)",
            (Self::Memory, None) => "the runtime's state on disk (no tmpfs here)",
            (Self::Disk, _) => "the runtime's state on disk",
        }
    }
}

/// The environment of `wrangler.toml` every local Worker runs: its top level is production, so
/// every wrangler command of the stack names the dev environment (bindings, vars, and the
/// Durable Objects' storage under the dev Worker's name all follow from it)
pub const WRANGLER_ENV: &str = "dev";

/// The key the dev Worker presents to our assembler (`dev_credentials` in the core's config)
pub const DEV_ASSEMBLER_KEY: &str = "sim-assembler-key";

/// A running stack
pub struct Stack {
    /// `http://127.0.0.1:{port}` of the Worker
    pub worker_url: String,
    /// `http://127.0.0.1:{port}` of the simulator
    pub sim_url: String,
    /// `http://127.0.0.1:{port}` of our assembler
    pub assembler_url: String,
    root: PathBuf,
    persist_dir: PathBuf,
    log_dir: PathBuf,
    _temp: Option<tempfile::TempDir>,
    worker_port: u16,
    sim_port: u16,
    options: StackOptions,
    worker: Option<Child>,
    sim: Option<Child>,
    assembler_port: u16,
    assembler: Option<Child>,
}

/// The repository root (the e2e crate lives one level below it)
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

fn free_port() -> Result<u16, StackError> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|source| StackError::Spawn {
        what: "binding a free port".into(),
        source,
    })?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|source| StackError::Spawn {
            what: "reading a free port".into(),
            source,
        })
}

fn run(root: &Path, what: &str, cmd: &mut Command) -> Result<(), StackError> {
    let output = cmd
        .current_dir(root)
        .output()
        .map_err(|source| StackError::Spawn {
            what: what.into(),
            source,
        })?;
    if output.status.success() {
        Ok(())
    } else {
        Err(StackError::Failed {
            what: what.into(),
            output: format!(
                "{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ),
        })
    }
}

fn npx(args: &[&str]) -> Command {
    let mut cmd = Command::new("npx");
    cmd.args(args)
        .env("WRANGLER_SEND_METRICS", "false")
        .env("CI", "true");
    cmd
}

/// Starts a process in its own process group, plus a watchdog that stops the group once this
/// test process is gone (even if it was SIGKILLed and never ran a destructor).
fn spawn_group(root: &Path, what: &str, mut cmd: Command, log: &Path) -> Result<Child, StackError> {
    use std::os::unix::process::CommandExt;
    // Appends, so a restarted part's log keeps what it said before it was killed.
    let log_file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .map_err(|source| StackError::Spawn {
            what: format!("creating {}", log.display()),
            source,
        })?;
    let err_file = log_file.try_clone().map_err(|source| StackError::Spawn {
        what: "cloning log handle".into(),
        source,
    })?;
    let child = cmd
        .current_dir(root)
        .stdin(Stdio::null())
        .stdout(log_file)
        .stderr(err_file)
        .process_group(0)
        .spawn()
        .map_err(|source| StackError::Spawn {
            what: what.into(),
            source,
        })?;
    let watchdog = format!(
        "while kill -0 {me} 2>/dev/null && kill -0 {pg} 2>/dev/null; do sleep 0.5; done; \
         kill -TERM -{pg} 2>/dev/null; sleep 2; kill -KILL -{pg} 2>/dev/null; true",
        me = std::process::id(),
        pg = child.id()
    );
    let _ = Command::new("sh")
        .args(["-c", &watchdog])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn();
    Ok(child)
}

fn signal_group(child: &Child, signal: &str) {
    let _ = Command::new("kill")
        .args([signal, "--", &format!("-{}", child.id())])
        .stderr(Stdio::null())
        .status();
}

fn stop_child(child: &mut Option<Child>, signal: &str) {
    if let Some(mut c) = child.take() {
        signal_group(&c, signal);
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = c.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        signal_group(&c, "-KILL");
        let _ = c.wait();
    }
}

fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

fn wait_healthy(url: &str, secs: u64) -> bool {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        let ok = Command::new("curl")
            .args(["-fsS", "-o", "/dev/null", "--max-time", "2", url])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            return true;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    false
}

impl Stack {
    /// Starts a fresh stack (its own state folder, free ports) and waits until both parts answer
    pub fn start() -> Result<Self, StackError> {
        Self::start_with(StackOptions::default())
    }

    /// Starts a stack with options
    pub fn start_with(options: StackOptions) -> Result<Self, StackError> {
        let root = repo_root();
        let (temp, persist_dir) = match &options.persist_dir {
            Some(dir) => (None, dir.clone()),
            None => {
                let mut builder = tempfile::Builder::new();
                builder.prefix("studio-e2e-");
                let made = match &options.state_parent {
                    Some(parent) => builder.tempdir_in(parent),
                    None => builder.tempdir(),
                };
                let t = made.map_err(|source| StackError::Spawn {
                    what: "temp dir".into(),
                    source,
                })?;
                let p = t.path().to_path_buf();
                (Some(t), p)
            }
        };
        let log_dir = persist_dir.join("logs");
        std::fs::create_dir_all(&log_dir).map_err(|source| StackError::Spawn {
            what: "log dir".into(),
            source,
        })?;
        let worker_port = free_port()?;
        let sim_port = free_port()?;
        let assembler_port = free_port()?;
        let mut stack = Self {
            worker_url: format!("http://127.0.0.1:{worker_port}"),
            sim_url: format!("http://127.0.0.1:{sim_port}"),
            assembler_url: format!("http://127.0.0.1:{assembler_port}"),
            root,
            persist_dir,
            log_dir,
            _temp: temp,
            worker_port,
            sim_port,
            options,
            worker: None,
            sim: None,
            assembler_port,
            assembler: None,
        };
        stack.migrate()?;
        stack.start_sim()?;
        if !stack.options.without_assembler {
            stack.start_assembler()?;
        }
        stack.start_worker()?;
        Ok(stack)
    }

    /// The folder holding this stack's state
    pub fn persist_dir(&self) -> &Path {
        &self.persist_dir
    }

    fn migrate(&self) -> Result<(), StackError> {
        let dir = self.persist_dir.to_string_lossy().to_string();
        run(
            &self.root,
            "wrangler d1 migrations apply",
            &mut npx(&[
                "wrangler",
                "d1",
                "migrations",
                "apply",
                "DB",
                "--local",
                "--env",
                WRANGLER_ENV,
                "--persist-to",
                &dir,
            ]),
        )?;
        run(
            &self.root,
            "seeding dev keys",
            &mut npx(&[
                "wrangler",
                "d1",
                "execute",
                "DB",
                "--local",
                "--env",
                WRANGLER_ENV,
                "--persist-to",
                &dir,
                "--file",
                "scripts/seed-dev.sql",
            ]),
        )
    }

    fn start_sim(&mut self) -> Result<(), StackError> {
        let bin = std::env::var("SIM_BIN")
            .map(PathBuf::from)
            .unwrap_or_else(|_| self.root.join("target/fast/simulator"));
        let mut cmd = Command::new(&bin);
        cmd.args([
            "--listen",
            &format!("127.0.0.1:{}", self.sim_port),
            "--public-url",
            &self.sim_url,
            "--sora-webhook-url",
            &format!("{}/v1/callbacks/sora", self.worker_url),
        ]);
        for (k, v) in &self.options.sim_env {
            cmd.env(k, v);
        }
        let log = self.log_dir.join("sim.log");
        self.sim = Some(spawn_group(&self.root, "simulator", cmd, &log)?);
        if wait_healthy(&format!("{}/healthz", self.sim_url), 30) {
            Ok(())
        } else {
            Err(StackError::Unhealthy {
                what: "simulator".into(),
                secs: 30,
                log: tail(&log, 30),
            })
        }
    }

    /// Starts (or restarts) our assembler on the same port and data folder
    pub fn start_assembler(&mut self) -> Result<(), StackError> {
        let bin = std::env::var("ASSEMBLER_BIN")
            .map(PathBuf::from)
            .unwrap_or_else(|_| self.root.join("target/fast/assembler"));
        let mut cmd = Command::new(&bin);
        cmd.env(
            "ASSEMBLER_LISTEN",
            format!("127.0.0.1:{}", self.assembler_port),
        )
        .env("ASSEMBLER_PUBLIC_URL", &self.assembler_url)
        .env("ASSEMBLER_API_KEY", DEV_ASSEMBLER_KEY)
        .env("ASSEMBLER_DATA_DIR", self.persist_dir.join("assembler"));
        for (k, v) in &self.options.assembler_env {
            cmd.env(k, v);
        }
        let log = self.log_dir.join("assembler.log");
        self.assembler = Some(spawn_group(&self.root, "assembler", cmd, &log)?);
        if wait_healthy(&format!("{}/healthz", self.assembler_url), 30) {
            Ok(())
        } else {
            Err(StackError::Unhealthy {
                what: "assembler".into(),
                secs: 30,
                log: tail(&log, 30),
            })
        }
    }

    /// Kills our assembler at once (SIGKILL), as a crash would
    pub fn kill_assembler(&mut self) {
        stop_child(&mut self.assembler, "-KILL");
    }

    /// Starts (or restarts) the Worker on the same port and state folder
    pub fn start_worker(&mut self) -> Result<(), StackError> {
        let persist = self.persist_dir.to_string_lossy().into_owned();
        let port = self.worker_port.to_string();
        let mut args: Vec<String> = match self.options.runtime {
            WorkerRuntime::WranglerDev => {
                let inspector = free_port()?.to_string();
                [
                    "wrangler",
                    "dev",
                    "--env",
                    WRANGLER_ENV,
                    "--ip",
                    "127.0.0.1",
                    "--port",
                    &port,
                    "--inspector-port",
                    &inspector,
                    "--persist-to",
                    &persist,
                    "--show-interactive-dev-session=false",
                ]
                .iter()
                .map(|s| s.to_string())
                .collect()
            }
            WorkerRuntime::Miniflare => [
                "scripts/runtime.mjs",
                "--port",
                &port,
                "--persist-to",
                &persist,
            ]
            .iter()
            .map(|s| s.to_string())
            .collect(),
        };
        for (k, v) in [
            ("SIM_BASE_URL", self.sim_url.as_str()),
            ("PUBLIC_BASE_URL", self.worker_url.as_str()),
            ("ASSEMBLER_BASE_URL", self.assembler_url.as_str()),
            ("ASSEMBLY_QUALITY", "preview"),
        ] {
            args.push("--var".into());
            args.push(format!("{k}:{v}"));
        }
        for (k, v) in &self.options.worker_vars {
            args.push("--var".into());
            args.push(format!("{k}:{v}"));
        }
        let arg_refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let (what, cmd) = match self.options.runtime {
            WorkerRuntime::WranglerDev => ("wrangler dev", npx(&arg_refs)),
            WorkerRuntime::Miniflare => {
                let mut cmd = Command::new("node");
                cmd.args(&arg_refs);
                ("scripts/runtime.mjs", cmd)
            }
        };
        let log = self.log_dir.join("worker.log");
        self.worker = Some(spawn_group(&self.root, what, cmd, &log)?);
        // wrangler.toml's dev environment has no build command, so wrangler dev serves the
        // Worker as built and does not rebuild and reload it once its file watcher is ready.
        if wait_healthy(&format!("{}/healthz", self.worker_url), 180) {
            Ok(())
        } else {
            Err(StackError::Unhealthy {
                what: "worker".into(),
                secs: 180,
                log: tail(&log, 60),
            })
        }
    }

    /// Stops the Worker gracefully (SIGTERM), keeping its state
    pub fn stop_worker(&mut self) {
        stop_child(&mut self.worker, "-TERM");
    }

    /// Kills the Worker's runtime at once (SIGKILL to wrangler and workerd), as a crash would
    pub fn kill_worker(&mut self) {
        stop_child(&mut self.worker, "-KILL");
    }

    /// Resident memory of the Worker's runtime (every `workerd` in its process group), bytes
    pub fn worker_rss_bytes(&self) -> Option<u64> {
        let group = self.worker.as_ref()?.id();
        let mut total = 0;
        for entry in std::fs::read_dir("/proc").ok()?.flatten() {
            let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
            // pid (comm) state ppid pgrp ...
            let Some((head, rest)) = stat.rsplit_once(") ") else {
                continue;
            };
            let pgrp = rest
                .split_whitespace()
                .nth(2)
                .and_then(|g| g.parse::<u32>().ok());
            if pgrp != Some(group) || !head.ends_with("(workerd") {
                continue;
            }
            let status = std::fs::read_to_string(entry.path().join("status")).unwrap_or_default();
            let kb = status
                .lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok());
            total += kb.unwrap_or(0) * 1024;
        }
        (total > 0).then_some(total)
    }

    /// CPU time used so far by the Worker's runtime (every process of its group: the starter
    /// and its workerd), seconds
    pub fn worker_cpu_s(&self) -> Option<f64> {
        group_cpu_s(self.worker.as_ref()?.id())
    }

    /// The Worker's log so far, for failure messages
    pub fn worker_log(&self) -> String {
        tail(&self.log_dir.join("worker.log"), 80)
    }

    /// Stops everything
    pub fn stop(&mut self) {
        stop_child(&mut self.worker, "-TERM");
        stop_child(&mut self.sim, "-TERM");
        stop_child(&mut self.assembler, "-TERM");
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Which bench-only bare-object Worker to start
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BareKind {
    /// `e2e/bare-object/`: JavaScript, the platform's own floor
    JavaScript,
    /// `e2e/bare-object-rs/`: the same object in Rust with workers-rs, built like ours
    /// (`scripts/build-worker.sh e2e/bare-object-rs`, which `make bench` runs)
    Rust,
}

impl BareKind {
    fn config(self) -> &'static str {
        match self {
            Self::JavaScript => "e2e/bare-object/wrangler.toml",
            Self::Rust => "e2e/bare-object-rs/wrangler.toml",
        }
    }
}

/// A bench-only bare-object Worker (`e2e/bare-object/`, or its Rust twin): one SQLite-backed
/// Durable Object that does one INSERT per request, run on workerd through Miniflare alone, as
/// `scripts/runtime.mjs` runs ours. The baseline of `bench_bare_object`; never production.
pub struct BareObject {
    /// `http://127.0.0.1:{port}` of the bare Worker
    pub url: String,
    child: Option<Child>,
    _temp: tempfile::TempDir,
}

impl BareObject {
    /// Starts it on a free loopback port with its own temporary state folder on disk
    pub fn start() -> Result<Self, StackError> {
        Self::start_in(StateMedium::Disk)
    }

    /// As [`Self::start`], its state folder made on `medium` (a benchmark compared with the
    /// stack's runs keeps both on the same medium)
    pub fn start_in(medium: StateMedium) -> Result<Self, StackError> {
        Self::start_kind(BareKind::JavaScript, medium)
    }

    /// As [`Self::start_in`], the bare Worker of `kind`
    pub fn start_kind(kind: BareKind, medium: StateMedium) -> Result<Self, StackError> {
        let root = repo_root();
        let mut builder = tempfile::Builder::new();
        builder.prefix("studio-bare-object-");
        let temp = match medium.parent() {
            Some(parent) => builder.tempdir_in(parent),
            None => builder.tempdir(),
        }
        .map_err(|source| StackError::Spawn {
            what: "temp dir".into(),
            source,
        })?;
        let port = free_port()?;
        let url = format!("http://127.0.0.1:{port}");
        let mut cmd = Command::new("node");
        // Our runtime script with the bare object's config: the same Miniflare options as ours.
        cmd.arg("scripts/runtime.mjs")
            .args(["--port", &port.to_string()])
            .args(["--config", kind.config(), "--env", ""])
            .arg("--persist-to")
            .arg(temp.path())
            // A profile asked for is of our Worker, and two runtimes cannot share its port.
            .env_remove("RUNTIME_INSPECTOR_PORT");
        let log = temp.path().join("bare-object.log");
        let child = spawn_group(&root, "scripts/runtime.mjs (bare object)", cmd, &log)?;
        let bare = Self {
            url,
            child: Some(child),
            _temp: temp,
        };
        if wait_healthy(&format!("{}/healthz", bare.url), 60) {
            Ok(bare)
        } else {
            Err(StackError::Unhealthy {
                what: "bare object".into(),
                secs: 60,
                log: tail(&log, 30),
            })
        }
    }

    /// CPU time used so far by its runtime (the starter and its workerd), seconds
    pub fn cpu_s(&self) -> Option<f64> {
        group_cpu_s(self.child.as_ref()?.id())
    }
}

/// User plus system CPU time of the live processes of a process group, seconds (Linux
/// `/proc/PID/stat`, in clock ticks of 1/100 s, the kernel's USER_HZ on every Linux target)
fn group_cpu_s(group: u32) -> Option<f64> {
    const TICKS_PER_S: f64 = 100.0;
    let mut ticks = 0u64;
    let mut seen = false;
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
        // pid (comm) state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt
        // cmajflt utime stime ...: after the comm, utime is field 11 and stime 12 (from 0).
        let Some((_, rest)) = stat.rsplit_once(") ") else {
            continue;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        if fields.get(2).and_then(|g| g.parse::<u32>().ok()) != Some(group) {
            continue;
        }
        let field = |i: usize| fields.get(i).and_then(|v| v.parse::<u64>().ok());
        ticks += field(11).unwrap_or(0) + field(12).unwrap_or(0);
        seen = true;
    }
    seen.then_some(ticks as f64 / TICKS_PER_S)
}

impl Drop for BareObject {
    fn drop(&mut self) {
        stop_child(&mut self.child, "-TERM");
    }
}
