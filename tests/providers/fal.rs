//! Pika through fal's queue: <https://docs.fal.ai/model-endpoints/queue>,
//! <https://docs.fal.ai/model-endpoints/webhooks>.

use ed25519_dalek::SigningKey;
use sha2::{Digest, Sha256};
use studio::ids::ProviderRef;
use studio::providers::signature::{Jwks, fal as fal_sig};
use studio::providers::{
    CallbackEvent, HttpRequest, PollOutcome, ProviderConfig, ProviderError, ProviderKind,
    ProviderStatus, SignatureError, VerifyContext, adapter, fal,
};

use crate::support::*;

const K: ProviderKind = ProviderKind::FalPika;
const MODEL: &str = "fal-ai/pika/v2.2/image-to-video";
const REQ: &str = "764cabcf-b745-4b3e-ae38-1200304cf45b";

/// The simulator's key: seed = sha256("creatorstudio-sim-fal-ed25519")
fn sim_key() -> SigningKey {
    SigningKey::from_bytes(&Sha256::digest(b"creatorstudio-sim-fal-ed25519").into())
}

fn sim_jwks() -> Jwks {
    Jwks::from_keys(vec![sim_key().verifying_key()])
}

/// A webhook signed as fal signs it
fn webhook(fixture_path: &str, ts: u64) -> HttpRequest {
    let body = fixture(fixture_path);
    let sig = fal_sig::sign(&sim_key(), REQ, "user-123", ts, &body);
    callback(
        K,
        body,
        vec![
            ("X-Fal-Webhook-Request-Id".into(), REQ.into()),
            ("X-Fal-Webhook-User-Id".into(), "user-123".into()),
            ("X-Fal-Webhook-Timestamp".into(), ts.to_string()),
            ("X-Fal-Webhook-Signature".into(), sig),
        ],
    )
}

fn verify_with(req: &HttpRequest, jwks: Option<&Jwks>) -> Result<(), SignatureError> {
    let secret = callback_secret();
    let ctx = VerifyContext {
        now: NOW,
        callback_secret: &secret,
        fal_jwks: jwks,
    };
    adapter(K).verify_callback(req, &cfg(K), &ctx)
}

#[test]
fn fal_submit_posts_to_the_model_with_key_auth_and_webhook_param() {
    let req = with_callback(with_image(motion(MODEL)), K);
    let http = adapter(K).build_submit(&req, &cfg(K), NOW).unwrap();
    let (path, query) = http.url.split_once('?').unwrap();
    assert_eq!(
        path,
        "https://queue.fal.run/fal-ai/pika/v2.2/image-to-video"
    );
    let webhook = query.strip_prefix("fal_webhook=").unwrap();
    assert!(webhook.starts_with("https%3A%2F%2Frender.example.test%2Fv1%2Fcallbacks%2Ffal%2F"));
    assert!(
        !webhook.contains('&'),
        "the callback URL's own query must stay encoded"
    );
    assert_eq!(header(&http, "authorization"), "Key test-key");
    let body = body(&http);
    assert_eq!(
        body["image_url"],
        "https://media.example.test/s04/keyframe.png"
    );
    assert_eq!(body["duration"], 5);
    assert!(body.get("aspect_ratio").is_none());
}

#[test]
fn fal_parse_submit_keeps_the_returned_status_url() {
    let req = motion(MODEL);
    let task = accepted(
        adapter(K)
            .parse_submit(&req, &resp(200, "fal/submit.json"), &cfg(K), NOW)
            .unwrap(),
    );
    // Status URLs drop the model's subpath: owner/app only. The URL is the task's ref.
    let status_url = format!("https://queue.fal.run/fal-ai/pika/requests/{REQ}/status");
    assert_eq!(task, pref(status_url.clone()));
    let poll = adapter(K).build_poll(&task, &cfg(K), NOW).unwrap();
    assert_eq!(poll.url, status_url);
    assert_eq!(header(&poll, "authorization"), "Key test-key");

    let derived = accepted(
        adapter(K)
            .parse_submit(
                &req,
                &resp(200, "fal/submit_without_urls.json"),
                &cfg(K),
                NOW,
            )
            .unwrap(),
    );
    assert_eq!(derived, pref(status_url.clone()));

    let cancel = adapter(K).build_cancel(&task, &cfg(K), NOW).unwrap();
    assert_eq!(cancel.method, studio::providers::Method::Put);
    assert_eq!(
        cancel.url,
        format!("https://queue.fal.run/fal-ai/pika/requests/{REQ}/cancel")
    );
    assert_eq!(header(&cancel, "authorization"), "Key test-key");
}

#[test]
fn fal_poll_refuses_to_send_the_key_elsewhere() {
    let task = pref("https://evil.test/status");
    assert!(matches!(
        adapter(K).build_poll(&task, &cfg(K), NOW),
        Err(ProviderError::Malformed { .. })
    ));
}

