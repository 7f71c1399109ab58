//! Black Forest Labs FLUX 1.1 [pro]: <https://docs.bfl.ai/api_integration/integration_guidelines>,
//! webhook signature per `black-forest-labs/skills:skills/bfl-api/references/webhook-integration.md`.

use studio::ids::ProviderRef;
use studio::providers::config::Secret;
use studio::providers::signature::bfl as bfl_sig;
use studio::providers::{
    ProviderConfig, ProviderError, ProviderKind, ProviderStatus, SignatureError, adapter,
};
use studio::time::Millis;

use crate::support::*;

const K: ProviderKind = ProviderKind::Bfl;
const ID: &str = "a7c3f0a2-5d1e-4b9c-8f6a-2e3d4c5b6a79";

fn bfl_cfg() -> ProviderConfig {
    let mut c = cfg(K);
    c.webhook_secret = Some(Secret::new("bfl-hook-secret"));
    c
}

fn keyframe() -> studio::providers::SubmitRequest {
    let mut req = motion("flux-pro-1.1");
    req.kind = studio::plan::StageKind::Keyframe;
    req.stage = studio::ids::StageId("s04.keyframe".into());
    req
}

#[test]
fn bfl_submit_sends_webhook_url_and_secret() {
    let req = with_callback(keyframe(), K);
    let http = adapter(K).build_submit(&req, &bfl_cfg(), NOW).unwrap();
    assert_eq!(http.url, "https://api.bfl.ai/v1/flux-pro-1.1");
    assert_eq!(header(&http, "x-key"), "test-key");
    let body = body(&http);
    assert_eq!(
        (body["width"].as_u64(), body["height"].as_u64()),
        (Some(1024), Some(576))
    );
    assert_eq!(body["webhook_url"], our_callback_url(K).as_str());
    assert_eq!(body["webhook_secret"], "bfl-hook-secret");
    // Without a secret a webhook could never be verified: poll instead.
    let unsigned = adapter(K).build_submit(&req, &cfg(K), NOW).unwrap();
    assert!(super::support::body(&unsigned).get("webhook_url").is_none());
}

#[test]
fn bfl_polls_the_returned_regional_polling_url() {
    let task = accepted(
        adapter(K)
            .parse_submit(&keyframe(), &resp(200, "bfl/submit.json"), &cfg(K), NOW)
            .unwrap(),
    );
    // The polling URL is the task's ref: it may be on a regional host.
    assert_eq!(
        task,
        pref(format!("https://api.us1.bfl.ai/v1/get_result?id={ID}"))
    );
    let poll = adapter(K).build_poll(&task, &cfg(K), NOW).unwrap();
    assert_eq!(
        poll.url,
        format!("https://api.us1.bfl.ai/v1/get_result?id={ID}")
    );
    assert_eq!(header(&poll, "x-key"), "test-key");
    let elsewhere = pref("https://bfl.ai.evil.test/x");
    assert!(matches!(
        adapter(K).build_poll(&elsewhere, &cfg(K), NOW),
        Err(ProviderError::Malformed { .. })
    ));
    // A bare id polls the global host.
    let bare = adapter(K).build_poll(&pref(ID), &cfg(K), NOW).unwrap();
    assert_eq!(
        bare.url,
        format!("https://api.bfl.ai/v1/get_result?id={ID}")
    );
}

#[test]
fn bfl_ready_output_expires_ten_minutes_from_now() {
    let done = poll_status(K, &resp(200, "bfl/poll_ready.json"));
    let (url, ct, expires) = only_url(&done);
    assert!(url.starts_with("https://delivery-us1.bfl.ai/results/"));
    assert_eq!(ct, Some("image/png"));
    assert_eq!(expires, Some(NOW.plus(Millis::from_secs(600))));
}

#[test]
fn bfl_poll_maps_every_status() {
    let st = |f| poll_status(K, &resp(200, f));
    assert_eq!(st("bfl/poll_pending.json"), ProviderStatus::Running);
    assert!(matches!(
        st("bfl/poll_content_moderated.json"),
        ProviderStatus::Moderated { .. }
    ));
    assert!(matches!(
        st("bfl/poll_request_moderated.json"),
        ProviderStatus::Moderated { .. }
    ));
    assert!(matches!(
        st("bfl/poll_task_not_found.json"),
        ProviderStatus::Failed {
            retryable: true,
            ..
        }
    ));
    assert!(matches!(
        st("bfl/poll_error.json"),
        ProviderStatus::Failed {
            retryable: true,
            ..
        }
    ));
}

