//! Fuzzing every provider adapter (issue 10): whatever a provider (or anyone posting to a
//! callback URL) sends, `parse_submit`, `parse_poll`, `parse_follow_up`, `parse_callback` and
//! `verify_callback` never panic; failures are `ProviderError` / `SignatureError` values with a
//! message. Inputs: arbitrary status codes, headers and bodies (bytes, JSON, and mutations of the
//! real fixtures under `tests/fixtures/providers/`). What a successful parse returns is fed on
//! (`build_poll`, `build_cancel`, `build_output_fetch`), and `build_submit` gets arbitrary
//! requests. Every adapter of `ProviderKind::ALL` is covered, whatever the set is.
//!
//! Quick by default (`cargo test`); `PROPTEST_CASES=100000 cargo test --test fuzz_providers` runs
//! long.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use ed25519_dalek::SigningKey;
use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::{Number, Value};
use studio::brief::AspectRatio;
use studio::ids::{Attempt, JobId, ProviderRef, StageId};
use studio::plan::StageKind;
use studio::providers::config::default_base_url;
use studio::providers::signature::token::DEFAULT_TOKEN_TTL;
use studio::providers::signature::{Jwks, callback_url};
use studio::providers::{
    CallbackEvent, HttpRequest, HttpResponse, InlineImage, Method, PollOutcome, ProviderConfig,
    ProviderError, ProviderKind, ProviderStatus, Secret, SignatureError, SubmitRequest, Submitted,
    VerifyContext, adapter,
};
use studio::time::{Millis, Timestamp};

#[path = "support/fuzz.rs"]
mod fuzz;
use fuzz::{config, pointers};

/// An object key, biased toward this domain's
fn key() -> impl Strategy<Value = String> + Clone {
    fuzz::key(KEYS)
}

/// Arbitrary JSON, biased toward this domain's keys and values
fn json() -> impl Strategy<Value = Value> {
    fuzz::json(number(), text(), key(), 5, 5)
}

/// 2025-06-15T15:06:40Z, as in the golden tests
const NOW: Timestamp = Timestamp(1_750_000_000_000);
const PUBLIC_BASE: &str = "https://render.example.test";
const WHSEC: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// Every fixture's bytes (every provider's folder), read once
fn fixtures() -> &'static [Vec<u8>] {
    static ALL: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    ALL.get_or_init(|| {
        fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(&path, out);
                } else {
                    out.push(path);
                }
            }
        }
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/providers");
        let mut paths = Vec::new();
        walk(&root, &mut paths);
        paths.sort();
        assert!(paths.len() > 20, "fixtures under {}", root.display());
        paths.iter().map(|p| std::fs::read(p).unwrap()).collect()
    })
}

fn kind() -> impl Strategy<Value = ProviderKind> {
    prop::sample::select(ProviderKind::ALL.to_vec())
}

/// Configurations: the test one, one with every secret, one with broken secrets and no base
fn cfg(kind: ProviderKind, variant: u8) -> ProviderConfig {
    let base = default_base_url(kind).unwrap_or("https://assembler.example.test");
    let mut cfg = ProviderConfig::new(base, "test-key");
    match variant % 3 {
        0 => {
            if kind == ProviderKind::Kling {
                cfg.secret_key = Some(Secret::new("test-sk"));
            }
        }
        1 => {
            cfg.secret_key = Some(Secret::new("test-sk"));
            cfg.webhook_secret = Some(Secret::new(WHSEC));
        }
        _ => {
            cfg.base_url = String::new();
            cfg.api_key = Secret::new("");
            cfg.secret_key = Some(Secret::new(""));
            cfg.webhook_secret = Some(Secret::new("whsec_!!not base64"));
        }
    }
    cfg
}

fn jwks() -> Jwks {
    Jwks::from_keys(vec![SigningKey::from_bytes(&[9; 32]).verifying_key()])
}

