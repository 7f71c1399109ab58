//! Seedance on BytePlus ModelArk: <https://docs.byteplus.com/en/docs/ModelArk/1520757>.

use studio::ids::ProviderRef;
use studio::providers::{ProviderError, ProviderKind, ProviderStatus, adapter};
use studio::time::Millis;

use crate::support::*;

const K: ProviderKind = ProviderKind::Seedance;
const ID: &str = "cgt-20250615150500-7k2qd";

#[test]
fn seedance_submit_builds_content_items_flags_and_callback_url() {
    let req = with_callback(with_image(motion("seedance-1-0-pro-250528")), K);
    let http = adapter(K).build_submit(&req, &cfg(K), NOW).unwrap();
    assert_eq!(
        http.url,
        "https://ark.ap-southeast.bytepluses.com/api/v3/contents/generations/tasks"
    );
    assert_eq!(header(&http, "authorization"), "Bearer test-key");
    let body = body(&http);
    assert_eq!(body["model"], "seedance-1-0-pro-250528");
    // Parameters ride in the prompt text; a first frame keeps its own shape.
    assert_eq!(body["content"][0]["type"], "text");
    assert!(
        body["content"][0]["text"]
            .as_str()
            .unwrap()
            .ends_with(" --ratio adaptive --duration 5")
    );
    assert_eq!(body["content"][1]["type"], "image_url");
    assert_eq!(
        body["content"][1]["image_url"]["url"],
        "https://media.example.test/s04/keyframe.png"
    );
    assert_eq!(body["content"][1]["role"], "first_frame");
    assert_eq!(body["callback_url"], our_callback_url(K).as_str());

    let text_only = adapter(K)
        .build_submit(&motion("seedance-1-0-pro-250528"), &cfg(K), NOW)
        .unwrap();
    assert!(
        super::support::body(&text_only)["content"][0]["text"]
            .as_str()
            .unwrap()
            .ends_with("--ratio 16:9 --duration 5")
    );
}

#[test]
fn seedance_parse_submit_and_poll() {
    let req = motion("seedance-1-0-pro-250528");
    let task = accepted(
        adapter(K)
            .parse_submit(&req, &resp(200, "seedance/submit.json"), &cfg(K), NOW)
            .unwrap(),
    );
    assert_eq!(task, pref(ID));
    let poll = adapter(K).build_poll(&task, &cfg(K), NOW).unwrap();
    assert_eq!(
        poll.url,
        format!("https://ark.ap-southeast.bytepluses.com/api/v3/contents/generations/tasks/{ID}")
    );
}

#[test]
fn seedance_poll_maps_every_status() {
    let st = |f| poll_status(K, &resp(200, f));
    assert_eq!(st("seedance/poll_queued.json"), ProviderStatus::Queued);
    assert_eq!(st("seedance/poll_running.json"), ProviderStatus::Running);
    let done = st("seedance/poll_succeeded.json");
    let (url, _, expires) = only_url(&done);
    assert!(url.contains("tos-ap-southeast-1.volces.com"));
    assert_eq!(expires, Some(NOW.plus(Millis::from_secs(24 * 3600))));
    assert!(matches!(
        st("seedance/poll_failed_sensitive.json"),
        ProviderStatus::Moderated { .. }
    ));
    assert!(matches!(
        st("seedance/poll_failed.json"),
        ProviderStatus::Failed {
            retryable: true,
            ..
        }
    ));
    assert!(matches!(
        st("seedance/poll_cancelled.json"),
        ProviderStatus::Failed { .. }
    ));
    assert!(matches!(
        st("seedance/poll_expired.json"),
        ProviderStatus::Failed {
            retryable: true,
            ..
        }
    ));
}

#[test]
fn seedance_callback_mirrors_the_task() {
    let req = callback(K, fixture("seedance/poll_succeeded.json"), vec![]);
    verify(K, &req, &cfg(K)).unwrap();
    let cb = adapter(K).parse_callback(&req, NOW).unwrap();
    assert_eq!(cb.provider_ref, Some(ProviderRef(ID.into())));
    only_url(callback_status(&cb));
    let sensitive = callback(K, fixture("seedance/poll_failed_sensitive.json"), vec![]);
    assert!(matches!(
        callback_status(&adapter(K).parse_callback(&sensitive, NOW).unwrap()),
        ProviderStatus::Moderated { .. }
    ));
}

#[test]
fn seedance_http_errors() {
    let req = motion("seedance-1-0-pro-250528");
    let submit = |r| adapter(K).parse_submit(&req, &r, &cfg(K), NOW);
    assert_eq!(
        submit(resp(429, "seedance/error_429.json")),
        Err(ProviderError::RateLimited { retry_after: None })
    );
    assert!(matches!(
        submit(resp(400, "seedance/error_400_sensitive.json")),
        Err(ProviderError::Moderated { .. })
    ));
}
