//! Chaos: several renders while the runtime is SIGKILLed at seeded random moments, some of them
//! inside submit calls, with the simulator alive throughout.
//!
//! Every render must end as an undisturbed one does (succeeded, every stage done with its
//! artifacts, master and variants), and a provider may have made a second task for one submit
//! only where the job's plan for an in-doubt submit is a resubmit the provider cannot
//! deduplicate (`studio::job::reconcile`); those are counted and reported apart.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::Value;
use studio::job::{Reconcile, reconcile};
use studio::providers::ProviderKind;

use crate::render::{create, is_terminal, sample_brief, sim_stats, unique, wait_for};
use crate::{Client, Stack, StackOptions};

/// How much chaos
#[derive(Debug, Clone, Copy)]
pub struct Chaos {
    /// Renders started together
    pub jobs: usize,
    /// SIGKILLs of the runtime
    pub kills: usize,
    /// Every n-th kill waits (a little) for a submit call in flight (1: every kill, 2: every
    /// other one; the rest fall anywhere)
    pub submit_every: usize,
    /// Shots of the sample brief each render keeps (`None`: all twelve)
    pub shots: Option<usize>,
    /// Renders are started one per kill (the first before the first kill, the next right
    /// after each restart) instead of all at once, so that each start's speech and music
    /// submits give a kill a call to land in
    pub stagger: bool,
    /// Seeds every random moment
    pub seed: u64,
    /// How long the renders may take after the last restart
    pub finish_within: Duration,
}

/// What a run saw
#[derive(Debug, Clone, Default)]
pub struct ChaosReport {
    /// Kills done
    pub kills: usize,
    /// Kills done while a stage of some render was submitting (a submit call in flight)
    pub kills_in_submit: usize,
    /// Extra submissions of one request per provider whose in-doubt plan may duplicate
    pub allowed_duplicates: BTreeMap<String, u64>,
    /// Extra submissions anywhere else (must be none)
    pub unexpected_duplicates: BTreeMap<String, u64>,
    /// The simulator's own count of second tasks for one request
    pub sim_duplicate_submissions: u64,
    /// Renders that did not end as an undisturbed render does, with why
    pub broken: Vec<String>,
    /// Seconds from the first create to the last render's end
    pub seconds: f64,
}

/// How long the simulator holds a synchronous submit (speech, music)
const SUBMIT_HOLD_MS: u64 = 3_000;

/// The stack a chaos run needs: synchronous providers hold each request for seconds, so that
/// kills land inside their submits
pub fn stack_options() -> StackOptions {
    StackOptions {
        sim_env: vec![("SIM_LATENCY_MS".into(), SUBMIT_HOLD_MS.to_string())],
        ..Default::default()
    }
}

/// xorshift64*: enough for seeded moments, no dependency
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `[lo, hi)` milliseconds
    fn millis(&mut self, lo: u64, hi: u64) -> Duration {
        Duration::from_millis(lo + self.next() % (hi - lo).max(1))
    }
}

/// The sample brief (its first `shots` shots, when given) with every spoken and sung text
/// unique to this render, so that a second submission of one request is told apart from
/// another render's
fn unique_brief(tag: &str, shots: Option<usize>) -> Value {
    let mut brief = sample_brief();
    brief["project_id"] = Value::String(unique("chaos"));
    if let Some(n) = shots
        && let Some(list) = brief["shots"].as_array_mut()
    {
        list.truncate(n);
        let total: f64 = list.iter().filter_map(|s| s["duration_s"].as_f64()).sum();
        brief["pacing"]["target_duration_s"] = Value::from(total);
        brief["score"]["duration_s"] = Value::from(total);
    }
    if let Some(text) = brief["voiceover"]["text"].as_str() {
        brief["voiceover"]["text"] = Value::String(format!("{text} Take {tag}."));
    }
    if let Some(mood) = brief["score"]["mood"].as_str() {
        brief["score"]["mood"] = Value::String(format!("{mood}, take {tag}"));
    }
    if let Some(shots) = brief["shots"].as_array_mut() {
        for shot in shots {
            if let Some(line) = shot["dialogue"]["line"].as_str() {
                shot["dialogue"]["line"] = Value::String(format!("{line} Take {tag}."));
            }
        }
    }
    brief
}

