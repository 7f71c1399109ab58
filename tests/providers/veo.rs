//! Veo on the Gemini API: <https://ai.google.dev/gemini-api/docs/video>.

use studio::providers::{
    InlineImage, Output, ProviderError, ProviderKind, ProviderStatus, adapter,
};

use crate::support::*;

const K: ProviderKind = ProviderKind::Veo;

#[test]
fn veo_submit_builds_predict_long_running_with_api_key_header() {
    let req = motion("veo-3.0-generate-001");
    let http = adapter(K).build_submit(&req, &cfg(K), NOW).unwrap();
    assert_eq!(
        http.url,
        "https://generativelanguage.googleapis.com/v1beta/models/veo-3.0-generate-001:predictLongRunning"
    );
    assert_eq!(header(&http, "x-goog-api-key"), "test-key");
    assert_eq!(http.header("authorization"), None);
    let body = body(&http);
    assert_eq!(body["instances"][0]["prompt"], req.prompt.as_str());
    assert_eq!(body["parameters"]["aspectRatio"], "16:9");
    // 4.5 s rounds up to the next length Veo renders.
    assert_eq!(body["parameters"]["durationSeconds"], 6);
}

#[test]
fn veo_submit_sends_the_keyframe_inline_and_refuses_a_bare_url() {
    assert!(adapter(K).needs_inline_image());
    let mut req = motion("veo-3.0-generate-001");
    req.image_inline = Some(InlineImage {
        mime_type: "image/png".into(),
        data_base64: "iVBORw0KGgo=".into(),
    });
    let body = body(&adapter(K).build_submit(&req, &cfg(K), NOW).unwrap());
    assert_eq!(
        body["instances"][0]["image"]["bytesBase64Encoded"],
        "iVBORw0KGgo="
    );
    assert_eq!(body["instances"][0]["image"]["mimeType"], "image/png");

    let url_only = with_image(motion("veo-3.0-generate-001"));
    let err = adapter(K)
        .build_submit(&url_only, &cfg(K), NOW)
        .unwrap_err();
    assert!(matches!(err, ProviderError::Rejected { .. }), "{err:?}");
}

#[test]
fn veo_parse_submit_keeps_the_operation_name() {
    let req = motion("veo-3.0-generate-001");
    let task = accepted(
        adapter(K)
            .parse_submit(&req, &resp(200, "veo/submit.json"), &cfg(K), NOW)
            .unwrap(),
    );
    assert_eq!(
        task.as_str(),
        "models/veo-3.0-generate-001/operations/7c8kq2v3xw1p"
    );
    let poll = adapter(K).build_poll(&task, &cfg(K), NOW).unwrap();
    assert_eq!(
        poll.url,
        "https://generativelanguage.googleapis.com/v1beta/models/veo-3.0-generate-001/operations/7c8kq2v3xw1p"
    );
    assert_eq!(header(&poll, "x-goog-api-key"), "test-key");
}

#[test]
fn veo_poll_refuses_an_operation_name_that_escapes_its_path() {
    let err = adapter(K)
        .build_poll(&pref("../../v1/files?x"), &cfg(K), NOW)
        .unwrap_err();
    assert!(matches!(err, ProviderError::Malformed { .. }));
}

#[test]
fn veo_poll_maps_every_operation_state() {
    assert_eq!(
        poll_status(K, &resp(200, "veo/poll_running.json")),
        ProviderStatus::Running
    );
    assert_eq!(
        poll_status(K, &resp(200, "veo/poll_running_no_done.json")),
        ProviderStatus::Running
    );

    let done = poll_status(K, &resp(200, "veo/poll_succeeded.json"));
    let (url, ct, expires) = only_url(&done);
    assert!(url.starts_with("https://generativelanguage.googleapis.com/v1beta/files/"));
    assert_eq!((ct, expires), (Some("video/mp4"), None));

    assert!(matches!(
        poll_status(K, &resp(200, "veo/poll_error_internal.json")),
        ProviderStatus::Failed {
            retryable: true,
            ..
        }
    ));
    assert!(matches!(
        poll_status(K, &resp(200, "veo/poll_error_invalid.json")),
        ProviderStatus::Failed {
            retryable: false,
            ..
        }
    ));
}

#[test]
fn veo_safety_filtered_result_is_moderation() {
    // done: true with no samples and raiMediaFilteredCount: Veo's way of refusing.
    match poll_status(K, &resp(200, "veo/poll_filtered.json")) {
        ProviderStatus::Moderated { reason } => assert!(reason.contains("different prompt")),
        other => panic!("expected moderation, got {other:?}"),
    }
}

#[test]
fn veo_http_errors_map_to_typed_errors() {
    let err = adapter(K)
        .parse_poll(&resp(429, "veo/error_429.json"), &cfg(K), NOW)
        .unwrap_err();
    assert_eq!(err, ProviderError::RateLimited { retry_after: None });
    let req = motion("veo-3.0-generate-001");
    let err = adapter(K)
        .parse_submit(&req, &resp(400, "veo/error_400_safety.json"), &cfg(K), NOW)
        .unwrap_err();
    assert!(matches!(err, ProviderError::Moderated { .. }), "{err:?}");
}

#[test]
fn veo_download_carries_the_api_key_only_to_google() {
    let ours = Output::Url {
        url: "https://generativelanguage.googleapis.com/v1beta/files/abc:download?alt=media".into(),
        content_type: None,
        expires_at: None,
    };
    let fetch = adapter(K).build_output_fetch(&ours, &cfg(K)).unwrap();
    assert_eq!(header(&fetch, "x-goog-api-key"), "test-key");
    let cdn = Output::Url {
        url: "https://cdn.example.test/v.mp4".into(),
        content_type: None,
        expires_at: None,
    };
    assert_eq!(
        adapter(K)
            .build_output_fetch(&cdn, &cfg(K))
            .unwrap()
            .header("x-goog-api-key"),
        None
    );
}

#[test]
fn veo_sends_no_callbacks() {
    let req = callback(K, b"{}".to_vec(), vec![]);
    assert!(verify(K, &req, &cfg(K)).is_err());
    assert!(adapter(K).parse_callback(&req, NOW).is_err());
}

#[test]
fn veo_sends_the_creators_negative_prompt_as_a_parameter() {
    let mut req = motion("veo-3.0-generate-001");
    req.negative_prompt = Some(
        "off-palette colour casts, inconsistent colour grade, flat even lighting, watermark".into(),
    );
    let sent = body(&adapter(K).build_submit(&req, &cfg(K), NOW).unwrap());
    assert_eq!(
        sent["parameters"]["negativePrompt"],
        "off-palette colour casts, inconsistent colour grade, flat even lighting, watermark"
    );
    assert!(sent["instances"][0].get("negativePrompt").is_none());
    let sent = body(
        &adapter(K)
            .build_submit(&motion("veo-3.0-generate-001"), &cfg(K), NOW)
            .unwrap(),
    );
    assert!(sent["parameters"].get("negativePrompt").is_none());
}
