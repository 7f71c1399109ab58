//! Outgoing webhooks on the real stack: every status change of a render with a `webhook_url`
//! reaches a loopback receiver, signed with Standard Webhooks and the creator's secret; a
//! delivery the receiver fails is sent again with the same `webhook-id`.

use std::collections::BTreeMap;
use std::time::Duration;

use e2e::render::{brief_in, create, is_terminal, now_ms, unique, wait_for};
use e2e::webhook::Receiver;
use e2e::{Client, shared_stack};
use reqwest::StatusCode;
use studio::providers::signature::standard::StandardWebhooks;
use studio::time::Timestamp;

const RENDER_TIMEOUT: Duration = Duration::from_secs(240);

#[tokio::test]
async fn the_signing_secret_is_minted_once_per_creator_and_only_for_app_keys() {
    let stack = shared_stack();
    let demo = Client::new(&stack.worker_url, Some("sk_test_demo"));
    let first = demo.get("/v1/webhooks/secret").await.expect("secret");
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    let secret = first.json["secret"].as_str().expect("secret").to_owned();
    assert!(secret.starts_with("whsec_"), "{secret}");
    assert!(StandardWebhooks::new(&secret).is_ok());
    let again = demo.get("/v1/webhooks/secret").await.expect("secret");
    assert_eq!(
        again.json["secret"],
        secret.as_str(),
        "the secret is stable"
    );
    let rival = Client::new(&stack.worker_url, Some("sk_test_rival"))
        .get("/v1/webhooks/secret")
        .await
        .expect("secret");
    assert_eq!(rival.status, StatusCode::OK);
    assert_ne!(
        rival.json["secret"],
        secret.as_str(),
        "one secret per creator"
    );
    let support = Client::new(&stack.worker_url, Some("sk_test_support"))
        .get("/v1/webhooks/secret")
        .await
        .expect("secret");
    assert_eq!(support.status, StatusCode::FORBIDDEN);
    let anonymous = Client::new(&stack.worker_url, None)
        .get("/v1/webhooks/secret")
        .await
        .expect("secret");
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn status_webhooks_are_signed_with_the_creators_secret_and_retried_after_a_500() {
    let stack = shared_stack();
    // The receiver fails the first delivery; everything after it is acknowledged.
    let receiver = Receiver::start(&[500]).expect("receiver");
    let client = Client::new(&stack.worker_url, Some("sk_test_demo"));
    let mut brief = brief_in(&unique("proj_hooks"));
    brief["webhook_url"] = serde_json::json!(receiver.url);
    let id = create(&client, &brief).await.expect("create");
    let view = wait_for(&client, &id, RENDER_TIMEOUT, is_terminal)
        .await
        .expect("finish");
    assert_eq!(view["status"], "succeeded", "{view}");
    // The secret is read after the deliveries were signed: the job minted or read the same one.
    let secret = client
        .get("/v1/webhooks/secret")
        .await
        .expect("secret")
        .json["secret"]
        .as_str()
        .expect("secret")
        .to_owned();
    let verifier = StandardWebhooks::new(&secret).expect("verifier");
    let doc = Client::new(&stack.worker_url, None)
        .get("/openapi.json")
        .await
        .expect("openapi")
        .json;
    let payload_schema = e2e::schema::component(&doc, "StatusEvent").expect("StatusEvent");
    // Every status change is delivered and acknowledged; the first one after a retry.
    let wanted = ["planning", "rendering", "assembling", "succeeded"];
    let mut deliveries = Vec::new();
    for _ in 0..120 {
        deliveries = receiver.deliveries();
        let acknowledged: Vec<String> = deliveries
            .iter()
            .filter(|d| d.answered == 200)
            .filter_map(|d| d.json()["status"].as_str().map(str::to_owned))
            .collect();
        if wanted.iter().all(|w| acknowledged.iter().any(|a| a == w)) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(!deliveries.is_empty(), "no webhook arrived");
    let mut by_id: BTreeMap<String, Vec<&e2e::webhook::Delivery>> = BTreeMap::new();
    for d in &deliveries {
        let headers: Vec<(String, String)> = d.headers.clone();
        verifier
            .verify(&headers, &d.body, Timestamp(now_ms()))
            .unwrap_or_else(|e| panic!("delivery does not verify: {e}: {:?}", d.headers));
        let body = d.json();
        let errors = e2e::schema::check(&doc, payload_schema, &body);
        assert!(errors.is_empty(), "payload vs the document: {errors:?}");
        assert_eq!(body["type"], "render.status_changed", "{body}");
        assert_eq!(body["job_id"], id.as_str(), "{body}");
        assert!(
            body["previous"].is_string() && body["at"].is_u64(),
            "{body}"
        );
        let webhook_id = d.header("webhook-id").expect("webhook-id").to_owned();
        by_id.entry(webhook_id).or_default().push(d);
    }
    for status in wanted {
        assert!(
            deliveries
                .iter()
                .any(|d| d.answered == 200 && d.json()["status"] == status),
            "{status} never acknowledged: {:?}",
            deliveries.iter().map(|d| d.json()).collect::<Vec<_>>()
        );
    }
    // The first delivery failed with 500 and was sent again, same id and same bytes.
    let first = &deliveries[0];
    assert_eq!(first.answered, 500);
    let first_id = first.header("webhook-id").expect("id");
    let retries = &by_id[first_id];
    assert!(retries.len() >= 2, "the failed delivery was not retried");
    assert_eq!(retries[1].answered, 200);
    assert_eq!(
        retries[0].body, retries[1].body,
        "a retry re-sends the same payload"
    );
    assert!(
        retries[1].at.duration_since(retries[0].at) >= Duration::from_secs(3),
        "the retry waits for the schedule"
    );
    // A forged signature (another secret) does not verify.
    let other = StandardWebhooks::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").expect("other");
    assert!(
        other
            .verify(&first.headers, &first.body, Timestamp(now_ms()))
            .is_err()
    );
    // Support sees the notifications and how their delivery went.
    let support = Client::new(&stack.worker_url, Some("sk_test_support"))
        .get(&format!("/v1/support/renders/{id}"))
        .await
        .expect("support view");
    let notes = support.json["notifications"]
        .as_array()
        .expect("notifications");
    assert!(notes.len() >= wanted.len(), "{}", support.text);
    assert!(
        notes
            .iter()
            .any(|n| n["attempts"].as_u64().unwrap_or(0) >= 2),
        "{}",
        support.text
    );
}
