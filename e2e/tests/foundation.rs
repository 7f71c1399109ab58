//! The foundation on the real stack: health, authentication, Durable Object persistence.

use e2e::{Client, Stack, StackOptions, shared_stack};
use reqwest::StatusCode;

const DEV_KEYS: [(&str, &str, Option<&str>); 4] = [
    ("sk_test_demo", "app", Some("demo")),
    ("sk_test_rival", "app", Some("rival")),
    ("sk_test_support", "support", None),
    ("sk_test_support_admin", "support_admin", None),
];

#[tokio::test]
async fn health_reports_every_binding() {
    let stack = shared_stack();
    let reply = Client::new(&stack.worker_url, None)
        .get("/healthz")
        .await
        .expect("healthz");
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    for binding in ["RENDER_JOB", "MEMORY_GRAPH", "DB", "MEDIA"] {
        assert_eq!(
            reply.json["bindings"][binding]["ok"], true,
            "{binding}: {}",
            reply.text
        );
    }
    assert_eq!(reply.json["ok"], true);
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
    let pings_before = {
        let stack = Stack::start_with(options.clone()).expect("first start");
        let client = Client::new(&stack.worker_url, None);
        let mut last = 0;
        for _ in 0..3 {
            let reply = client.get("/healthz").await.expect("healthz");
            last = reply.json["bindings"]["RENDER_JOB"]["pings"]
                .as_i64()
                .expect("pings");
        }
        last
        // The stack is stopped here: wrangler and workerd exit, the state stays on disk.
    };
    assert!(pings_before >= 3, "pings {pings_before}");
    let stack = Stack::start_with(options).expect("second start");
    let reply = Client::new(&stack.worker_url, None)
        .get("/healthz")
        .await
        .expect("healthz");
    let pings_after = reply.json["bindings"]["RENDER_JOB"]["pings"]
        .as_i64()
        .expect("pings");
    // A fresh store would count from 1 again (plus the harness's readiness probe); a kept one
    // continues past where it stopped.
    assert!(
        pings_after > pings_before,
        "the job object's SQLite counter must continue where it stopped ({pings_before}): {}",
        reply.text
    );
}