/// A submit request of the kind's usual shape, with the stage kind varied
fn request(kind: ProviderKind, stage: StageKind) -> SubmitRequest {
    let job = JobId("rnd_01jx".into());
    let stage_id = StageId("s04.motion".into());
    SubmitRequest {
        callback_url: Some(callback_url(
            PUBLIC_BASE,
            kind,
            &job,
            &stage_id,
            Attempt(2),
            NOW.plus(DEFAULT_TOKEN_TTL),
            &Secret::new("test-callback-secret"),
        )),
        job,
        stage: stage_id,
        attempt: Attempt(2),
        provider_model: "model-x".into(),
        kind: stage,
        prompt: "a lighthouse keeper climbs the stairs at dawn".into(),
        negative_prompt: Some("flat even lighting, watermark".into()),
        duration_s: 4.5,
        aspect: Some(AspectRatio::Landscape),
        image_url: Some("https://media.example.test/s04/keyframe.png".into()),
        image_inline: None,
        reference_images: vec![],
        voice_id: Some("21m00Tcm4TlvDq8ikWAM".into()),
        text: Some("One more night won't hurt anyone.".into()),
        language: Some("de".into()),
        idempotency_key: "rnd_01jx:s04.motion:2".into(),
        timeline: None,
    }
}

fn stage_kind() -> impl Strategy<Value = StageKind> {
    prop::sample::select(vec![
        StageKind::Keyframe,
        StageKind::Motion,
        StageKind::Dialogue,
        StageKind::Voiceover,
        StageKind::Score,
        StageKind::Assembly,
    ])
}

// ---------------------------------------------------------------------------------------------
// Inputs

const WORDS: &[&str] = &[
    "",
    "succeed",
    "succeeded",
    "SUCCEEDED",
    "Success",
    "failed",
    "FAILED",
    "processing",
    "queued",
    "IN_QUEUE",
    "IN_PROGRESS",
    "COMPLETED",
    "OK",
    "ERROR",
    "Ready",
    "Pending",
    "Content Moderated",
    "completed",
    "dreaming",
    "running",
    "canceled",
    "video.completed",
    "video.failed",
    "task_id",
    "https://cdn.example.test/out.mp4",
    "http://[::1",
    "not a url",
    "data:,x",
    "NaN",
    "\u{0}",
    "\u{1D11E}",
    "-1",
    "1e999",
];

const KEYS: &[&str] = &[
    "id",
    "task_id",
    "request_id",
    "status",
    "task_status",
    "state",
    "data",
    "output",
    "outputs",
    "result",
    "results",
    "video",
    "videos",
    "url",
    "urls",
    "sample",
    "images",
    "error",
    "errors",
    "message",
    "code",
    "reason",
    "failure",
    "failure_reason",
    "done",
    "name",
    "response",
    "payload",
    "file_id",
    "file",
    "download_url",
    "base_resp",
    "status_code",
    "status_msg",
    "task_result",
    "assets",
    "content",
    "video_url",
    "status_url",
    "response_url",
    "polling_url",
    "progress",
    "type",
    "object",
    "gateway_request_id",
    "challenge",
    "generatedSamples",
    "generateVideoResponse",
    "audio",
    "extra_info",
    "master",
    "variants",
];

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(WORDS).prop_map(str::to_owned),
        2 => any::<String>(),
        1 => "\\PC{0,24}",
    ]
}

fn number() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_filter_map("finite", |f| Number::from_f64(f).map(Value::Number)),
        (0u64..=100).prop_map(Value::from),
        (1_700_000_000u64..=1_800_000_000).prop_map(Value::from),
    ]
}

/// How a fixture is changed
#[derive(Debug, Clone)]
enum Mutation {
    /// Unchanged
    Keep,
    /// A value replaced (when the fixture is JSON)
    Set(Index, Value),
    /// A value removed (when the fixture is JSON)
    Remove(Index),
    /// Bytes flipped
    Flip(Vec<(Index, u8)>),
    /// Cut short
    Truncate(Index),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        1 => Just(Mutation::Keep),
        4 => (any::<Index>(), json()).prop_map(|(i, v)| Mutation::Set(i, v)),
        2 => (any::<Index>(), text()).prop_map(|(i, s)| Mutation::Set(i, Value::String(s))),
        2 => (any::<Index>(), number()).prop_map(|(i, n)| Mutation::Set(i, n)),
        2 => any::<Index>().prop_map(Mutation::Remove),
        1 => prop::collection::vec((any::<Index>(), any::<u8>()), 1..4).prop_map(Mutation::Flip),
        1 => any::<Index>().prop_map(Mutation::Truncate),
    ]
}

