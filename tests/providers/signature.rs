//! Signature schemes: the Standard Webhooks library vectors (providers.md §1.3, from
//! `standard-webhooks/standard-webhooks:libraries/*`), fal's JWKS, and our callback token.

use ed25519_dalek::SigningKey;
use studio::ids::{Attempt, JobId, StageId};
use studio::providers::ProviderKind;
use studio::providers::config::Secret;
use studio::providers::signature::standard::StandardWebhooks;
use studio::providers::signature::{
    Jwks, SignatureError, callback_token, callback_url, parse_callback_url, verify_callback_token,
};
use studio::time::{Millis, Timestamp};

use crate::support::NOW;

fn headers(id: &str, ts: u64, sig: &str) -> Vec<(String, String)> {
    vec![
        ("webhook-id".into(), id.into()),
        ("webhook-timestamp".into(), ts.to_string()),
        ("webhook-signature".into(), sig.into()),
    ]
}

// Vector A: identical in the Go, JS, Python, C#, Java, PHP and Ruby libraries' tests.
const A_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const A_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
const A_TS: u64 = 1_614_265_330;
const A_BODY: &str = r#"{"test": 2432232314}"#;
const A_SIG: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

// Vector B: the Rust library's `test_sign`.
const B_SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
const B_ID: &str = "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk";
const B_TS: u64 = 1_649_367_553;
const B_BODY: &str = r#"{"email":"test@example.com","username":"test_user"}"#;
const B_SIG: &str = "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=";

const DECOYS: [&str; 3] = [
    "v1,tFtCZ5RDCPxzWQRWXWPgrCgE2frDBe9gjpbWQxnVfsQ=",
    "v1,Mm7xgUVICxZfQ3bgf0h0Dof65L/IFx+PnZvnDWPCX6Q=",
    "v1,9DfC1c3eeOrXB6w/5dIDydLNQaEyww5KalE5jLBZucE=",
];

#[test]
fn standard_webhooks_sign_vector_a() {
    let wh = StandardWebhooks::new(A_SECRET).unwrap();
    assert_eq!(wh.sign(A_ID, A_TS, A_BODY.as_bytes()), A_SIG);
}

#[test]
fn standard_webhooks_sign_vector_b() {
    let wh = StandardWebhooks::new(B_SECRET).unwrap();
    assert_eq!(wh.sign(B_ID, B_TS, B_BODY.as_bytes()), B_SIG);
}

#[test]
fn standard_webhooks_verify_vectors_at_their_time() {
    let a = StandardWebhooks::new(A_SECRET).unwrap();
    a.verify(
        &headers(A_ID, A_TS, A_SIG),
        A_BODY.as_bytes(),
        Timestamp::from_secs(A_TS),
    )
    .unwrap();
    let b = StandardWebhooks::new(B_SECRET).unwrap();
    b.verify(
        &headers(B_ID, B_TS, B_SIG),
        B_BODY.as_bytes(),
        Timestamp::from_secs(B_TS),
    )
    .unwrap();
}

#[test]
fn standard_webhooks_multiple_signatures_pass_with_the_valid_one_only() {
    let wh = StandardWebhooks::new(B_SECRET).unwrap();
    let now = Timestamp::from_secs(B_TS);
    let with_valid = format!("{} {} {B_SIG} {}", DECOYS[0], DECOYS[1], DECOYS[2]);
    wh.verify(&headers(B_ID, B_TS, &with_valid), B_BODY.as_bytes(), now)
        .unwrap();
    let decoys_only = DECOYS.join(" ");
    assert_eq!(
        wh.verify(&headers(B_ID, B_TS, &decoys_only), B_BODY.as_bytes(), now),
        Err(SignatureError::Mismatch)
    );
}

