//! ElevenLabs TTS: <https://elevenlabs.io/docs/api-reference/text-to-speech/convert>; webhook
//! signatures per SDK `elevenlabs/elevenlabs-python:src/elevenlabs/webhooks_custom.py`.

use studio::plan::StageKind;
use studio::providers::config::Secret;
use studio::providers::signature::elevenlabs as el_sig;
use studio::providers::{
    CallbackEvent, Delivery, HttpResponse, ProviderError, ProviderKind, SignatureError, Submitted,
    adapter,
};
use studio::time::Millis;

use crate::support::*;

const K: ProviderKind = ProviderKind::ElevenLabs;

fn speech() -> studio::providers::SubmitRequest {
    let mut req = motion("eleven_multilingual_v2");
    req.kind = StageKind::Voiceover;
    req.aspect = None;
    req.voice_id = Some("21m00Tcm4TlvDq8ikWAM".into());
    req.text = Some("Every night for forty years, the light came on.".into());
    req
}

#[test]
fn elevenlabs_submit_puts_the_voice_in_the_path() {
    assert_eq!(adapter(K).delivery(), Delivery::Sync);
    let http = adapter(K).build_submit(&speech(), &cfg(K), NOW).unwrap();
    assert_eq!(
        http.url,
        "https://api.elevenlabs.io/v1/text-to-speech/21m00Tcm4TlvDq8ikWAM?output_format=mp3_44100_128"
    );
    assert_eq!(header(&http, "xi-api-key"), "test-key");
    assert_eq!(header(&http, "accept"), "audio/mpeg");
    let body = body(&http);
    assert_eq!(
        body["text"],
        "Every night for forty years, the light came on."
    );
    assert_eq!(body["model_id"], "eleven_multilingual_v2");

    let mut no_voice = speech();
    no_voice.voice_id = None;
    assert!(matches!(
        adapter(K).build_submit(&no_voice, &cfg(K), NOW),
        Err(ProviderError::Rejected { .. })
    ));
}

#[test]
fn elevenlabs_audio_body_is_the_output() {
    let audio = HttpResponse {
        status: 200,
        headers: vec![
            ("Content-Type".into(), "audio/mpeg".into()),
            ("request-id".into(), "JqxHJxXQkQ0Wc5XVbS4P".into()),
        ],
        body: b"ID3\x04\x00\x00\x00\x00\x00\x00\xff\xfb".to_vec(),
    };
    let parsed = adapter(K)
        .parse_submit(&speech(), &audio, &cfg(K), NOW)
        .unwrap();
    assert_eq!(
        parsed,
        Submitted::Body {
            provider_ref: pref("JqxHJxXQkQ0Wc5XVbS4P"),
            content_type: "audio/mpeg".into()
        }
    );

    let json_200 = raw_resp(200, "{}");
    let mut json_200 = json_200;
    json_200
        .headers
        .push(("content-type".into(), "application/json".into()));
    assert!(matches!(
        adapter(K).parse_submit(&speech(), &json_200, &cfg(K), NOW),
        Err(ProviderError::Malformed { .. })
    ));
}

#[test]
fn elevenlabs_http_errors() {
    let submit = |r| adapter(K).parse_submit(&speech(), &r, &cfg(K), NOW);
    assert_eq!(
        submit(resp(429, "elevenlabs/error_429.json")),
        Err(ProviderError::RateLimited { retry_after: None })
    );
    assert_eq!(
        submit(resp(401, "elevenlabs/error_401.json")),
        Err(ProviderError::Unauthorized)
    );
    match submit(resp(404, "elevenlabs/error_404_voice.json")) {
        Err(ProviderError::Rejected { reason }) => assert!(reason.contains("was not found")),
        other => panic!("{other:?}"),
    }
}

#[test]
fn elevenlabs_has_nothing_to_poll() {
    assert!(adapter(K).build_poll(&pref("x"), &cfg(K), NOW).is_err());
}

#[test]
fn elevenlabs_webhook_signature_t_v0() {
    let mut c = cfg(K);
    c.webhook_secret = Some(Secret::new("sim-elevenlabs-webhook-secret"));
    let body = fixture("elevenlabs/webhook.json");
    let signed = |t: u64| el_sig::sign("sim-elevenlabs-webhook-secret", t, &body).unwrap();
    let req = |sig: String| callback(K, body.clone(), vec![("ElevenLabs-Signature".into(), sig)]);

    let header_value = signed(NOW.as_secs());
    assert!(header_value.starts_with(&format!("t={},v0=", NOW.as_secs())));
    verify(K, &req(header_value), &c).unwrap();
    let cb = adapter(K)
        .parse_callback(&req(signed(NOW.as_secs())), NOW)
        .unwrap();
    assert_eq!(cb.event, CallbackEvent::Ignore);

    let old = NOW.as_secs() - Millis::from_secs(31 * 60).0 / 1000;
    assert!(matches!(
        verify(K, &req(signed(old)), &c),
        Err(SignatureError::StaleTimestamp { .. })
    ));
    let wrong = el_sig::sign("other", NOW.as_secs(), &body).unwrap();
    assert_eq!(verify(K, &req(wrong), &c), Err(SignatureError::Mismatch));
    assert!(matches!(
        verify(K, &req("v0=abc".into()), &c),
        Err(SignatureError::MalformedHeader { .. })
    ));
}

