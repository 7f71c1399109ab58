//! The foundation on the real stack: health, authentication, Durable Object persistence.

use e2e::render::{create, sample_brief};
use e2e::{Client, Stack, StackOptions, shared_stack};
use reqwest::StatusCode;

const DEV_KEYS: [(&str, &str, Option<&str>); 4] = [
    ("sk_test_demo", "app", Some("demo")),
    ("sk_test_rival", "app", Some("rival")),
    ("sk_test_support", "support", None),
    ("sk_test_support_admin", "support_admin", None),
];

#[tokio::test]
async fn health_reports_every_binding_and_nothing_else() {
    let stack = shared_stack();
    let reply = Client::new(&stack.worker_url, None)
        .get("/healthz")
        .await
        .expect("healthz");
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    for binding in ["RENDER_JOB", "MEMORY_GRAPH", "DB", "MEDIA"] {
        // Only whether it answers: no counts (of keys, of pings), no error text.
        assert_eq!(
            reply.json["bindings"][binding],
            serde_json::json!({ "ok": true }),
            "{binding}: {}",
            reply.text
        );
    }
    assert_eq!(reply.json["ok"], true);
    assert!(
        reply
            .header("x-request-id")
            .is_some_and(|id| !id.is_empty())
    );
}

#[tokio::test]
async fn missing_key_is_401_with_json_error() {
    let stack = shared_stack();
    let reply = Client::new(&stack.worker_url, None)
        .get("/v1/whoami")
        .await
        .expect("whoami");
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        reply.json["error"]["code"], "unauthenticated",
        "{}",
        reply.text
    );
}

#[tokio::test]
async fn wrong_key_is_401_with_json_error() {
    let stack = shared_stack();
    for key in ["sk_test_nope", "sk_test_demo_", "SK_TEST_DEMO"] {
        let reply = Client::new(&stack.worker_url, Some(key))
            .get("/v1/whoami")
            .await
            .expect("whoami");
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{key}");
        assert_eq!(reply.json["error"]["code"], "unauthenticated");
    }
    let basic = Client::new(&stack.worker_url, None)
        .send(
            reqwest::Method::GET,
            "/v1/whoami",
            None,
            &[("authorization", "Basic c2tfdGVzdF9kZW1v")],
        )
        .await
        .expect("whoami");
    assert_eq!(basic.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn each_dev_key_resolves_to_its_creator_and_role() {
    let stack = shared_stack();
    for (key, role, creator) in DEV_KEYS {
        let reply = Client::new(&stack.worker_url, Some(key))
            .get("/v1/whoami")
            .await
            .expect("whoami");
        assert_eq!(reply.status, StatusCode::OK, "{key}: {}", reply.text);
        assert_eq!(reply.json["role"], role, "{key}");
        match creator {
            Some(c) => assert_eq!(reply.json["creator"], c, "{key}"),
            None => assert!(reply.json["creator"].is_null(), "{key}"),
        }
    }
}

#[tokio::test]
async fn unknown_route_is_a_json_404() {
    let stack = shared_stack();
    let reply = Client::new(&stack.worker_url, None)
        .get("/v1/nothing-here")
        .await
        .expect("get");
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(reply.json["error"]["code"], "not_found");
}

#[tokio::test]
async fn durable_object_sqlite_state_survives_a_restart_of_the_stack() {
    let dir = tempfile::Builder::new()
        .prefix("studio-restart-")
        .tempdir()
        .expect("tempdir");
    let options = StackOptions {
        persist_dir: Some(dir.path().to_path_buf()),
        ..Default::default()
    };
    let (id, before) = {
        let stack = Stack::start_with(options.clone()).expect("first start");
        let app = Client::new(&stack.worker_url, Some("sk_test_demo"));
        let id = create(&app, &sample_brief()).await.expect("create");
        let view = app.get(&format!("/v1/renders/{id}")).await.expect("view");
        assert_eq!(view.status, StatusCode::OK, "{}", view.text);
        (id, view.json)
        // The stack is stopped here: wrangler and workerd exit, the state stays on disk.
    };
    let stack = Stack::start_with(options).expect("second start");
    let app = Client::new(&stack.worker_url, Some("sk_test_demo"));
    let after = app.get(&format!("/v1/renders/{id}")).await.expect("view");
    // A fresh store would not know the job at all; a kept one answers with its history.
    assert_eq!(after.status, StatusCode::OK, "{}", after.text);
    assert_eq!(after.json["job_id"], before["job_id"]);
    assert_eq!(after.json["creator"], "demo");
    let seen = |v: &serde_json::Value| v["history"].as_array().map_or(0, Vec::len);
    assert!(
        seen(&after.json) >= seen(&before),
        "the job's history must continue where it stopped: {}",
        after.text
    );
    // Support sees what the reloaded object weighs: its SQLite bytes and how long the load
    // from them took in this start (the scale benchmark reads the same headers).
    let support = Client::new(&stack.worker_url, Some("sk_test_support"));
    let reply = support
        .get(&format!("/v1/support/renders/{id}"))
        .await
        .expect("support view");
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let header = |name: &str| -> u64 {
        reply
            .header(name)
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no numeric {name} in {:?}", reply.headers))
    };
    assert!(
        header("x-job-storage-bytes") > 4096,
        "a job's tables take pages"
    );
    header("x-job-load-ms");
}