#[test]
fn standard_webhooks_ignores_other_versions() {
    let wh = StandardWebhooks::new(A_SECRET).unwrap();
    let now = Timestamp::from_secs(A_TS);
    let sig = A_SIG.trim_start_matches("v1,");
    let entries = format!("v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= v2,{sig} {A_SIG}");
    wh.verify(&headers(A_ID, A_TS, &entries), A_BODY.as_bytes(), now)
        .unwrap();
    let v2_only = format!("v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= v2,{sig}");
    assert_eq!(
        wh.verify(&headers(A_ID, A_TS, &v2_only), A_BODY.as_bytes(), now),
        Err(SignatureError::Mismatch)
    );
}

#[test]
fn standard_webhooks_partial_and_empty_signatures_fail() {
    let wh = StandardWebhooks::new(B_SECRET).unwrap();
    let now = Timestamp::from_secs(B_TS);
    for partial in [
        "v1,",
        &B_SIG[..8],
        "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kk",
    ] {
        assert_eq!(
            wh.verify(&headers(B_ID, B_TS, partial), B_BODY.as_bytes(), now),
            Err(SignatureError::Mismatch),
            "{partial}"
        );
    }
}

#[test]
fn standard_webhooks_empty_secret_is_an_error() {
    assert_eq!(
        StandardWebhooks::new("").unwrap_err(),
        SignatureError::InvalidSecret
    );
    assert_eq!(
        StandardWebhooks::new("whsec_").unwrap_err(),
        SignatureError::InvalidSecret
    );
    assert_eq!(
        StandardWebhooks::new("whsec_!!!").unwrap_err(),
        SignatureError::InvalidSecret
    );
}

#[test]
fn standard_webhooks_tolerance_is_five_minutes_both_ways() {
    let wh = StandardWebhooks::new(A_SECRET).unwrap();
    let at = |offset: i64| Timestamp::from_secs(A_TS.checked_add_signed(offset).unwrap());
    let check = |now| wh.verify(&headers(A_ID, A_TS, A_SIG), A_BODY.as_bytes(), now);
    check(at(300)).unwrap();
    check(at(-300)).unwrap();
    assert!(matches!(
        check(at(301)),
        Err(SignatureError::StaleTimestamp { .. })
    ));
    assert!(matches!(
        check(at(-301)),
        Err(SignatureError::StaleTimestamp { .. })
    ));
}

#[test]
fn standard_webhooks_missing_and_malformed_headers() {
    let wh = StandardWebhooks::new(A_SECRET).unwrap();
    let now = Timestamp::from_secs(A_TS);
    assert_eq!(
        wh.verify(&[], A_BODY.as_bytes(), now),
        Err(SignatureError::MissingHeader { name: "webhook-id" })
    );
    let mut h = headers(A_ID, A_TS, A_SIG);
    h[1].1 = "yesterday".into();
    assert_eq!(
        wh.verify(&h, A_BODY.as_bytes(), now),
        Err(SignatureError::MalformedHeader {
            name: "webhook-timestamp"
        })
    );
}

#[test]
fn fal_jwks_accepts_padded_and_unpadded_keys_and_skips_others() {
    let key = SigningKey::from_bytes(&[9; 32]).verifying_key();
    let x = base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE, key.as_bytes());
    assert!(x.ends_with('='));
    let json = format!(
        r#"{{"keys":[{{"kty":"RSA","n":"abc","e":"AQAB"}},{{"kty":"OKP","crv":"Ed25519","x":"{x}","kid":"1"}}]}}"#
    );
    let padded = Jwks::from_json(json.as_bytes()).unwrap();
    assert_eq!(padded, Jwks::from_keys(vec![key]));
    let unpadded = Jwks::from_json(padded.to_json().to_string().as_bytes()).unwrap();
    assert_eq!(unpadded, padded);
    assert!(matches!(
        Jwks::from_json(br#"{"keys":[]}"#),
        Err(SignatureError::InvalidKeySet { .. })
    ));
    assert!(matches!(
        Jwks::from_json(b"nope"),
        Err(SignatureError::InvalidKeySet { .. })
    ));
}