#[test]
fn fal_poll_statuses_and_result_follow_up() {
    // 202 while queued or running.
    assert_eq!(
        poll_status(K, &resp(202, "fal/status_in_queue.json")),
        ProviderStatus::Queued
    );
    assert_eq!(
        poll_status(K, &resp(202, "fal/status_in_progress.json")),
        ProviderStatus::Running
    );
    assert!(matches!(
        poll_status(K, &resp(200, "fal/status_completed_error.json")),
        ProviderStatus::Failed {
            retryable: true,
            ..
        }
    ));
    let outcome = adapter(K)
        .parse_poll(&resp(200, "fal/status_completed.json"), &cfg(K), NOW)
        .unwrap();
    let PollOutcome::FollowUp { request } = outcome else {
        panic!("expected a follow-up, got {outcome:?}")
    };
    assert_eq!(
        request.url,
        format!("https://queue.fal.run/fal-ai/pika/requests/{REQ}")
    );
    assert_eq!(header(&request, "authorization"), "Key test-key");

    let done = adapter(K)
        .parse_follow_up(&resp(200, "fal/result.json"), NOW)
        .unwrap();
    let (url, ct, _) = only_url(&done);
    assert_eq!(
        url,
        "https://v3.fal.media/files/penguin/Yx2kq8Lr0hX7_output.mp4"
    );
    assert_eq!(ct, Some("video/mp4"));
}

#[test]
fn fal_webhook_verifies_with_the_sim_key_and_carries_the_output() {
    let req = webhook("fal/webhook_ok.json", NOW.as_secs());
    verify_with(&req, Some(&sim_jwks())).unwrap();
    let cb = adapter(K).parse_callback(&req, NOW).unwrap();
    assert_eq!(cb.provider_ref, Some(ProviderRef(REQ.into())));
    assert_eq!(
        cb.delivery_id.as_ref().unwrap().as_str(),
        format!("{REQ}:{}", NOW.as_secs())
    );
    only_url(callback_status(&cb));
}

#[test]
fn fal_webhook_failure_moderation_and_oversized_payload() {
    let cb = |f| {
        adapter(K)
            .parse_callback(&webhook(f, NOW.as_secs()), NOW)
            .unwrap()
    };
    assert!(matches!(
        callback_status(&cb("fal/webhook_error.json")),
        ProviderStatus::Failed {
            retryable: false,
            ..
        }
    ));
    assert!(matches!(
        callback_status(&cb("fal/webhook_moderated.json")),
        ProviderStatus::Moderated { .. }
    ));
    assert_eq!(
        cb("fal/webhook_payload_error.json").event,
        CallbackEvent::FetchStatus
    );
}

#[test]
fn fal_webhook_rejects_wrong_key_stale_time_tampering_and_no_key_set() {
    let req = webhook("fal/webhook_ok.json", NOW.as_secs());
    let other = Jwks::from_keys(vec![SigningKey::from_bytes(&[7; 32]).verifying_key()]);
    assert_eq!(
        verify_with(&req, Some(&other)),
        Err(SignatureError::Mismatch)
    );
    assert_eq!(verify_with(&req, None), Err(SignatureError::MissingKeySet));
    let stale = webhook("fal/webhook_ok.json", NOW.as_secs() + 301);
    assert!(matches!(
        verify_with(&stale, Some(&sim_jwks())),
        Err(SignatureError::StaleTimestamp { .. })
    ));
    let mut tampered = webhook("fal/webhook_ok.json", NOW.as_secs());
    tampered.body.extend_from_slice(b" ");
    assert_eq!(
        verify_with(&tampered, Some(&sim_jwks())),
        Err(SignatureError::Mismatch)
    );
    let mut no_token = webhook("fal/webhook_ok.json", NOW.as_secs());
    no_token.url = no_token.url.split('?').next().unwrap().to_owned();
    assert!(matches!(
        verify_with(&no_token, Some(&sim_jwks())),
        Err(SignatureError::BadCallbackUrl { .. })
    ));
}

#[test]
fn fal_jwks_request_points_at_the_real_set_or_the_simulator() {
    assert_eq!(fal::jwks_request(&cfg(K)).url, fal::JWKS_URL);
    let sim = ProviderConfig::new("http://127.0.0.1:8788/fal", "sim-fal-key");
    assert_eq!(
        fal::jwks_request(&sim).url,
        "http://127.0.0.1:8788/fal/.well-known/jwks.json"
    );
}

#[test]
fn pika_sends_the_creators_negative_prompt() {
    let mut req = with_image(motion(MODEL));
    req.negative_prompt = Some(
        "off-palette colour casts, inconsistent colour grade, flat even lighting, watermark".into(),
    );
    let sent = body(&adapter(K).build_submit(&req, &cfg(K), NOW).unwrap());
    assert_eq!(
        sent["negative_prompt"],
        "off-palette colour casts, inconsistent colour grade, flat even lighting, watermark"
    );
    assert_eq!(
        sent["image_url"],
        "https://media.example.test/s04/keyframe.png"
    );
    let sent = body(
        &adapter(K)
            .build_submit(&with_image(motion(MODEL)), &cfg(K), NOW)
            .unwrap(),
    );
    assert!(sent.get("negative_prompt").is_none());
}