fn mutate(bytes: &[u8], mutations: &[Mutation]) -> Vec<u8> {
    let mut bytes = bytes.to_vec();
    for m in mutations {
        match m {
            Mutation::Keep => {}
            Mutation::Set(i, new) => {
                if let Ok(mut v) = serde_json::from_slice::<Value>(&bytes) {
                    let mut all = Vec::new();
                    pointers(&v, "", &mut all);
                    if let Some(slot) = v.pointer_mut(i.get::<String>(&all)) {
                        *slot = new.clone();
                    }
                    bytes = v.to_string().into_bytes();
                }
            }
            Mutation::Remove(i) => {
                if let Ok(mut v) = serde_json::from_slice::<Value>(&bytes) {
                    let mut all = Vec::new();
                    pointers(&v, "", &mut all);
                    let p = i.get::<String>(&all);
                    if let Some((parent, last)) = p.rsplit_once('/')
                        && let Some(parent) = v.pointer_mut(parent)
                    {
                        let last = last.replace("~1", "/").replace("~0", "~");
                        match parent {
                            Value::Object(m) => {
                                m.remove(&last);
                            }
                            Value::Array(a) => {
                                if let Ok(j) = last.parse::<usize>()
                                    && j < a.len()
                                {
                                    a.remove(j);
                                }
                            }
                            _ => {}
                        }
                    }
                    bytes = v.to_string().into_bytes();
                }
            }
            Mutation::Flip(flips) => {
                if !bytes.is_empty() {
                    for (i, b) in flips {
                        let at = i.index(bytes.len());
                        bytes[at] ^= b | 1;
                    }
                }
            }
            Mutation::Truncate(i) => {
                let at = i.index(bytes.len() + 1);
                bytes.truncate(at);
            }
        }
    }
    bytes
}

/// A body: arbitrary bytes, arbitrary JSON, or a (mutated) fixture of any provider
fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        1 => prop::collection::vec(any::<u8>(), 0..256),
        2 => json().prop_map(|v| v.to_string().into_bytes()),
        4 => (any::<Index>(), prop::collection::vec(mutation(), 0..4)).prop_map(|(i, ms)| {
            let all = fixtures();
            mutate(&all[i.index(all.len())], &ms)
        }),
    ]
}

const HEADER_NAMES: &[&str] = &[
    "content-type",
    "retry-after",
    "Retry-After",
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
    "x-bfl-signature",
    "X-BFL-Signature",
    "x-fal-webhook-request-id",
    "x-fal-webhook-user-id",
    "x-fal-webhook-timestamp",
    "x-fal-webhook-signature",
    "elevenlabs-signature",
    "request-id",
    "x-request-id",
    "content-length",
];

fn header_value() -> impl Strategy<Value = String> {
    prop_oneof![
        text(),
        Just("application/json".to_owned()),
        Just("audio/mpeg".to_owned()),
        (0u64..100_000).prop_map(|n| n.to_string()),
        any::<u64>().prop_map(|n| n.to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        Just("99999999999999999999999".to_owned()),
        Just("1.5".to_owned()),
        (1_749_999_000u64..1_750_001_000).prop_map(|n| n.to_string()),
        "v1,[A-Za-z0-9+/=]{0,48}( v1,[A-Za-z0-9+/=]{0,48})?",
        "sha256=[0-9a-f]{0,64}",
        "t=[0-9]{0,24},v0=[0-9a-f]{0,64}",
        "t=[0-9]{0,12},v0=[0-9a-f]{0,64},v0=[0-9a-f]{0,64}",
        "[0-9a-f]{0,128}",
        Just("Wed, 21 Oct 2015 07:28:00 GMT".to_owned()),
    ]
}

fn headers() -> impl Strategy<Value = Vec<(String, String)>> {
    prop::collection::vec(
        (
            prop_oneof![
                4 => prop::sample::select(HEADER_NAMES).prop_map(str::to_owned),
                1 => any::<String>(),
            ],
            header_value(),
        ),
        0..6,
    )
}

fn status_code() -> impl Strategy<Value = u16> {
    prop_oneof![
        prop::sample::select(vec![
            200u16, 201, 202, 204, 301, 400, 401, 402, 403, 404, 408, 409, 413, 422, 429, 500, 502,
            503, 504,
        ]),
        any::<u16>(),
    ]
}

/// A callback URL: ours for the kind (maybe for another kind, expired, or tampered with), or
/// anything
fn url() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => (kind(), any::<bool>(), 0u64..200_000).prop_map(|(k, stale, secs)| {
            let exp = if stale {
                Timestamp::from_secs(NOW.as_secs().saturating_sub(secs))
            } else {
                NOW.plus(Millis::from_secs(secs))
            };
            callback_url(
                PUBLIC_BASE,
                k,
                &JobId("rnd_01jx".into()),
                &StageId("s04.motion".into()),
                Attempt(2),
                exp,
                &Secret::new("test-callback-secret"),
            )
        }),
        2 => (kind(), "\\PC{0,12}", "\\PC{0,12}", "\\PC{0,6}", "\\PC{0,12}", "\\PC{0,24}")
            .prop_map(|(k, job, stage, attempt, exp, token)| {
                format!("{PUBLIC_BASE}/v1/callbacks/{k}/{job}/{stage}/{attempt}?exp={exp}&token={token}")
            }),
        1 => any::<String>(),
    ]
}

