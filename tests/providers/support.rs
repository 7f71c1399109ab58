//! Shared test helpers: fixtures, requests, a fixed clock.

#![allow(dead_code)]

use serde_json::Value;
use studio::brief::AspectRatio;
use studio::ids::{Attempt, JobId, ProviderRef, StageId};
use studio::plan::StageKind;
use studio::providers::config::default_base_url;
use studio::providers::signature::callback_url;
use studio::providers::signature::token::DEFAULT_TOKEN_TTL;
use studio::providers::{
    Callback, CallbackEvent, HttpRequest, HttpResponse, Method, PollOutcome, ProviderConfig,
    ProviderKind, ProviderStatus, Secret, SubmitRequest, Submitted, VerifyContext,
};
use studio::time::Timestamp;

/// 2025-06-15T15:06:40Z
pub const NOW: Timestamp = Timestamp(1_750_000_000_000);
/// Where providers call us back in tests
pub const PUBLIC_BASE: &str = "https://render.example.test";

/// The callback token key of the tests
pub fn callback_secret() -> Secret {
    Secret::new("test-callback-secret")
}

/// A fixture's bytes
pub fn fixture(path: &str) -> Vec<u8> {
    let full = format!(
        "{}/tests/fixtures/providers/{path}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&full).unwrap_or_else(|e| panic!("fixture {full}: {e}"))
}

/// A JSON response from a fixture
pub fn resp(status: u16, path: &str) -> HttpResponse {
    HttpResponse {
        status,
        headers: vec![("content-type".into(), "application/json".into())],
        body: fixture(path),
    }
}

/// A response with a literal body
pub fn raw_resp(status: u16, body: &str) -> HttpResponse {
    HttpResponse {
        status,
        headers: vec![],
        body: body.as_bytes().to_vec(),
    }
}

/// The provider's real base URL with a test key
pub fn cfg(kind: ProviderKind) -> ProviderConfig {
    let base = default_base_url(kind).unwrap_or("https://assembler.example.test");
    let mut cfg = ProviderConfig::new(base, "test-key");
    if kind == ProviderKind::Kling {
        cfg.secret_key = Some(Secret::new("test-sk"));
    }
    cfg
}

/// A motion-stage request for a model
pub fn motion(model: &str) -> SubmitRequest {
    SubmitRequest {
        job: JobId("rnd_01jx".into()),
        stage: StageId("s04.motion".into()),
        attempt: Attempt(2),
        provider_model: model.into(),
        kind: StageKind::Motion,
        prompt: "a lighthouse keeper climbs the stairs at dawn".into(),
        negative_prompt: None,
        duration_s: 4.5,
        aspect: Some(AspectRatio::Landscape),
        image_url: None,
        image_inline: None,
        reference_images: vec![],
        voice_id: None,
        text: None,
        language: None,
        callback_url: None,
        idempotency_key: "rnd_01jx:s04.motion:2".into(),
        timeline: None,
    }
}

/// The same request with a keyframe URL
pub fn with_image(mut req: SubmitRequest) -> SubmitRequest {
    req.image_url = Some("https://media.example.test/s04/keyframe.png".into());
    req
}

/// The callback URL of the test request for `kind`
pub fn our_callback_url(kind: ProviderKind) -> String {
    let exp = NOW.plus(DEFAULT_TOKEN_TTL);
    let secret = callback_secret();
    let job = JobId("rnd_01jx".into());
    let stage = StageId("s04.motion".into());
    callback_url(PUBLIC_BASE, kind, &job, &stage, Attempt(2), exp, &secret)
}

/// The same request with our callback URL
pub fn with_callback(mut req: SubmitRequest, kind: ProviderKind) -> SubmitRequest {
    req.callback_url = Some(our_callback_url(kind));
    req
}

/// A callback POSTed to our URL for `kind`
pub fn callback(kind: ProviderKind, body: Vec<u8>, headers: Vec<(String, String)>) -> HttpRequest {
    HttpRequest {
        method: Method::Post,
        url: our_callback_url(kind),
        headers,
        body,
    }
}

/// Verifies with the test secret at `NOW`
pub fn verify(
    kind: ProviderKind,
    req: &HttpRequest,
    cfg: &ProviderConfig,
) -> Result<(), studio::providers::SignatureError> {
    let secret = callback_secret();
    let ctx = VerifyContext {
        now: NOW,
        callback_secret: &secret,
        fal_jwks: None,
    };
    studio::providers::adapter(kind).verify_callback(req, cfg, &ctx)
}

/// A request's JSON body
pub fn body(req: &HttpRequest) -> Value {
    serde_json::from_slice(&req.body).expect("json body")
}

/// The status of a poll that must give one
pub fn poll_status(kind: ProviderKind, r: &HttpResponse) -> ProviderStatus {
    match studio::providers::adapter(kind)
        .parse_poll(r, &cfg(kind), NOW)
        .expect("poll parses")
    {
        PollOutcome::Status { status } => status,
        other => panic!("expected a status, got {other:?}"),
    }
}

/// A provider ref
pub fn pref(s: impl Into<String>) -> ProviderRef {
    ProviderRef(s.into())
}

/// The task of a submit that must be accepted
pub fn accepted(s: Submitted) -> ProviderRef {
    match s {
        Submitted::Accepted { provider_ref } => provider_ref,
        other => panic!("expected accepted, got {other:?}"),
    }
}

/// The status of a callback that must carry one
pub fn callback_status(c: &Callback) -> &ProviderStatus {
    match &c.event {
        CallbackEvent::Status { status } => status,
        other => panic!("expected a status, got {other:?}"),
    }
}

/// The single output URL of a success
pub fn only_url(s: &ProviderStatus) -> (&str, Option<&str>, Option<Timestamp>) {
    match s {
        ProviderStatus::Succeeded { outputs } => match outputs.as_slice() {
            [
                studio::providers::Output::Url {
                    url,
                    content_type,
                    expires_at,
                },
            ] => (url.as_str(), content_type.as_deref(), *expires_at),
            other => panic!("expected one url output, got {other:?}"),
        },
        other => panic!("expected success, got {other:?}"),
    }
}

/// A header of a request, which must be present
pub fn header<'a>(req: &'a HttpRequest, name: &str) -> &'a str {
    req.header(name)
        .unwrap_or_else(|| panic!("missing header {name}"))
}
