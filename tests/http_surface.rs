//! The HTTP surface's rules that live in the core: a Sora webhook replayed at another job's
//! stage polls nothing (issue 10, item 7), and the creator's view says only that support acted
//! and why in plain words (item 13).

mod common;

use common::{World, created, registry_of, small_brief};
use studio::brief::ra::NoteTopic;
use studio::ids::{Attempt, JobId, ProviderRef, StageId};
use studio::job::{AttemptOutcome, Effect, StageState, SupportAction};
use studio::providers::signature::SignatureError;
use studio::providers::signature::standard::StandardWebhooks;
use studio::providers::signature::token::callback_url;
use studio::providers::{
    HttpRequest, Method, ProviderConfig, ProviderKind, Secret, VerifyContext, adapter,
};
use studio::time::{Millis, Timestamp};

fn sid(s: &str) -> StageId {
    StageId(s.into())
}

/// Whether a stage is planned and running
fn running(w: &World, stage: &str) -> bool {
    w.job
        .stage(&sid(stage))
        .is_some_and(|r| matches!(r.state, StageState::Running { .. }))
}

/// A job whose motion stages can only run on Sora, run until `s01.motion` is accepted there
fn running_on_sora() -> World {
    let mut c = created(small_brief(2), 42, false);
    c.registry = registry_of(&["flux-1.1-pro", "sora-2", "studio-assembler"]);
    let mut w = World::with(c, |_| {});
    assert!(
        w.run_until(|w| running(w, "s01.motion")),
        "s01.motion never ran: {:?}",
        w.job.view().failure
    );
    w
}

fn running_task(w: &World, stage: &str) -> (Attempt, ProviderRef) {
    match w.state(stage) {
        StageState::Running {
            attempt,
            provider_ref,
            ..
        } => (*attempt, provider_ref.clone()),
        other => panic!("{stage} is not running: {other:?}"),
    }
}

#[test]
fn a_callback_naming_another_task_polls_nothing_and_the_recorded_task_is_polled() {
    let w = running_on_sora();
    let (attempt, recorded) = running_task(&w, "s01.motion");
    let stage = sid("s01.motion");
    // A validly signed webhook of some other video, replayed at this stage: no poll at all.
    for foreign in [
        "video_of_another_job",
        "",
        recorded.as_str().to_uppercase().as_str(),
    ] {
        let foreign = ProviderRef(foreign.into());
        if foreign == recorded {
            continue;
        }
        assert_eq!(w.job.poll_now(&stage, attempt, Some(&foreign)), None);
    }
    // Another attempt's callback, or a stage that is not running, asks for nothing either.
    assert_eq!(
        w.job
            .poll_now(&stage, Attempt(attempt.0 + 1), Some(&recorded)),
        None
    );
    assert_eq!(
        w.job.poll_now(&sid("s02.motion"), attempt, Some(&recorded)),
        None
    );
    assert_eq!(w.job.poll_now(&sid("nope"), attempt, Some(&recorded)), None);
    // The task it recorded is the one polled, on the attempt's own provider.
    for claimed in [Some(&recorded), None] {
        match w.job.poll_now(&stage, attempt, claimed) {
            Some(Effect::Poll {
                stage: s,
                attempt: a,
                provider,
                provider_ref,
                ..
            }) => {
                assert_eq!(
                    (s, a, provider),
                    (stage.clone(), attempt, ProviderKind::Sora)
                );
                assert_eq!(provider_ref, recorded);
            }
            other => panic!("expected a poll of {recorded}: {other:?}"),
        }
    }
}

const WEBHOOK_SECRET: &str = "whsec_c2ltLXNvcmEtd2ViaG9vay1zZWNyZXQtMDAwMDAwMDA=";
const NOW: Timestamp = Timestamp(1_750_000_000_000);

fn sora_cfg() -> ProviderConfig {
    let mut cfg = ProviderConfig::new("https://api.openai.com", "test-key");
    cfg.webhook_secret = Some(WEBHOOK_SECRET.into());
    cfg
}

/// A genuine, signed Sora webhook sent to `url`
fn signed_webhook(url: String) -> HttpRequest {
    let body = br#"{"id":"evt_1","type":"video.completed","data":{"id":"video_a"}}"#.to_vec();
    let signature =
        StandardWebhooks::new(WEBHOOK_SECRET)
            .unwrap()
            .sign("msg_1", NOW.as_secs(), &body);
    HttpRequest {
        method: Method::Post,
        url,
        headers: vec![
            ("webhook-id".into(), "msg_1".into()),
            ("webhook-timestamp".into(), NOW.as_secs().to_string()),
            ("webhook-signature".into(), signature),
        ],
        body,
    }
}

#[test]
fn a_signed_sora_webhook_on_a_per_job_url_needs_our_token_too() {
    let secret = Secret::new("test-callback-secret");
    let ctx = VerifyContext {
        now: NOW,
        callback_secret: &secret,
        fal_jwks: None,
    };
    let verify = |url: String| {
        adapter(ProviderKind::Sora).verify_callback(&signed_webhook(url), &sora_cfg(), &ctx)
    };
    let base = "https://render.example.test";
    assert_eq!(verify(format!("{base}/v1/callbacks/sora")), Ok(()));
    let job = JobId("rnd_0123456789abcdef0123456789abcdef".into());
    let exp = NOW.plus(Millis::from_secs(3600));
    let minted = |provider, secret: &Secret| {
        callback_url(
            base,
            provider,
            &job,
            &sid("s01.motion"),
            Attempt(1),
            exp,
            secret,
        )
    };
    assert_eq!(verify(minted(ProviderKind::Sora, &secret)), Ok(()));
    // The signature is genuine, but the URL's token is missing, forged or minted for another
    // provider: refused.
    let bare = format!("{base}/v1/callbacks/sora/{job}/s01.motion/1");
    assert!(verify(bare).is_err());
    let forged = minted(ProviderKind::Sora, &Secret::new("not-the-secret"));
    assert_eq!(verify(forged), Err(SignatureError::Mismatch));
    let other = minted(ProviderKind::Kling, &secret).replace("/kling/", "/sora/");
    assert_eq!(verify(other), Err(SignatureError::Mismatch));
}