#[test]
fn bfl_webhook_verifies_hmac_and_parses() {
    let body = fixture("bfl/webhook_ready.json");
    let sig = bfl_sig::sign("bfl-hook-secret", &body).unwrap();
    assert!(sig.starts_with("sha256=") && sig.len() == 7 + 64);
    let req = callback(K, body, vec![("X-BFL-Signature".into(), sig)]);
    verify(K, &req, &bfl_cfg()).unwrap();
    let cb = adapter(K).parse_callback(&req, NOW).unwrap();
    assert_eq!(cb.provider_ref, Some(ProviderRef(ID.into())));
    assert_eq!(
        only_url(callback_status(&cb)).2,
        Some(NOW.plus(Millis::from_secs(600)))
    );

    let err = callback(K, fixture("bfl/webhook_error.json"), vec![]);
    assert!(matches!(
        callback_status(&adapter(K).parse_callback(&err, NOW).unwrap()),
        ProviderStatus::Failed { .. }
    ));
}

#[test]
fn bfl_webhook_rejects_bad_signatures() {
    let body = fixture("bfl/webhook_ready.json");
    let sig = bfl_sig::sign("another-secret", &body).unwrap();
    let req = callback(K, body.clone(), vec![("X-BFL-Signature".into(), sig)]);
    assert_eq!(verify(K, &req, &bfl_cfg()), Err(SignatureError::Mismatch));
    let unsigned = callback(K, body.clone(), vec![]);
    assert!(matches!(
        verify(K, &unsigned, &bfl_cfg()),
        Err(SignatureError::MissingHeader { .. })
    ));
    let garbled = callback(
        K,
        body.clone(),
        vec![("X-BFL-Signature".into(), "md5=abc".into())],
    );
    assert!(matches!(
        verify(K, &garbled, &bfl_cfg()),
        Err(SignatureError::MalformedHeader { .. })
    ));
    let ok = callback(
        K,
        body.clone(),
        vec![(
            "X-BFL-Signature".into(),
            bfl_sig::sign("bfl-hook-secret", &body).unwrap(),
        )],
    );
    assert_eq!(verify(K, &ok, &cfg(K)), Err(SignatureError::MissingSecret));
}

#[test]
fn bfl_http_errors() {
    let err = adapter(K)
        .parse_submit(&keyframe(), &resp(422, "bfl/error_422.json"), &cfg(K), NOW)
        .unwrap_err();
    match err {
        ProviderError::Rejected { reason } => assert!(reason.contains("multiple of 32")),
        other => panic!("{other:?}"),
    }
}

#[test]
fn kontext_sends_the_cast_references_as_input_images_and_an_aspect_ratio() {
    let mut req = with_callback(keyframe(), K);
    req.provider_model = "flux-kontext-pro".into();
    req.aspect = Some(studio::brief::AspectRatio::Portrait);
    req.reference_images = (1..=5)
        .map(|i| format!("https://render.example.test/v1/media/creators/demo/looks/keeper/{i}.png?exp=1&sig=ab"))
        .collect();
    let http = adapter(K).build_submit(&req, &bfl_cfg(), NOW).unwrap();
    // <https://docs.bfl.ml/api-reference/models/edit-or-create-an-image-with-flux-kontext-pro>
    assert_eq!(http.url, "https://api.bfl.ai/v1/flux-kontext-pro");
    let body = body(&http);
    assert_eq!(body["input_image"], req.reference_images[0].as_str());
    assert_eq!(body["input_image_2"], req.reference_images[1].as_str());
    assert_eq!(body["input_image_4"], req.reference_images[3].as_str());
    assert!(body.get("input_image_5").is_none(), "four at most: {body}");
    assert_eq!(body["aspect_ratio"], "9:16");
    assert!(body.get("width").is_none() && body.get("height").is_none());
    assert_eq!(body["webhook_url"], our_callback_url(K).as_str());
}

#[test]
fn flux_1_1_takes_no_references() {
    let mut req = keyframe();
    req.reference_images = vec!["https://render.example.test/v1/media/creators/demo/a.png".into()];
    let body = body(&adapter(K).build_submit(&req, &bfl_cfg(), NOW).unwrap());
    assert!(body.get("input_image").is_none() && body.get("image_prompt").is_none());
    assert_eq!(body["width"], 1024);
}
