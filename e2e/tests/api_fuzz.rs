//! The API under generated requests: Schemathesis (a property-based API tester, pinned and
//! installed into `.tools/` by `scripts/install-schemathesis.sh`) exercises every operation of
//! the live stack's `/openapi.json` with generated valid and invalid input, and checks every
//! answer: no 5xx; status code, content type, headers and body as documented; every request the
//! document calls valid accepted, every one it calls invalid refused; 405 with `Allow` for an
//! undocumented method; 401 without a key. So the document must be exactly as strict as the
//! server. Its settings are `e2e/fuzz/schemathesis.toml`, its hooks `e2e/fuzz/hooks.py`.
//!
//! `API_FUZZ_CASES` sets the cases per operation and phase (`make test`: the default, a few
//! minutes; `make bench`: many more); `API_FUZZ_SEED` the seed (fixed by default, so a failure
//! reproduces).

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use e2e::render::{create, sample_brief, support_view, wait_for};
use e2e::stack::repo_root;
use e2e::{Client, Stack};
use reqwest::StatusCode;
use serde_json::json;

const APP_KEY: &str = "sk_test_demo";
const ADMIN_KEY: &str = "sk_test_support_admin";
const DEFAULT_CASES: &str = "15";
const DEFAULT_SEED: &str = "20261129";

/// A render of the app key's creator, cancelled, for the hooks to name in valid cases
async fn cancelled_render(stack: &Stack) -> (String, String, String) {
    let app = Client::new(&stack.worker_url, Some(APP_KEY));
    let id = create(&app, &sample_brief()).await.expect("create");
    // Planned first (the Graph's context answered), so that its stages and routed models exist
    // for the hooks to name: a render cancelled before its plan has none.
    wait_for(&app, &id, Duration::from_secs(120), |v| {
        v["stages"].as_array().is_some_and(|s| s.len() > 1)
    })
    .await
    .expect("planned");
    let cancelled = app
        .post(&format!("/v1/renders/{id}/cancel"), &json!({}))
        .await
        .expect("cancel");
    assert_eq!(cancelled.status, StatusCode::OK, "{}", cancelled.text);
    // A routed model is support's to read: the app's view names none.
    let full = support_view(&app.with_key(Some("sk_test_support")), &id)
        .await
        .expect("support view");
    let stage = &full["stages"][1];
    let stage_id = stage["id"].as_str().expect("stage id").to_owned();
    let model = stage["decision"]["candidates"][0]["model"]
        .as_str()
        .expect("a routed model")
        .to_owned();
    (id, stage_id, model)
}

/// Runs Schemathesis over the operations of `tags`, as `key`; returns its report
fn schemathesis(
    stack: &Stack,
    document: &Path,
    key: &str,
    tags: &[&str],
    render: &(String, String, String),
) {
    let root = repo_root();
    let install = Command::new(root.join("scripts/install-schemathesis.sh"))
        .status()
        .expect("run scripts/install-schemathesis.sh");
    assert!(install.success(), "installing schemathesis failed");
    let cases = std::env::var("API_FUZZ_CASES").unwrap_or_else(|_| DEFAULT_CASES.into());
    let seed = std::env::var("API_FUZZ_SEED").unwrap_or_else(|_| DEFAULT_SEED.into());
    let report = tempfile::tempdir().expect("report dir");
    let mut cmd = Command::new(root.join(".tools/schemathesis/bin/schemathesis"));
    cmd.current_dir(&root)
        .arg("--config-file")
        .arg(root.join("e2e/fuzz/schemathesis.toml"))
        .arg("run")
        .arg(document)
        .args(["--url", &stack.worker_url])
        .args(["--checks", "all"])
        // workers-rs reads a method it does not know (`QUERY`, ...) as GET, so such a request is
        // served as a GET, not answered 405 (documented methods on a wrong path are 405 with
        // `Allow`: the e2e test `openapi` checks that)
        .args(["--exclude-checks", "unsupported_method"])
        .args(["--phases", "examples,coverage,fuzzing"])
        .args(["--max-examples", &cases, "--seed", &seed])
        // One worker: hypothesis' lambda descriptions are not thread-safe on Python 3.11
        .args(["--workers", "1", "--request-timeout", "30"])
        .args(["--header", &format!("Authorization: Bearer {key}")])
        .args(["--report-dir"])
        .arg(report.path())
        .args(["--suppress-health-check", "all", "--no-color"])
        .env("SCHEMATHESIS_HOOKS", "hooks")
        .env("PYTHONPATH", root.join("e2e/fuzz"))
        .env("FUZZ_WORKER_URL", &stack.worker_url)
        .env("FUZZ_APP_KEY", APP_KEY)
        .env("FUZZ_RENDER_ID", &render.0)
        .env("FUZZ_STAGE", &render.1)
        .env("FUZZ_MODEL", &render.2);
    for tag in tags {
        cmd.args(["--include-tag", tag]);
    }
    let out = cmd.output().expect("run schemathesis");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "schemathesis found problems as {key} ({tags:?}):\n{stdout}\n{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn every_operation_holds_under_generated_requests() {
    let stack = e2e::shared_stack();
    let render = cancelled_render(stack).await;
    // The document as the stack serves it, read once (the tester then needs no slow first read)
    let reply = Client::new(&stack.worker_url, None)
        .get("/openapi.json")
        .await
        .expect("openapi.json");
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let dir = tempfile::tempdir().expect("temp dir");
    let document = dir.path().join("openapi.json");
    std::fs::write(&document, &reply.text).expect("write openapi.json");
    let app_tags = ["app", "memory", "ops", "providers", "media"];
    tokio::task::block_in_place(|| {
        schemathesis(stack, &document, APP_KEY, &app_tags, &render);
        schemathesis(stack, &document, ADMIN_KEY, &["support"], &render);
    });
}