#[test]
fn elevenlabs_enforces_the_audiences_language_only_where_the_model_takes_it() {
    // Flash and Turbo v2.5 take `language_code`; Multilingual v2 answers an error to it and
    // reads the language from the text.
    for model in ["eleven_flash_v2_5", "eleven_turbo_v2_5"] {
        let mut req = speech();
        req.provider_model = model.into();
        req.language = Some("de".into());
        let sent = body(&adapter(K).build_submit(&req, &cfg(K), NOW).unwrap());
        assert_eq!(sent["language_code"], "de", "{model}");
        assert_eq!(sent["model_id"], model);
    }
    let mut req = speech();
    req.language = Some("de".into());
    let sent = body(&adapter(K).build_submit(&req, &cfg(K), NOW).unwrap());
    assert!(sent.get("language_code").is_none(), "{sent}");
    // A language the model does not speak is not sent either.
    let mut req = speech();
    req.provider_model = "eleven_flash_v2_5".into();
    req.language = Some("is".into());
    let sent = body(&adapter(K).build_submit(&req, &cfg(K), NOW).unwrap());
    assert!(sent.get("language_code").is_none(), "{sent}");
}

/// A score for Eleven Music: no voice, a mood prompt, the stage's length
fn score(seconds: f64) -> studio::providers::SubmitRequest {
    let mut req = motion("music_v1");
    req.kind = StageKind::Score;
    req.stage = studio::ids::StageId("score".into());
    req.aspect = None;
    req.prompt = "slow, hopeful strings under a storm".into();
    req.duration_s = seconds;
    req
}

#[test]
fn elevenlabs_music_composes_an_instrumental_of_the_stages_length() {
    // `POST /v1/music` (SDK elevenlabs/elevenlabs-python `music/raw_client.py`, `compose`)
    let http = adapter(K).build_submit(&score(42.3), &cfg(K), NOW).unwrap();
    assert_eq!(http.method, studio::providers::Method::Post);
    assert_eq!(
        http.url,
        "https://api.elevenlabs.io/v1/music?output_format=mp3_44100_128"
    );
    assert_eq!(header(&http, "xi-api-key"), "test-key");
    assert_eq!(header(&http, "accept"), "audio/mpeg");
    assert_eq!(
        body(&http),
        serde_json::json!({
            "prompt": "slow, hopeful strings under a storm",
            "music_length_ms": 42_300,
            "model_id": "music_v1",
            "force_instrumental": true,
        })
    );
    // Outside what every release of the API takes, the length is held to 10 s..=5 min.
    let length = |s| {
        body(&adapter(K).build_submit(&score(s), &cfg(K), NOW).unwrap())["music_length_ms"].as_u64()
    };
    assert_eq!(length(4.0), Some(10_000));
    assert_eq!(length(-1.0), Some(10_000));
    assert_eq!(length(900.0), Some(300_000));
}

#[test]
fn elevenlabs_music_body_is_the_song_and_there_is_no_history_to_search() {
    let song = HttpResponse {
        status: 200,
        headers: vec![
            ("content-type".into(), "audio/mpeg".into()),
            ("song-id".into(), "kq2Vd9bX8mT1".into()),
        ],
        body: b"ID3\x04\x00\x00\x00\x00\x00\x00\xff\xfb\x90".to_vec(),
    };
    let req = score(30.0);
    assert_eq!(
        adapter(K).parse_submit(&req, &song, &cfg(K), NOW).unwrap(),
        Submitted::Body {
            provider_ref: pref(req.idempotency_key.clone()),
            content_type: "audio/mpeg".into()
        }
    );
    // The history is of speech: a music submit in doubt is submitted again.
    let mut with_voice = req.clone();
    with_voice.voice_id = Some("21m00Tcm4TlvDq8ikWAM".into());
    assert!(adapter(K).build_lookup(&with_voice, NOW, &cfg(K)).is_none());
    assert!(adapter(K).build_lookup(&speech(), NOW, &cfg(K)).is_some());
}
