//! The creator's app never sees a model: its view of a job (also what create and cancel
//! answer), Ra's notes (also the event stream's), the failure (also the stream's status events)
//! and the status webhooks name no model id, provider name, provider task id, flag or rollout
//! bucket, checked against every model, provider model name and flag of every built-in registry
//! version. The support view of the same job keeps all of it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod creator_words;

use common::{Fault, World, created, example_brief, webhook_brief};
use creator_words::{assert_clean, leaks};
use studio::ids::{CreatorId, ModelId};
use studio::job::{JobStatus, SupportAction};
use studio::routing::{Registry, rollout_bucket};

/// Every provider task id the job was given
fn provider_refs(w: &World) -> Vec<String> {
    w.job
        .view()
        .stages
        .iter()
        .flat_map(|s| &s.attempts)
        .filter_map(|a| a.provider_ref.as_ref().map(|r| r.to_string()))
        .collect()
}

/// Everything the app can read of the job, as JSON text: the view, the notes and the failure
/// the event stream sends, and every status webhook's payload
fn app_texts(w: &World) -> Vec<(String, String)> {
    let mut out = vec![
        (
            "view".to_owned(),
            serde_json::to_string(&w.job.creator_view()).unwrap(),
        ),
        (
            "stream notes".to_owned(),
            serde_json::to_string(&w.job.creator_notes()).unwrap(),
        ),
        (
            "stream failure".to_owned(),
            serde_json::to_string(&w.job.failure_for_creator()).unwrap(),
        ),
    ];
    for r in &w.fake.received {
        out.push((
            format!("webhook {}", r.webhook_id),
            serde_json::to_string(&r.payload).unwrap(),
        ));
    }
    out
}

fn assert_hidden(w: &World) {
    let refs = provider_refs(w);
    assert!(!refs.is_empty(), "premise: the job has provider task ids");
    for (what, text) in app_texts(w) {
        assert_clean(&what, &text);
        for r in &refs {
            assert!(!text.contains(r.as_str()), "{what} names task {r}: {text}");
        }
    }
}

#[test]
fn the_support_view_names_what_the_creator_view_hides() {
    let mut w = World::new(example_brief());
    w.run();
    assert_eq!(w.status(), JobStatus::Succeeded);
    assert_hidden(&w);
    // The checker finds what it looks for: support's view of the same job names the models
    // every stage ran on, and their task ids.
    let support = serde_json::to_string(&w.job.view()).unwrap();
    let named = leaks(&support);
    for stage in &w.job.view().stages {
        let model = stage.model.as_ref().expect("a done stage has its model");
        assert!(named.contains(&model.to_string().to_lowercase()), "{model}");
    }
    for r in provider_refs(&w) {
        assert!(support.contains(r.as_str()));
    }
    // The creator's view has the stages, progress, cost and notes.
    let view = w.job.creator_view();
    assert_eq!(view.stages.len(), w.job.view().stages.len());
    assert_eq!(view.progress.done, view.progress.total);
    assert!(view.cost_usd > 0.0);
    assert!(view.master_key.is_some());
    // Ra's notes on the job are in both views: the creator's lists them with the pacing notes.
    for said in &w.job.view().said {
        assert!(view.notes.contains(said), "{said:?}");
    }
}

#[test]
fn a_flagged_model_and_the_rollout_bucket_stay_with_support() {
    // wan-2.2 sits behind a flag; allowlist the creator so routing names the flag.
    let mut registry = Registry::builtin();
    let flagged = registry
        .models
        .iter_mut()
        .find(|m| m.flag.is_some())
        .expect("the registry has a flagged model");
    let flag = flagged.flag.clone().unwrap();
    if let Some(f) = flagged.flag.as_mut() {
        f.allowlist.push("demo".into());
    }
    let mut c = created(example_brief(), 42, false);
    c.registry = registry;
    let mut w = World::with(c, |_| {});
    w.run();
    let support = serde_json::to_string(&w.job.view()).unwrap();
    assert!(
        support.contains(&flag.name),
        "premise: a decision names the flag"
    );
    assert_hidden(&w);
    let bucket = rollout_bucket(&CreatorId("demo".into()));
    let view = serde_json::to_string(&w.job.creator_view()).unwrap();
    assert!(
        !view.contains("bucket") && !view.contains("rollout"),
        "{view}"
    );
    assert!(bucket < 100);
}

