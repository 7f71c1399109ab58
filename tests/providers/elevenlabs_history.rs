//! ElevenLabs history, searched for a submit in doubt after a restart:
//! <https://elevenlabs.io/docs/api-reference/history/list> (the fixture follows its example) and
//! <https://elevenlabs.io/docs/api-reference/history/get-audio>.

use studio::plan::StageKind;
use studio::providers::{HttpResponse, LookedUp, Output, ProviderKind, ProviderStatus, adapter};

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
fn the_lookup_lists_the_voice_and_model_since_the_submit() {
    let http = adapter(K).build_lookup(&speech(), NOW, &cfg(K)).unwrap();
    assert_eq!(
        http.url,
        "https://api.elevenlabs.io/v1/history?voice_id=21m00Tcm4TlvDq8ikWAM&model_id=eleven_multilingual_v2&date_after_unix=1749999940&page_size=1000&sort_direction=asc"
    );
    assert_eq!(header(&http, "xi-api-key"), "test-key");
    // Providers without a history have no lookup.
    assert!(
        adapter(ProviderKind::MinimaxMusic)
            .build_lookup(&speech(), NOW, &cfg(ProviderKind::MinimaxMusic))
            .is_none()
    );
}

#[test]
fn the_oldest_generation_of_our_line_since_the_submit_is_ours() {
    let found = adapter(K)
        .parse_lookup(
            &speech(),
            NOW,
            &resp(200, "elevenlabs/history.json"),
            &cfg(K),
        )
        .unwrap();
    let LookedUp::Found {
        provider_ref,
        status: ProviderStatus::Succeeded { outputs },
    } = found
    else {
        panic!("not found: {found:?}");
    };
    assert_eq!(provider_ref.0, "ja9xsmfGhxYcymxGcOGB");
    let [output] = outputs.as_slice() else {
        panic!("{outputs:?}");
    };
    assert_eq!(
        output,
        &Output::Url {
            url: "https://api.elevenlabs.io/v1/history/ja9xsmfGhxYcymxGcOGB/audio".into(),
            content_type: Some("audio/mpeg".into()),
            expires_at: None,
        }
    );
    // The audio is fetched with the key.
    let fetch = adapter(K).build_output_fetch(output, &cfg(K)).unwrap();
    assert_eq!(header(&fetch, "xi-api-key"), "test-key");
}

#[test]
fn another_line_voice_or_an_older_generation_is_not_ours() {
    let mut other = speech();
    other.text = Some("A line nobody generated.".into());
    let history = resp(200, "elevenlabs/history.json");
    assert_eq!(
        adapter(K)
            .parse_lookup(&other, NOW, &history, &cfg(K))
            .unwrap(),
        LookedUp::NotFound
    );
    let mut voice = speech();
    voice.voice_id = Some("pNInz6obpgDQGcFmaJgB".into());
    assert_eq!(
        adapter(K)
            .parse_lookup(&voice, NOW, &history, &cfg(K))
            .unwrap(),
        LookedUp::NotFound
    );
    let later = studio::time::Timestamp(NOW.0 + 3_600_000);
    assert_eq!(
        adapter(K)
            .parse_lookup(&speech(), later, &history, &cfg(K))
            .unwrap(),
        LookedUp::NotFound
    );
    let junk = HttpResponse {
        status: 200,
        headers: vec![],
        body: b"{\"detail\": \"nope\"}".to_vec(),
    };
    assert!(
        adapter(K)
            .parse_lookup(&speech(), NOW, &junk, &cfg(K))
            .is_err()
    );
}
