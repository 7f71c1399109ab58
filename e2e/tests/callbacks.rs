//! Provider callback routes on the real stack: forged, junk and unsigned callbacks are refused
//! and change nothing; a replayed genuine delivery is acknowledged and changes nothing.

use std::time::Duration;

use e2e::render::{create, is_terminal, sample_brief, wait_for};
use e2e::{Client, shared_stack};
use serde_json::{Value, json};
use studio::ids::{Attempt, JobId, StageId};
use studio::providers::ProviderKind;
use studio::providers::config::{DEV_CALLBACK_SECRET, Secret};
use studio::providers::signature::token::callback_url;
use studio::time::Timestamp;

fn now() -> Timestamp {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    Timestamp(ms)
}

fn path_of(url: &str) -> String {
    url.split_once("://")
        .and_then(|(_, rest)| rest.split_once('/'))
        .map(|(_, p)| format!("/{p}"))
        .unwrap_or_default()
}

/// A callback URL for a job and stage, with a token made with `secret`
fn route(provider: ProviderKind, job: &str, stage: &str, secret: &str) -> String {
    let url = callback_url(
        "http://x",
        provider,
        &JobId(job.into()),
        &StageId(stage.into()),
        Attempt(1),
        Timestamp(now().0 + 3_600_000),
        &Secret::new(secret),
    );
    path_of(&url)
}

/// The state without the signed links, whose expiry moves with every request
fn without_links(v: &Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(k, _)| !k.ends_with("url"))
                .map(|(k, v)| (k.clone(), without_links(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_links).collect()),
        other => other.clone(),
    }
}

#[tokio::test]
async fn forged_junk_and_unsigned_callbacks_are_refused_on_every_route() {
    let stack = shared_stack();
    let app = Client::new(&stack.worker_url, Some("sk_test_demo"));
    let id = create(&app, &sample_brief()).await.expect("create");
    let before = wait_for(&app, &id, Duration::from_secs(240), is_terminal)
        .await
        .expect("finish");
    assert_eq!(before["status"], "succeeded");
    let anyone = Client::new(&stack.worker_url, None);
    let status_body = json!({"status": "succeeded", "id": "task_1", "task_id": "task_1"});
    for provider in ProviderKind::ALL {
        // A token minted with the wrong secret.
        let forged = route(provider, &id, "s01.motion", "not-the-secret");
        let reply = anyone.post(&forged, &status_body).await.expect("post");
        assert!(
            reply.status.is_client_error(),
            "{provider} forged token: {} {}",
            reply.status,
            reply.text
        );
        // No token at all.
        let bare = format!("/v1/callbacks/{}/{id}/s01.motion/1", provider.as_str());
        let reply = anyone.post(&bare, &status_body).await.expect("post");
        assert!(
            reply.status.is_client_error(),
            "{provider} no token: {} {}",
            reply.status,
            reply.text
        );
        // A valid token but a junk body: refused before it reaches the job, or refused by it.
        let genuine = route(provider, &id, "s01.motion", DEV_CALLBACK_SECRET);
        let reply = anyone
            .post_raw(&genuine, b"\x00\x01 not json".to_vec(), "application/json")
            .await
            .expect("post");
        assert!(
            reply.status.is_client_error(),
            "{provider} junk: {} {}",
            reply.status,
            reply.text
        );
    }
    // Sora's and Replicate's project-level style: Standard Webhooks headers missing or wrong.
    for provider in ["sora", "replicate"] {
        let body = json!({"type": "video.completed", "data": {"id": "video_x"}});
        let reply = anyone
            .post(&format!("/v1/callbacks/{provider}"), &body)
            .await
            .expect("post");
        assert!(
            reply.status.is_client_error(),
            "{provider} unsigned: {}",
            reply.status
        );
        let reply = anyone
            .send(
                reqwest::Method::POST,
                &format!("/v1/callbacks/{provider}"),
                Some(&body),
                &[
                    ("webhook-id", "msg_1"),
                    ("webhook-timestamp", &(now().as_secs()).to_string()),
                    ("webhook-signature", "v1,AAAA"),
                ],
            )
            .await
            .expect("post");
        assert_eq!(
            reply.status.as_u16(),
            401,
            "{provider} bad signature: {}",
            reply.text
        );
    }
    // Nothing reached the job: its journal-backed view is unchanged.
    let after = app.get(&format!("/v1/renders/{id}")).await.expect("get");
    assert_eq!(
        without_links(&before["stages"]),
        without_links(&after.json["stages"])
    );
    assert_eq!(after.json["status"], "succeeded");
}
