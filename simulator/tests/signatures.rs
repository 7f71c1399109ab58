//! Every signed callback verifies with an independent implementation of the provider's scheme.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::*;
use serde_json::json;
use sha2::{Digest, Sha256};

#[test]
fn standard_webhooks_vectors_verify_both_ways() {
    // Vector A (Go/JS/Python/... libraries) and vector B (Rust library), providers.md §1.3
    let a_body = br#"{"test": 2432232314}"#;
    let a_sig = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
    let a_secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    assert!(verify_standard_webhooks(
        a_secret,
        "msg_p5jXN8AQM9LWM0D4loKWxJek",
        "1614265330",
        a_body,
        a_sig
    ));
    let b_body = br#"{"email":"test@example.com","username":"test_user"}"#;
    let b_sig = "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=";
    let b_secret = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
    assert!(verify_standard_webhooks(
        b_secret,
        "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk",
        "1649367553",
        b_body,
        b_sig
    ));

    // The simulator's signer produces exactly the vectors
    assert_eq!(
        simulator::signing::standard_webhooks_sign(
            a_secret,
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1_614_265_330,
            a_body
        )
        .unwrap(),
        a_sig
    );
    assert_eq!(
        simulator::signing::standard_webhooks_sign(
            b_secret,
            "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk",
            1_649_367_553,
            b_body
        )
        .unwrap(),
        b_sig
    );

    // Decoys alone fail; with the valid one present, verification passes
    let decoys = "v1,tFtCZ5RDCPxzWQRWXWPgrCgE2frDBe9gjpbWQxnVfsQ= v1,Mm7xgUVICxZfQ3bgf0h0Dof65L/IFx+PnZvnDWPCX6Q= v1,9DfC1c3eeOrXB6w/5dIDydLNQaEyww5KalE5jLBZucE=";
    assert!(!verify_standard_webhooks(
        b_secret,
        "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk",
        "1649367553",
        b_body,
        decoys
    ));
    let mixed = format!("{decoys} {b_sig} v2,abc");
    assert!(verify_standard_webhooks(
        b_secret,
        "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk",
        "1649367553",
        b_body,
        &mixed
    ));
    // Partial and empty signatures, and empty secrets, fail
    assert!(!verify_standard_webhooks(
        b_secret,
        "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk",
        "1649367553",
        b_body,
        "v1,"
    ));
    assert!(!verify_standard_webhooks(
        b_secret,
        "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk",
        "1649367553",
        b_body,
        &b_sig[..8]
    ));
    assert!(!verify_standard_webhooks("whsec_", "m", "1", b"{}", "v1,"));
    assert!(simulator::signing::standard_webhooks_sign("whsec_", "m", 1, b"{}").is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicate_webhooks_are_standard_webhooks_signed() {
    let sim = Sim::start(300, 1.0).await;
    let rx = Receiver::start().await;
    let auth = [("authorization", "Bearer sim-replicate-key")];
    let body = json!({
        "version": "black-forest-labs/flux-schnell",
        "input": {"prompt": "a red fox"},
        "webhook": rx.url("/v1/callbacks/replicate/job_1/shot-1.keyframe/1?token=abc"),
        "webhook_events_filter": ["start", "completed"],
    });
    let r = sim
        .post_json("/replicate/v1/predictions", &auth, &body)
        .await;
    assert_eq!(r.status(), 201);
    let created: serde_json::Value = r.json().await.unwrap();
    assert_eq!(created["status"], "starting");
    let id = created["id"].as_str().unwrap().to_string();

    let got = rx
        .wait_until("start and completed", WAIT, |r| {
            r.iter().any(|c| c.json()["status"] == "succeeded")
        })
        .await;
    let statuses: Vec<String> = got
        .iter()
        .map(|c| c.json()["status"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        statuses,
        ["starting", "succeeded"],
        "logs events are filtered out"
    );
    for c in &got {
        assert!(c.header("webhook-id").starts_with("msg_"));
        assert!(
            verify_standard_webhooks(
                REPLICATE_SECRET,
                c.header("webhook-id"),
                c.header("webhook-timestamp"),
                &c.body,
                c.header("webhook-signature")
            ),
            "replicate signature verifies"
        );
        assert!(!verify_standard_webhooks(
            SORA_SECRET,
            c.header("webhook-id"),
            c.header("webhook-timestamp"),
            &c.body,
            c.header("webhook-signature")
        ));
    }
    let done = got.last().unwrap().json();
    assert_eq!(done["id"], id.as_str());
    let output = done["output"].as_str().unwrap();
    let img = sim.client.get(output).send().await.unwrap();
    assert_eq!(img.headers()["content-type"], "image/png");
    assert_eq!(&img.bytes().await.unwrap()[..8], b"\x89PNG\r\n\x1a\n");

    let (status, polled) = sim
        .get_json(&sim.url(&format!("/replicate/v1/predictions/{id}")), &auth)
        .await;
    assert_eq!(status, 200);
    assert_eq!(polled["status"], "succeeded");
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sora_project_webhook_is_standard_webhooks_signed() {
    let sim = Sim::start(200, 1.0).await;
    let rx = Receiver::start().await;
    sim.config(json!({"sora_webhook_url": rx.url("/v1/callbacks/sora")}))
        .await;
    let auth = [("authorization", "Bearer sim-sora-key")];
    let r = sim
        .post_json(
            "/sora/v1/videos",
            &auth,
            &json!({"prompt": "waves at dusk", "seconds": "8"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let video: serde_json::Value = r.json().await.unwrap();
    assert_eq!(video["status"], "queued");
    let id = video["id"].as_str().unwrap().to_string();

    let got = rx
        .wait_until("video.completed", WAIT, |r| !r.is_empty())
        .await;
    let event = got[0].json();
    assert_eq!(event["type"], "video.completed");
    assert_eq!(event["object"], "event");
    assert_eq!(event["data"]["id"], id.as_str());
    assert!(verify_standard_webhooks(
        SORA_SECRET,
        got[0].header("webhook-id"),
        got[0].header("webhook-timestamp"),
        &got[0].body,
        got[0].header("webhook-signature")
    ));

    let content = sim
        .client
        .get(sim.url(&format!("/sora/v1/videos/{id}/content")))
        .header("authorization", "Bearer sim-sora-key")
        .send()
        .await
        .unwrap();
    assert_eq!(content.status(), 200);
    assert_eq!(content.headers()["content-type"], "video/mp4");
    assert_eq!(&content.bytes().await.unwrap()[4..8], b"ftyp");
    // Content needs auth
    let anon = sim
        .client
        .get(sim.url(&format!("/sora/v1/videos/{id}/content")))
        .send()
        .await
        .unwrap();
    assert_eq!(anon.status(), 401);
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fal_webhooks_verify_against_the_jwks() {
    let sim = Sim::start(200, 1.0).await;
    let rx = Receiver::start().await;
    let (status, jwks) = sim
        .get_json(&sim.url("/fal/.well-known/jwks.json"), &[])
        .await;
    assert_eq!(status, 200);
    // The published key is the one derived from the contract's seed
    let seed: [u8; 32] = Sha256::digest(b"creatorstudio-sim-fal-ed25519").into();
    let expected = ed25519_dalek::SigningKey::from_bytes(&seed).verifying_key();
    assert_eq!(
        jwks["keys"][0]["x"],
        URL_SAFE_NO_PAD.encode(expected.to_bytes())
    );
    assert_eq!(jwks["keys"][0]["crv"], "Ed25519");

    let hook = rx.url("/v1/callbacks/fal/job_1/shot-2.motion/1");
    let path = format!(
        "/fal/fal-ai/pika/v2.2/text-to-video?fal_webhook={}",
        url_escape(&hook)
    );
    let r = sim
        .post_json(
            &path,
            &[("authorization", "Key sim-fal-key")],
            &json!({"prompt": "a kite", "duration": 5}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let queued: serde_json::Value = r.json().await.unwrap();
    assert_eq!(queued["status"], "IN_QUEUE");
    assert!(queued["status_url"].as_str().unwrap().ends_with(&format!(
        "/fal/fal-ai/pika/requests/{}/status",
        queued["request_id"].as_str().unwrap()
    )));

    let got = rx.wait_until("fal webhook", WAIT, |r| !r.is_empty()).await;
    let hookd = &got[0];
    assert_eq!(hookd.json()["status"], "OK");
    assert_eq!(
        hookd.header("x-fal-webhook-request-id"),
        queued["request_id"].as_str().unwrap()
    );
    assert!(verify_fal(&jwks, hookd), "fal signature verifies");
    let mut tampered = hookd.clone();
    let mut body = hookd.body.to_vec();
    body.push(b' ');
    tampered.body = bytes::Bytes::from(body);
    assert!(!verify_fal(&jwks, &tampered));

    let video_url = hookd.json()["payload"]["video"]["url"]
        .as_str()
        .unwrap()
        .to_string();
    let v = sim.client.get(&video_url).send().await.unwrap();
    assert_eq!(v.headers()["content-type"], "video/mp4");

    let (code, status_body) = sim
        .get_json(
            queued["status_url"].as_str().unwrap(),
            &[("authorization", "Key sim-fal-key")],
        )
        .await;
    assert_eq!(
        (code, status_body["status"].as_str()),
        (200, Some("COMPLETED"))
    );
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bfl_webhook_carries_hmac_of_the_body() {
    let sim = Sim::start(200, 1.0).await;
    let rx = Receiver::start().await;
    let body = json!({
        "prompt": "a lighthouse",
        "width": 1024,
        "height": 768,
        "webhook_url": rx.url("/v1/callbacks/bfl/job_9/shot-1.keyframe/1"),
        "webhook_secret": "s3cret-per-job",
    });
    let r = sim
        .post_json("/bfl/v1/flux-pro-1.1", &[("x-key", "sim-bfl-key")], &body)
        .await;
    assert_eq!(r.status(), 200);
    let created: serde_json::Value = r.json().await.unwrap();
    assert!(
        created["polling_url"]
            .as_str()
            .unwrap()
            .contains("/bfl/v1/get_result?id=")
    );
    let got = rx.wait_until("bfl webhook", WAIT, |r| !r.is_empty()).await;
    let payload = got[0].json();
    assert_eq!(payload["status"], "Ready");
    assert!(
        payload["result"]["sample"]
            .as_str()
            .unwrap()
            .ends_with(".jpeg")
    );
    assert!(verify_bfl(
        "s3cret-per-job",
        &got[0].body,
        got[0].header("x-bfl-signature")
    ));
    assert!(!verify_bfl(
        "other",
        &got[0].body,
        got[0].header("x-bfl-signature")
    ));
    sim.stop().await;
}

fn url_escape(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