/// Whether any render has a submit call in flight: a stage `submitting` whose attempt began
/// less than the simulator's hold ago. A stage left `submitting` by an earlier kill (in doubt,
/// awaiting its reconciliation) shows the same status with no call in flight, so the status
/// alone would count kills that never landed inside a call. Attempts are in the support view
/// (`support` is a support key's client): the app's view has none.
async fn submit_in_flight(support: &Client, ids: &[String]) -> bool {
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    let fresh = |stage: &Value| {
        stage["status"] == "submitting"
            && stage["attempts"]
                .as_array()
                .and_then(|a| a.last())
                .and_then(|a| a["started_at"].as_u64())
                .is_some_and(|t| now_ms.saturating_sub(t) < SUBMIT_HOLD_MS)
    };
    for id in ids {
        if let Ok(r) = support.get(&format!("/v1/support/renders/{id}")).await
            && r.json["stages"]
                .as_array()
                .is_some_and(|s| s.iter().any(fresh))
        {
            return true;
        }
    }
    false
}

/// The stages an undisturbed render of `brief` has: per shot a keyframe and a motion, one per
/// dialogue line, the voiceover, the score and the assembly
fn stages_of(brief: &Value) -> usize {
    let shots = brief["shots"].as_array().map_or(&[][..], Vec::as_slice);
    let lines = shots.iter().filter(|s| s["dialogue"].is_object()).count();
    let voiceover = usize::from(brief["voiceover"].is_object());
    let score = usize::from(brief["score"].is_object());
    shots.len() * 2 + lines + voiceover + score + 1
}

/// Why a finished render differs from an undisturbed one, if it does (`view` is the support
/// view, whose assembly attempts name who assembled it)
fn check_finished(view: &Value, stage_count: usize) -> Result<(), String> {
    if view["status"] != "succeeded" {
        return Err(format!("status {}", view["status"]));
    }
    let stages = view["stages"].as_array().ok_or("no stages")?;
    if stages.len() != stage_count {
        return Err(format!("{} stages, not {stage_count}", stages.len()));
    }
    for s in stages {
        let artifacts = s["artifacts"].as_array().map_or(0, Vec::len);
        if s["status"] != "done" || artifacts == 0 {
            return Err(format!(
                "stage {} {} with {artifacts} artifacts",
                s["id"], s["status"]
            ));
        }
    }
    let variants = view["variants"].as_array().map_or(0, Vec::len);
    if !view["master_key"].is_string() || variants < 2 {
        // Name what is missing and who assembled it: the Shotstack fallback (taken after three
        // failures of our assembler) makes a master and a poster but no variants.
        let assembly = stages.iter().find(|s| s["kind"] == "assembly");
        let attempts: Vec<String> = assembly
            .and_then(|s| s["attempts"].as_array())
            .into_iter()
            .flatten()
            .map(|a| format!("{} {}", a["model"], a["outcome"]))
            .collect();
        return Err(format!(
            "master {}, {variants} variants; assembly attempts: {}",
            if view["master_key"].is_string() {
                "stored"
            } else {
                "missing"
            },
            attempts.join("; ")
        ));
    }
    Ok(())
}

/// Extra submissions of one request, per provider (from the simulator's per-request counts)
fn extra_submissions(stats: &Value) -> BTreeMap<String, u64> {
    let mut extra = BTreeMap::new();
    for (identity, n) in stats["submissions_by_task"]
        .as_object()
        .into_iter()
        .flatten()
    {
        let n = n.as_u64().unwrap_or(0);
        let provider = identity.split(':').next().unwrap_or("").to_owned();
        if n > 1 {
            *extra.entry(provider).or_insert(0) += n - 1;
        }
    }
    extra
}

/// Whether a provider's in-doubt plan can make a second task
fn may_duplicate(provider: &str) -> bool {
    ProviderKind::parse(provider)
        .is_some_and(|k| matches!(reconcile(k), Reconcile::Resubmit { idempotent: false }))
}

