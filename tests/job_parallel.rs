//! Every stage whose inputs are ready is submitted at once, up to each model's concurrency.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;

use common::{World, example_brief, synthetic_brief};
use studio::ids::ModelId;
use studio::job::{Effect, Input, JobStatus};
use studio::memory::MemoryContext;

#[test]
fn all_ready_stages_go_out_in_the_planning_step_up_to_concurrency() {
    let mut w = World::manual(example_brief());
    let (fx, _) = w.poke(Input::MemoryContext {
        context: MemoryContext::default(),
    });
    let mut per_model: BTreeMap<ModelId, Vec<String>> = BTreeMap::new();
    for e in &fx {
        if let Effect::Submit { stage, model, .. } = e {
            per_model
                .entry(model.clone())
                .or_default()
                .push(stage.to_string());
        }
    }
    let registry = &w.job.spec().registry;
    let keyframe_model = w.candidates("s01.keyframe")[0].clone();
    let limit = registry.get(&keyframe_model).unwrap().concurrency as usize;
    let keyframes: Vec<_> = per_model[&keyframe_model]
        .iter()
        .filter(|s| s.ends_with(".keyframe"))
        .cloned()
        .collect();
    assert_eq!(keyframes.len(), limit.min(12));
    // In plan order: the first `limit` shots.
    let expected: Vec<_> = (1..=limit.min(12))
        .map(|i| format!("s{i:02}.keyframe"))
        .collect();
    assert_eq!(keyframes, expected);
    // Speech and music do not wait for anything either.
    for s in ["s04.dialogue", "s08.dialogue", "voiceover", "score"] {
        assert!(
            fx.iter()
                .any(|e| matches!(e, Effect::Submit { stage, .. } if stage.as_str() == s)),
            "{s} submitted"
        );
    }
    // No motion before its keyframe.
    assert!(
        !fx.iter().any(
            |e| matches!(e, Effect::Submit { stage, .. } if stage.as_str().ends_with(".motion"))
        )
    );
}

#[test]
fn a_big_job_keeps_every_model_at_its_limit() {
    let mut w = World::new(synthetic_brief(40, 500.0));
    w.checks = false;
    let mut peak: BTreeMap<ModelId, u32> = BTreeMap::new();
    while w.step() {
        let mut now: BTreeMap<ModelId, u32> = BTreeMap::new();
        for row in w.job.stages().iter() {
            if let Some(m) = row.state.slot() {
                *now.entry(m.clone()).or_default() += 1;
            }
        }
        for (m, n) in now {
            let p = peak.entry(m).or_default();
            *p = (*p).max(n);
        }
    }
    assert_eq!(
        w.status(),
        JobStatus::Succeeded,
        "{:?}",
        w.job.view().failure
    );
    let registry = &w.job.spec().registry;
    for (m, p) in &peak {
        let limit = registry.get(m).unwrap().concurrency;
        assert!(*p <= limit, "{m}: {p} > {limit}");
    }
    let keyframe_model = w.candidates("s0001.keyframe")[0].clone();
    assert_eq!(
        peak[&keyframe_model],
        registry.get(&keyframe_model).unwrap().concurrency,
        "saturated"
    );
    w.check();
    w.assert_replays();
}

#[test]
fn cancelling_mid_flight_stops_everything() {
    let mut w = World::new(example_brief());
    w.run_until(|w| w.job.view().progress.done >= 6);
    let running: Vec<_> = w
        .job
        .stages()
        .iter()
        .filter(|r| matches!(r.state, studio::job::StageState::Running { .. }))
        .map(|r| r.spec.id.clone())
        .collect();
    assert!(!running.is_empty());
    let mark = w.effects.len();
    let fx = w
        .deliver(
            studio::journal::Actor::App {
                by: "sk_test_demo".into(),
            },
            Input::Cancel {
                by: "sk_test_demo".into(),
            },
        )
        .unwrap();
    for id in &running {
        assert!(
            fx.iter()
                .any(|e| matches!(e, Effect::CancelTask { stage, .. } if stage == id)),
            "{id} cancelled at the provider"
        );
    }
    // Late callbacks of the cancelled tasks still arrive; nothing more is submitted.
    w.run();
    assert_eq!(w.status(), JobStatus::Cancelled);
    let after = &w.effects[mark..];
    assert!(!after.iter().any(|(_, e)| matches!(
        e,
        Effect::Submit { .. } | Effect::StoreArtifact { .. } | Effect::Poll { .. }
    )));
    assert!(w.inbox.is_empty() && w.job.next_deadline().is_none());
    assert_eq!(w.job.view().progress.running, 0);
    w.assert_replays();
}
