//! Replicate predictions: <https://replicate.com/docs/reference/http#predictions.create>,
//! webhooks <https://replicate.com/docs/topics/webhooks/verify-webhook>.

use studio::ids::ProviderRef;
use studio::providers::config::Secret;
use studio::providers::signature::standard::StandardWebhooks;
use studio::providers::{
    HttpRequest, Output, ProviderConfig, ProviderError, ProviderKind, ProviderStatus,
    SignatureError, adapter,
};
use studio::time::Millis;

use crate::support::*;

const K: ProviderKind = ProviderKind::Replicate;
const SECRET: &str = "whsec_c2ltLXJlcGxpY2F0ZS13ZWJob29rLXNlY3JldC0wMDA=";
const ID: &str = "gm3qorzdhgbfurvjtvhg6dckhu";

fn rep_cfg() -> ProviderConfig {
    let mut c = cfg(K);
    c.webhook_secret = Some(Secret::new(SECRET));
    c
}

fn webhook(f: &str, ts: u64) -> HttpRequest {
    let body = fixture(f);
    let sig =
        StandardWebhooks::new(SECRET)
            .unwrap()
            .sign("msg_2Lh9KRb0pzN4LePd3XiA4v12Axj", ts, &body);
    callback(
        K,
        body,
        vec![
            (
                "webhook-id".into(),
                "msg_2Lh9KRb0pzN4LePd3XiA4v12Axj".into(),
            ),
            ("webhook-timestamp".into(), ts.to_string()),
            ("webhook-signature".into(), sig),
        ],
    )
}

#[test]
fn replicate_submit_creates_a_prediction_with_webhook() {
    let req = with_callback(with_image(motion("wan-video/wan-2.2-i2v-fast")), K);
    let http = adapter(K).build_submit(&req, &cfg(K), NOW).unwrap();
    assert_eq!(http.url, "https://api.replicate.com/v1/predictions");
    assert_eq!(header(&http, "authorization"), "Bearer test-key");
    let body = body(&http);
    assert_eq!(body["version"], "wan-video/wan-2.2-i2v-fast");
    assert_eq!(body["input"]["prompt"], req.prompt.as_str());
    assert_eq!(
        body["input"]["image"],
        "https://media.example.test/s04/keyframe.png"
    );
    assert_eq!(body["webhook"], our_callback_url(K).as_str());
    assert_eq!(
        body["webhook_events_filter"],
        serde_json::json!(["completed"])
    );
}

#[test]
fn replicate_parse_submit_and_poll() {
    let req = motion("wan-video/wan-2.2-i2v-fast");
    let task = accepted(
        adapter(K)
            .parse_submit(&req, &resp(201, "replicate/submit.json"), &cfg(K), NOW)
            .unwrap(),
    );
    assert_eq!(task, pref(ID));
    let poll = adapter(K).build_poll(&task, &cfg(K), NOW).unwrap();
    let cancel = adapter(K).build_cancel(&task, &cfg(K), NOW).unwrap();
    assert_eq!(cancel.method, studio::providers::Method::Post);
    assert_eq!(
        cancel.url,
        format!("https://api.replicate.com/v1/predictions/{ID}/cancel")
    );
    assert_eq!(
        poll.url,
        format!("https://api.replicate.com/v1/predictions/{ID}")
    );
}

