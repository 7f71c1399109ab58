//! Shotstack's Edit API, the fallback assembly route (`src/providers/shotstack.rs`).

use serde_json::{Value, json};
use studio::ids::{ProviderRef, StageId};
use studio::plan::StageKind;
use studio::providers::{
    CallbackEvent, HttpRequest, Method, Output, ProviderError, ProviderKind, ProviderStatus,
    SubmitRequest, adapter,
};
use studio::time::Millis;

use crate::support::*;

const K: ProviderKind = ProviderKind::Shotstack;
const ID: &str = "d2b46ed6-998a-4d6b-9d91-b8cf0193a655";
const OUTPUT: &str = "https://shotstack-api-v1-output.s3-ap-southeast-2.amazonaws.com/5ca6hu7s9k/d2b46ed6-998a-4d6b-9d91-b8cf0193a655";

fn media(key: &str) -> String {
    format!("https://render.example.test/media/{key}?exp=1750003600&sig=abc")
}

/// A timeline as the Worker sends it: the planner's `Timeline` with a signed `url` per `key`
fn timeline() -> Value {
    json!({
        "master": "9:16",
        "variants": ["16:9", "1:1"],
        "badge": true,
        "quality": "preview",
        "captions": {"burn": true},
        "duration_s": 8.0,
        "clips": [
            { "shot": "s01", "key": "renders/rnd_01jx/s01.motion/1/output.mp4",
              "url": media("renders/rnd_01jx/s01.motion/1/output.mp4"), "start_s": 0.0, "duration_s": 5.0 },
            { "shot": "s02", "key": "renders/rnd_01jx/s02.motion/1/output.mp4",
              "url": media("renders/rnd_01jx/s02.motion/1/output.mp4"), "start_s": 5.0, "duration_s": 3.0 }
        ],
        "dialogue": [
            { "stage": "s02.dialogue", "key": "renders/rnd_01jx/s02.dialogue/1/output.mp3",
              "url": media("renders/rnd_01jx/s02.dialogue/1/output.mp3"), "start_s": 5.0,
              "text": "One more night.", "speaker": "Ines" }
        ],
        "voiceover": { "stage": "voiceover", "key": "renders/rnd_01jx/voiceover/1/output.mp3",
                       "url": media("renders/rnd_01jx/voiceover/1/output.mp3"), "start_s": 0.0 },
        "score": { "stage": "score", "key": "renders/rnd_01jx/score/1/output.mp3",
                   "url": media("renders/rnd_01jx/score/1/output.mp3"), "start_s": 0.0 }
    })
}

fn assembly(timeline: Value) -> SubmitRequest {
    let mut req = motion("edit-v1");
    req.kind = StageKind::Assembly;
    req.stage = StageId("assembly".into());
    req.aspect = None;
    req.timeline = Some(timeline);
    req
}

fn submit_body(timeline: Value) -> Value {
    let req = with_callback(assembly(timeline), K);
    body(&adapter(K).build_submit(&req, &cfg(K), NOW).unwrap())
}

#[test]
fn shotstack_submit_is_one_render_of_the_master() {
    let req = with_callback(assembly(timeline()), K);
    let http = adapter(K).build_submit(&req, &cfg(K), NOW).unwrap();
    assert_eq!(http.method, Method::Post);
    assert_eq!(http.url, "https://api.shotstack.io/edit/v1/render");
    assert_eq!(header(&http, "x-api-key"), "test-key");
    assert_eq!(http.header("authorization"), None);
    let b = body(&http);
    assert_eq!(b["callback"], our_callback_url(K).as_str());

    // Badge on top (the first track is the top layer), for the whole cut, top right.
    let tracks = b["timeline"]["tracks"].as_array().unwrap();
    assert_eq!(tracks.len(), 4, "{b:#}");
    let badge = &tracks[0]["clips"][0];
    assert_eq!(badge["asset"]["type"], "html");
    assert!(
        badge["asset"]["html"]
            .as_str()
            .unwrap()
            .contains("Made with CreatorStudio")
    );
    assert_eq!(badge["position"], "topRight");
    assert_eq!(badge["start"], 0.0);
    assert_eq!(badge["length"], 8.0);

    // Clips in edit order, muted, cover-and-crop.
    let video = tracks[1]["clips"].as_array().unwrap();
    assert_eq!(video.len(), 2);
    for (clip, (shot, start, length)) in video.iter().zip([("s01", 0.0, 5.0), ("s02", 5.0, 3.0)]) {
        assert_eq!(clip["asset"]["type"], "video");
        assert_eq!(
            clip["asset"]["src"],
            media(&format!("renders/rnd_01jx/{shot}.motion/1/output.mp4")).as_str()
        );
        assert_eq!(clip["asset"]["volume"], 0.0);
        assert_eq!(clip["start"], start);
        assert_eq!(clip["length"], length);
        assert_eq!(clip["fit"], "crop");
    }

    // Speech at its starts, running to the end of the cut so the output is exactly 8 s.
    let speech = tracks[2]["clips"].as_array().unwrap();
    assert_eq!(speech.len(), 2);
    assert_eq!(speech[0]["asset"]["type"], "audio");
    assert_eq!(
        speech[0]["asset"]["src"],
        media("renders/rnd_01jx/s02.dialogue/1/output.mp3").as_str()
    );
    assert_eq!(speech[0]["start"], 5.0);
    assert_eq!(speech[0]["length"], 3.0);
    assert_eq!(speech[0]["asset"]["volume"], 1.0);
    assert_eq!(speech[1]["start"], 0.0);
    assert_eq!(speech[1]["length"], 8.0);

    // The score under it, lower.
    let score = &tracks[3]["clips"][0];
    assert_eq!(
        score["asset"]["src"],
        media("renders/rnd_01jx/score/1/output.mp3").as_str()
    );
    assert_eq!(score["asset"]["volume"], 0.3);
    assert_eq!(score["length"], 8.0);

    // One output: the master's frame, 360p for a preview, with a poster.
    assert_eq!(
        b["output"],
        json!({
            "format": "mp4",
            "resolution": "mobile",
            "aspectRatio": "9:16",
            "fps": 30,
            "poster": {"capture": 1.0},
        })
    );
    // Nothing of the variants or captions reaches Shotstack.
    let text = b.to_string();
    assert!(!text.contains("variants") && !text.contains("One more night"));
}

