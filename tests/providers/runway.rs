//! Runway: <https://docs.dev.runwayml.com/api> and SDK `runwayml/sdk-python`.

use studio::providers::{ProviderError, ProviderKind, ProviderStatus, adapter};
use studio::time::Millis;

use crate::support::*;

const K: ProviderKind = ProviderKind::Runway;

#[test]
fn runway_submit_image_to_video_with_version_header() {
    let req = with_image(motion("gen4_turbo"));
    let http = adapter(K).build_submit(&req, &cfg(K), NOW).unwrap();
    assert_eq!(http.url, "https://api.dev.runwayml.com/v1/image_to_video");
    assert_eq!(header(&http, "authorization"), "Bearer test-key");
    assert_eq!(header(&http, "x-runway-version"), "2024-11-06");
    let body = body(&http);
    assert_eq!(body["model"], "gen4_turbo");
    assert_eq!(
        body["promptImage"],
        "https://media.example.test/s04/keyframe.png"
    );
    assert_eq!(body["promptText"], req.prompt.as_str());
    assert_eq!(body["ratio"], "1280:720");
    assert_eq!(body["duration"], 5);
}

#[test]
fn runway_submit_text_to_video_without_image() {
    let http = adapter(K)
        .build_submit(&motion("gen4.5"), &cfg(K), NOW)
        .unwrap();
    assert_eq!(http.url, "https://api.dev.runwayml.com/v1/text_to_video");
    assert!(body(&http).get("promptImage").is_none());
}

#[test]
fn runway_parse_submit_and_poll_tasks() {
    let req = motion("gen4_turbo");
    let task = accepted(
        adapter(K)
            .parse_submit(&req, &resp(200, "runway/submit.json"), &cfg(K), NOW)
            .unwrap(),
    );
    assert_eq!(task, pref("17f20503-6c24-4c16-946b-35dbbce2af2f"));
    let poll = adapter(K).build_poll(&task, &cfg(K), NOW).unwrap();
    assert_eq!(
        poll.url,
        "https://api.dev.runwayml.com/v1/tasks/17f20503-6c24-4c16-946b-35dbbce2af2f"
    );
    assert_eq!(header(&poll, "x-runway-version"), "2024-11-06");
    let cancel = adapter(K).build_cancel(&task, &cfg(K), NOW).unwrap();
    assert_eq!(cancel.method, studio::providers::Method::Delete);
    assert_eq!(cancel.url, poll.url);
    assert_eq!(header(&cancel, "x-runway-version"), "2024-11-06");
}

#[test]
fn runway_throttled_counts_as_queued() {
    assert_eq!(
        poll_status(K, &resp(200, "runway/poll_pending.json")),
        ProviderStatus::Queued
    );
    assert_eq!(
        poll_status(K, &resp(200, "runway/poll_throttled.json")),
        ProviderStatus::Queued
    );
    assert_eq!(
        poll_status(K, &resp(200, "runway/poll_running.json")),
        ProviderStatus::Running
    );
}

#[test]
fn runway_succeeded_outputs_expire_within_a_day() {
    let done = poll_status(K, &resp(200, "runway/poll_succeeded.json"));
    let (url, ct, expires) = only_url(&done);
    assert!(url.starts_with("https://dnznrvs05pmza.cloudfront.net/"));
    assert_eq!(ct, Some("video/mp4"));
    assert_eq!(expires, Some(NOW.plus(Millis::from_secs(24 * 3600))));
}

#[test]
fn runway_failure_codes_decide_moderation_and_retry() {
    assert!(matches!(
        poll_status(K, &resp(200, "runway/poll_failed_safety.json")),
        ProviderStatus::Moderated { .. }
    ));
    assert!(matches!(
        poll_status(K, &resp(200, "runway/poll_failed_internal.json")),
        ProviderStatus::Failed {
            retryable: true,
            ..
        }
    ));
    assert!(matches!(
        poll_status(K, &resp(200, "runway/poll_failed_asset.json")),
        ProviderStatus::Failed {
            retryable: false,
            ..
        }
    ));
    assert!(matches!(
        poll_status(K, &resp(200, "runway/poll_cancelled.json")),
        ProviderStatus::Failed {
            retryable: true,
            ..
        }
    ));
}

#[test]
fn runway_http_errors() {
    let req = motion("gen4_turbo");
    let submit = |r| adapter(K).parse_submit(&req, &r, &cfg(K), NOW);
    assert!(matches!(
        submit(resp(400, "runway/error_400.json")),
        Err(ProviderError::Rejected { .. })
    ));
    let mut limited = raw_resp(429, "{}");
    limited.headers.push(("Retry-After".into(), "12".into()));
    assert_eq!(
        submit(limited),
        Err(ProviderError::RateLimited {
            retry_after: Some(Millis::from_secs(12))
        })
    );
}

#[test]
fn runway_sends_no_callbacks() {
    let req = callback(K, b"{}".to_vec(), vec![]);
    assert!(verify(K, &req, &cfg(K)).is_err());
    assert!(adapter(K).parse_callback(&req, NOW).is_err());
}