#[test]
fn replicate_poll_maps_every_status() {
    let st = |f| poll_status(K, &resp(200, f));
    assert_eq!(st("replicate/submit.json"), ProviderStatus::Queued);
    assert_eq!(
        st("replicate/poll_processing.json"),
        ProviderStatus::Running
    );
    let done = st("replicate/poll_succeeded.json");
    let (url, ct, expires) = only_url(&done);
    assert_eq!(url, "https://replicate.delivery/xezq/abc123/output.mp4");
    assert_eq!(ct, Some("video/mp4"));
    assert_eq!(expires, Some(NOW.plus(Millis::from_secs(3600))));
    match st("replicate/poll_succeeded_array.json") {
        ProviderStatus::Succeeded { outputs } => {
            assert_eq!(outputs.len(), 2);
            assert!(
                matches!(&outputs[0], Output::Url { content_type: Some(ct), .. } if ct == "image/png")
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        st("replicate/poll_failed.json"),
        ProviderStatus::Failed {
            retryable: true,
            ..
        }
    ));
    assert!(matches!(
        st("replicate/poll_failed_nsfw.json"),
        ProviderStatus::Moderated { .. }
    ));
    assert!(matches!(
        st("replicate/poll_canceled.json"),
        ProviderStatus::Failed { .. }
    ));
    assert!(matches!(
        st("replicate/poll_aborted.json"),
        ProviderStatus::Failed {
            retryable: true,
            ..
        }
    ));
}

#[test]
fn replicate_webhook_standard_signature_and_delivery_id() {
    let req = webhook("replicate/poll_succeeded.json", NOW.as_secs());
    verify(K, &req, &rep_cfg()).unwrap();
    let cb = adapter(K).parse_callback(&req, NOW).unwrap();
    assert_eq!(cb.provider_ref, Some(ProviderRef(ID.into())));
    assert_eq!(
        cb.delivery_id.as_ref().unwrap().as_str(),
        "msg_2Lh9KRb0pzN4LePd3XiA4v12Axj"
    );
    only_url(callback_status(&cb));

    let failed = adapter(K)
        .parse_callback(
            &webhook("replicate/poll_failed_nsfw.json", NOW.as_secs()),
            NOW,
        )
        .unwrap();
    assert!(matches!(
        callback_status(&failed),
        ProviderStatus::Moderated { .. }
    ));

    let future = webhook("replicate/poll_succeeded.json", NOW.as_secs() + 301);
    assert!(matches!(
        verify(K, &future, &rep_cfg()),
        Err(SignatureError::StaleTimestamp { .. })
    ));
}

#[test]
fn replicate_http_errors() {
    let req = motion("wan-video/wan-2.2-i2v-fast");
    let submit = |r| adapter(K).parse_submit(&req, &r, &cfg(K), NOW);
    let mut throttled = resp(429, "replicate/error_429.json");
    throttled.headers.push(("retry-after".into(), "30".into()));
    assert_eq!(
        submit(throttled),
        Err(ProviderError::RateLimited {
            retry_after: Some(Millis::from_secs(30))
        })
    );
    assert!(matches!(
        submit(resp(422, "replicate/error_422.json")),
        Err(ProviderError::Rejected { .. })
    ));
}

/// A keyframe of `black-forest-labs/flux-1.1-pro`
/// (<https://replicate.com/black-forest-labs/flux-1.1-pro>): the frame's shape as a preset ratio
/// and a PNG, and no `image` (FLUX has no first-frame input)
fn flux_keyframe(aspect: studio::brief::AspectRatio) -> studio::providers::SubmitRequest {
    let mut req = with_callback(with_image(motion("black-forest-labs/flux-1.1-pro")), K);
    req.kind = studio::plan::StageKind::Keyframe;
    req.stage = studio::ids::StageId("s04.keyframe".into());
    req.aspect = Some(aspect);
    req.prompt = "a lighthouse keeper at the lamp, teal-orange grade".into();
    req
}

#[test]
fn replicate_keyframe_sends_flux_its_ratio_and_png() {
    use studio::brief::AspectRatio::{Landscape, Portrait, Square};
    for (aspect, ratio) in [(Landscape, "16:9"), (Portrait, "9:16"), (Square, "1:1")] {
        let req = flux_keyframe(aspect);
        let http = adapter(K).build_submit(&req, &cfg(K), NOW).unwrap();
        assert_eq!(http.url, "https://api.replicate.com/v1/predictions");
        let body = body(&http);
        assert_eq!(body["version"], "black-forest-labs/flux-1.1-pro");
        assert_eq!(
            body["input"],
            serde_json::json!({
                "prompt": "a lighthouse keeper at the lamp, teal-orange grade",
                "aspect_ratio": ratio,
                "output_format": "png",
            })
        );
        assert_eq!(body["webhook"], our_callback_url(K).as_str());
    }
    // A motion stage keeps its generic input: the keyframe as `image`, no ratio.
    let wan = adapter(K)
        .build_submit(
            &with_image(motion("wan-video/wan-2.2-i2v-fast")),
            &cfg(K),
            NOW,
        )
        .unwrap();
    let input = &body(&wan)["input"];
    assert!(input.get("aspect_ratio").is_none(), "{input}");
    assert!(input.get("image").is_some(), "{input}");
}

#[test]
fn replicate_flux_output_is_one_png() {
    let done = poll_status(K, &resp(200, "replicate/poll_succeeded_flux.json"));
    let (url, ct, expires) = only_url(&done);
    assert_eq!(url, "https://replicate.delivery/xezq/def456/output.png");
    assert_eq!(ct, Some("image/png"));
    assert_eq!(expires, Some(NOW.plus(Millis::from_secs(3600))));
    let req = webhook("replicate/poll_succeeded_flux.json", NOW.as_secs());
    verify(K, &req, &rep_cfg()).unwrap();
    let cb = adapter(K).parse_callback(&req, NOW).unwrap();
    assert_eq!(
        cb.provider_ref,
        Some(ProviderRef("8x1kq5s3cnrme0cr2b7tq0hv4c".into()))
    );
    assert_eq!(only_url(callback_status(&cb)).1, Some("image/png"));
}
