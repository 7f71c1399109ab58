//! What a render would take with no overhead at all: the latencies the simulator is set to, and
//! the makespan of an ideal schedule of a job's DAG under those latencies and the job's
//! per-model concurrency limits. The end-to-end benchmarks (`bench`, `bench_headline`) divide
//! a measured wall time by it.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use studio::providers::ProviderKind;
use studio::routing::Registry;

use crate::Client;

/// The simulator's latency per provider, set from the registry's medians times `scale`, and
/// what the ideal schedule needs to know about each model
#[derive(Debug, Clone, PartialEq)]
pub struct SimLatencies {
    /// The factor applied to the registry's medians
    pub scale: f64,
    /// Per simulated provider (`ProviderKind::as_str`), ms, as sent to `POST /__sim/config`
    pub by_provider: BTreeMap<String, u64>,
    /// Per model id: the latency its stages take in this run, ms. For a simulated provider that
    /// is the provider's latency (the simulator has one per provider, whichever model is
    /// asked); for our own assembler, not simulated, the registry median times `scale`
    pub by_model: BTreeMap<String, f64>,
    /// Per model id: the registry's per-job concurrency limit
    pub concurrency: BTreeMap<String, u32>,
}

impl SimLatencies {
    /// Every provider's latency at its model's registry median times `scale`. The simulator
    /// has one latency per provider; where the registry has several models at one provider
    /// (Veo 3 and 3.1, FLUX through BFL twice, ElevenLabs speech and music) the last in
    /// registry order sets it, and the ideal schedule uses that same value for all of them.
    /// Our assembler is not simulated (the stack runs the real one), so it is left out of the
    /// simulator's table, which refuses a provider it does not know.
    pub fn from_registry(registry: &Registry, scale: f64) -> Self {
        let mut by_provider = BTreeMap::new();
        for m in &registry.models {
            if m.provider != ProviderKind::Assembler {
                let ms = (m.latency_p50_ms as f64 * scale) as u64;
                by_provider.insert(m.provider.as_str().to_owned(), ms);
            }
        }
        let mut by_model = BTreeMap::new();
        let mut concurrency = BTreeMap::new();
        for m in &registry.models {
            let ms = by_provider
                .get(m.provider.as_str())
                .map_or(m.latency_p50_ms as f64 * scale, |&p| p as f64);
            by_model.insert(m.id.as_str().to_owned(), ms);
            concurrency.insert(m.id.as_str().to_owned(), m.concurrency);
        }
        Self {
            scale,
            by_provider,
            by_model,
            concurrency,
        }
    }

    /// The registry this build ships, at `scale`
    pub fn builtin(scale: f64) -> Self {
        Self::from_registry(&Registry::builtin(), scale)
    }

    /// Sets the simulator's latencies; an error when it refuses them (a refused patch changes
    /// nothing, so the run would silently go at the simulator's default latency)
    pub async fn apply(&self, sim: &Client) -> Result<(), String> {
        let reply = sim
            .post("/__sim/config", &json!({ "latency_ms": self.by_provider }))
            .await
            .map_err(|e| e.to_string())?;
        if reply.status.is_success() {
            Ok(())
        } else {
            Err(format!(
                "the simulator refused its latencies: {} {}",
                reply.status, reply.text
            ))
        }
    }

    /// The ideal makespan of `stages` (a support view's `stages`) under these latencies and
    /// limits, ms
    pub fn ideal_ms(&self, stages: &[Value]) -> f64 {
        ideal_makespan(stages, &self.by_model, &self.concurrency)
    }

    /// The makespan of `stages` under the same limits with no time between them: each stage
    /// takes what it took in the run (its `seconds`, first submit to done), ms. What the run's
    /// wall time exceeds it by was spent between stages; what it exceeds the ideal by, inside
    /// them (the provider slower than its latency, the result's delivery and storing).
    pub fn as_run_ms(&self, stages: &[Value]) -> f64 {
        makespan_by(
            stages,
            |stage| stage["seconds"].as_f64().unwrap_or(0.0) * 1000.0,
            &self.concurrency,
        )
    }
}

