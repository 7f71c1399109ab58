//! Renders from several creators at once against provider accounts with caps: what the fleet
//! benchmark (`--bin bench_fleet`) runs, once behind the providers' gates and once without.
//!
//! A run starts every render at once, polls each gently until it is terminal and records when
//! it was created and when its terminal view was first seen, both from the start of the run;
//! then it reads what the simulator counted (refusals by cap, injected 429s, duplicate
//! submissions, the peak of tasks in flight per provider).

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::Client;
use crate::fault_run::{small_render, transient_faults};
use crate::render::{create, is_terminal, sim_stats, wait_for_every};

/// Renders a pro creator may have in flight (`studio::api::tier_limits`): more are refused
pub const PRO_IN_FLIGHT: usize = 20;
/// Renders a studio creator may have in flight (`studio::api::tier_limits`)
pub const STUDIO_IN_FLIGHT: usize = 100;

/// One creator of a run: whose key starts how many renders
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Creator {
    /// The creator's API key
    pub key: String,
    /// Its tier's name, the label its finish times are reported under
    pub tier: String,
    /// Renders it starts
    pub renders: usize,
}

/// The studio-tier dev creators, each admitting [`STUDIO_IN_FLIGHT`] renders in flight
pub const STUDIO_KEYS: [&str; 2] = ["sk_test_studio", "sk_test_label"];

/// `renders` split between three dev creators on two tiers: the pro creator takes half, at most
/// its tier's in-flight cap; the two studio creators share the rest evenly, each up to its own
/// cap (so the total may be less than asked). Creators with nothing to start are left out.
pub fn creators_for(renders: usize) -> Vec<Creator> {
    let pro = (renders / 2).min(PRO_IN_FLIGHT);
    let mut studio_left = renders - pro;
    let mut creators = Vec::new();
    for (i, key) in STUDIO_KEYS.iter().enumerate() {
        let share = studio_left.div_ceil(STUDIO_KEYS.len() - i);
        let n = share.min(STUDIO_IN_FLIGHT);
        studio_left -= n;
        creators.push(Creator {
            key: (*key).into(),
            tier: "studio".into(),
            renders: n,
        });
    }
    creators.push(Creator {
        key: "sk_test_demo".into(),
        tier: "pro".into(),
        renders: pro,
    });
    creators.retain(|c| c.renders > 0);
    creators
}

/// The simulator's configuration of a run (`POST /__sim/config`): the transient fault mix at
/// `faults` when given, none otherwise; every provider capped at `cap` tasks at once when given,
/// no cap otherwise (both tables are replaced whole, so nothing of an earlier run remains)
pub fn sim_config(faults: Option<f64>, cap: Option<u32>) -> Value {
    let mut config = match faults {
        Some(rate) => transient_faults(rate),
        None => json!({ "faults": {} }),
    };
    config["limits"] = match cap {
        Some(c) => json!({ "*": { "max_concurrent_tasks": c } }),
        None => json!({}),
    };
    config
}

/// When one render of a run was created and finished
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timing {
    /// The tier of its creator
    pub tier: String,
    /// From the start of the run to the create's answer
    pub created: Duration,
    /// From the start of the run to its terminal view; `None` when it timed out
    pub finished: Option<Duration>,
}

/// What a run measured
#[derive(Debug, Clone, Default)]
pub struct FleetReport {
    /// Renders that succeeded
    pub succeeded: usize,
    /// Renders that ended otherwise or timed out, with why
    pub failed: Vec<String>,
    /// Wall time: from the first create to the last terminal view
    pub elapsed: Duration,
    /// Every render's timing, in the order they were started
    pub timings: Vec<Timing>,
    /// Submits the simulator refused with a 429 because a cap was reached, over every provider
    pub rate_limited_by_cap: u64,
    /// 429s the simulator injected as faults, over every provider
    pub injected_429: u64,
    /// Submissions the simulator counted twice (no idempotency key absorbed them)
    pub duplicate_submissions: u64,
    /// Requests the simulator saw again after their output expired or their task failed (the
    /// new generation a job asks for, not a duplicate)
    pub regenerations: u64,
    /// The provider that had the most tasks in flight at once, and how many
    pub peak: Option<(String, u64)>,
}

impl FleetReport {
    /// Renders succeeded per minute of wall time
    pub fn jobs_per_minute(&self) -> f64 {
        let minutes = self.elapsed.as_secs_f64() / 60.0;
        if minutes > 0.0 {
            self.succeeded as f64 / minutes
        } else {
            0.0
        }
    }

    /// The finish times of a tier's renders that reached a terminal view, failed ones included
    /// (a failure's finish is still a render the creator waited for)
    pub fn finish_times(&self, tier: &str) -> Vec<Duration> {
        self.timings
            .iter()
            .filter(|t| t.tier == tier)
            .filter_map(|t| t.finished)
            .collect()
    }

    /// Each finished render's own wall time, from its create to its terminal view
    pub fn render_times(&self) -> Vec<Duration> {
        self.timings
            .iter()
            .filter_map(|t| t.finished.map(|f| f.saturating_sub(t.created)))
            .collect()
    }
}

