//! Sora 2 videos API: <https://developers.openai.com/api/docs/guides/video-generation>.

use studio::ids::ProviderRef;
use studio::providers::signature::standard::StandardWebhooks;
use studio::providers::{
    CallbackEvent, HttpRequest, Method, Output, ProviderError, ProviderKind, ProviderStatus,
    SignatureError, adapter,
};
use studio::time::Timestamp;

use crate::support::*;

const K: ProviderKind = ProviderKind::Sora;
const SECRET: &str = "whsec_c2ltLXNvcmEtd2ViaG9vay1zZWNyZXQtMDAwMDAwMDA=";
const VIDEO: &str = "video_68d7512d07848190b3e45da0ecbebcde004da08e1e0678d5";

fn sora_cfg() -> studio::providers::ProviderConfig {
    let mut c = cfg(K);
    c.webhook_secret = Some(SECRET.into());
    c
}

/// A webhook as OpenAI sends it: to the project URL, signed with Standard Webhooks
fn webhook(fixture_path: &str, msg_id: &str, ts: u64) -> HttpRequest {
    let body = fixture(fixture_path);
    let sig = StandardWebhooks::new(SECRET)
        .unwrap()
        .sign(msg_id, ts, &body);
    HttpRequest {
        method: Method::Post,
        url: format!("{PUBLIC_BASE}/v1/callbacks/sora"),
        headers: vec![
            ("webhook-id".into(), msg_id.into()),
            ("webhook-timestamp".into(), ts.to_string()),
            ("webhook-signature".into(), sig),
        ],
        body,
    }
}

#[test]
fn sora_submit_posts_videos_with_bearer_seconds_and_size() {
    let req = with_image(motion("sora-2"));
    let http = adapter(K).build_submit(&req, &cfg(K), NOW).unwrap();
    assert_eq!(http.url, "https://api.openai.com/v1/videos");
    assert_eq!(header(&http, "authorization"), "Bearer test-key");
    assert_eq!(header(&http, "idempotency-key"), "rnd_01jx:s04.motion:2");
    let body = body(&http);
    assert_eq!(body["model"], "sora-2");
    assert_eq!(body["seconds"], "8", "seconds is a string enum");
    assert_eq!(body["size"], "1280x720");
    assert_eq!(
        body["input_reference"]["image_url"],
        "https://media.example.test/s04/keyframe.png"
    );
}

#[test]
fn sora_submit_refuses_square() {
    let mut req = motion("sora-2");
    req.aspect = Some(studio::brief::AspectRatio::Square);
    assert!(matches!(
        adapter(K).build_submit(&req, &cfg(K), NOW),
        Err(ProviderError::Rejected { .. })
    ));
}

#[test]
fn sora_parse_submit_and_poll_path() {
    let req = motion("sora-2");
    let task = accepted(
        adapter(K)
            .parse_submit(&req, &resp(200, "sora/submit.json"), &cfg(K), NOW)
            .unwrap(),
    );
    assert_eq!(task, pref(VIDEO));
    let poll = adapter(K).build_poll(&task, &cfg(K), NOW).unwrap();
    assert_eq!(
        poll.url,
        format!("https://api.openai.com/v1/videos/{VIDEO}")
    );
    assert_eq!(header(&poll, "authorization"), "Bearer test-key");
}

#[test]
fn sora_poll_maps_every_status() {
    assert_eq!(
        poll_status(K, &resp(200, "sora/poll_queued.json")),
        ProviderStatus::Queued
    );
    assert_eq!(
        poll_status(K, &resp(200, "sora/poll_in_progress.json")),
        ProviderStatus::Running
    );
    assert!(matches!(
        poll_status(K, &resp(200, "sora/poll_failed.json")),
        ProviderStatus::Failed {
            retryable: true,
            ..
        }
    ));
    assert!(matches!(
        poll_status(K, &resp(200, "sora/poll_moderated.json")),
        ProviderStatus::Moderated { .. }
    ));
}

#[test]
fn sora_completed_output_is_the_authenticated_content_endpoint() {
    let done = poll_status(K, &resp(200, "sora/poll_completed.json"));
    let (url, ct, expires) = only_url(&done);
    assert_eq!(
        url,
        format!("https://api.openai.com/v1/videos/{VIDEO}/content")
    );
    assert_eq!(ct, Some("video/mp4"));
    assert_eq!(expires, Some(Timestamp::from_secs(1_750_003_700)));
    let output = Output::Url {
        url: url.into(),
        content_type: None,
        expires_at: None,
    };
    let fetch = adapter(K).build_output_fetch(&output, &cfg(K)).unwrap();
    assert_eq!(fetch.method, Method::Get);
    assert_eq!(header(&fetch, "authorization"), "Bearer test-key");
}

#[test]
fn sora_webhook_verifies_and_asks_for_a_status_fetch() {
    let req = webhook(
        "sora/webhook_completed.json",
        "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W",
        NOW.as_secs(),
    );
    verify(K, &req, &sora_cfg()).unwrap();
    let cb = adapter(K).parse_callback(&req, NOW).unwrap();
    assert_eq!(cb.provider_ref, Some(ProviderRef(VIDEO.into())));
    assert_eq!(
        cb.delivery_id.as_ref().unwrap().as_str(),
        "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"
    );
    assert_eq!(cb.event, CallbackEvent::FetchStatus);

    let failed = webhook("sora/webhook_failed.json", "msg_2", NOW.as_secs());
    assert_eq!(
        adapter(K).parse_callback(&failed, NOW).unwrap().event,
        CallbackEvent::FetchStatus
    );
}

#[test]
fn sora_webhook_of_another_event_type_is_ignored() {
    let req = webhook("sora/webhook_other_event.json", "msg_3", NOW.as_secs());
    assert_eq!(
        adapter(K).parse_callback(&req, NOW).unwrap().event,
        CallbackEvent::Ignore
    );
}

#[test]
fn sora_webhook_rejects_tampering_staleness_and_a_missing_secret() {
    let mut req = webhook("sora/webhook_completed.json", "msg_1", NOW.as_secs());
    req.body.push(b' ');
    assert_eq!(verify(K, &req, &sora_cfg()), Err(SignatureError::Mismatch));
    let old = webhook("sora/webhook_completed.json", "msg_1", NOW.as_secs() - 301);
    assert!(matches!(
        verify(K, &old, &sora_cfg()),
        Err(SignatureError::StaleTimestamp { .. })
    ));
    let ok = webhook("sora/webhook_completed.json", "msg_1", NOW.as_secs());
    assert_eq!(verify(K, &ok, &cfg(K)), Err(SignatureError::MissingSecret));
}

#[test]
fn sora_http_errors() {
    let req = motion("sora-2");
    let submit = |r| adapter(K).parse_submit(&req, &r, &cfg(K), NOW);
    assert_eq!(
        submit(resp(401, "sora/error_401.json")),
        Err(ProviderError::Unauthorized)
    );
    assert!(matches!(
        submit(resp(400, "sora/error_400_moderation.json")),
        Err(ProviderError::Moderated { .. })
    ));
    assert!(matches!(
        submit(raw_resp(502, "<html>bad gateway</html>")),
        Err(ProviderError::Transient { .. })
    ));
}
