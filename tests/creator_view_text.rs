//! The creator's view kept in parts between polls (`CreatorViewText`) is, after every step of a
//! job with retries, moderation, a support reroute and a failure, exactly the text `serde_json`
//! makes of the whole view, and its ETag changes exactly when that text does.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Fault, World, created, example_brief, webhook_brief};
use studio::ids::ModelId;
use studio::job::{CreatorViewText, JobStatus, SupportAction};

/// Steps `w` until `until` holds (or nothing is left), checking the kept text against the whole
/// view after every step; returns how many steps the parts were reused across
fn step_and_check(
    w: &mut World,
    parts: &mut CreatorViewText,
    last: &mut Option<(String, String)>,
    mut until: impl FnMut(&World) -> bool,
) -> usize {
    let mut reused = 0;
    for _ in 0..200_000 {
        if until(w) || !w.step() {
            return reused;
        }
        parts.forget(&w.store.last);
        if w.store.last.stages.len() < w.job.stages().len() {
            reused += 1;
        }
        check(w, parts, last);
    }
    panic!("scenario did not settle");
}

fn check(w: &World, parts: &mut CreatorViewText, last: &mut Option<(String, String)>) {
    let whole = serde_json::to_string(&w.job.creator_view()).unwrap();
    let kept = parts.encode(&w.job).unwrap();
    assert_eq!(
        kept.json, whole,
        "the kept text differs from the whole view"
    );
    // Encoding again with nothing forgotten gives the same text and tag.
    assert_eq!(parts.encode(&w.job).unwrap(), kept);
    if let Some((json, etag)) = last.as_ref() {
        assert_eq!(
            json == &kept.json,
            etag == &kept.etag,
            "the tag changes exactly when the text does"
        );
    }
    *last = Some((kept.json, kept.etag));
}

#[test]
fn the_kept_text_is_the_whole_view_after_every_step() {
    let mut w = World::new(example_brief());
    let mut parts = CreatorViewText::default();
    let mut last = None;
    check(&w, &mut parts, &mut last);
    let reused = step_and_check(&mut w, &mut parts, &mut last, |_| false);
    assert_eq!(w.status(), JobStatus::Succeeded);
    assert!(
        reused > 10,
        "premise: most steps change a few stages ({reused})"
    );
}

#[test]
fn retries_moderation_a_reroute_and_a_failure_keep_it_exact() {
    let failed = Fault::FailStatus {
        reason: "internal error".into(),
        retryable: true,
    };
    let mut w = World::with(created(webhook_brief(2), 42, false), |f| {
        f.fault_stage("s01.motion", std::iter::repeat_n(failed, 2));
        f.fault_stage("s02.motion", std::iter::repeat_n(Fault::Moderate, 20));
    });
    let mut parts = CreatorViewText::default();
    let mut last = None;
    check(&w, &mut parts, &mut last);
    step_and_check(&mut w, &mut parts, &mut last, |w| {
        w.status() == JobStatus::Rendering
    });
    // A reroute changes the stage's words ("why"), and support's actions are read by every
    // stage's part: the parts kept so far must not survive it.
    let candidates = w.candidates("s01.keyframe");
    w.act(
        SupportAction::Reroute {
            stage: "s01.keyframe".into(),
            model: ModelId(candidates.last().unwrap().to_string()),
        },
        "ticket #4411",
    )
    .unwrap();
    parts.forget(&w.store.last);
    check(&w, &mut parts, &mut last);
    step_and_check(&mut w, &mut parts, &mut last, |_| false);
    assert_eq!(w.status(), JobStatus::Failed);
}

#[test]
fn parts_not_told_of_a_change_go_stale() {
    // The checks above can fail: parts never told what a step changed keep old stages.
    let mut w = World::new(example_brief());
    assert!(w.run_until(|w| w.status() == JobStatus::Rendering));
    let mut parts = CreatorViewText::default();
    let before = parts.encode(&w.job).unwrap();
    w.run();
    assert_eq!(w.status(), JobStatus::Succeeded);
    let whole = serde_json::to_string(&w.job.creator_view()).unwrap();
    let stale = parts.encode(&w.job).unwrap();
    assert!(stale.json != whole, "stages kept from before the run");
    assert!(stale.json != before.json, "the head is encoded afresh");
    parts.clear();
    assert!(parts.encode(&w.job).unwrap().json == whole);
}
