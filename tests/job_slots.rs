//! A gated job (`fleet`) asks its providers' gates for every submit slot and gives each back,
//! with what happened, when the attempt ends.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::fake::Fault;
use common::{World, created, small_brief};
use studio::api::tier_limits::Tier;
use studio::fleet::gate::{GateConfig, ProviderLimits};
use studio::ids::{Attempt, ModelId, StageId};
use studio::job::{
    Effect, Input, JobStatus, SLOT_ASK_AGAIN, SPILL_AHEAD, SPILL_QUALITY, SlotOutcome, StageState,
};
use studio::journal::Actor;
use studio::providers::{ProviderError, ProviderKind};
use studio::routing::Registry;
use studio::time::Millis;

fn gated(shots: usize, setup: impl FnOnce(&mut common::fake::Fake)) -> World {
    let mut c = created(small_brief(shots), 42, true);
    c.fleet = Some(Tier::Pro);
    // Version 6: every capability has a second model to fall back to.
    c.registry = Registry::builtin();
    World::with(c, setup)
}

fn provider_of(w: &World, model: &ModelId) -> ProviderKind {
    w.job.spec().registry.get(model).unwrap().provider
}

#[test]
fn every_submit_waits_for_a_grant_and_every_slot_is_given_back_once() {
    let mut w = gated(3, |_| {});
    w.run();
    assert_eq!(
        w.status(),
        JobStatus::Succeeded,
        "{:?}",
        w.job.view().failure
    );
    let submits = w.fake.submit_calls.clone();
    assert!(!submits.is_empty());
    // Each submitted attempt asked first, and gave its slot back exactly once, as a success.
    for (stage, attempt, model, _) in &submits {
        assert!(
            w.fake
                .gates
                .asked
                .iter()
                .any(|(s, a, m)| s == stage && a == attempt && m == model),
            "{stage} attempt {attempt} submitted without asking"
        );
        let released: Vec<_> = w
            .fake
            .gates
            .released
            .iter()
            .filter(|(s, a, _, _)| s == stage && a == attempt)
            .collect();
        assert_eq!(released.len(), 1, "{stage}: {released:?}");
        assert!(
            matches!(released[0].3, SlotOutcome::Succeeded { latency_ms } if latency_ms > 0),
            "{stage}: {:?}",
            released[0].3
        );
    }
    assert!(
        w.fake.gates.held.values().all(Vec::is_empty),
        "a slot leaked"
    );
}

#[test]
fn a_tight_gate_is_never_exceeded_and_the_job_still_finishes() {
    let mut w = gated(6, |f| {
        for p in ProviderKind::ALL {
            f.gates.limit.insert(p, 1);
        }
    });
    // The job's own limits alone would put several keyframes at once on one provider.
    w.run();
    assert_eq!(
        w.status(),
        JobStatus::Succeeded,
        "{:?}",
        w.job.view().failure
    );
    assert!(
        w.fake.gates.peak.values().all(|&n| n == 1),
        "{:?}",
        w.fake.gates.peak
    );
    // Somebody waited, and the wait was visible.
    assert!(!w.fake.gates.waiting.is_empty());
}

#[test]
fn a_waiting_stage_says_so_in_both_views() {
    let mut w = gated(6, |f| {
        for p in ProviderKind::ALL {
            f.gates.limit.insert(p, 1);
        }
    });
    let found = w.run_until(|w| {
        w.job
            .stages()
            .iter()
            .any(|r| matches!(&r.state, StageState::Ready { slot: Some(s), .. } if s.ahead.is_some_and(|n| n >= 1)))
    });
    assert!(found, "no stage waited behind another");
    let support = w.job.view();
    let line = support
        .stages
        .iter()
        .filter_map(|s| s.waiting.clone())
        .find(|l| l.ends_with(" ahead"))
        .expect("the support view says who waits, and behind how many");
    assert!(
        line.starts_with("waiting for a ") && line.contains("ahead"),
        "{line}"
    );
    let creator = w.job.creator_view();
    let said = creator
        .stages
        .iter()
        .find_map(|s| s.waiting.clone())
        .expect("the creator's view says it waits");
    assert!(said.starts_with("Director, "), "{said}");
    for m in &w.job.spec().registry.models {
        assert!(!said.contains(m.id.as_str()), "{said} names {}", m.id);
    }
}

