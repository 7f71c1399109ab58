//! Production is the default (issue 10): what a plain `wrangler deploy` would ship, read from
//! `wrangler deploy --dry-run` (offline: no account, no upload), and a Worker running with
//! `ENVIRONMENT=production` refusing dev secrets and dev routes.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use e2e::stack::{WRANGLER_ENV, repo_root};
use e2e::{Client, Stack, StackOptions};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use studio::api::secrets::is_dev_value;
use studio::providers::config::DEV_CALLBACK_SECRET;

/// Every binding both environments must have, with the kind wrangler prints for it
const BINDINGS: [(&str, &str); 6] = [
    ("RENDER_JOB", "Durable Object"),
    ("MEMORY_GRAPH", "Durable Object"),
    ("DB", "D1 Database"),
    ("MEDIA", "R2 Bucket"),
    ("APP_RATE_LIMITER", "Rate Limit"),
    ("SUPPORT_RATE_LIMITER", "Rate Limit"),
];

/// What `wrangler deploy --dry-run` reports for one environment
struct DryRun {
    /// The Worker's name from wrangler's output file
    worker_name: String,
    /// Binding name -> (what wrangler shows after the name, its kind)
    bindings: BTreeMap<String, (String, String)>,
    /// The whole output, for failure messages
    output: String,
}

/// Runs `wrangler deploy --dry-run` (with `--env NAME` when given). The `[build]` command runs
/// too (`make -s worker`, quick once `make worker` has built). The banner is off, which also
/// skips wrangler's update check, and metrics are off: nothing here needs the network.
fn dry_run(env: Option<&str>) -> DryRun {
    let out = tempfile::tempdir().expect("temp dir");
    let record = out.path().join("wrangler-output.ndjson");
    let mut cmd = Command::new("npx");
    cmd.args(["wrangler", "deploy", "--dry-run", "--outdir"])
        .arg(out.path().join("bundle"))
        .current_dir(repo_root())
        .env("WRANGLER_SEND_METRICS", "false")
        .env("WRANGLER_HIDE_BANNER", "true")
        .env("WRANGLER_OUTPUT_FILE_PATH", &record)
        .env("CI", "true");
    if let Some(env) = env {
        cmd.args(["--env", env]);
    }
    let result = cmd.output().expect("run wrangler deploy --dry-run");
    let output = format!(
        "{}{}",
        String::from_utf8_lossy(&result.stdout),
        String::from_utf8_lossy(&result.stderr)
    );
    assert!(result.status.success(), "dry run failed: {output}");
    assert!(
        out.path().join("bundle/index.js").is_file(),
        "the dry run wrote the bundle: {output}"
    );
    DryRun {
        worker_name: worker_name(&record).unwrap_or_default(),
        bindings: bindings(&output),
        output,
    }
}

/// The `worker_name` of the `deploy` record in wrangler's output file
fn worker_name(record: &Path) -> Option<String> {
    std::fs::read_to_string(record)
        .ok()?
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|v| v["type"] == "deploy")
        .and_then(|v| v["worker_name"].as_str().map(str::to_owned))
}

/// The rows of wrangler's binding table: `env.NAME (shown)   Kind`
fn bindings(output: &str) -> BTreeMap<String, (String, String)> {
    let mut out = BTreeMap::new();
    for line in output.lines() {
        let Some(rest) = line.trim().strip_prefix("env.") else {
            continue;
        };
        let Some((name, rest)) = rest.split_once(' ') else {
            continue;
        };
        let rest = rest.trim();
        // `(shown)` is the value of a var or the resource of a binding; the kind follows it.
        // A binding without a resource (Workers AI: `env.AI   AI`) has the kind alone.
        let Some(close) = rest.rfind(')') else {
            out.insert(name.to_owned(), (String::new(), rest.to_owned()));
            continue;
        };
        let shown = rest
            .get(1..close)
            .unwrap_or_default()
            .trim_matches('"')
            .to_owned();
        let kind = rest.get(close + 1..).unwrap_or_default().trim().to_owned();
        out.insert(name.to_owned(), (shown, kind));
    }
    out
}

fn assert_every_binding(run: &DryRun, env: &str) {
    for (name, kind) in BINDINGS {
        assert_eq!(
            run.bindings.get(name).map(|(_, k)| k.as_str()),
            Some(kind),
            "{env}: binding {name} ({kind}) missing:\n{}",
            run.output
        );
    }
}

fn var<'a>(run: &'a DryRun, name: &str) -> Option<&'a str> {
    run.bindings
        .get(name)
        .filter(|(_, kind)| kind == "Environment Variable")
        .map(|(shown, _)| shown.as_str())
}