/// Zero-overhead makespan of the DAG: stages start the moment their inputs are done and a slot
/// of their model is free, in plan order, and take exactly their model's latency (ms). A model
/// missing from `concurrency` gets one slot, from `latency_ms` no time.
pub fn ideal_makespan(
    stages: &[Value],
    latency_ms: &BTreeMap<String, f64>,
    concurrency: &BTreeMap<String, u32>,
) -> f64 {
    makespan_by(
        stages,
        |stage| {
            let model = stage["model"].as_str().unwrap_or("");
            latency_ms.get(model).copied().unwrap_or(0.0)
        },
        concurrency,
    )
}

/// As [`ideal_makespan`], each stage taking `duration_ms(stage)`
fn makespan_by(
    stages: &[Value],
    duration_ms: impl Fn(&Value) -> f64,
    concurrency: &BTreeMap<String, u32>,
) -> f64 {
    let n = stages.len();
    let index: BTreeMap<&str, usize> = stages
        .iter()
        .enumerate()
        .filter_map(|(i, s)| s["id"].as_str().map(|id| (id, i)))
        .collect();
    let mut finish = vec![f64::INFINITY; n];
    let mut started = vec![false; n];
    let mut running: Vec<(f64, String)> = Vec::new();
    let mut t = 0.0;
    loop {
        // Start every ready stage in plan order while its model has a free slot.
        for (i, stage) in stages.iter().enumerate() {
            if started[i] {
                continue;
            }
            let deps_done = stage["deps"].as_array().into_iter().flatten().all(|d| {
                d.as_str()
                    .and_then(|d| index.get(d))
                    .is_some_and(|&j| finish[j] <= t)
            });
            let model = stage["model"].as_str().unwrap_or("").to_owned();
            let busy = running
                .iter()
                .filter(|(end, m)| *m == model && *end > t)
                .count() as u32;
            if deps_done && busy < *concurrency.get(&model).unwrap_or(&1) {
                started[i] = true;
                finish[i] = t + duration_ms(stage);
                running.push((finish[i], model));
            }
        }
        match running
            .iter()
            .map(|(end, _)| *end)
            .filter(|end| *end > t)
            .min_by(f64::total_cmp)
        {
            Some(next) => t = next,
            None => break,
        }
    }
    finish
        .iter()
        .copied()
        .filter(|f| f.is_finite())
        .fold(0.0, f64::max)
}

/// What raising one model's concurrency limit (to as many slots as the DAG has stages) takes
/// off the ideal makespan
#[derive(Debug, Clone, PartialEq)]
pub struct LimitEffect {
    /// The model
    pub model: String,
    /// Its stages in the DAG
    pub stages: usize,
    /// Its per-job limit
    pub limit: u32,
    /// The ideal makespan with the limit raised, ms
    pub raised_ms: f64,
}

/// For every model of the DAG, the ideal makespan with only that model's limit raised, the
/// largest reduction first: the model whose limit binds the schedule leads
pub fn limit_effects(
    stages: &[Value],
    latency_ms: &BTreeMap<String, f64>,
    concurrency: &BTreeMap<String, u32>,
) -> Vec<LimitEffect> {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for s in stages {
        *counts
            .entry(s["model"].as_str().unwrap_or("").to_owned())
            .or_default() += 1;
    }
    let all = u32::try_from(stages.len()).unwrap_or(u32::MAX).max(1);
    let mut effects: Vec<LimitEffect> = counts
        .into_iter()
        .map(|(model, n)| {
            let mut raised = concurrency.clone();
            raised.insert(model.clone(), all);
            LimitEffect {
                limit: *concurrency.get(&model).unwrap_or(&1),
                raised_ms: ideal_makespan(stages, latency_ms, &raised),
                model,
                stages: n,
            }
        })
        .collect();
    effects.sort_by(|a, b| a.raised_ms.total_cmp(&b.raised_ms));
    effects
}