fn ids() -> (JobId, StageId) {
    (JobId("rnd_01jx".into()), StageId("s04.motion".into()))
}

#[test]
fn callback_token_round_trip_and_fencing() {
    let secret = Secret::new("k");
    let (job, stage) = ids();
    let exp = NOW.plus(Millis::from_secs(3600));
    let token = callback_token(&secret, ProviderKind::Kling, &job, &stage, Attempt(2), exp);
    assert!(
        token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    );
    verify_callback_token(
        &secret,
        ProviderKind::Kling,
        &job,
        &stage,
        Attempt(2),
        exp,
        &token,
        NOW,
    )
    .unwrap();
    let other = |job: &JobId, stage: &StageId, attempt, exp, secret: &Secret| {
        verify_callback_token(
            secret,
            ProviderKind::Kling,
            job,
            stage,
            attempt,
            exp,
            &token,
            NOW,
        )
    };
    assert_eq!(
        other(&job, &stage, Attempt(3), exp, &secret),
        Err(SignatureError::Mismatch)
    );
    assert_eq!(
        other(&JobId("rnd_x".into()), &stage, Attempt(2), exp, &secret),
        Err(SignatureError::Mismatch)
    );
    assert_eq!(
        other(
            &job,
            &StageId("s05.motion".into()),
            Attempt(2),
            exp,
            &secret
        ),
        Err(SignatureError::Mismatch)
    );
    assert_eq!(
        other(
            &job,
            &stage,
            Attempt(2),
            exp.plus(Millis::from_secs(1)),
            &secret
        ),
        Err(SignatureError::Mismatch)
    );
    assert_eq!(
        other(&job, &stage, Attempt(2), exp, &Secret::new("k2")),
        Err(SignatureError::Mismatch)
    );
    // The provider is part of what the token signs.
    assert_eq!(
        verify_callback_token(
            &secret,
            ProviderKind::Luma,
            &job,
            &stage,
            Attempt(2),
            exp,
            &token,
            NOW
        ),
        Err(SignatureError::Mismatch)
    );
    assert_eq!(
        verify_callback_token(
            &secret,
            ProviderKind::Kling,
            &job,
            &stage,
            Attempt(2),
            exp,
            "not base64!",
            NOW
        ),
        Err(SignatureError::Mismatch)
    );
}

#[test]
fn callback_token_expires() {
    let secret = Secret::new("k");
    let (job, stage) = ids();
    let exp = NOW.plus(Millis::from_secs(60));
    let token = callback_token(&secret, ProviderKind::Kling, &job, &stage, Attempt(1), exp);
    verify_callback_token(
        &secret,
        ProviderKind::Kling,
        &job,
        &stage,
        Attempt(1),
        exp,
        &token,
        exp,
    )
    .unwrap();
    let later = exp.plus(Millis::from_secs(1));
    assert_eq!(
        verify_callback_token(
            &secret,
            ProviderKind::Kling,
            &job,
            &stage,
            Attempt(1),
            exp,
            &token,
            later
        ),
        Err(SignatureError::Expired)
    );
}

#[test]
fn callback_url_builds_and_parses_back() {
    let secret = Secret::new("k");
    let job = JobId("rnd 01/jx".into());
    let stage = StageId("s04.motion".into());
    let exp = Timestamp::from_secs(1_750_172_800);
    let url = callback_url(
        "https://render.example.test/",
        ProviderKind::Hailuo,
        &job,
        &stage,
        Attempt(3),
        exp,
        &secret,
    );
    assert!(url.starts_with("https://render.example.test/v1/callbacks/hailuo/rnd%2001%2Fjx/s04.motion/3?exp=1750172800&token="));
    let route = parse_callback_url(&url).unwrap();
    assert_eq!(route.provider, ProviderKind::Hailuo);
    assert_eq!(route.job, job);
    assert_eq!(route.stage, stage);
    assert_eq!(route.attempt, Attempt(3));
    assert_eq!(route.expires_at, exp);
    route.verify(&secret, NOW).unwrap();
    // The Worker may hand over only the path and query.
    let path = url.trim_start_matches("https://render.example.test");
    assert_eq!(parse_callback_url(path).unwrap(), route);
}

