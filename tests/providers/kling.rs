//! Kling: <https://app.klingai.com/global/dev/document-api> (API authorization, text2video,
//! image2video, callback protocol, error codes).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;
use studio::ids::ProviderRef;
use studio::providers::config::Secret;
use studio::providers::{
    ProviderConfig, ProviderError, ProviderKind, ProviderStatus, SignatureError, adapter,
};

use crate::support::*;

const K: ProviderKind = ProviderKind::Kling;
const TASK: &str = "CjMrdmeVbT4AAAAAAJmv5w";

fn kling_cfg() -> ProviderConfig {
    let mut c = ProviderConfig::new("https://api-singapore.klingai.com", "test-ak");
    c.secret_key = Some(Secret::new("test-sk"));
    c
}

/// Checks the JWT's signature with the secret key and returns its claims
fn jwt_claims(authorization: &str) -> Value {
    let token = authorization.strip_prefix("Bearer ").expect("bearer");
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3);
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
    assert_eq!(header["alg"], "HS256");
    assert_eq!(header["typ"], "JWT");
    let mut mac = Hmac::<Sha256>::new_from_slice(b"test-sk").unwrap();
    mac.update(format!("{}.{}", parts[0], parts[1]).as_bytes());
    mac.verify_slice(&URL_SAFE_NO_PAD.decode(parts[2]).unwrap())
        .expect("jwt signature");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap()
}

#[test]
fn kling_submit_builds_jwt_and_callback_url() {
    let req = with_callback(motion("kling-v2-1"), K);
    let http = adapter(K).build_submit(&req, &kling_cfg(), NOW).unwrap();
    assert_eq!(
        http.url,
        "https://api-singapore.klingai.com/v1/videos/text2video"
    );
    let claims = jwt_claims(header(&http, "authorization"));
    let now = NOW.as_secs();
    assert_eq!(claims["iss"], "test-ak");
    assert_eq!(claims["iat"], now);
    assert_eq!(claims["nbf"], now - 5);
    assert_eq!(claims["exp"], now + 1800);
    let body = body(&http);
    assert_eq!(body["model_name"], "kling-v2-1");
    assert_eq!(body["duration"], "5", "duration is a string");
    assert_eq!(body["aspect_ratio"], "16:9");
    assert_eq!(body["external_task_id"], "rnd_01jx:s04.motion:2");
    assert_eq!(body["callback_url"], our_callback_url(K).as_str());
    assert!(
        body["callback_url"].as_str().unwrap().starts_with(
            "https://render.example.test/v1/callbacks/kling/rnd_01jx/s04.motion/2?exp="
        )
    );
}

#[test]
fn kling_image_to_video_uses_its_own_endpoint_and_poll_path() {
    let req = with_image(motion("kling-v2-1"));
    let http = adapter(K).build_submit(&req, &kling_cfg(), NOW).unwrap();
    assert_eq!(
        http.url,
        "https://api-singapore.klingai.com/v1/videos/image2video"
    );
    let body = body(&http);
    assert_eq!(body["image"], "https://media.example.test/s04/keyframe.png");
    assert!(body.get("aspect_ratio").is_none());

    let task = accepted(
        adapter(K)
            .parse_submit(&req, &resp(200, "kling/submit.json"), &kling_cfg(), NOW)
            .unwrap(),
    );
    // The poll path depends on the submit endpoint, so the ref carries it.
    assert_eq!(task, pref(format!("image2video/{TASK}")));
    let poll = adapter(K).build_poll(&task, &kling_cfg(), NOW).unwrap();
    assert_eq!(
        poll.url,
        "https://api-singapore.klingai.com/v1/videos/image2video/CjMrdmeVbT4AAAAAAJmv5w"
    );
    assert_eq!(jwt_claims(header(&poll, "authorization"))["iss"], "test-ak");
}

