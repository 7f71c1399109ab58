//! MiniMax Hailuo video: <https://platform.minimax.io/docs/api-reference/video-generation-t2v>,
//! <https://platform.minimax.io/docs/api-reference/video-generation-query>.

use serde_json::Value;
use studio::ids::ProviderRef;
use studio::providers::{
    CallbackEvent, PollOutcome, ProviderError, ProviderKind, ProviderStatus, adapter,
};
use studio::time::Millis;

use crate::support::*;

const K: ProviderKind = ProviderKind::Hailuo;
const ID: &str = "106916112212032";

#[test]
fn hailuo_submit_builds_video_generation_with_first_frame_and_callback_url() {
    let req = with_callback(with_image(motion("MiniMax-Hailuo-02")), K);
    let http = adapter(K).build_submit(&req, &cfg(K), NOW).unwrap();
    assert_eq!(http.url, "https://api.minimax.io/v1/video_generation");
    assert_eq!(header(&http, "authorization"), "Bearer test-key");
    let body = body(&http);
    assert_eq!(body["model"], "MiniMax-Hailuo-02");
    assert_eq!(body["duration"], 6);
    assert_eq!(body["resolution"], "768P");
    assert_eq!(
        body["first_frame_image"],
        "https://media.example.test/s04/keyframe.png"
    );
    assert_eq!(body["callback_url"], our_callback_url(K).as_str());
}

#[test]
fn hailuo_parse_submit_reads_base_resp() {
    let req = motion("MiniMax-Hailuo-02");
    let submit = |f| adapter(K).parse_submit(&req, &resp(200, f), &cfg(K), NOW);
    assert_eq!(accepted(submit("hailuo/submit.json").unwrap()), pref(ID));
    // Errors arrive as HTTP 200 with a non-zero base_resp.
    assert!(matches!(
        submit("hailuo/submit_sensitive.json"),
        Err(ProviderError::Moderated { .. })
    ));
    assert_eq!(
        submit("hailuo/submit_rate_limited.json"),
        Err(ProviderError::RateLimited { retry_after: None })
    );
    assert_eq!(
        submit("hailuo/submit_auth.json"),
        Err(ProviderError::Unauthorized)
    );
}

#[test]
fn hailuo_poll_query_path_and_statuses() {
    let poll = adapter(K).build_poll(&pref(ID), &cfg(K), NOW).unwrap();
    assert_eq!(
        poll.url,
        format!("https://api.minimax.io/v1/query/video_generation?task_id={ID}")
    );
    assert_eq!(header(&poll, "authorization"), "Bearer test-key");
    assert_eq!(
        poll_status(K, &resp(200, "hailuo/query_preparing.json")),
        ProviderStatus::Queued
    );
    assert_eq!(
        poll_status(K, &resp(200, "hailuo/query_queueing.json")),
        ProviderStatus::Queued
    );
    assert_eq!(
        poll_status(K, &resp(200, "hailuo/query_processing.json")),
        ProviderStatus::Running
    );
    assert!(matches!(
        poll_status(K, &resp(200, "hailuo/query_fail.json")),
        ProviderStatus::Failed {
            retryable: true,
            ..
        }
    ));
    assert!(matches!(
        poll_status(K, &resp(200, "hailuo/query_fail_sensitive.json")),
        ProviderStatus::Moderated { .. }
    ));
}

#[test]
fn hailuo_success_follows_up_with_file_retrieve() {
    let outcome = adapter(K)
        .parse_poll(&resp(200, "hailuo/query_success.json"), &cfg(K), NOW)
        .unwrap();
    let PollOutcome::FollowUp { request } = outcome else {
        panic!("expected a follow-up, got {outcome:?}")
    };
    assert_eq!(
        request.url,
        "https://api.minimax.io/v1/files/retrieve?file_id=205258526306433"
    );
    assert_eq!(header(&request, "authorization"), "Bearer test-key");

    let done = adapter(K)
        .parse_follow_up(&resp(200, "hailuo/retrieve.json"), NOW)
        .unwrap();
    let (url, ct, expires) = only_url(&done);
    assert!(
        url.starts_with("https://public-cdn-video-data-algeng.oss-cn-wulanchabu.aliyuncs.com/")
    );
    assert_eq!(ct, Some("video/mp4"));
    assert_eq!(expires, Some(NOW.plus(Millis::from_secs(9 * 3600))));
}

#[test]
fn hailuo_challenge_is_echoed() {
    let req = callback(K, fixture("hailuo/callback_challenge.json"), vec![]);
    verify(K, &req, &cfg(K)).unwrap();
    let cb = adapter(K).parse_callback(&req, NOW).unwrap();
    let CallbackEvent::Challenge { response } = cb.event else {
        panic!("expected a challenge, got {cb:?}")
    };
    assert_eq!(response.status, 200);
    assert_eq!(response.header("content-type"), Some("application/json"));
    let echoed: Value = serde_json::from_slice(&response.body).unwrap();
    assert_eq!(
        echoed,
        serde_json::json!({ "challenge": "1a3cs1j-601a-118y-ch52-o48911eabc3u" })
    );
}

#[test]
fn hailuo_callbacks_match_status_case_insensitively() {
    let cb = |f| {
        adapter(K)
            .parse_callback(&callback(K, fixture(f), vec![]), NOW)
            .unwrap()
    };
    assert_eq!(
        callback_status(&cb("hailuo/callback_processing.json")),
        &ProviderStatus::Running
    );
    // Success names a file, whose URL needs the retrieve the poll path does.
    let success = cb("hailuo/callback_success.json");
    assert_eq!(success.provider_ref, Some(ProviderRef(ID.into())));
    assert_eq!(success.event, CallbackEvent::FetchStatus);
    assert_eq!(
        cb("hailuo/callback_success_capitalised.json").event,
        CallbackEvent::FetchStatus
    );
    assert!(matches!(
        callback_status(&cb("hailuo/callback_failed_sensitive.json")),
        ProviderStatus::Moderated { .. }
    ));
}