/// A provider ref: the shapes adapters read back (Kling's `{endpoint}/{id}`, fal's status URL,
/// BFL's polling URL), cut, padded or replaced
fn reference() -> impl Strategy<Value = String> {
    let prefix = prop::sample::select(vec![
        "",
        "text2video/",
        "image2video/",
        "omni/",
        "/",
        "https://queue.fal.run/fal-ai/pika/requests/",
        "https://queue.fal.run/",
        "https://api.bfl.ai/v1/get_result?id=",
        "https://api.us1.bfl.ai/v1/get_result?id=",
        "https://evil.example/",
        "http",
        "http://",
        "operations/",
        "models/veo/operations/",
    ]);
    prop_oneof![
        (prefix, "\\PC{0,40}").prop_map(|(p, s)| format!("{p}{s}")),
        any::<String>(),
    ]
}

// ---------------------------------------------------------------------------------------------
// Checks

fn provider_error(e: &ProviderError) -> Result<(), TestCaseError> {
    prop_assert!(!e.to_string().trim().is_empty(), "{e:?}");
    Ok(())
}

fn signature_error(e: &SignatureError) -> Result<(), TestCaseError> {
    prop_assert!(!e.to_string().trim().is_empty(), "{e:?}");
    Ok(())
}

/// Feeds a status on: every output's download builds (or is refused) without panicking
fn status(kind: ProviderKind, cfg: &ProviderConfig, s: &ProviderStatus) {
    if let ProviderStatus::Succeeded { outputs } = s {
        for o in outputs {
            let _ = adapter(kind).build_output_fetch(o, cfg);
        }
    }
}