#[test]
fn kling_poll_of_a_bare_id_is_text_to_video_and_odd_refs_are_refused() {
    let poll = adapter(K)
        .build_poll(&pref(TASK), &kling_cfg(), NOW)
        .unwrap();
    assert_eq!(
        poll.url,
        format!("https://api-singapore.klingai.com/v1/videos/text2video/{TASK}")
    );
    assert!(matches!(
        adapter(K).build_poll(&pref("../x"), &kling_cfg(), NOW),
        Err(ProviderError::Malformed { .. })
    ));
}

#[test]
fn kling_without_secret_key_is_unauthorized() {
    let cfg = ProviderConfig::new("https://api-singapore.klingai.com", "test-ak");
    let err = adapter(K)
        .build_submit(&motion("kling-v2-1"), &cfg, NOW)
        .unwrap_err();
    assert_eq!(err, ProviderError::Unauthorized);
}

#[test]
fn kling_poll_maps_every_status() {
    let st = |f| poll_status(K, &resp(200, f));
    assert_eq!(st("kling/poll_submitted.json"), ProviderStatus::Queued);
    assert_eq!(st("kling/poll_processing.json"), ProviderStatus::Running);
    let done = st("kling/poll_succeed.json");
    let (url, _, expires) = only_url(&done);
    assert!(url.starts_with("https://cdn-ak.klingai.com/"));
    assert_eq!(
        expires,
        Some(NOW.plus(studio::time::Millis::from_secs(30 * 24 * 3600)))
    );
    assert!(matches!(
        st("kling/poll_failed.json"),
        ProviderStatus::Failed {
            retryable: true,
            ..
        }
    ));
}

#[test]
fn kling_unknown_status_is_malformed() {
    let err = adapter(K)
        .parse_poll(
            &resp(200, "kling/poll_unknown_status.json"),
            &kling_cfg(),
            NOW,
        )
        .unwrap_err();
    assert!(matches!(err, ProviderError::Malformed { .. }));
}

#[test]
fn kling_business_codes_map_to_typed_errors_whatever_the_http_status() {
    let req = motion("kling-v2-1");
    let submit = |r| adapter(K).parse_submit(&req, &r, &kling_cfg(), NOW);
    assert_eq!(
        submit(resp(429, "kling/error_1303.json")),
        Err(ProviderError::RateLimited { retry_after: None })
    );
    assert!(matches!(
        submit(resp(400, "kling/error_1301.json")),
        Err(ProviderError::Moderated { .. })
    ));
    assert_eq!(
        submit(resp(401, "kling/error_1004.json")),
        Err(ProviderError::Unauthorized)
    );
    // Kling also answers some business errors with HTTP 200.
    assert_eq!(
        submit(resp(200, "kling/error_1303.json")),
        Err(ProviderError::RateLimited { retry_after: None })
    );
    assert!(matches!(
        submit(raw_resp(500, "upstream error")),
        Err(ProviderError::Transient { .. })
    ));
}

#[test]
fn kling_callbacks_success_failure_moderation() {
    let cb = |f| {
        let req = callback(K, fixture(f), vec![]);
        verify(K, &req, &kling_cfg()).unwrap();
        adapter(K).parse_callback(&req, NOW).unwrap()
    };
    let ok = cb("kling/callback_succeed.json");
    assert_eq!(ok.provider_ref, Some(ProviderRef(TASK.into())));
    assert_eq!(ok.delivery_id, None);
    only_url(callback_status(&ok));
    assert_eq!(
        callback_status(&cb("kling/callback_processing.json")),
        &ProviderStatus::Running
    );
    assert!(matches!(
        callback_status(&cb("kling/callback_failed.json")),
        ProviderStatus::Failed { .. }
    ));
    assert!(matches!(
        callback_status(&cb("kling/callback_failed_moderation.json")),
        ProviderStatus::Moderated { .. }
    ));
}

