//! Luma Dream Machine: <https://docs.lumalabs.ai/reference/creategeneration>.

use studio::ids::ProviderRef;
use studio::providers::{ProviderError, ProviderKind, ProviderStatus, adapter};

use crate::support::*;

const K: ProviderKind = ProviderKind::Luma;
const ID: &str = "d1968551-6113-4b46-b567-09210c2e79b0";

#[test]
fn luma_submit_builds_generation_with_keyframe_and_callback_url() {
    let req = with_callback(with_image(motion("ray-2")), K);
    let http = adapter(K).build_submit(&req, &cfg(K), NOW).unwrap();
    assert_eq!(
        http.url,
        "https://api.lumalabs.ai/dream-machine/v1/generations"
    );
    assert_eq!(header(&http, "authorization"), "Bearer test-key");
    let body = body(&http);
    assert_eq!(body["model"], "ray-2");
    assert_eq!(body["duration"], "5s");
    assert_eq!(body["aspect_ratio"], "16:9");
    assert_eq!(body["keyframes"]["frame0"]["type"], "image");
    assert_eq!(
        body["keyframes"]["frame0"]["url"],
        "https://media.example.test/s04/keyframe.png"
    );
    assert_eq!(body["callback_url"], our_callback_url(K).as_str());

    let mut long = motion("ray-2");
    long.duration_s = 7.0;
    assert_eq!(
        super::support::body(&adapter(K).build_submit(&long, &cfg(K), NOW).unwrap())["duration"],
        "9s"
    );
}

#[test]
fn luma_parse_submit_and_poll() {
    let req = motion("ray-2");
    let task = accepted(
        adapter(K)
            .parse_submit(&req, &resp(201, "luma/submit.json"), &cfg(K), NOW)
            .unwrap(),
    );
    assert_eq!(task, pref(ID));
    let poll = adapter(K).build_poll(&task, &cfg(K), NOW).unwrap();
    assert_eq!(
        poll.url,
        format!("https://api.lumalabs.ai/dream-machine/v1/generations/{ID}")
    );
}

#[test]
fn luma_poll_maps_every_state() {
    assert_eq!(
        poll_status(K, &resp(200, "luma/poll_queued.json")),
        ProviderStatus::Queued
    );
    assert_eq!(
        poll_status(K, &resp(200, "luma/poll_dreaming.json")),
        ProviderStatus::Running
    );
    let done = poll_status(K, &resp(200, "luma/poll_completed.json"));
    assert_eq!(
        only_url(&done).0,
        "https://storage.cdn-luma.com/dream_machine/d1968551/6d5e8c3a_result.mp4"
    );
    assert!(matches!(
        poll_status(K, &resp(200, "luma/poll_failed.json")),
        ProviderStatus::Failed { .. }
    ));
}

#[test]
fn luma_callbacks_success_and_moderation() {
    let req = callback(K, fixture("luma/poll_completed.json"), vec![]);
    verify(K, &req, &cfg(K)).unwrap();
    let cb = adapter(K).parse_callback(&req, NOW).unwrap();
    assert_eq!(cb.provider_ref, Some(ProviderRef(ID.into())));
    only_url(callback_status(&cb));

    let moderated = callback(K, fixture("luma/callback_moderated.json"), vec![]);
    let cb = adapter(K).parse_callback(&moderated, NOW).unwrap();
    assert!(matches!(
        callback_status(&cb),
        ProviderStatus::Moderated { .. }
    ));
    let failed = callback(K, fixture("luma/poll_failed.json"), vec![]);
    assert!(matches!(
        callback_status(&adapter(K).parse_callback(&failed, NOW).unwrap()),
        ProviderStatus::Failed {
            retryable: true,
            ..
        }
    ));
}

#[test]
fn luma_http_errors() {
    let req = motion("ray-2");
    let err = adapter(K)
        .parse_submit(&req, &resp(400, "luma/error_400.json"), &cfg(K), NOW)
        .unwrap_err();
    match err {
        ProviderError::Rejected { reason } => assert!(reason.contains("duration must be one of")),
        other => panic!("{other:?}"),
    }
}