/// The nearest-rank `p`th percentile (0 < p <= 100) of `times`; `None` when there are none.
/// The median of an even count is the lower of the two middle values.
pub fn percentile(times: &[Duration], p: f64) -> Option<Duration> {
    let mut sorted = times.to_vec();
    sorted.sort();
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    sorted.get(rank.clamp(1, sorted.len().max(1)) - 1).copied()
}

/// The sum of a per-provider counter of `GET /__sim/stats`
fn sum_over_providers(counter: &Value) -> u64 {
    counter
        .as_object()
        .map(|m| m.values().filter_map(Value::as_u64).sum())
        .unwrap_or(0)
}

/// Injected faults of `kind` over every provider (`faults_injected` is per provider, then kind)
fn injected(stats: &Value, kind: &str) -> u64 {
    stats["faults_injected"]
        .as_object()
        .map(|m| m.values().filter_map(|k| k[kind].as_u64()).sum())
        .unwrap_or(0)
}

/// The provider with the highest `max_concurrent_tasks_seen` (the first by name on a tie)
fn peak(stats: &Value) -> Option<(String, u64)> {
    stats["max_concurrent_tasks_seen"]
        .as_object()?
        .iter()
        .filter_map(|(p, n)| n.as_u64().map(|n| (p.clone(), n)))
        .fold(None, |best: Option<(String, u64)>, (p, n)| match best {
            Some((_, m)) if m >= n => best,
            Some(_) | None => Some((p, n)),
        })
}

/// Fills a report's simulator figures from `GET /__sim/stats`
fn read_stats(report: &mut FleetReport, stats: &Value) {
    report.rate_limited_by_cap = sum_over_providers(&stats["rate_limited_by_cap"]);
    report.injected_429 = injected(stats, "submit_429");
    report.duplicate_submissions = stats["duplicate_submissions"].as_u64().unwrap_or(0);
    report.regenerations = stats["regenerations"].as_u64().unwrap_or(0);
    report.peak = peak(stats);
}

/// Renders in the order they are started: the creators' renders interleaved, so neither
/// creator's renders all reach the Worker first; each with a number unique in the run
fn interleave(creators: &[Creator]) -> Vec<(usize, usize)> {
    let most = creators.iter().map(|c| c.renders).max().unwrap_or(0);
    let mut order = Vec::new();
    for round in 0..most {
        for (c, creator) in creators.iter().enumerate() {
            if round < creator.renders {
                order.push((c, order.len()));
            }
        }
    }
    order
}