#[test]
fn kling_callback_needs_our_token() {
    let mut req = callback(K, fixture("kling/callback_succeed.json"), vec![]);
    req.url = req.url.replace("token=", "token=x");
    assert_eq!(verify(K, &req, &kling_cfg()), Err(SignatureError::Mismatch));
    // A URL minted for another provider does not open this one.
    let other = callback(
        ProviderKind::Luma,
        fixture("kling/callback_succeed.json"),
        vec![],
    );
    assert_eq!(
        verify(K, &other, &kling_cfg()),
        Err(SignatureError::WrongProvider)
    );
    assert!(matches!(
        adapter(K).parse_callback(&callback(K, b"{".to_vec(), vec![]), NOW),
        Err(ProviderError::Malformed { .. })
    ));
}

#[test]
fn kling_sends_the_creators_negative_prompt_on_both_endpoints() {
    for req in [motion("kling-v2-1"), with_image(motion("kling-v2-1"))] {
        let mut req = req;
        req.negative_prompt = Some(
            "off-palette colour casts, inconsistent colour grade, flat even lighting, watermark"
                .into(),
        );
        let sent = body(&adapter(K).build_submit(&req, &kling_cfg(), NOW).unwrap());
        assert_eq!(
            sent["negative_prompt"],
            "off-palette colour casts, inconsistent colour grade, flat even lighting, watermark"
        );
        assert_eq!(sent["prompt"], req.prompt.as_str());
    }
    // Without one, the field is absent (Kling's default applies).
    let sent = body(
        &adapter(K)
            .build_submit(&motion("kling-v2-1"), &kling_cfg(), NOW)
            .unwrap(),
    );
    assert!(sent.get("negative_prompt").is_none());
}

#[test]
fn kling_1_6_renders_a_cast_look_through_multi_image2video() {
    let mut req = with_callback(with_image(motion("kling-v1-6")), ProviderKind::Kling);
    req.reference_images = (1..=4)
        .map(|i| format!("https://render.example.test/v1/media/creators/demo/looks/keeper/{i}.png"))
        .collect();
    let http = adapter(ProviderKind::Kling)
        .build_submit(&req, &kling_cfg(), NOW)
        .unwrap();
    assert_eq!(
        http.url,
        "https://api-singapore.klingai.com/v1/videos/multi-image2video"
    );
    let body = body(&http);
    let list: Vec<&str> = body["image_list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["image"].as_str().unwrap())
        .collect();
    // The keyframe leads, then three of the four references (Kling takes four images).
    assert_eq!(list.len(), 4);
    assert_eq!(list[0], "https://media.example.test/s04/keyframe.png");
    assert_eq!(
        list[1..],
        req.reference_images[..3]
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()[..]
    );
    assert!(body.get("image").is_none());
    assert_eq!(body["aspect_ratio"], "16:9");
    assert_eq!(body["model_name"], "kling-v1-6");
    // Its task is polled where it was made.
    let resp = raw_resp(
        200,
        r#"{"code":0,"message":"SUCCEED","request_id":"r","data":{"task_id":"842","task_status":"submitted"}}"#,
    );
    let task = accepted(
        adapter(ProviderKind::Kling)
            .parse_submit(&req, &resp, &kling_cfg(), NOW)
            .unwrap(),
    );
    assert_eq!(task, pref("multi-image2video/842"));
    let poll = adapter(ProviderKind::Kling)
        .build_poll(&task, &kling_cfg(), NOW)
        .unwrap();
    assert!(
        poll.url.ends_with("/v1/videos/multi-image2video/842"),
        "{}",
        poll.url
    );
}

#[test]
fn kling_2_1_keeps_image2video_whatever_the_references() {
    let mut req = with_image(motion("kling-v2-1"));
    req.reference_images = vec!["https://render.example.test/v1/media/creators/demo/a.png".into()];
    let http = adapter(ProviderKind::Kling)
        .build_submit(&req, &kling_cfg(), NOW)
        .unwrap();
    assert!(http.url.ends_with("/v1/videos/image2video"));
    assert!(body(&http).get("image_list").is_none());
}