#[test]
fn a_model_whose_breaker_is_open_is_passed_over_for_the_next_candidate() {
    let mut probe = gated(1, |_| {});
    probe.run();
    let first = probe.candidates("s01.keyframe")[0].clone();
    let second = probe.candidates("s01.keyframe")[1].clone();
    let mut w = gated(1, |f| {
        f.gates.refuse.insert(first.clone(), false);
    });
    w.run();
    assert_eq!(
        w.status(),
        JobStatus::Succeeded,
        "{:?}",
        w.job.view().failure
    );
    let keyframe_models: Vec<_> = w
        .fake
        .submit_calls
        .iter()
        .filter(|(s, ..)| s.as_str() == "s01.keyframe")
        .map(|(_, _, m, _)| m.clone())
        .collect();
    assert_eq!(keyframe_models, vec![second]);
    // A breaker is not for good: the stage did not mark the model refused.
    assert!(!w.stage("s01.keyframe").refused.contains(&first));
    // The refusal and its reason are in the journal.
    assert!(w.journal.iter().any(|e| matches!(&e.input, Input::SlotRefused { model, reason, .. } if model == &first && !reason.is_empty())));
}

#[test]
fn a_retired_model_is_refused_for_good() {
    let mut probe = gated(1, |_| {});
    probe.run();
    let first = probe.candidates("s01.keyframe")[0].clone();
    let mut w = gated(1, |f| {
        f.gates.refuse.insert(first.clone(), true);
    });
    w.run();
    assert_eq!(w.status(), JobStatus::Succeeded);
    assert!(w.stage("s01.keyframe").refused.contains(&first));
    assert!(!w.fake.submit_calls.iter().any(|(_, _, m, _)| m == &first));
}

#[test]
fn an_unreachable_gate_is_asked_again_and_nothing_is_submitted_meanwhile() {
    let mut w = gated(1, |f| f.gates.down = true);
    w.advance(Millis::from_secs(65));
    assert!(w.fake.submit_calls.is_empty());
    let asks = w
        .fake
        .gates
        .asked
        .iter()
        .filter(|(s, ..)| s.as_str() == "s01.keyframe")
        .count();
    // Asked at planning, then every SLOT_ASK_AGAIN.
    assert!(asks >= 3, "asked {asks} times");
    assert_eq!(
        w.fake
            .gates
            .asked
            .iter()
            .filter(|(s, ..)| s.as_str() == "s01.keyframe")
            .map(|(_, a, _)| *a)
            .collect::<std::collections::BTreeSet<_>>()
            .len(),
        1,
        "every re-ask is for the same attempt (the same key keeps the place)"
    );
    // A waiter asks again well before the gate would drop it for silence.
    let gate = GateConfig::new(ProviderLimits {
        max_concurrent: 1,
        requests_per_minute: 60,
        burst: 1,
    });
    assert!(SLOT_ASK_AGAIN.0 * 2 <= gate.waiter_ttl.0);
    w.fake.gates.down = false;
    w.run();
    assert_eq!(w.status(), JobStatus::Succeeded);
}

#[test]
fn a_cancelled_job_gives_back_its_places_and_slots_unused() {
    let mut w = gated(6, |f| {
        for p in ProviderKind::ALL {
            f.gates.limit.insert(p, 1);
        }
    });
    w.run_until(|w| !w.fake.gates.waiting.values().all(|q| q.is_empty()));
    let waiting: Vec<(StageId, Attempt, ModelId)> =
        w.fake.gates.waiting.values().flatten().cloned().collect();
    assert!(!waiting.is_empty());
    w.deliver(
        Actor::App {
            by: "sk_test_demo".into(),
        },
        Input::Cancel {
            by: "sk_test_demo".into(),
        },
    )
    .unwrap();
    w.run();
    assert_eq!(w.status(), JobStatus::Cancelled);
    for (stage, attempt, _) in waiting {
        assert!(
            w.fake
                .gates
                .released
                .iter()
                .any(|(s, a, _, o)| s == &stage && *a == attempt && *o == SlotOutcome::Unused),
            "{stage} did not leave the queue"
        );
    }
    assert!(
        w.fake.gates.held.values().all(Vec::is_empty),
        "a slot leaked"
    );
    assert!(w.fake.gates.waiting.values().all(|q| q.is_empty()));
}