#[test]
fn shotstack_hd_without_badge_or_music() {
    let mut t = timeline();
    t["quality"] = json!("hd");
    t["badge"] = json!(false);
    t["master"] = json!("16:9");
    t["score"] = Value::Null;
    t["dialogue"] = json!([]);
    t["voiceover"] = Value::Null;
    let b = submit_body(t);
    assert_eq!(b["output"]["resolution"], "1080");
    assert_eq!(b["output"]["aspectRatio"], "16:9");
    let tracks = b["timeline"]["tracks"].as_array().unwrap();
    assert_eq!(tracks.len(), 1, "only the clips: {b:#}");
    assert_eq!(tracks[0]["clips"][0]["asset"]["type"], "video");

    // Older timelines have no quality: hd, as our assembler defaults.
    let mut t = timeline();
    t.as_object_mut().unwrap().remove("quality");
    assert_eq!(submit_body(t)["output"]["resolution"], "1080");
}

#[test]
fn shotstack_short_cut_takes_the_poster_mid_cut_and_poll_only_has_no_callback() {
    let mut t = timeline();
    t["duration_s"] = json!(1.0);
    t["clips"] = json!([t["clips"][0].clone()]);
    t["clips"][0]["duration_s"] = json!(1.0);
    t["dialogue"] = json!([]);
    let req = assembly(t);
    let b = body(&adapter(K).build_submit(&req, &cfg(K), NOW).unwrap());
    assert_eq!(b["output"]["poster"]["capture"], 0.5);
    assert!(b.get("callback").is_none());
}

#[test]
fn shotstack_refuses_what_it_cannot_fetch() {
    let mut no_timeline = assembly(timeline());
    no_timeline.timeline = None;
    assert!(matches!(
        adapter(K).build_submit(&no_timeline, &cfg(K), NOW),
        Err(ProviderError::Rejected { .. })
    ));
    let mut t = timeline();
    t["clips"][1].as_object_mut().unwrap().remove("url");
    let Err(ProviderError::Rejected { reason }) =
        adapter(K).build_submit(&assembly(t), &cfg(K), NOW)
    else {
        panic!("a clip without url is refused")
    };
    assert!(reason.contains("s02"), "{reason}");
    let mut t = timeline();
    t["score"]["url"] = Value::Null;
    assert!(adapter(K).build_submit(&assembly(t), &cfg(K), NOW).is_err());
}

#[test]
fn shotstack_parse_submit_poll_and_no_cancel() {
    let task = accepted(
        adapter(K)
            .parse_submit(
                &assembly(timeline()),
                &resp(201, "shotstack/submit.json"),
                &cfg(K),
                NOW,
            )
            .unwrap(),
    );
    assert_eq!(task, pref(ID));
    let poll = adapter(K).build_poll(&task, &cfg(K), NOW).unwrap();
    assert_eq!(
        poll.url,
        format!("https://api.shotstack.io/edit/v1/render/{ID}?data=false")
    );
    assert_eq!(poll.method, Method::Get);
    assert_eq!(header(&poll, "x-api-key"), "test-key");
    assert_eq!(adapter(K).build_cancel(&task, &cfg(K), NOW), None);
    // The sandbox is the same API under another version segment.
    let stage = studio::providers::ProviderConfig::new("https://api.shotstack.io/edit/stage", "k");
    assert_eq!(
        adapter(K).build_poll(&task, &stage, NOW).unwrap().url,
        format!("https://api.shotstack.io/edit/stage/render/{ID}?data=false")
    );
}

