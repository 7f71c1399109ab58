//! Every provider of the registry has an adapter that builds its models' requests, and no
//! adapter panics on garbage.

use proptest::prelude::*;
use studio::plan::{Capability, StageKind};
use studio::providers::{HttpRequest, HttpResponse, Method, ProviderKind, adapter};
use studio::routing::Registry;

use crate::support::*;

fn request_for(capability: Capability, model: &str) -> studio::providers::SubmitRequest {
    let mut req = with_image(motion(model));
    match capability {
        Capability::Image => req.kind = StageKind::Keyframe,
        Capability::Video => {}
        Capability::Speech => {
            req.kind = StageKind::Voiceover;
            req.voice_id = Some("21m00Tcm4TlvDq8ikWAM".into());
        }
        Capability::Music => req.kind = StageKind::Score,
        Capability::Assembly => {
            req.kind = StageKind::Assembly;
            req.timeline = Some(serde_json::json!({ "clips": [] }));
        }
        Capability::Frame => {
            req.kind = StageKind::Frame;
            req.timeline = Some(serde_json::json!({ "clips": [], "still": "last_frame" }));
        }
    }
    req.image_inline = Some(studio::providers::InlineImage {
        mime_type: "image/png".into(),
        data_base64: "iVBORw0KGgo=".into(),
    });
    req
}

#[test]
fn registry_models_build_submits_with_their_adapter() {
    for model in Registry::builtin().models {
        let a = adapter(model.provider);
        assert_eq!(a.kind(), model.provider);
        let req = request_for(model.capability, &model.provider_model);
        let http = a
            .build_submit(&req, &cfg(model.provider), NOW)
            .unwrap_or_else(|e| panic!("{}: {e}", model.id));
        assert_eq!(http.method, Method::Post, "{}", model.id);
        assert!(
            http.url.starts_with(cfg(model.provider).base_url.as_str()),
            "{}",
            http.url
        );
    }
}

#[test]
fn every_kind_round_trips_its_name() {
    for kind in ProviderKind::ALL {
        assert_eq!(ProviderKind::parse(kind.as_str()), Some(kind));
        assert_eq!(adapter(kind).kind(), kind);
    }
}

#[test]
fn garbage_and_unknown_statuses_are_malformed_errors_not_panics() {
    for kind in ProviderKind::ALL {
        let a = adapter(kind);
        for body in [
            "",
            "not json",
            "{}",
            "[]",
            r#"{"status":"weird","state":"weird","task_status":"weird"}"#,
        ] {
            let r = raw_resp(200, body);
            assert!(
                a.parse_poll(&r, &cfg(kind), NOW).is_err(),
                "{kind} poll {body:?}"
            );
            let cb = HttpRequest {
                method: Method::Post,
                url: our_callback_url(kind),
                headers: vec![],
                body: body.into(),
            };
            if body != "{}" {
                assert!(
                    a.parse_callback(&cb, NOW).is_err(),
                    "{kind} callback {body:?}"
                );
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn adapters_never_panic_on_arbitrary_bytes(status in 100u16..600, body in proptest::collection::vec(any::<u8>(), 0..256)) {
        let r = HttpResponse { status, headers: vec![], body: body.clone() };
        for kind in ProviderKind::ALL {
            let a = adapter(kind);
            let c = cfg(kind);
            let _ = a.parse_submit(&motion("m"), &r, &c, NOW);
            let _ = a.parse_poll(&r, &c, NOW);
            let _ = a.parse_follow_up(&r, NOW);
            let cb = HttpRequest { method: Method::Post, url: our_callback_url(kind), headers: vec![], body: body.clone() };
            let _ = a.parse_callback(&cb, NOW);
            let _ = verify(kind, &cb, &c);
            let _ = a.build_poll(&pref(String::from_utf8_lossy(&body).into_owned()), &c, NOW);
        }
    }
}

#[test]
fn deliveries_and_cancels_per_provider() {
    use studio::providers::Delivery::{Callback, Poll, Sync};
    let expected = [
        (ProviderKind::Veo, Poll, false),
        (ProviderKind::Sora, Callback, false),
        (ProviderKind::Kling, Callback, false),
        (ProviderKind::Runway, Poll, true),
        (ProviderKind::FalPika, Callback, true),
        (ProviderKind::Luma, Callback, false),
        (ProviderKind::Seedance, Callback, true),
        (ProviderKind::Hailuo, Callback, false),
        (ProviderKind::Bfl, Callback, false),
        (ProviderKind::ElevenLabs, Sync, false),
        (ProviderKind::MinimaxMusic, Sync, false),
        (ProviderKind::Replicate, Callback, true),
        (ProviderKind::Assembler, Callback, true),
        (ProviderKind::Shotstack, Callback, false),
    ];
    assert_eq!(expected.len(), ProviderKind::ALL.len());
    for (kind, delivery, cancels) in expected {
        assert_eq!(adapter(kind).delivery(), delivery, "{kind}");
        let task = if kind == ProviderKind::FalPika {
            pref("https://queue.fal.run/fal-ai/pika/requests/r1/status")
        } else {
            pref("task-1")
        };
        assert_eq!(
            adapter(kind).build_cancel(&task, &cfg(kind), NOW).is_some(),
            cancels,
            "{kind}"
        );
    }
}

#[test]
fn providers_without_a_negative_prompt_field_never_send_one() {
    // Runway, Luma, Seedance, Hailuo, Sora, BFL and Replicate's generic input have no negative
    // prompt: the look reaches them in the prompt text only, unchanged by the adapter.
    for (kind, model) in [
        (ProviderKind::Runway, "gen4_turbo"),
        (ProviderKind::Luma, "ray-2"),
        (ProviderKind::Seedance, "seedance-1-0-pro-250528"),
        (ProviderKind::Hailuo, "MiniMax-Hailuo-02"),
        (ProviderKind::Sora, "sora-2"),
        (ProviderKind::Bfl, "flux-pro-1.1"),
        (ProviderKind::Replicate, "wan-video/wan-2.2-i2v-fast"),
    ] {
        let mut req = with_image(motion(model));
        req.prompt = "a keeper at the lamp. Look: teal-orange grade.".into();
        req.negative_prompt = Some("flat even lighting".into());
        let http = adapter(kind).build_submit(&req, &cfg(kind), NOW).unwrap();
        let text = String::from_utf8(http.body.clone()).unwrap();
        assert!(!text.contains("flat even lighting"), "{kind}: {text}");
        assert!(text.contains("Look: teal-orange grade."), "{kind}: {text}");
    }
}
