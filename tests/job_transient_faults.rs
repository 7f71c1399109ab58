//! Transient faults never fail a render while its deadline allows: long runs of 5xx, 429,
//! lost calls, tasks that never finish and expired output URLs, in virtual time, end in a
//! finished render; only permanent refusals, the deadline or the budget end one as failed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeSet;

use common::{Fault, World, created, small_brief, synthetic_brief};
use studio::ids::ModelId;
use studio::job::{BACKOFF_MAX, Effect, JobStatus, StageState};
use studio::providers::ProviderError;
use studio::time::Millis;

fn transient(n: usize) -> Fault {
    match n % 6 {
        0 => Fault::SubmitError(ProviderError::Transient {
            reason: "http 500".into(),
        }),
        1 => Fault::SubmitError(ProviderError::RateLimited {
            retry_after: Some(Millis::from_secs(3)),
        }),
        2 => Fault::FailStatus {
            reason: "internal error".into(),
            retryable: true,
        },
        3 => Fault::BadOutput,
        4 => Fault::Lost,
        _ => Fault::Silent,
    }
}

/// SplitMix64, so the fault script is a function of the seed
fn next(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A stage's routing candidates, best first, from a fault-free run of the same job
fn candidates_of(brief: &studio::brief::Brief, seed: u64, stage: &str) -> Vec<ModelId> {
    let mut probe = World::with(created(brief.clone(), seed, false), |_| {});
    probe.run();
    probe.candidates(stage)
}

#[test]
fn the_only_image_model_failing_again_and_again_still_makes_the_keyframe() {
    // flux-1.1-pro is the only image model: 12 expired outputs and 8 5xx in a row used to fail
    // the job after its third failure.
    let faults: Vec<Fault> = (0..20)
        .map(|i| {
            if i % 5 == 4 {
                transient(0)
            } else {
                Fault::BadOutput
            }
        })
        .collect();
    let mut w = World::with(created(small_brief(2), 7, false), |f| {
        f.fault_stage("s01.keyframe", faults)
    });
    w.run();
    assert_eq!(
        w.status(),
        JobStatus::Succeeded,
        "{:?}",
        w.job.view().failure
    );
    let submits = w.submits_of("s01.keyframe");
    assert_eq!(submits.len(), 21, "20 failures, then the one that worked");
    // Every retry is a new attempt (a new generation, new idempotency key), never a second
    // download of the dead URL.
    let keys: BTreeSet<&str> = submits.iter().map(|s| s.3.as_str()).collect();
    assert_eq!(keys.len(), 21);
    let stores: Vec<&String> = w
        .effects
        .iter()
        .filter_map(|(_, e)| match e {
            Effect::StoreArtifact { stage, key, .. } if stage.as_str() == "s01.keyframe" => {
                Some(key)
            }
            _ => None,
        })
        .collect();
    let distinct: BTreeSet<&&String> = stores.iter().collect();
    assert_eq!(distinct.len(), stores.len(), "no key copied twice");
    // The waits grew and stayed capped.
    let gaps: Vec<u64> = submits.windows(2).map(|p| p[1].0.since(p[0].0).0).collect();
    assert!(
        gaps.iter().all(|g| *g <= BACKOFF_MAX.0 + 60_000),
        "{gaps:?}"
    );
    w.check();
    w.assert_replays();
}

#[test]
fn after_every_candidate_failed_the_stage_comes_back_to_the_first() {
    // Eight candidates, three tries each at 1-2 minutes a try: a day's deadline.
    let mut brief = small_brief(1);
    brief.deadline_s = 86_400;
    let candidates = candidates_of(&brief, 3, "s01.motion");
    let mut w = World::with(created(brief, 3, false), |_| {});
    assert!(candidates.len() >= 2, "{candidates:?}");
    // Three failures on each candidate, then two more: the list wraps to the first.
    let n = 3 * candidates.len() + 2;
    w.fake
        .fault_stage("s01.motion", (0..n).map(|_| transient(2)));
    w.run();
    assert_eq!(
        w.status(),
        JobStatus::Succeeded,
        "{:?}",
        w.job.view().failure
    );
    let models: Vec<_> = w
        .submits_of("s01.motion")
        .into_iter()
        .map(|s| s.2)
        .collect();
    assert_eq!(models.len(), n + 1);
    for (i, c) in candidates.iter().enumerate() {
        assert_eq!(&models[3 * i..3 * i + 3], [c.clone(), c.clone(), c.clone()]);
    }
    assert_eq!(
        &models[3 * candidates.len()..],
        [
            candidates[0].clone(),
            candidates[0].clone(),
            candidates[0].clone()
        ]
    );
    w.check();
}

#[test]
fn long_random_runs_of_transient_faults_end_in_success() {
    for seed in [1u64, 2, 3, 4, 5] {
        let brief = synthetic_brief(12, 500.0);
        let mut rng = seed;
        let mut w = World::with(created(brief, seed, false), |_| {});
        // Each stage's submits fail at 40%, each fault one of the six transient kinds.
        let mut faulted = 0;
        let stages: Vec<String> = {
            let mut probe = World::with(created(synthetic_brief(12, 500.0), seed, false), |_| {});
            probe.run();
            probe
                .job
                .stages()
                .iter()
                .map(|r| r.spec.id.to_string())
                .collect()
        };
        for stage in &stages {
            let mut faults = Vec::new();
            while next(&mut rng) % 100 < 40 {
                faults.push(transient(next(&mut rng) as usize));
            }
            faulted += faults.len();
            w.fake.fault_stage(stage, faults);
        }
        assert!(faulted > 10, "seed {seed}: {faulted} faults");
        w.run();
        assert_eq!(
            w.status(),
            JobStatus::Succeeded,
            "seed {seed}: {:?}",
            w.job.view().failure
        );
        for row in w.job.stages() {
            assert!(
                matches!(row.state, StageState::Done { .. }),
                "{}",
                row.spec.id
            );
        }
        w.check();
        w.assert_replays();
    }
}

#[test]
fn once_the_deadline_has_passed_a_used_up_list_fails_the_job() {
    let mut brief = small_brief(1);
    brief.deadline_s = 600;
    let mut w = World::with(created(brief, 9, false), |f| {
        f.fault_stage("s01.keyframe", (0..500).map(|_| transient(0)))
    });
    w.run();
    assert_eq!(w.status(), JobStatus::Failed);
    let failure = w.job.view().failure.unwrap();
    assert!(
        failure.starts_with("s01.keyframe: no model left to try before the deadline."),
        "{failure}"
    );
    let view = w.job.view();
    let failed_at = view.history.last().unwrap().at;
    let created_at = view.history.first().unwrap().at;
    assert!(failed_at.since(created_at) >= Millis::from_secs(600));
    // It kept trying until then.
    assert!(w.submits_of("s01.keyframe").len() > 10);
}

#[test]
fn a_moderation_refusal_is_not_retried_on_the_model_that_refused() {
    // The first candidate refuses for good, the others fail transiently and then work: when the
    // list wraps, it skips the refusing model.
    let candidates = candidates_of(&small_brief(1), 5, "s01.motion");
    let mut w = World::with(created(small_brief(1), 5, false), |_| {});
    let rest = candidates.len() - 1;
    let mut faults = vec![Fault::Moderate];
    faults.extend((0..3 * rest + 1).map(|_| transient(0)));
    w.fake.fault_stage("s01.motion", faults);
    w.run();
    assert_eq!(
        w.status(),
        JobStatus::Succeeded,
        "{:?}",
        w.job.view().failure
    );
    let models: Vec<_> = w
        .submits_of("s01.motion")
        .into_iter()
        .map(|s| s.2)
        .collect();
    assert_eq!(models[0], candidates[0]);
    assert!(
        models[1..].iter().all(|m| m != &candidates[0]),
        "{models:?}"
    );
    assert_eq!(models.last(), Some(&candidates[1]));
    assert_eq!(w.stage("s01.motion").refused, vec![candidates[0].clone()]);
}
