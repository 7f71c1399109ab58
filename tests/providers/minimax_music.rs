//! MiniMax music: <https://platform.minimax.io/docs/api-reference/music-generation>.

use studio::plan::StageKind;
use studio::providers::{
    Delivery, ProviderError, ProviderKind, ProviderStatus, Submitted, adapter,
};

use crate::support::*;

const K: ProviderKind = ProviderKind::MinimaxMusic;

fn score() -> studio::providers::SubmitRequest {
    let mut req = motion("music-1.5");
    req.kind = StageKind::Score;
    req.aspect = None;
    req.prompt = "slow ambient piano, sea wind, hopeful".into();
    req.duration_s = 30.0;
    req
}

#[test]
fn minimax_music_submit_asks_for_a_url() {
    assert_eq!(adapter(K).delivery(), Delivery::Sync);
    let http = adapter(K).build_submit(&score(), &cfg(K), NOW).unwrap();
    assert_eq!(http.url, "https://api.minimax.io/v1/music_generation");
    assert_eq!(header(&http, "authorization"), "Bearer test-key");
    let body = body(&http);
    assert_eq!(body["model"], "music-1.5");
    assert_eq!(body["output_format"], "url");
    assert_eq!(body["is_instrumental"], true);
    assert_eq!(body["audio_setting"]["format"], "mp3");

    let mut song = score();
    song.text = Some("[Verse]\nthe light came on".into());
    let body = super::support::body(&adapter(K).build_submit(&song, &cfg(K), NOW).unwrap());
    assert_eq!(body["lyrics"], "[Verse]\nthe light came on");
    assert!(body.get("is_instrumental").is_none());
}

#[test]
fn minimax_music_synchronous_answer_is_finished() {
    let parsed = adapter(K)
        .parse_submit(
            &score(),
            &resp(200, "minimax_music/submit.json"),
            &cfg(K),
            NOW,
        )
        .unwrap();
    let Submitted::Finished {
        provider_ref,
        status,
    } = parsed
    else {
        panic!("expected finished, got {parsed:?}")
    };
    let (url, ct, _) = only_url(&status);
    assert!(
        url.starts_with("https://minimax-algeng-chat-tts.oss-cn-wulanchabu.aliyuncs.com/music/")
    );
    assert_eq!(ct, Some("audio/mpeg"));
    assert!(matches!(status, ProviderStatus::Succeeded { .. }));
    assert_eq!(provider_ref, pref("04ede0ab069fb1ba8be5156a24b1e081"));
}

#[test]
fn minimax_music_errors_and_odd_answers() {
    let submit = |f| adapter(K).parse_submit(&score(), &resp(200, f), &cfg(K), NOW);
    assert_eq!(
        submit("minimax_music/submit_rate_limited.json"),
        Err(ProviderError::RateLimited { retry_after: None })
    );
    assert!(matches!(
        submit("minimax_music/submit_sensitive.json"),
        Err(ProviderError::Moderated { .. })
    ));
    assert!(matches!(
        submit("minimax_music/submit_partial.json"),
        Err(ProviderError::Malformed { .. })
    ));
    assert!(matches!(
        submit("minimax_music/submit_hex.json"),
        Err(ProviderError::Malformed { .. })
    ));
    assert!(adapter(K).build_poll(&pref("x"), &cfg(K), NOW).is_err());
}
