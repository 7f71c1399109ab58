//! Luma Dream Machine: <https://docs.lumalabs.ai/reference/creategeneration>.

use studio::ids::ProviderRef;
use studio::providers::{LookedUp, ProviderError, ProviderKind, ProviderStatus, adapter};

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

// A submit in doubt is looked up in `GET /generations`, whose items carry their request (SDK
// `lumalabs/lumaai-python`: `api.md`, `types/generation_list_response.py`,
// `types/generation.py`); the fixtures follow those types.

#[test]
fn luma_lookup_lists_the_newest_generations() {
    let req = with_callback(motion("ray-2"), K);
    let http = adapter(K).build_lookup(&req, NOW, &cfg(K)).unwrap();
    assert_eq!(
        http.url,
        "https://api.lumalabs.ai/dream-machine/v1/generations?limit=100&offset=0"
    );
    assert_eq!(header(&http, "authorization"), "Bearer test-key");
    // Without our callback URL nothing listed could be told to be ours.
    assert!(
        adapter(K)
            .build_lookup(&motion("ray-2"), NOW, &cfg(K))
            .is_none()
    );
}

#[test]
fn luma_lookup_finds_the_generation_made_for_this_attempt_by_its_callback_path() {
    // The listed URL has another expiry and token than the one rebuilt now: the path names
    // the job, stage and attempt, and is what is compared.
    let req = with_callback(motion("ray-2"), K);
    let found = adapter(K)
        .parse_lookup(&req, NOW, &resp(200, "luma/generations.json"), &cfg(K))
        .unwrap();
    assert_eq!(
        found,
        LookedUp::Found {
            provider_ref: ProviderRef(ID.into()),
            status: ProviderStatus::Running,
        }
    );
}

#[test]
fn luma_lookup_of_another_attempt_finds_nothing_or_asks_again_when_more_pages_exist() {
    let mut req = with_callback(motion("ray-2"), K);
    req.callback_url = req
        .callback_url
        .map(|u| u.replace("/s04.motion/2?", "/s04.motion/4?"));
    assert_eq!(
        adapter(K)
            .parse_lookup(&req, NOW, &resp(200, "luma/generations.json"), &cfg(K))
            .unwrap(),
        LookedUp::NotFound
    );
    // No match on a page with more behind it cannot say "not made": an error, asked again.
    let more =
        adapter(K).parse_lookup(&req, NOW, &resp(200, "luma/generations_more.json"), &cfg(K));
    assert!(
        matches!(more, Err(ProviderError::Malformed { .. })),
        "{more:?}"
    );
}
