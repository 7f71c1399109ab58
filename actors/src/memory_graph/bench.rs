//! Synthetic history for local measurement (`POST /__bench/seed`, only with `ENVIRONMENT=dev`).
//!
//! Renders of twelve shots with varied prompts (so embeddings spread as real ones do), every shot
//! kind and the video models of the registry, each render with reported outcomes, render-level
//! and for a third of its shots: the same shape of data `build_context` scans in production.

use studio::brief::{OutcomeTarget, ShotKind};
use studio::ids::{JobId, ModelId, ShotId};
use studio::memory::{FinishedRender, FinishedShot, OutcomeReport, ShotReport};
use studio::time::Timestamp;

/// Shots per synthetic render
pub(crate) const SHOTS_PER_RENDER: usize = 12;
/// Most shots one seeding request adds
pub(crate) const MAX_SEED_SHOTS: usize = 20_000;

const SUBJECTS: [&str; 16] = [
    "an old fisherman",
    "a lighthouse keeper",
    "a herring gull",
    "two children",
    "a trawler",
    "a red fox",
    "a cyclist",
    "a street vendor",
    "a violinist",
    "a mountain goat",
    "a nurse",
    "a delivery drone",
    "a chef",
    "a surfer",
    "a crowd of commuters",
    "a stray dog",
];
const ACTIONS: [&str; 12] = [
    "walking slowly along",
    "running across",
    "staring out over",
    "repairing a net beside",
    "laughing at",
    "waiting in the rain at",
    "climbing",
    "sleeping next to",
    "arguing at",
    "dancing on",
    "painting",
    "hiding behind",
];
const PLACES: [&str; 14] = [
    "a basalt headland",
    "a neon-lit market",
    "the harbour wall",
    "a snowy ridge",
    "a kitchen at dawn",
    "a crowded platform",
    "a desert highway",
    "a rooftop garden",
    "a storm-lashed pier",
    "a quiet library",
    "a forest clearing",
    "a concrete skate park",
    "the lamp room",
    "a flooded street",
];
const LIGHT: [&str; 8] = [
    "golden hour",
    "blue hour",
    "harsh noon sun",
    "candlelight",
    "fog",
    "sodium streetlights",
    "overcast",
    "lightning flashes",
];
const MODELS: [&str; 8] = [
    "veo-3",
    "sora-2",
    "kling-2.1",
    "runway-gen4-turbo",
    "pika-2.2",
    "luma-ray-2",
    "seedance-1-pro",
    "hailuo-02",
];

/// A small deterministic mixer (splitmix64), so every index gets its own combination
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

fn pick<'a>(table: &[&'a str], h: u64) -> &'a str {
    let len = table.len().max(1) as u64;
    table
        .get(usize::try_from(h % len).unwrap_or(0))
        .copied()
        .unwrap_or_default()
}

/// The `index`-th synthetic render (`index` counts renders already seeded, so seeding twice adds)
pub(crate) fn render(
    index: usize,
    shots: usize,
    finished_at: Timestamp,
) -> (FinishedRender, OutcomeReport) {
    let base = index as u64 * SHOTS_PER_RENDER as u64;
    let job = JobId(format!("rnd_{:032x}", (0xbe7c_u128 << 112) | index as u128));
    let finished = FinishedRender {
        job,
        format: "short_doc".into(),
        outcome_target: OutcomeTarget::WatchTime,
        cost_usd: 9.5,
        finished_at,
        shots: (0..shots)
            .map(|i| {
                let h = mix(base + i as u64);
                let kind = ShotKind::ALL
                    .get(usize::try_from(h % 6).unwrap_or(0))
                    .copied()
                    .unwrap_or(ShotKind::BRoll);
                FinishedShot {
                    shot: ShotId(format!("s{:02}", i + 1)),
                    kind,
                    model: ModelId(pick(&MODELS, h >> 8).to_owned()),
                    prompt: format!(
                        "{} {} {}, {}",
                        pick(&SUBJECTS, h >> 16),
                        pick(&ACTIONS, h >> 24),
                        pick(&PLACES, h >> 32),
                        pick(&LIGHT, h >> 40)
                    ),
                    duration_s: 3.0 + (h >> 48) as f64 % 5.0,
                    hero: i == 0,
                    cast: Vec::new(),
                }
            })
            .collect(),
    };
    let h = mix(!base);
    let report = OutcomeReport {
        views: Some(500 + h % 50_000),
        avg_watch_s: Some(10.0 + (h >> 16) as f64 % 40.0),
        retention_3s: Some(0.3 + ((h >> 24) % 60) as f64 / 100.0),
        clicks: Some(h % 900),
        conversions: Some(h % 40),
        shots: finished
            .shots
            .iter()
            .step_by(3)
            .enumerate()
            .map(|(i, s)| ShotReport {
                shot_id: s.shot.clone(),
                retention_3s: Some(0.2 + ((h >> (i % 8 * 4)) % 75) as f64 / 100.0),
                conversions: Some((h >> 32) % 5),
            })
            .collect(),
    };
    (finished, report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use studio::memory::{MemoryGraph, NgramEmbedder, record_outcomes, record_render};

    #[test]
    fn synthetic_renders_record_with_distinct_ids_and_varied_prompts() {
        let mut g = MemoryGraph::new("bench".into());
        let embedder = NgramEmbedder::default();
        for i in 0..10 {
            let (r, report) = render(i, SHOTS_PER_RENDER, Timestamp(1_800_000_000_000));
            assert!(record_render(&mut g, &r, &embedder).is_ok());
            assert!(record_outcomes(&mut g, &r.job, &report).is_ok());
        }
        assert_eq!(g.renders.len(), 10);
        assert_eq!(g.shots.len(), 120);
        let prompts: std::collections::BTreeSet<&str> =
            g.shots.iter().map(|s| s.prompt.as_str()).collect();
        assert!(prompts.len() > 100, "{} distinct prompts", prompts.len());
        assert!(g.shots.iter().all(|s| s.embedding.is_some()));
    }
}
