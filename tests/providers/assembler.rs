//! Our assembler (wire format documented in `src/providers/assembler.rs`).

use serde_json::json;
use studio::ids::ProviderRef;
use studio::plan::StageKind;
use studio::providers::{Output, ProviderError, ProviderKind, ProviderStatus, adapter};

use crate::support::*;

const K: ProviderKind = ProviderKind::Assembler;
const ID: &str = "asm_01jxk2q9w7e";

fn assembly() -> studio::providers::SubmitRequest {
    let mut req = motion("timeline-v1");
    req.kind = StageKind::Assembly;
    req.stage = studio::ids::StageId("assembly".into());
    req.timeline = Some(json!({
        "master": "16:9",
        "variants": ["9:16", "1:1"],
        "badge": true,
        "duration_s": 8.0,
        "clips": [
            { "shot": "s01", "key": "renders/rnd_01jx/s01.motion/0.mp4", "start_s": 0.0, "duration_s": 4.0 },
            { "shot": "s02", "key": "renders/rnd_01jx/s02.motion/0.mp4", "start_s": 4.0, "duration_s": 4.0 }
        ],
        "dialogue": [],
        "voiceover": { "stage": "voiceover", "key": "renders/rnd_01jx/voiceover/0.mp3", "start_s": 0.0 },
        "score": null
    }));
    req
}

#[test]
fn assembler_submit_posts_the_timeline_with_callback_url() {
    let req = with_callback(assembly(), K);
    let http = adapter(K).build_submit(&req, &cfg(K), NOW).unwrap();
    assert_eq!(http.url, "https://assembler.example.test/v1/assemblies");
    assert_eq!(header(&http, "authorization"), "Bearer test-key");
    assert_eq!(header(&http, "idempotency-key"), "rnd_01jx:s04.motion:2");
    let body = body(&http);
    assert_eq!(
        body["timeline"]["clips"][1]["key"],
        "renders/rnd_01jx/s02.motion/0.mp4"
    );
    assert_eq!(body["timeline"]["badge"], true);
    assert_eq!(body["timeline"]["variants"], json!(["9:16", "1:1"]));
    assert_eq!(body["callback_url"], our_callback_url(K).as_str());

    let mut no_timeline = assembly();
    no_timeline.timeline = None;
    assert!(matches!(
        adapter(K).build_submit(&no_timeline, &cfg(K), NOW),
        Err(ProviderError::Rejected { .. })
    ));
}

#[test]
fn assembler_parse_submit_and_poll() {
    let task = accepted(
        adapter(K)
            .parse_submit(
                &assembly(),
                &resp(202, "assembler/submit.json"),
                &cfg(K),
                NOW,
            )
            .unwrap(),
    );
    assert_eq!(task, pref(ID));
    let poll = adapter(K).build_poll(&task, &cfg(K), NOW).unwrap();
    assert_eq!(
        poll.url,
        format!("https://assembler.example.test/v1/assemblies/{ID}")
    );
    assert_eq!(header(&poll, "authorization"), "Bearer test-key");
}

#[test]
fn assembler_outputs_master_first_then_variants_in_order() {
    assert_eq!(
        poll_status(K, &resp(200, "assembler/submit.json")),
        ProviderStatus::Queued
    );
    assert_eq!(
        poll_status(K, &resp(200, "assembler/poll_running.json")),
        ProviderStatus::Running
    );
    let ProviderStatus::Succeeded { outputs } =
        poll_status(K, &resp(200, "assembler/poll_succeeded.json"))
    else {
        panic!("expected success")
    };
    let urls: Vec<&str> = outputs
        .iter()
        .map(|o| match o {
            Output::Url { url, .. } => url.as_str(),
            Output::Stored { key, .. } => key.as_str(),
        })
        .collect();
    assert_eq!(
        urls,
        [
            "https://assembler.example.test/v1/assemblies/asm_01jxk2q9w7e/master.mp4",
            "https://assembler.example.test/v1/assemblies/asm_01jxk2q9w7e/9x16.mp4",
            "https://assembler.example.test/v1/assemblies/asm_01jxk2q9w7e/1x1.mp4",
        ]
    );
    // Outputs on the assembler's own host need its credentials.
    let fetch = adapter(K).build_output_fetch(&outputs[0], &cfg(K)).unwrap();
    assert_eq!(header(&fetch, "authorization"), "Bearer test-key");
    assert!(matches!(
        poll_status(K, &resp(200, "assembler/poll_failed.json")),
        ProviderStatus::Failed {
            retryable: true,
            ..
        }
    ));
}

#[test]
fn assembler_callback_with_token() {
    let req = callback(K, fixture("assembler/poll_succeeded.json"), vec![]);
    verify(K, &req, &cfg(K)).unwrap();
    let cb = adapter(K).parse_callback(&req, NOW).unwrap();
    assert_eq!(cb.provider_ref, Some(ProviderRef(ID.into())));
    assert!(matches!(
        callback_status(&cb),
        ProviderStatus::Succeeded { .. }
    ));
}
