//! The support page (`/support/`) in real headless Chromium: `e2e/browser/support_page.mjs`
//! (playwright-core driving Debian's `chromium`, axe-core for accessibility) against this
//! stack, with a succeeded render to inspect and play and a failed one to retry. Screenshots
//! (1440x900) are written under `target/support-page/`.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use e2e::fault_run::small_render;
use e2e::render::{create, is_terminal, sample_brief, wait_for};
use e2e::stack::repo_root;
use e2e::{Client, shared_stack};
use serde_json::json;

const RENDER_TIMEOUT: Duration = Duration::from_secs(480);

/// The system's Chromium (`make test` installs Debian's `chromium` where missing)
fn chromium() -> PathBuf {
    let found = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .map(|dir| dir.join("chromium"))
        .find(|p| p.is_file());
    found.expect("chromium is not installed: run `make test`, which installs it")
}

#[tokio::test]
async fn support_staff_find_inspect_play_and_retry_a_render_in_a_real_browser() {
    let stack = shared_stack();
    let demo = Client::new(&stack.worker_url, Some("sk_test_demo"));
    let sim = Client::new(&stack.sim_url, None);

    // A render that succeeds: the one the page finds, inspects and plays.
    let done = create(&demo, &sample_brief()).await.expect("create");
    // A render whose every submit is refused by moderation, so a stage runs out of models and
    // the render fails: the page retries that stage once the providers are back to normal.
    let view = wait_for(&demo, &done, RENDER_TIMEOUT, is_terminal)
        .await
        .expect("first render ends");
    assert_eq!(view["status"], "succeeded", "{view}");
    let refuse = json!({ "faults": { "*": { "moderation": 1.0 } } });
    let set = sim
        .post("/__sim/config", &refuse)
        .await
        .expect("sim config");
    assert!(set.status.is_success(), "{}", set.text);
    let failed = create(&demo, &small_render(2, 9001)).await.expect("create");
    let view = wait_for(&demo, &failed, RENDER_TIMEOUT, is_terminal)
        .await
        .expect("second render ends");
    assert_eq!(view["status"], "failed", "{view}");
    let clear = sim
        .post("/__sim/config", &json!({ "faults": {} }))
        .await
        .expect("sim config");
    assert!(clear.status.is_success(), "{}", clear.text);

    let root = repo_root();
    let shots = root.join("target").join("support-page");
    let status = Command::new("node")
        .arg(root.join("e2e/browser/support_page.mjs"))
        .current_dir(&root)
        .env("BASE_URL", &stack.worker_url)
        .env("RENDER_DONE", &done)
        .env("RENDER_FAILED", &failed)
        .env("CREATOR", "demo")
        .env("SHOTS", &shots)
        .env("CHROMIUM", chromium())
        .status()
        .expect("node runs");
    assert!(
        status.success(),
        "the browser test failed (its output is above)"
    );
    for name in ["signin", "search", "render", "stage-details", "fleet"] {
        let file = shots.join(format!("{name}.png"));
        assert!(file.is_file(), "no screenshot {}", file.display());
    }
}