/// The ideal makespan with every model's limit raised: the DAG's critical path alone, ms
pub fn unlimited_makespan(stages: &[Value], latency_ms: &BTreeMap<String, f64>) -> f64 {
    let all = u32::try_from(stages.len()).unwrap_or(u32::MAX).max(1);
    let unlimited: BTreeMap<String, u32> = latency_ms.keys().map(|m| (m.clone(), all)).collect();
    ideal_makespan(stages, latency_ms, &unlimited)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stage(id: &str, model: &str, deps: &[&str]) -> Value {
        json!({ "id": id, "model": model, "deps": deps })
    }

    fn maps(entries: &[(&str, f64, u32)]) -> (BTreeMap<String, f64>, BTreeMap<String, u32>) {
        (
            entries
                .iter()
                .map(|(m, l, _)| ((*m).to_owned(), *l))
                .collect(),
            entries
                .iter()
                .map(|(m, _, c)| ((*m).to_owned(), *c))
                .collect(),
        )
    }

    #[test]
    fn a_chain_takes_the_sum_and_a_limit_serialises_siblings() {
        // Four keyframes (10 each, 2 slots) then one video each (100, 1 slot), then assembly.
        let mut stages = Vec::new();
        for i in 0..4 {
            stages.push(stage(&format!("k{i}"), "img", &[]));
            stages.push(stage(&format!("v{i}"), "vid", &[&format!("k{i}")]));
        }
        stages.push(stage("a", "asm", &["v0", "v1", "v2", "v3"]));
        let (lat, conc) = maps(&[("img", 10.0, 2), ("vid", 100.0, 1), ("asm", 5.0, 1)]);
        assert_eq!(ideal_makespan(&stages, &lat, &conc), 10.0 + 400.0 + 5.0);
        assert_eq!(unlimited_makespan(&stages, &lat), 115.0);
        let effects = limit_effects(&stages, &lat, &conc);
        assert_eq!(effects[0].model, "vid");
        assert_eq!((effects[0].stages, effects[0].limit), (4, 1));
        // Unbounded videos start as their keyframes land: 2 at 10, 2 at 20.
        assert_eq!(effects[0].raised_ms, 20.0 + 100.0 + 5.0);
    }

    #[test]
    fn as_run_each_stage_takes_what_it_took_under_the_same_limits() {
        // Two keyframes of 2 s and 3 s on one slot, then a video of 4 s after the first:
        // the slot serialises the keyframes, the video starts when its own keyframe is done.
        let mut stages = vec![
            stage("k0", "img", &[]),
            stage("k1", "img", &[]),
            stage("v0", "vid", &["k0"]),
        ];
        for (s, secs) in stages.iter_mut().zip([2.0, 3.0, 4.0]) {
            s["seconds"] = json!(secs);
        }
        let (_, conc) = maps(&[("img", 0.0, 1), ("vid", 0.0, 1)]);
        let lat = SimLatencies {
            concurrency: conc,
            ..SimLatencies::builtin(1.0)
        };
        assert_eq!(lat.as_run_ms(&stages), 6000.0);
        // A stage the view gives no time takes none.
        stages[2]["seconds"] = Value::Null;
        assert_eq!(lat.as_run_ms(&stages), 5000.0);
    }

    #[test]
    fn the_simulator_gets_one_latency_per_provider_and_never_our_assembler() {
        let lat = SimLatencies::builtin(0.5);
        assert!(!lat.by_provider.contains_key("assembler"));
        assert!(lat.by_provider.contains_key("shotstack"));
        let registry = Registry::builtin();
        for m in &registry.models {
            let ms = lat.by_model[m.id.as_str()];
            match lat.by_provider.get(m.provider.as_str()) {
                Some(&p) => assert_eq!(ms, p as f64, "{}", m.id.as_str()),
                None => assert_eq!(ms, m.latency_p50_ms as f64 * 0.5),
            }
        }
    }
}