#[test]
fn a_plain_deploy_is_production_and_dev_is_an_explicit_environment() {
    let prod = dry_run(None);
    assert_eq!(prod.worker_name, "creatorstudio-render", "{}", prod.output);
    assert_every_binding(&prod, "production");
    assert_eq!(
        var(&prod, "ENVIRONMENT"),
        Some("production"),
        "{}",
        prod.output
    );
    assert_eq!(var(&prod, "SIM_BASE_URL"), None, "{}", prod.output);
    // Production embeds the Graph with Workers AI through its `AI` binding; dev, which cannot
    // reach Cloudflare's network, embeds in the object.
    assert_eq!(
        prod.bindings.get("AI").map(|(_, k)| k.as_str()),
        Some("AI"),
        "{}",
        prod.output
    );
    assert_eq!(
        var(&prod, "EMBEDDER"),
        Some("workers-ai"),
        "{}",
        prod.output
    );
    for (name, (shown, _)) in &prod.bindings {
        assert!(
            !is_dev_value(shown),
            "production ships the dev value of {name}"
        );
        assert!(
            !shown.contains("127.0.0.1") && !shown.contains("localhost"),
            "production {name} points at this machine: {shown}"
        );
    }
    assert!(
        !prod.output.contains(DEV_CALLBACK_SECRET),
        "{}",
        prod.output
    );

    let dev = dry_run(Some(WRANGLER_ENV));
    assert_eq!(
        dev.worker_name, "creatorstudio-render-dev",
        "{}",
        dev.output
    );
    assert_every_binding(&dev, "dev");
    assert_eq!(var(&dev, "ENVIRONMENT"), Some("dev"), "{}", dev.output);
    assert!(var(&dev, "SIM_BASE_URL").is_some(), "{}", dev.output);
    assert!(var(&dev, "PUBLIC_BASE_URL").is_some(), "{}", dev.output);
    assert_eq!(var(&dev, "EMBEDDER"), Some("local"), "{}", dev.output);
    assert!(!dev.bindings.contains_key("AI"), "{}", dev.output);
}

/// One Worker with `ENVIRONMENT=production` over the dev environment, the callback key set to
/// the public dev value and no media key: everything that would sign or verify with them is a
/// 503 "not configured", and the dev-only routes are not there.
#[tokio::test]
async fn production_refuses_dev_secrets_and_hides_dev_routes() {
    let stack = Stack::start_with(StackOptions {
        without_assembler: true,
        worker_vars: vec![
            ("ENVIRONMENT".into(), "production".into()),
            ("CALLBACK_SECRET".into(), DEV_CALLBACK_SECRET.into()),
        ],
        ..StackOptions::default()
    })
    .expect("stack");
    let anyone = Client::new(&stack.worker_url, None);
    let health = anyone.get("/healthz").await.expect("healthz");
    assert_eq!(health.status, StatusCode::OK, "{}", health.text);

    // A media URL: the key would be the dev callback secret, so nothing is verified with it.
    let media = anyone
        .get("/v1/media/renders/rnd_0123/s01.keyframe/1/out.png?exp=4102444800&sig=00")
        .await
        .expect("media");
    // The runtime's log goes with a failure: a fresh clone once saw our router's 404 here after
    // a 60 s start, and the log shows whether wrangler was reloading the Worker at that moment.
    assert_eq!(
        media.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}\nworker log:\n{}",
        media.text,
        stack.worker_log()
    );
    let message = media.json["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("CALLBACK_SECRET is not configured")
            && !message.contains(DEV_CALLBACK_SECRET),
        "{}",
        media.text
    );

    // A provider callback: its token would be checked with the dev key.
    let callback = anyone
        .send(
            Method::POST,
            "/v1/callbacks/bfl/rnd_0123/s01.keyframe/1?exp=4102444800&token=00",
            Some(&json!({"id": "task", "status": "Ready"})),
            &[],
        )
        .await
        .expect("callback");
    assert_eq!(
        callback.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        callback.text
    );
    assert!(
        callback.text.contains("not configured"),
        "{}",
        callback.text
    );

    // The bench's seeding route exists only in dev.
    let demo = Client::new(&stack.worker_url, Some("sk_test_demo"));
    let seed = demo
        .post("/v1/memory/__bench_seed", &json!({"shots": 1}))
        .await
        .expect("bench seed");
    assert_eq!(seed.status, StatusCode::NOT_FOUND, "{}", seed.text);
}