/// Runs the chaos against a started stack; the report says what happened, `Err` only when the
/// harness itself failed (a render could not be created, the runtime would not restart)
pub async fn run(stack: &mut Stack, chaos: Chaos) -> Result<ChaosReport, String> {
    let mut rng = Rng::new(chaos.seed);
    let client = Client::new(&stack.worker_url, Some("sk_test_demo"));
    let support = Client::new(&stack.worker_url, Some("sk_test_support"));
    let started = Instant::now();
    let mut briefs: std::collections::VecDeque<Value> = (0..chaos.jobs)
        .map(|n| unique_brief(&format!("{}-{n}", chaos.seed), chaos.shots))
        .collect();
    let stage_count = briefs.front().map_or(0, stages_of);
    let mut ids = Vec::new();
    let mut report = ChaosReport::default();
    for k in 0..chaos.kills {
        let starting = match (chaos.stagger, k) {
            (true, _) => 1,
            (false, 0) => briefs.len(),
            (false, _) => 0,
        };
        for brief in briefs.drain(..starting.min(briefs.len())) {
            ids.push(create(&client, &brief).await?);
        }
        // Every `submit_every`-th kill waits for a submit call in flight (from a seeded moment
        // on); the rest fall anywhere.
        let in_a_submit = (k + 1) % chaos.submit_every.max(1) == 0;
        if in_a_submit {
            tokio::time::sleep(rng.millis(0, 1_500)).await;
            let until = Instant::now() + Duration::from_secs(20);
            while Instant::now() < until && !submit_in_flight(&support, &ids).await {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        } else {
            tokio::time::sleep(rng.millis(1_000, 8_000)).await;
        }
        let in_submit = submit_in_flight(&support, &ids).await;
        stack.kill_worker();
        report.kills += 1;
        report.kills_in_submit += usize::from(in_submit);
        tokio::time::sleep(rng.millis(300, 3_000)).await;
        stack
            .start_worker()
            .map_err(|e| format!("restart after kill {}: {e}", k + 1))?;
    }
    for brief in briefs.drain(..) {
        ids.push(create(&client, &brief).await?);
    }
    for id in &ids {
        let checked = match wait_for(&client, id, chaos.finish_within, is_terminal).await {
            Ok(_) => match support.get(&format!("/v1/support/renders/{id}")).await {
                Ok(full) => check_finished(&full.json, stage_count),
                Err(e) => Err(format!("support view: {e}")),
            },
            // Its last view is in the error; the status says enough here.
            Err(_) => Err(format!(
                "not finished within {} s",
                chaos.finish_within.as_secs()
            )),
        };
        if let Err(why) = checked {
            report.broken.push(format!("{id}: {why}"));
        }
    }
    report.seconds = started.elapsed().as_secs_f64();
    let stats = sim_stats(&stack.sim_url).await;
    report.sim_duplicate_submissions = stats["duplicate_submissions"].as_u64().unwrap_or(0);
    for (provider, n) in extra_submissions(&stats) {
        // Kling's `external_task_id` is always honoured: a repeat is answered with its task.
        if provider == "kling" {
            continue;
        }
        if may_duplicate(&provider) {
            report.allowed_duplicates.insert(provider, n);
        } else {
            report.unexpected_duplicates.insert(provider, n);
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shorter_brief_keeps_its_lengths_and_counts_its_stages() {
        assert_eq!(stages_of(&sample_brief()), 12 * 2 + 2 + 1 + 1 + 1);
        let brief = unique_brief("t", Some(4));
        // s01..s04: 6 + 5 + 4 + 6 seconds, one dialogue line (s04)
        assert_eq!(brief["pacing"]["target_duration_s"], 21.0);
        assert_eq!(brief["score"]["duration_s"], 21.0);
        assert_eq!(stages_of(&brief), 4 * 2 + 1 + 1 + 1 + 1);
    }

    #[test]
    fn only_providers_that_cannot_deduplicate_may_duplicate() {
        assert!(may_duplicate("minimax_music"));
        assert!(!may_duplicate("elevenlabs"));
        assert!(!may_duplicate("bfl"));
        assert!(!may_duplicate("nonsense"));
    }
}