#[test]
fn shotstack_statuses_and_outputs_master_then_poster() {
    assert_eq!(
        poll_status(K, &resp(200, "shotstack/poll_queued.json")),
        ProviderStatus::Queued
    );
    for running in ["fetching", "rendering"] {
        assert_eq!(
            poll_status(K, &resp(200, &format!("shotstack/poll_{running}.json"))),
            ProviderStatus::Running
        );
    }
    let ProviderStatus::Succeeded { outputs } =
        poll_status(K, &resp(200, "shotstack/poll_done.json"))
    else {
        panic!("expected success")
    };
    let expires = Some(NOW.plus(Millis::from_secs(24 * 3600)));
    assert_eq!(
        outputs,
        vec![
            Output::Url {
                url: format!("{OUTPUT}.mp4"),
                content_type: Some("video/mp4".into()),
                expires_at: expires,
            },
            Output::Url {
                url: format!("{OUTPUT}-poster.jpg"),
                content_type: Some("image/jpeg".into()),
                expires_at: expires,
            },
        ]
    );
    // Output URLs are public bucket URLs: our key never goes there.
    let fetch = adapter(K).build_output_fetch(&outputs[0], &cfg(K)).unwrap();
    assert_eq!(fetch.url, format!("{OUTPUT}.mp4"));
    assert!(fetch.headers.is_empty());
    let ProviderStatus::Failed { reason, retryable } =
        poll_status(K, &resp(200, "shotstack/poll_failed.json"))
    else {
        panic!("expected failure")
    };
    assert!(retryable);
    assert!(reason.contains("403 Forbidden"), "{reason}");
}

#[test]
fn shotstack_http_errors() {
    let a = adapter(K);
    let req = assembly(timeline());
    let Err(ProviderError::Rejected { reason }) =
        a.parse_submit(&req, &resp(400, "shotstack/error_400.json"), &cfg(K), NOW)
    else {
        panic!("400 is a refusal")
    };
    assert!(reason.contains("\"length\" must be a number"), "{reason}");
    assert_eq!(
        a.parse_submit(
            &req,
            &raw_resp(403, r#"{"message":"Forbidden"}"#),
            &cfg(K),
            NOW
        ),
        Err(ProviderError::Unauthorized)
    );
    assert!(matches!(
        a.parse_submit(&req, &raw_resp(429, "{}"), &cfg(K), NOW),
        Err(ProviderError::RateLimited { .. })
    ));
    assert!(matches!(
        a.parse_poll(&raw_resp(502, "bad gateway"), &cfg(K), NOW),
        Err(ProviderError::Transient { .. })
    ));
    // A 2xx envelope that says it failed is a refusal with its words.
    let Err(ProviderError::Rejected { reason }) = a.parse_submit(
        &req,
        &raw_resp(
            200,
            r#"{"success":false,"message":"Bad Request","response":"Invalid output"}"#,
        ),
        &cfg(K),
        NOW,
    ) else {
        panic!("success: false is a refusal")
    };
    assert_eq!(reason, "Invalid output");
    assert!(matches!(
        a.parse_poll(
            &raw_resp(
                200,
                r#"{"success":true,"message":"OK","response":{"status":"exploded"}}"#
            ),
            &cfg(K),
            NOW
        ),
        Err(ProviderError::Malformed { .. })
    ));
}

#[test]
fn shotstack_callbacks_carry_our_token_and_a_done_one_makes_the_job_poll() {
    let done = callback(K, fixture("shotstack/callback_done.json"), vec![]);
    verify(K, &done, &cfg(K)).unwrap();
    let cb = adapter(K).parse_callback(&done, NOW).unwrap();
    assert_eq!(cb.provider_ref, Some(ProviderRef(ID.into())));
    assert_eq!(cb.delivery_id, None);
    assert_eq!(
        cb.event,
        CallbackEvent::FetchStatus,
        "the poster is only in a poll"
    );

    let failed = callback(K, fixture("shotstack/callback_failed.json"), vec![]);
    let cb = adapter(K).parse_callback(&failed, NOW).unwrap();
    assert!(matches!(
        callback_status(&cb),
        ProviderStatus::Failed { retryable: true, reason } if reason.contains("403")
    ));

    // A hosting copy's notice is acknowledged and ignored.
    let serve = callback(K, fixture("shotstack/callback_serve.json"), vec![]);
    assert_eq!(
        adapter(K).parse_callback(&serve, NOW).unwrap().event,
        CallbackEvent::Ignore
    );

    // Our token for another provider, or none, is refused.
    let mut elsewhere = done.clone();
    elsewhere.url = our_callback_url(ProviderKind::Assembler);
    assert!(verify(K, &elsewhere, &cfg(K)).is_err());
    let bare = HttpRequest {
        url: "https://render.example.test/v1/callbacks/shotstack/rnd_01jx/assembly/2".into(),
        ..done
    };
    assert!(verify(K, &bare, &cfg(K)).is_err());
}