#[test]
fn a_throttled_attempt_reports_the_rate_limit_to_the_gate() {
    let mut probe = gated(1, |_| {});
    probe.run();
    let first = probe.candidates("s01.keyframe")[0].clone();
    let provider = provider_of(&probe, &first);
    let mut w = gated(1, |f| {
        f.fault_model(
            &first,
            [Fault::SubmitError(ProviderError::RateLimited {
                retry_after: Some(Millis::from_secs(7)),
            })],
        );
    });
    w.run();
    assert_eq!(w.status(), JobStatus::Succeeded);
    let throttled: Vec<_> = w
        .fake
        .gates
        .released
        .iter()
        .filter(|(_, _, m, _)| m == &first)
        .map(|(_, _, _, o)| *o)
        .collect();
    assert!(
        throttled.contains(&SlotOutcome::RateLimited {
            retry_after_ms: Some(7000)
        }),
        "{provider}: {throttled:?}"
    );
}

#[test]
fn an_ungated_job_never_asks() {
    let mut w = World::new(small_brief(2));
    w.run();
    assert_eq!(w.status(), JobStatus::Succeeded);
    assert!(w.fake.gates.asked.is_empty());
    assert!(
        !w.effects
            .iter()
            .any(|(_, e)| matches!(e, Effect::AcquireSlot { .. } | Effect::ReleaseSlot { .. }))
    );
}

/// The model a stage waits on at its gate, and the attempt the slot is for
fn waiting_on(w: &World, stage: &str) -> Option<(ModelId, Attempt)> {
    w.job
        .stage(&StageId(stage.into()))
        .and_then(|r| match &r.state {
            StageState::Ready {
                model,
                slot: Some(wait),
                ..
            } => Some((model.clone(), wait.attempt)),
            _ => None,
        })
}

#[test]
fn a_long_line_at_the_first_choice_sends_half_the_stages_to_an_equal_model_elsewhere_once() {
    // BFL grants nothing: the keyframes wait at its gate.
    let shots = 8;
    let mut w = gated(shots, |f| {
        f.gates.limit.insert(ProviderKind::Bfl, 0);
    });
    let keyframes: Vec<String> = (1..=shots).map(|n| format!("s{n:02}.keyframe")).collect();
    assert!(w.run_until(|w| keyframes.iter().all(|k| waiting_on(w, k).is_some())));
    let (first, _) = waiting_on(&w, &keyframes[0]).unwrap();
    assert_eq!(provider_of(&w, &first), ProviderKind::Bfl);
    let next = w.candidates(&keyframes[0])[1].clone();
    assert_eq!(provider_of(&w, &next), ProviderKind::Replicate);
    let queued = |w: &World, k: &str, ahead| {
        let (_, attempt) = waiting_on(w, k).unwrap();
        Input::SlotQueued {
            stage: StageId(k.into()),
            attempt,
            ahead,
            ask_again_ms: None,
        }
    };
    // A short line is waited out.
    for k in &keyframes {
        let input = queued(&w, k, SPILL_AHEAD - 1);
        w.deliver(Actor::System, input).unwrap();
        assert_eq!(
            waiting_on(&w, k).map(|(m, _)| m),
            Some(first.clone()),
            "{k}"
        );
    }
    // A long one: half the keyframes (a stable hash of job and stage) move to the same model at
    // Replicate, give back their place at BFL and say why; the others keep their place.
    let mut moved = Vec::new();
    for k in &keyframes {
        let (_, attempt) = waiting_on(&w, k).unwrap();
        let input = queued(&w, k, SPILL_AHEAD);
        w.deliver(Actor::System, input).unwrap();
        let stage = StageId(k.clone());
        let now_on = w.stage(k).state.model().cloned();
        if now_on == Some(first.clone()) {
            // Asked again, the same stage stays: the choice does not change with each answer.
            let again = queued(&w, k, SPILL_AHEAD * 2);
            w.deliver(Actor::System, again).unwrap();
            assert_eq!(w.stage(k).state.model(), Some(&first), "{k}");
            continue;
        }
        moved.push(k.clone());
        assert!(
            w.fake.gates.released.iter().any(|(s, a, m, o)| s == &stage
                && *a == attempt
                && m == &first
                && *o == SlotOutcome::Unused),
            "{k}: the place at BFL was given back: {:?}",
            w.fake.gates.released
        );
        let notes = &w.stage(k).decision.notes;
        assert!(
            notes
                .iter()
                .any(|n| n.contains("ahead at its provider's gate") && n.contains(next.as_str())),
            "{notes:?}"
        );
    }
    assert!(
        !moved.is_empty() && moved.len() < keyframes.len(),
        "half move, not all or none: {moved:?}"
    );
    // The moved ones went on to Replicate: granted at once there, submitted to the same FLUX.
    assert!(w.run_until(|w| {
        moved
            .iter()
            .all(|k| w.fake.submit_calls.iter().any(|(s, ..)| s.as_str() == k))
    }));
    for k in &keyframes {
        let models: Vec<_> = w
            .fake
            .submit_calls
            .iter()
            .filter(|(s, ..)| s.as_str() == k)
            .map(|(_, _, m, _)| m.clone())
            .collect();
        if moved.contains(k) {
            assert_eq!(models, vec![next.clone()], "{k}");
        } else {
            assert!(models.is_empty(), "{k} stayed in BFL's line: {models:?}");
        }
    }
    w.assert_replays();
}