#[test]
fn callback_url_parse_rejects_other_urls() {
    for bad in [
        "https://render.example.test/v1/callbacks/sora",
        "https://render.example.test/v1/other/kling/j/s/1?exp=1&token=t",
        "https://render.example.test/v1/callbacks/acme/j/s/1?exp=1&token=t",
        "https://render.example.test/v1/callbacks/kling/j/s/one?exp=1&token=t",
        "https://render.example.test/v1/callbacks/kling/j/s/1?token=t",
        "https://render.example.test/v1/callbacks/kling/j/s/1?exp=1",
        "https://render.example.test/v1/callbacks/kling/j/s/1/extra?exp=1&token=t",
    ] {
        assert!(
            matches!(
                parse_callback_url(bad),
                Err(SignatureError::BadCallbackUrl { .. })
            ),
            "{bad}"
        );
    }
}

/// The URL of `kind`'s callback for the test attempt, its provider segment rewritten to `to`
fn rewritten(kind: ProviderKind, to: ProviderKind, secret: &Secret, exp: Timestamp) -> String {
    let (job, stage) = ids();
    let url = callback_url(
        "https://render.example.test",
        kind,
        &job,
        &stage,
        Attempt(2),
        exp,
        secret,
    );
    url.replace(
        &format!("/v1/callbacks/{kind}/"),
        &format!("/v1/callbacks/{to}/"),
    )
}

#[test]
fn a_token_minted_for_one_provider_fails_under_another() {
    let secret = Secret::new("k");
    let exp = NOW.plus(Millis::from_secs(3600));
    for from in ProviderKind::ALL {
        for to in ProviderKind::ALL {
            let url = rewritten(from, to, &secret, exp);
            let route = parse_callback_url(&url).unwrap();
            assert_eq!(route.provider, to);
            let verdict = route.verify(&secret, NOW);
            if from == to {
                assert_eq!(verdict, Ok(()), "{from}");
            } else {
                assert_eq!(verdict, Err(SignatureError::Mismatch), "{from} as {to}");
            }
        }
    }
}

#[test]
fn a_leaked_fal_url_rewritten_to_kling_is_refused_by_the_kling_adapter() {
    use studio::providers::{HttpRequest, Method, VerifyContext, adapter};
    let secret = crate::support::callback_secret();
    let exp = NOW.plus(Millis::from_secs(3600));
    let ctx = VerifyContext {
        now: NOW,
        callback_secret: &secret,
        fal_jwks: None,
    };
    let kling = ProviderKind::Kling;
    let cfg = crate::support::cfg(kling);
    let request = |url: String| HttpRequest {
        method: Method::Post,
        url,
        headers: vec![],
        body: br#"{"task_id":"t","task_status":"succeed"}"#.to_vec(),
    };
    for leaked in [
        ProviderKind::FalPika,
        ProviderKind::Bfl,
        ProviderKind::Replicate,
    ] {
        let forged = request(rewritten(leaked, kling, &secret, exp));
        assert_eq!(
            adapter(kling).verify_callback(&forged, &cfg, &ctx),
            Err(SignatureError::Mismatch),
            "{leaked}"
        );
    }
    // Kling's own URL still passes, and still expires.
    let own = request(rewritten(kling, kling, &secret, exp));
    adapter(kling).verify_callback(&own, &cfg, &ctx).unwrap();
    let late = VerifyContext {
        now: exp.plus(Millis::from_secs(1)),
        ..ctx
    };
    assert_eq!(
        adapter(kling).verify_callback(&own, &cfg, &late),
        Err(SignatureError::Expired)
    );
}