fn provider_ref(kind: ProviderKind, cfg: &ProviderConfig, r: &ProviderRef) {
    let a = adapter(kind);
    let _ = a.build_poll(r, cfg, NOW);
    let _ = a.build_cancel(r, cfg, NOW);
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn parse_submit_never_panics(
        kind in kind(),
        stage in stage_kind(),
        variant in any::<u8>(),
        code in status_code(),
        headers in headers(),
        body in body(),
    ) {
        let cfg = cfg(kind, variant);
        let resp = HttpResponse { status: code, headers, body };
        match adapter(kind).parse_submit(&request(kind, stage), &resp, &cfg, NOW) {
            Ok(Submitted::Accepted { provider_ref: r }) => provider_ref(kind, &cfg, &r),
            Ok(Submitted::Finished { provider_ref: r, status: s }) => {
                provider_ref(kind, &cfg, &r);
                status(kind, &cfg, &s);
            }
            Ok(Submitted::Body { .. }) => {}
            Err(e) => provider_error(&e)?,
        }
    }

    #[test]
    fn parse_poll_and_follow_up_never_panic(
        kind in kind(),
        variant in any::<u8>(),
        code in status_code(),
        headers in headers(),
        body in body(),
        follow_code in status_code(),
        follow_body in body(),
    ) {
        let cfg = cfg(kind, variant);
        let a = adapter(kind);
        let resp = HttpResponse { status: code, headers: headers.clone(), body };
        match a.parse_poll(&resp, &cfg, NOW) {
            Ok(PollOutcome::Status { status: s }) => status(kind, &cfg, &s),
            Ok(PollOutcome::FollowUp { .. }) => {}
            Err(e) => provider_error(&e)?,
        }
        // Every adapter answers a follow-up (most with an error: they ask for none).
        let follow = HttpResponse { status: follow_code, headers, body: follow_body };
        match a.parse_follow_up(&follow, NOW) {
            Ok(s) => status(kind, &cfg, &s),
            Err(e) => provider_error(&e)?,
        }
    }

    #[test]
    fn callbacks_never_panic(
        kind in kind(),
        variant in any::<u8>(),
        url in url(),
        headers in headers(),
        body in body(),
        with_jwks in any::<bool>(),
        secs in 0u64..400_000,
    ) {
        let cfg = cfg(kind, variant);
        let a = adapter(kind);
        let req = HttpRequest { method: Method::Post, url, headers, body };
        let secret = Secret::new("test-callback-secret");
        let jwks = jwks();
        let ctx = VerifyContext {
            now: NOW.plus(Millis::from_secs(secs)),
            callback_secret: &secret,
            fal_jwks: with_jwks.then_some(&jwks),
        };
        if let Err(e) = a.verify_callback(&req, &cfg, &ctx) {
            signature_error(&e)?;
        }
        match a.parse_callback(&req, NOW) {
            Ok(cb) => {
                if let CallbackEvent::Status { status: s } = &cb.event {
                    status(kind, &cfg, s);
                }
            }
            Err(e) => provider_error(&e)?,
        }
    }

    #[test]
    fn requests_with_any_fields_never_panic(
        kind in kind(),
        stage in stage_kind(),
        variant in any::<u8>(),
        prompt in text(),
        duration in prop_oneof![
            any::<f64>(),
            prop::sample::select(vec![f64::NAN, f64::INFINITY, -1.0, 0.0, 1e300, 4.5]),
        ],
        aspect in prop::option::of(prop::sample::select(vec![
            AspectRatio::Landscape, AspectRatio::Portrait, AspectRatio::Square,
        ])),
        image_url in prop::option::of(text()),
        inline in any::<bool>(),
        reference_images in prop::collection::vec(text(), 0..3),
        voice_id in prop::option::of(text()),
        words in prop::option::of(text()),
        callback in prop::option::of(url()),
        model in text(),
        timeline in prop::option::of(json()),
        reference in reference(),
    ) {
        let cfg = cfg(kind, variant);
        let mut req = request(kind, stage);
        req.prompt = prompt;
        req.duration_s = duration;
        req.aspect = aspect;
        req.image_url = image_url;
        req.image_inline = inline.then(|| InlineImage {
            mime_type: "image/png".into(),
            data_base64: "iVBORw0KGgo=".into(),
        });
        req.reference_images = reference_images;
        req.voice_id = voice_id;
        req.text = words;
        req.callback_url = callback;
        req.provider_model = model;
        req.timeline = timeline;
        if let Err(e) = adapter(kind).build_submit(&req, &cfg, NOW) {
            provider_error(&e)?;
        }
        // Any provider ref, e.g. a composite one cut short or a status URL that is not one.
        provider_ref(kind, &cfg, &ProviderRef(reference));
    }
}

#[test]
fn every_adapter_takes_every_fixture_without_panicking() {
    // The deterministic part: every fixture as submit, poll, follow-up and callback body of
    // every adapter, under every status class.
    for kind in ProviderKind::ALL {
        let a = adapter(kind);
        let cfg = cfg(kind, 1);
        let secret = Secret::new("test-callback-secret");
        let ctx = VerifyContext {
            now: NOW,
            callback_secret: &secret,
            fal_jwks: None,
        };
        for body in fixtures() {
            for code in [200, 400, 500] {
                let resp = HttpResponse {
                    status: code,
                    headers: vec![("content-type".into(), "application/json".into())],
                    body: body.clone(),
                };
                let _ = a.parse_submit(&request(kind, StageKind::Motion), &resp, &cfg, NOW);
                let _ = a.parse_poll(&resp, &cfg, NOW);
                let _ = a.parse_follow_up(&resp, NOW);
            }
            let req = HttpRequest {
                method: Method::Post,
                url: request(kind, StageKind::Motion).callback_url.unwrap(),
                headers: vec![],
                body: body.clone(),
            };
            let _ = a.verify_callback(&req, &cfg, &ctx);
            let _ = a.parse_callback(&req, NOW);
        }
    }
}