#[test]
fn the_creator_sees_that_support_acted_and_why_in_plain_words_only() {
    let mut w = World::new(small_brief(2));
    assert!(w.run_until(|w| running(w, "s01.keyframe")));
    w.act(SupportAction::Pause, "VIP creator, Bob from sales asked")
        .unwrap();
    w.act(SupportAction::Resume, "Bob says go ahead").unwrap();
    w.act(
        SupportAction::RetryStage {
            stage: sid("s01.keyframe"),
        },
        "stuck in the queue, ticket #4411",
    )
    .unwrap();
    w.act(SupportAction::Cancel, "duplicate of rnd_x per Bob")
        .unwrap();

    let creator = w.job.creator_view();
    let text = serde_json::to_string(&creator).unwrap();
    for private in ["Bob", "#4411", "sam@support", "duplicate of"] {
        assert!(
            !text.contains(private),
            "{private} reached the creator: {text}"
        );
    }
    let kinds = [
        SupportAction::Pause,
        SupportAction::Resume,
        SupportAction::RetryStage {
            stage: sid("s01.keyframe"),
        },
        SupportAction::Cancel,
    ];
    assert_eq!(creator.actions.len(), kinds.len());
    for (record, kind) in creator.actions.iter().zip(&kinds) {
        assert_eq!(record.by, "support");
        assert_eq!(record.reason, kind.for_creator());
        assert_eq!(record.action.stage.as_ref(), kind.stage());
        assert_eq!(
            serde_json::to_value(record.action.action).unwrap(),
            kind.name()
        );
    }
    assert_eq!(creator.cancelled_by.as_deref(), Some("support"));
    // Ra relays each action in the notes, in the same plain words.
    let relayed: Vec<&str> = creator
        .notes
        .iter()
        .filter(|n| n.topic == NoteTopic::Support)
        .map(|n| n.text.as_str())
        .collect();
    assert_eq!(relayed.len(), kinds.len());
    for (text, kind) in relayed.iter().zip(&kinds) {
        let sentence = kind.for_creator();
        assert!(
            text.starts_with("Director, ") && text.ends_with(&sentence[1..]),
            "{text}"
        );
    }
    // The abandoned attempt is support's to read; the creator's view has no attempts at all.
    let abandoned = w
        .job
        .view()
        .stages
        .iter()
        .flat_map(|s| s.attempts.clone())
        .find_map(|a| match a.outcome {
            AttemptOutcome::Abandoned { reason } => Some(reason),
            _ => None,
        })
        .expect("the retried attempt was abandoned");
    assert!(abandoned.contains("#4411"), "{abandoned}");
    assert!(!text.contains("\"attempts\""), "{text}");

    // Support's view keeps who and their words.
    let full = w.job.view();
    assert_eq!(full.actions[0].by, "sam@support");
    assert_eq!(full.actions[0].reason, "VIP creator, Bob from sales asked");
    assert_eq!(full.cancelled_by.as_deref(), Some("sam@support"));
    // Every kind has its own sentence.
    let sentences: std::collections::BTreeSet<&str> = [
        SupportAction::Pause,
        SupportAction::Resume,
        SupportAction::Cancel,
        SupportAction::RetryStage { stage: sid("x") },
        SupportAction::RestartFrom { stage: sid("x") },
        SupportAction::Reroute {
            stage: sid("x"),
            model: studio::ids::ModelId("m".into()),
        },
    ]
    .iter()
    .map(SupportAction::for_creator)
    .collect();
    assert_eq!(sentences.len(), 6);
}

#[test]
fn a_job_without_support_actions_shows_the_creator_the_same_progress_and_cost() {
    let mut w = World::new(small_brief(1));
    w.run();
    let (creator, full) = (w.job.creator_view(), w.job.view());
    assert_eq!(creator.status, full.status);
    assert_eq!(creator.history, full.history);
    assert_eq!(creator.progress, full.progress);
    assert_eq!(creator.cost_usd, full.cost_usd);
    assert_eq!(creator.cost_by_shot, full.cost_by_shot);
    assert_eq!(creator.master_key, full.master_key);
    assert_eq!(creator.variants, full.variants);
    assert_eq!(creator.cancelled_by, full.cancelled_by);
    assert!(creator.actions.is_empty());
    let ids = |ids: Vec<&StageId>| ids.into_iter().cloned().collect::<Vec<_>>();
    assert_eq!(
        ids(creator.stages.iter().map(|s| &s.id).collect()),
        ids(full.stages.iter().map(|s| &s.id).collect())
    );
    for (c, f) in creator.stages.iter().zip(&full.stages) {
        assert_eq!(
            (&c.status, c.cost_usd, &c.artifacts),
            (&f.status, f.cost_usd, &f.artifacts)
        );
    }
}