#[test]
fn a_long_line_is_waited_out_when_the_next_model_is_at_the_same_provider_or_lesser() {
    let mut probe = gated(1, |_| {});
    probe.run();
    let choice = probe.candidates("s01.motion")[0].clone();
    let mut w = gated(1, |f| {
        f.gates.limit.insert(provider_of(&probe, &choice), 0);
    });
    assert!(w.run_until(|w| waiting_on(w, "s01.motion").is_some()));
    let (first, attempt) = waiting_on(&w, "s01.motion").unwrap();
    let next = w.candidates("s01.motion")[1].clone();
    let same_provider = provider_of(&w, &next) == provider_of(&w, &first);
    let quality = |m: &ModelId| {
        let c = &w.stage("s01.motion").decision.candidates;
        c.iter().find(|c| &c.model == m).unwrap().scores.quality
    };
    assert!(
        same_provider || quality(&next) < quality(&first) - SPILL_QUALITY,
        "this test needs a motion whose next candidate may not take it: {first} then {next}"
    );
    w.deliver(
        Actor::System,
        Input::SlotQueued {
            stage: StageId("s01.motion".into()),
            attempt,
            ahead: SPILL_AHEAD * 10,
            ask_again_ms: None,
        },
    )
    .unwrap();
    assert_eq!(waiting_on(&w, "s01.motion").map(|(m, _)| m), Some(first));
}

#[test]
fn a_waiting_stage_asks_again_at_the_gates_pace_within_bounds() {
    let mut w = gated(1, |f| {
        f.gates.limit.insert(ProviderKind::Bfl, 0);
    });
    assert!(w.run_until(|w| waiting_on(w, "s01.keyframe").is_some()));
    let asks = |w: &World| {
        w.fake
            .gates
            .asked
            .iter()
            .filter(|(s, ..)| s.as_str() == "s01.keyframe")
            .count()
    };
    let queued = |w: &World, pace: u64| {
        let (_, attempt) = waiting_on(w, "s01.keyframe").unwrap();
        Input::SlotQueued {
            stage: StageId("s01.keyframe".into()),
            attempt,
            // Short of SPILL_AHEAD, so the stage stays at its first choice.
            ahead: SPILL_AHEAD - 1,
            ask_again_ms: Some(pace),
        }
    };
    // The fake gate's own answer (no pace) first.
    w.advance(Millis::from_secs(1));
    // Far back in the gate's line: it asks for a re-ask in 90 s, not SLOT_ASK_AGAIN.
    w.deliver(Actor::System, queued(&w, 90_000)).unwrap();
    let before = asks(&w);
    w.advance(Millis::from_secs(60));
    assert_eq!(asks(&w), before, "no re-ask before the gate's pace");
    w.advance(Millis::from_secs(31));
    assert_eq!(asks(&w), before + 1, "asked again at 90 s");
    // A pace past the bound (a confused gate) is cut to 180 s, inside the gate's keeping.
    w.deliver(Actor::System, queued(&w, 3_600_000)).unwrap();
    let before = asks(&w);
    w.advance(Millis::from_secs(181));
    assert_eq!(asks(&w), before + 1, "asked again by the bound");
}

/// The first dependent stage holding a slot its gate granted while its input was being stored
fn held_early(w: &World) -> Option<(StageId, StageId)> {
    w.job.stages().iter().find_map(|r| match &r.state {
        StageState::Ready {
            slot: Some(wait), ..
        } if wait.granted => {
            let dep = r.spec.deps.iter().find(|d| {
                matches!(
                    w.job
                        .stages()
                        .iter()
                        .find(|x| &x.spec.id == *d)
                        .map(|x| &x.state),
                    Some(StageState::Storing { .. })
                )
            })?;
            Some((r.spec.id.clone(), dep.clone()))
        }
        _ => None,
    })
}