/// Runs started by this process so far (numbers each run's texts apart)
static RUNS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Resets the simulator, sets `config`, starts every creator's renders of `shots` shots at once
/// and waits for all of them (each at most `timeout`)
pub async fn run(
    worker_url: &str,
    sim_url: &str,
    config: &Value,
    creators: &[Creator],
    shots: usize,
    timeout: Duration,
) -> Result<FleetReport, String> {
    let sim = Client::new(sim_url, None);
    for (path, body) in [("/__sim/reset", &json!({})), ("/__sim/config", config)] {
        let r = sim.post(path, body).await.map_err(|e| e.to_string())?;
        if !r.status.is_success() {
            return Err(format!("{path}: {}", r.text));
        }
    }
    let clients: Vec<(&Creator, Client)> = creators
        .iter()
        .map(|c| (c, Client::new(worker_url, Some(&c.key))))
        .collect();
    let order: Vec<(&Creator, &Client, usize)> = interleave(creators)
        .into_iter()
        .filter_map(|(c, n)| clients.get(c).map(|(cr, cl)| (*cr, cl, n)))
        .collect();
    // About 50 polls a second in all, whatever the number of renders
    let every = Duration::from_millis(
        u64::try_from(order.len())
            .unwrap_or(u64::MAX)
            .saturating_mul(20)
            .max(100),
    );
    // Each run renders texts no other run of this process rendered: the simulator's media cache
    // is shared between stacks, and a run that found the previous run's media made would look
    // faster than it is.
    let base = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed) * 100_000;
    let started = Instant::now();
    let renders = order.iter().map(|&(creator, client, n)| async move {
        let n = base + n;
        let mut brief = small_render(shots, n);
        brief["project_id"] = json!(format!("proj_fleet_{n}"));
        let id = create(client, &brief).await?;
        let created = started.elapsed();
        let view = wait_for_every(client, &id, timeout, is_terminal, every).await;
        let finished = view.as_ref().ok().map(|_| started.elapsed());
        let timing = Timing {
            tier: creator.tier.clone(),
            created,
            finished,
        };
        Ok::<_, String>((id, timing, view))
    });
    let ended = futures_util::future::join_all(renders).await;
    let mut report = FleetReport {
        elapsed: started.elapsed(),
        ..FleetReport::default()
    };
    for outcome in ended {
        // A refused create means the run is not the one asked for: no figure of it holds.
        let (id, timing, view) = outcome?;
        match view {
            Ok(v) if v["status"] == "succeeded" => report.succeeded += 1,
            Ok(v) => report
                .failed
                .push(format!("{id}: {} {}", v["status"], v["failure"])),
            Err(e) => report.failed.push(format!("{id}: {e}")),
        }
        report.timings.push(timing);
    }
    read_stats(&mut report, &sim_stats(sim_url).await);
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(list: &[u64]) -> Vec<Duration> {
        list.iter().map(|s| Duration::from_secs(*s)).collect()
    }

    #[test]
    fn percentiles_are_nearest_rank_whatever_the_order() {
        let times = secs(&[9, 1, 7, 3, 5, 10, 2, 8, 4, 6]);
        assert_eq!(percentile(&times, 50.0), Some(Duration::from_secs(5)));
        assert_eq!(percentile(&times, 95.0), Some(Duration::from_secs(10)));
        assert_eq!(percentile(&times, 90.0), Some(Duration::from_secs(9)));
        assert_eq!(percentile(&secs(&[4]), 95.0), Some(Duration::from_secs(4)));
        assert_eq!(percentile(&[], 50.0), None);
    }

    fn split(renders: usize) -> Vec<(String, usize)> {
        creators_for(renders)
            .into_iter()
            .map(|c| (c.key, c.renders))
            .collect()
    }

    #[test]
    fn no_creator_gets_more_than_its_tier_admits() {
        let s = |k: &str, n| (k.to_owned(), n);
        assert_eq!(
            split(40),
            [
                s("sk_test_studio", 10),
                s("sk_test_label", 10),
                s("sk_test_demo", 20)
            ]
        );
        assert_eq!(
            split(200),
            [
                s("sk_test_studio", 90),
                s("sk_test_label", 90),
                s("sk_test_demo", 20)
            ]
        );
        assert_eq!(
            split(5),
            [
                s("sk_test_studio", 2),
                s("sk_test_label", 1),
                s("sk_test_demo", 2)
            ]
        );
        assert_eq!(split(1), [s("sk_test_studio", 1)]);
        // 300 asked: every creator full, the rest is not started
        assert_eq!(
            split(300),
            [
                s("sk_test_studio", 100),
                s("sk_test_label", 100),
                s("sk_test_demo", 20)
            ]
        );
        let tiers: Vec<String> = creators_for(40).into_iter().map(|c| c.tier).collect();
        assert_eq!(tiers, ["studio", "studio", "pro"]);
    }

    #[test]
    fn renders_alternate_between_creators_and_are_numbered_once() {
        let creators = [
            Creator {
                key: "a".into(),
                tier: "studio".into(),
                renders: 3,
            },
            Creator {
                key: "b".into(),
                tier: "pro".into(),
                renders: 1,
            },
        ];
        assert_eq!(interleave(&creators), vec![(0, 0), (1, 1), (0, 2), (0, 3)]);
    }

    #[test]
    fn the_config_sets_faults_and_caps_or_clears_them() {
        let capped = sim_config(Some(0.1), Some(4));
        assert_eq!(capped["limits"]["*"]["max_concurrent_tasks"], 4);
        assert_eq!(capped["faults"]["*"]["submit_429"], 0.1);
        let clean = sim_config(None, None);
        assert_eq!(clean["limits"], json!({}));
        assert_eq!(clean["faults"], json!({}));
    }

    #[test]
    fn simulator_counters_are_summed_over_providers() {
        let stats = json!({
            "rate_limited_by_cap": {"kling": 3, "bfl": 4},
            "faults_injected": {
                "kling": {"submit_429": 2, "submit_5xx": 9},
                "bfl": {"submit_5xx": 1},
                "veo": {"submit_429": 5}
            },
            "duplicate_submissions": 1,
            "max_concurrent_tasks_seen": {"bfl": 4, "elevenlabs": 2, "kling": 4, "veo": 3}
        });
        let mut report = FleetReport::default();
        read_stats(&mut report, &stats);
        assert_eq!(report.rate_limited_by_cap, 7);
        assert_eq!(report.injected_429, 7);
        assert_eq!(report.duplicate_submissions, 1);
        assert_eq!(report.peak, Some(("bfl".into(), 4)));
        read_stats(&mut report, &json!({}));
        assert_eq!((report.rate_limited_by_cap, report.peak), (0, None));
    }

    #[test]
    fn finish_times_are_per_tier_and_skip_renders_that_timed_out() {
        let timing = |tier: &str, created: u64, finished: Option<u64>| Timing {
            tier: tier.into(),
            created: Duration::from_secs(created),
            finished: finished.map(Duration::from_secs),
        };
        let report = FleetReport {
            succeeded: 3,
            elapsed: Duration::from_secs(120),
            timings: vec![
                timing("studio", 1, Some(50)),
                timing("pro", 2, Some(70)),
                timing("studio", 3, None),
                timing("studio", 4, Some(90)),
            ],
            ..FleetReport::default()
        };
        assert_eq!(report.finish_times("studio"), secs(&[50, 90]));
        assert_eq!(report.finish_times("pro"), secs(&[70]));
        assert_eq!(report.render_times(), secs(&[49, 68, 86]));
        assert!((report.jobs_per_minute() - 1.5).abs() < 1e-9);
    }
}