#[test]
fn failures_retries_and_support_actions_reach_the_app_without_models() {
    let failed = Fault::FailStatus {
        reason: "veo-3 internal error (operation 7f3a)".into(),
        retryable: true,
    };
    let mut w = World::with(created(webhook_brief(2), 42, false), |f| {
        f.fault_stage("s01.motion", std::iter::repeat_n(failed, 2));
        f.fault_stage("s02.motion", std::iter::repeat_n(Fault::Moderate, 20));
    });
    assert!(w.run_until(|w| w.status() == JobStatus::Rendering));
    let candidates = w.candidates("s01.keyframe");
    w.act(
        SupportAction::Reroute {
            stage: "s01.keyframe".into(),
            model: ModelId(candidates.last().unwrap().to_string()),
        },
        "ticket #4411: moving to the other image model",
    )
    .unwrap();
    w.run();
    assert_eq!(w.status(), JobStatus::Failed);
    assert!(!w.fake.received.is_empty(), "premise: webhooks were sent");
    assert_hidden(&w);
    let failed_hook = w
        .fake
        .received
        .iter()
        .find(|r| r.payload.status == JobStatus::Failed)
        .expect("the failure's webhook");
    let reason = failed_hook.payload.reason.clone().unwrap();
    assert!(reason.starts_with("Director, "), "{reason}");
    // The reroute is one of support's plain sentences, with no model.
    let view = w.job.creator_view();
    let reroute = view
        .actions
        .iter()
        .find(|a| {
            a.reason
                == SupportAction::Reroute {
                    stage: "x".into(),
                    model: ModelId("m".into()),
                }
                .for_creator()
        })
        .expect("the reroute");
    assert_eq!(reroute.by, "support");
    let text = serde_json::to_string(&view).unwrap();
    assert!(!text.contains("#4411"), "{text}");
    let why = &view
        .stages
        .iter()
        .find(|s| s.id.as_str() == "s01.keyframe")
        .unwrap()
        .why;
    assert!(why.contains("support"), "{why}");
}

#[test]
fn a_job_stored_before_ra_words_were_kept_still_hides_models() {
    // Stage rows and headers stored before `said` existed read back with it empty.
    let mut w = World::new(example_brief());
    w.run();
    let rows = w.store.stages.values().map(|row| {
        let mut stored = serde_json::to_value(row).unwrap();
        stored["decision"].as_object_mut().unwrap().remove("said");
        serde_json::from_value::<studio::job::StageRow>(stored).unwrap()
    });
    let mut header = serde_json::to_value(w.store.header.clone().unwrap()).unwrap();
    header.as_object_mut().unwrap().remove("said");
    let old = studio::job::Job::from_parts(
        w.store.spec.clone().unwrap(),
        serde_json::from_value(header).unwrap(),
        rows,
    )
    .unwrap();
    assert!(old.stages().iter().all(|r| r.decision.said.is_empty()));
    let view = old.creator_view();
    for stage in &view.stages {
        creator_words::assert_said(&stage.why);
    }
    assert_clean("an old job's view", &serde_json::to_string(&view).unwrap());
    // The support view of it still names the models.
    assert!(!leaks(&serde_json::to_string(&old.view()).unwrap()).is_empty());
}

/// The creator's stages are built straight from the rows (not by trimming support's view, which
/// clones every routing decision): they must say what support's stages say of the same job
fn assert_stages_agree(w: &World) {
    let creator = w.job.creator_view();
    let support = w.job.view();
    assert_eq!(creator.stages.len(), support.stages.len());
    for (c, s) in creator.stages.iter().zip(&support.stages) {
        assert_eq!(c.id, s.id);
        assert_eq!(c.kind, s.kind);
        assert_eq!(c.shot, s.shot);
        assert_eq!(c.status, s.status);
        assert_eq!(c.deps, s.deps);
        assert_eq!(c.attempt, s.attempt);
        assert_eq!(c.cost_usd, s.cost_usd);
        assert_eq!(c.seconds, s.seconds);
        assert_eq!(
            serde_json::to_value(&c.artifacts).unwrap(),
            serde_json::to_value(&s.artifacts).unwrap()
        );
    }
}

#[test]
fn the_creator_stages_agree_with_support_stages_mid_flight_and_at_the_end() {
    let failed = Fault::FailStatus {
        reason: "transient".into(),
        retryable: true,
    };
    let mut w = World::with(created(webhook_brief(2), 42, false), |f| {
        f.fault_stage("s01.motion", std::iter::repeat_n(failed, 1));
    });
    // Mid-flight: some stages done (artifacts, seconds), others running or backing off.
    assert!(w.run_until(|w| w.job.view().stages.iter().any(|s| s.status == "done")));
    assert_eq!(w.status(), JobStatus::Rendering);
    assert_stages_agree(&w);
    w.run();
    assert_eq!(w.status(), JobStatus::Succeeded);
    assert_stages_agree(&w);
}