#[test]
fn a_stage_asks_its_gate_while_its_last_input_is_stored_and_submits_the_moment_it_is_in() {
    let mut w = gated(2, |_| {});
    assert!(
        w.run_until(|w| held_early(w).is_some()),
        "no stage asked early"
    );
    let (stage, input) = held_early(&w).unwrap();
    // It asked (and was granted) while the input was still being copied, and sent nothing.
    assert!(w.fake.gates.asked.iter().any(|(s, _, _)| s == &stage));
    assert!(w.submits_of(stage.as_str()).is_empty());
    // Both views say it holds its turn.
    let line = w
        .job
        .view()
        .stages
        .iter()
        .find(|s| s.id == stage)
        .and_then(|s| s.waiting.clone())
        .expect("the support view says what it waits for");
    assert!(line.ends_with("slot until its input is stored"), "{line}");
    let said = w
        .job
        .creator_view()
        .stages
        .iter()
        .find_map(|s| s.waiting.clone().filter(|l| l.contains("has its turn")))
        .expect("the creator's view says it has its turn");
    assert!(said.starts_with("Director, "), "{said}");
    for m in &w.job.spec().registry.models {
        assert!(!said.contains(m.id.as_str()), "{said} names {}", m.id);
    }
    let held_since = w.now;
    // The step that stores the input submits on the held slot: no second ask, no wait.
    assert!(w.run_until(|w| matches!(w.state(input.as_str()), StageState::Done { .. })));
    let submitted = w.submits_of(stage.as_str());
    assert_eq!(submitted.len(), 1, "{submitted:?}");
    assert_eq!(
        submitted[0].0, w.now,
        "submitted in the step that stored its input"
    );
    let asks = w
        .fake
        .gates
        .asked
        .iter()
        .filter(|(s, _, _)| s == &stage)
        .count();
    assert_eq!(asks, 1, "asked again after being granted");
    assert!(w.now > held_since);
    w.run();
    assert_eq!(w.status(), JobStatus::Succeeded);
    assert!(
        w.fake.gates.held.values().all(Vec::is_empty),
        "a slot leaked"
    );
}

#[test]
fn a_slot_held_for_an_input_that_fails_to_store_is_given_back_and_asked_for_again() {
    let mut w = gated(1, |f| f.fault_stage("s01.keyframe", [Fault::BadOutput]));
    assert!(
        w.run_until(|w| held_early(w).is_some()),
        "no stage asked early"
    );
    let (stage, input) = held_early(&w).unwrap();
    assert_eq!(input.as_str(), "s01.keyframe");
    let attempt = w.stage(stage.as_str()).attempt.next();
    // The copy fails: the stage waits for its input again and its slot goes back unused.
    assert!(w.run_until(|w| !matches!(w.state("s01.keyframe"), StageState::Storing { .. })));
    assert!(matches!(w.state(stage.as_str()), StageState::Blocked));
    assert!(
        w.fake
            .gates
            .released
            .iter()
            .any(|(s, a, _, o)| s == &stage && *a == attempt && *o == SlotOutcome::Unused),
        "{:?}",
        w.fake.gates.released
    );
    // The retried input is copied, and the stage goes on as before.
    w.run();
    assert_eq!(w.status(), JobStatus::Succeeded);
    assert_eq!(w.submits_of("s01.keyframe").len(), 2);
    assert_eq!(w.submits_of(stage.as_str()).len(), 1);
    assert!(
        w.fake.gates.held.values().all(Vec::is_empty),
        "a slot leaked"
    );
}

#[test]
fn a_stage_names_the_providers_its_dependents_would_be_sent_to() {
    let mut w = gated(3, |_| {});
    w.run();
    let stages = w.job.stages();
    let mut checked = 0;
    for row in stages {
        let mut expected: Vec<ProviderKind> = stages
            .iter()
            .filter(|d| d.spec.deps.contains(&row.spec.id))
            .map(|d| {
                let first = &d.decision.candidates[d.cursor as usize].model;
                provider_of(&w, first)
            })
            .collect();
        let mut named = w.job.dependent_providers(&row.spec.id);
        expected.sort();
        named.sort();
        assert_eq!(named, expected, "dependents of {}", row.spec.id);
        checked += usize::from(!named.is_empty());
    }
    assert!(checked > 0, "the brief has stages with dependents");
    assert!(
        w.job
            .dependent_providers(&StageId("s99.none".into()))
            .is_empty()
    );
}
