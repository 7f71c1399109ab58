//! The support surface on the real stack: the role matrix, the full view of any creator's job,
//! journal paging, search, and the actions (pause, resume, reroute, retry, restart_from), each
//! journaled with who did it and why.

use std::collections::BTreeSet;
use std::time::Duration;

use e2e::render::{act, brief_in, create, is_terminal, now_ms, sample_brief, unique, wait_for};
use e2e::{Client, Stack, shared_stack};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use studio::job::SupportAction;

// Generous: each full render here shares the stack with the suite's other renders, and with
// whatever else the machine runs.
const RENDER_TIMEOUT: Duration = Duration::from_secs(480);

fn key(stack: &Stack, key: Option<&str>) -> Client {
    Client::new(&stack.worker_url, key)
}

fn stage<'a>(view: &'a Value, id: &str) -> &'a Value {
    view["stages"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["id"] == id))
        .unwrap_or(&Value::Null)
}

fn planned(v: &Value) -> bool {
    v["stages"].as_array().is_some_and(|s| !s.is_empty())
}

#[tokio::test]
async fn the_role_matrix_holds_on_every_route() {
    let stack = shared_stack();
    let demo = key(stack, Some("sk_test_demo"));
    let id = create(&demo, &sample_brief()).await.expect("create");
    let app_routes: Vec<(Method, String)> = vec![
        (Method::POST, "/v1/renders".into()),
        (Method::GET, "/v1/renders".into()),
        (Method::GET, format!("/v1/renders/{id}")),
        (Method::POST, format!("/v1/renders/{id}/cancel")),
        (Method::GET, format!("/v1/renders/{id}/events")),
        (Method::GET, "/v1/webhooks/secret".into()),
    ];
    let support_reads: Vec<(Method, String)> = vec![
        (Method::GET, "/v1/support/renders".into()),
        (Method::GET, format!("/v1/support/renders/{id}")),
        (Method::GET, format!("/v1/support/renders/{id}/journal")),
    ];
    let action = (Method::POST, format!("/v1/support/renders/{id}/actions"));
    let body = json!({"action": "pause", "reason": "role matrix"});
    let all: Vec<&(Method, String)> = app_routes
        .iter()
        .chain(&support_reads)
        .chain(std::iter::once(&action))
        .collect();
    for (method, path) in &all {
        for k in [None, Some("sk_test_nope")] {
            let reply = key(stack, k)
                .send(method.clone(), path, Some(&body), &[])
                .await
                .expect("send");
            assert_eq!(
                reply.status,
                StatusCode::UNAUTHORIZED,
                "{method} {path} {k:?}"
            );
            assert_eq!(reply.json["error"]["code"], "unauthenticated");
        }
    }
    // App keys: 403 on every support route (also for a job of their own).
    for app in ["sk_test_demo", "sk_test_rival"] {
        for (method, path) in support_reads.iter().chain(std::iter::once(&action)) {
            let reply = key(stack, Some(app))
                .send(method.clone(), path, Some(&body), &[])
                .await
                .expect("send");
            assert_eq!(reply.status, StatusCode::FORBIDDEN, "{app} {method} {path}");
            assert_eq!(reply.json["error"]["code"], "forbidden");
        }
    }
    // Support keys: 403 on the app's routes (they belong to no creator).
    for support in ["sk_test_support", "sk_test_support_admin"] {
        for (method, path) in &app_routes {
            let reply = key(stack, Some(support))
                .send(method.clone(), path, Some(&sample_brief()), &[])
                .await
                .expect("send");
            assert_eq!(
                reply.status,
                StatusCode::FORBIDDEN,
                "{support} {method} {path}"
            );
        }
        for (method, path) in &support_reads {
            let reply = key(stack, Some(support))
                .send(method.clone(), path, None, &[])
                .await
                .expect("send");
            assert_eq!(
                reply.status,
                StatusCode::OK,
                "{support} {method} {path}: {}",
                reply.text
            );
        }
    }
    // Read-only support may not act; admin may.
    let read_only = key(stack, Some("sk_test_support"))
        .post(&action.1, &body)
        .await
        .expect("act");
    assert_eq!(
        read_only.status,
        StatusCode::FORBIDDEN,
        "{}",
        read_only.text
    );
    let admin = key(stack, Some("sk_test_support_admin"));
    let paused = admin.post(&action.1, &body).await.expect("act");
    assert_eq!(paused.status, StatusCode::OK, "{}", paused.text);
    assert_eq!(paused.json["status"], "paused", "{}", paused.text);
    let cancelled = admin
        .post(
            &action.1,
            &json!({"action": "cancel", "reason": "role matrix done"}),
        )
        .await
        .expect("act");
    assert_eq!(cancelled.status, StatusCode::OK, "{}", cancelled.text);
    assert_eq!(cancelled.json["status"], "cancelled");
    // Another creator's job is a 404 on every app route that names it, never a 403.
    let rival = key(stack, Some("sk_test_rival"));
    for (method, path) in app_routes.iter().filter(|(_, p)| p.contains(&id)) {
        let reply = rival
            .send(method.clone(), path, Some(&json!({})), &[])
            .await
            .expect("send");
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "rival {method} {path}");
    }
    // A job that does not exist is a 404 for support too.
    let missing = admin
        .get("/v1/support/renders/rnd_00000000000000000000000000000000")
        .await
        .expect("get");
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn support_sees_everything_about_any_creators_job_and_pages_its_journal() {
    let stack = shared_stack();
    let rival = key(stack, Some("sk_test_rival"));
    let project = unique("proj_support_view");
    let id = create(&rival, &brief_in(&project)).await.expect("create");
    let created_after = now_ms().saturating_sub(60_000);
    wait_for(&rival, &id, RENDER_TIMEOUT, is_terminal)
        .await
        .expect("finish");
    let support = key(stack, Some("sk_test_support"));
    let reply = support
        .get(&format!("/v1/support/renders/{id}"))
        .await
        .expect("get");
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let v = &reply.json;
    assert_eq!(v["creator"], "rival");
    assert_eq!(v["status"], "succeeded");
    let stages = v["stages"].as_array().expect("stages");
    let ids: BTreeSet<&str> = stages.iter().filter_map(|s| s["id"].as_str()).collect();
    let edges = v["edges"].as_array().expect("edges");
    assert!(!edges.is_empty());
    for e in edges {
        assert!(ids.contains(e["from"].as_str().unwrap_or("")), "{e}");
        assert!(ids.contains(e["to"].as_str().unwrap_or("")), "{e}");
    }
    let mut providers = BTreeSet::new();
    for s in stages {
        let decision = &s["decision"];
        assert!(
            decision["reason"].as_str().is_some_and(|r| !r.is_empty()),
            "{s}"
        );
        let candidates = decision["candidates"].as_array().expect("candidates");
        assert!(!candidates.is_empty());
        for c in candidates {
            for dim in ["quality", "continuity", "cost", "latency", "outcome"] {
                assert!(c["scores"][dim].is_number(), "{dim} in {c}");
            }
        }
        let attempts = s["attempts"].as_array().expect("attempts");
        assert!(!attempts.is_empty(), "{s}");
        for a in attempts {
            assert!(a["provider"].is_string(), "{a}");
            assert!(a["provider_ref"].is_string(), "{a}");
            providers.insert(a["provider"].as_str().unwrap_or("").to_owned());
        }
    }
    assert!(v["warnings"].is_array() && v["actions"].is_array() && v["notifications"].is_array());
    let ledger = v["cost_ledger"]["rows"].as_array().expect("ledger");
    assert_eq!(
        ledger.len(),
        stages.len(),
        "one ledger line per finished stage"
    );
    let ledger_usd = v["cost_ledger"]["total_usd"].as_f64().expect("total");
    let cost_usd = v["cost_usd"].as_f64().expect("cost");
    assert!(
        (ledger_usd - cost_usd).abs() < 1e-6,
        "{ledger_usd} vs {cost_usd}"
    );
    assert!(v["master_url"].is_string(), "signed links for support too");

    // The journal, seven entries at a time, from the creation to the last step.
    let total = v["journal_length"].as_u64().expect("journal length");
    let mut seqs = Vec::new();
    let mut after = 0;
    for _ in 0..1000 {
        let page = support
            .get(&format!(
                "/v1/support/renders/{id}/journal?after={after}&limit=7"
            ))
            .await
            .expect("page");
        assert_eq!(page.status, StatusCode::OK, "{}", page.text);
        let entries = page.json["entries"].as_array().expect("entries");
        assert!(entries.len() <= 7);
        for e in entries {
            seqs.push(e["seq"].as_u64().expect("seq"));
            assert!(e["actor"]["kind"].is_string(), "{e}");
            assert!(e["input"]["type"].is_string(), "{e}");
        }
        match page.json["next_after"].as_u64() {
            Some(next) => after = next,
            None => break,
        }
    }
    assert_eq!(seqs, (1..=seqs.len() as u64).collect::<Vec<_>>(), "no gaps");
    assert!(seqs.len() as u64 >= total, "{} < {total}", seqs.len());
    let first = support
        .get(&format!("/v1/support/renders/{id}/journal?limit=1"))
        .await
        .expect("first");
    assert_eq!(first.json["entries"][0]["input"]["type"], "created");
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("after=-1", "after"),
    ] {
        let bad = support
            .get(&format!("/v1/support/renders/{id}/journal?{query}"))
            .await
            .expect("bad");
        assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(bad.json["error"]["field"], field);
    }

    // Search across creators.
    let found = |reply: &e2e::client::Reply| {
        reply.json["renders"]
            .as_array()
            .is_some_and(|r| r.iter().any(|x| x["job_id"] == id.as_str()))
    };
    let provider = providers.iter().next().expect("a provider").clone();
    for query in [
        "creator=rival".to_owned(),
        "creator=rival&status=succeeded".to_owned(),
        format!("provider={provider}&since={created_after}"),
        format!("since={created_after}&until={}", now_ms() + 1),
    ] {
        let reply = support
            .get(&format!("/v1/support/renders?{query}&limit=200"))
            .await
            .expect("search");
        assert_eq!(reply.status, StatusCode::OK, "{query}: {}", reply.text);
        assert!(found(&reply), "{query}: {}", reply.text);
        for r in reply.json["renders"].as_array().expect("renders") {
            assert!(r["creator_id"].is_string());
        }
    }
    for query in [
        "creator=demo".to_owned(),
        "creator=rival&status=failed".to_owned(),
        format!("since={}", now_ms() + 3_600_000),
        format!("until={created_after}"),
    ] {
        let reply = support
            .get(&format!("/v1/support/renders?{query}&limit=200"))
            .await
            .expect("search");
        assert_eq!(reply.status, StatusCode::OK, "{query}");
        assert!(!found(&reply), "{query} should not list it");
    }
    for (query, field) in [
        ("provider=acme", "provider"),
        ("status=done", "status"),
        ("since=yesterday", "since"),
        ("limit=0", "limit"),
        ("cursor=x", "cursor"),
    ] {
        let reply = support
            .get(&format!("/v1/support/renders?{query}"))
            .await
            .expect("search");
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(reply.json["error"]["field"], field, "{}", reply.text);
    }
}

#[tokio::test]
async fn actions_are_validated_and_refusals_are_409() {
    let stack = shared_stack();
    let demo = key(stack, Some("sk_test_demo"));
    let admin = key(stack, Some("sk_test_support_admin"));
    let id = create(&demo, &sample_brief()).await.expect("create");
    wait_for(&demo, &id, RENDER_TIMEOUT, planned)
        .await
        .expect("planned");
    for (body, field) in [
        (json!({"action": "pause"}), "reason"),
        (json!({"action": "pause", "reason": "  "}), "reason"),
        (json!({"action": "explode", "reason": "x"}), "action"),
        (json!({"reason": "x"}), "action"),
        (json!({"action": "retry_stage", "reason": "x"}), "stage"),
        (
            json!({"action": "retry_stage", "stage": "s99.motion", "reason": "x"}),
            "stage",
        ),
        (
            json!({"action": "reroute", "stage": "s01.motion", "reason": "x"}),
            "model",
        ),
        (
            json!({"action": "reroute", "stage": "s01.motion", "model": "no-such-model", "reason": "x"}),
            "model",
        ),
    ] {
        let reply = act(&admin, &id, body.clone()).await.expect("act");
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{body}: {}",
            reply.text
        );
        assert_eq!(
            reply.json["error"]["field"], field,
            "{body}: {}",
            reply.text
        );
    }
    let junk = admin
        .post_raw(
            &format!("/v1/support/renders/{id}/actions"),
            b"{nope".to_vec(),
            "application/json",
        )
        .await
        .expect("act");
    assert_eq!(junk.status, StatusCode::BAD_REQUEST, "{}", junk.text);
    // A refused action is a 409 with the core's reason, and changes nothing.
    let resume = act(
        &admin,
        &id,
        json!({"action": "resume", "reason": "not paused"}),
    )
    .await
    .expect("act");
    assert_eq!(resume.status, StatusCode::CONFLICT, "{}", resume.text);
    assert!(
        resume.json["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("not paused")),
        "{}",
        resume.text
    );
    let missing = act(
        &admin,
        "rnd_00000000000000000000000000000000",
        json!({"action": "pause", "reason": "x"}),
    )
    .await
    .expect("act");
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let _ = act(
        &admin,
        &id,
        json!({"action": "cancel", "reason": "test done"}),
    )
    .await;
}

/// How journals name `sk_test_support_admin`: its D1 label and the first 16 hex digits of its
/// hash (`sk_test_support` shares its 10-character prefix but not its id)
const ADMIN_AUDIT_NAME: &str = "dev key sk_test_support_admin (key f1a4eb0806c4efb2)";

#[tokio::test]
async fn pause_stops_submissions_and_resume_finishes_the_render() {
    let stack = shared_stack();
    let demo = key(stack, Some("sk_test_demo"));
    let admin = key(stack, Some("sk_test_support_admin"));
    let id = create(&demo, &sample_brief()).await.expect("create");
    wait_for(&demo, &id, RENDER_TIMEOUT, |v| {
        v["progress"]["running"].as_u64().unwrap_or(0) > 0
    })
    .await
    .expect("rendering");
    let reason = "customer asked us to hold the render";
    let paused = act(&admin, &id, json!({"action": "pause", "reason": reason}))
        .await
        .expect("pause");
    assert_eq!(paused.status, StatusCode::OK, "{}", paused.text);
    assert_eq!(paused.json["status"], "paused");
    let paused_at = paused.json["history"]
        .as_array()
        .and_then(|h| h.iter().rev().find(|e| e["status"] == "paused"))
        .and_then(|e| e["at"].as_u64())
        .expect("paused at");
    // Work in flight finishes; nothing new is submitted for as long as the job stays paused.
    let view = wait_for(&demo, &id, RENDER_TIMEOUT, |v| {
        v["status"] == "paused" && v["progress"]["running"] == 0
    })
    .await
    .expect("settled");
    tokio::time::sleep(Duration::from_secs(5)).await;
    let later = demo
        .get(&format!("/v1/renders/{id}"))
        .await
        .expect("get")
        .json;
    assert_eq!(later["status"], "paused");
    assert_eq!(
        later["progress"], view["progress"],
        "nothing moved while paused"
    );
    // Attempts are in the support view (the app's view has none).
    let full = admin
        .get(&format!("/v1/support/renders/{id}"))
        .await
        .expect("support view")
        .json;
    let started: Vec<u64> = full["stages"]
        .as_array()
        .expect("stages")
        .iter()
        .flat_map(|s| s["attempts"].as_array().cloned().unwrap_or_default())
        .filter_map(|a| a["started_at"].as_u64())
        .collect();
    assert!(
        !started.is_empty(),
        "premise: attempts started before the pause"
    );
    assert!(
        started.iter().all(|t| *t <= paused_at),
        "an attempt started after the pause at {paused_at}: {started:?}"
    );
    assert!(
        later["progress"]["done"].as_u64() < later["progress"]["total"].as_u64(),
        "the pause came before the end"
    );
    let resumed = act(
        &admin,
        &id,
        json!({"action": "resume", "reason": "customer is ready"}),
    )
    .await
    .expect("resume");
    assert_eq!(resumed.status, StatusCode::OK, "{}", resumed.text);
    let done = wait_for(&demo, &id, RENDER_TIMEOUT, is_terminal)
        .await
        .expect("finish");
    assert_eq!(done["status"], "succeeded", "{done}");
    // The creator sees that support acted and why in plain words, never who or their words.
    let actions = done["actions"].as_array().expect("actions");
    assert_eq!(actions.len(), 2, "{actions:?}");
    assert_eq!(actions[0]["by"], "support");
    assert_eq!(actions[0]["reason"], SupportAction::Pause.for_creator());
    assert_eq!(actions[0]["action"]["action"], "pause");
    assert!(!done.to_string().contains(reason), "{done}");
    // Support sees who (the key's label and id, which tell the two support keys apart) and why.
    let support = key(stack, Some("sk_test_support"));
    let full = support
        .get(&format!("/v1/support/renders/{id}"))
        .await
        .expect("support view");
    assert_eq!(
        full.json["actions"][0]["by"], ADMIN_AUDIT_NAME,
        "{}",
        full.text
    );
    assert_eq!(full.json["actions"][0]["reason"], reason);
    let mut journaled = Vec::new();
    let mut after = 0;
    loop {
        let page = support
            .get(&format!(
                "/v1/support/renders/{id}/journal?after={after}&limit=500"
            ))
            .await
            .expect("journal");
        for e in page.json["entries"].as_array().expect("entries") {
            if e["actor"]["kind"] == "support" {
                journaled.push(e.clone());
            }
        }
        match page.json["next_after"].as_u64() {
            Some(n) => after = n,
            None => break,
        }
    }
    assert_eq!(journaled.len(), 2, "{journaled:?}");
    assert_eq!(journaled[0]["actor"]["by"], ADMIN_AUDIT_NAME);
    assert_eq!(journaled[0]["input"]["type"], "support");
    assert_eq!(journaled[0]["input"]["reason"], reason);
}

#[tokio::test]
async fn reroute_runs_a_stage_on_the_named_model() {
    let stack = shared_stack();
    let demo = key(stack, Some("sk_test_demo"));
    let admin = key(stack, Some("sk_test_support_admin"));
    let id = create(&demo, &sample_brief()).await.expect("create");
    wait_for(&demo, &id, RENDER_TIMEOUT, planned)
        .await
        .expect("planned");
    let paused = act(
        &admin,
        &id,
        json!({"action": "pause", "reason": "reroute test"}),
    )
    .await
    .expect("pause");
    assert_eq!(paused.status, StatusCode::OK, "{}", paused.text);
    let view = paused.json;
    let target = "s12.motion";
    let candidates: Vec<String> = stage(&view, target)["decision"]["candidates"]
        .as_array()
        .expect("candidates")
        .iter()
        .filter_map(|c| c["model"].as_str().map(str::to_owned))
        .collect();
    assert!(candidates.len() >= 2, "{candidates:?}");
    let mut chosen = None;
    for model in candidates.iter().skip(1) {
        let reply = act(
            &admin,
            &id,
            json!({"action": "reroute", "stage": target, "model": model, "reason": "the first choice is having a bad day"}),
        )
        .await
        .expect("reroute");
        match reply.status {
            StatusCode::OK => {
                chosen = Some(model.clone());
                break;
            }
            StatusCode::CONFLICT => continue,
            other => panic!("reroute answered {other}: {}", reply.text),
        }
    }
    let chosen = chosen.expect("some other candidate was accepted");
    let resumed = act(
        &admin,
        &id,
        json!({"action": "resume", "reason": "rerouted"}),
    )
    .await
    .expect("resume");
    assert_eq!(resumed.status, StatusCode::OK, "{}", resumed.text);
    let done = wait_for(&demo, &id, RENDER_TIMEOUT, is_terminal)
        .await
        .expect("finish");
    assert_eq!(done["status"], "succeeded", "{done}");
    // The creator reads that support moved the step, in Ra's plain words, never the model.
    let why = stage(&done, target)["why"].as_str().unwrap_or_default();
    assert!(
        why.starts_with("Director, ") && why.contains("support"),
        "{why}"
    );
    assert!(!done.to_string().contains(chosen.as_str()), "{done}");
    let support_view = admin
        .get(&format!("/v1/support/renders/{id}"))
        .await
        .expect("view")
        .json;
    let s = stage(&support_view, target);
    assert_eq!(s["model"], chosen.as_str(), "{s}");
    let last = s["attempts"]
        .as_array()
        .and_then(|a| a.last())
        .expect("attempt");
    assert_eq!(last["model"], chosen.as_str());
    assert_eq!(last["outcome"]["outcome"], "succeeded", "{last}");
    let provider = stage(&support_view, target)["attempts"]
        .as_array()
        .and_then(|a| a.last())
        .map(|a| a["provider"].clone())
        .expect("provider");
    assert!(provider.is_string(), "{provider}");
}

#[tokio::test]
async fn retry_gives_a_stage_in_flight_a_fresh_attempt() {
    let stack = shared_stack();
    let demo = key(stack, Some("sk_test_demo"));
    let admin = key(stack, Some("sk_test_support_admin"));
    let id = create(&demo, &sample_brief()).await.expect("create");
    let mut retried = None;
    for _ in 0..400 {
        let view = demo
            .get(&format!("/v1/renders/{id}"))
            .await
            .expect("get")
            .json;
        if is_terminal(&view) {
            break;
        }
        let in_flight = view["stages"].as_array().and_then(|s| {
            s.iter()
                .find(|s| matches!(s["status"].as_str(), Some("running" | "submitting")))
                .cloned()
        });
        if let Some(s) = in_flight {
            let sid = s["id"].as_str().expect("id").to_owned();
            let reply = act(
                &admin,
                &id,
                json!({"action": "retry_stage", "stage": sid, "reason": "provider looks stuck"}),
            )
            .await
            .expect("retry");
            match reply.status {
                StatusCode::OK => {
                    retried = Some((sid, s["attempt"].as_u64().expect("attempt")));
                    break;
                }
                // It finished between the read and the action: pick another.
                StatusCode::CONFLICT => {}
                other => panic!("retry answered {other}: {}", reply.text),
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (sid, old) = retried.expect("a stage in flight was retried");
    let done = wait_for(&demo, &id, RENDER_TIMEOUT, is_terminal)
        .await
        .expect("finish");
    assert_eq!(done["status"], "succeeded", "{done}");
    assert!(stage(&done, &sid)["attempt"].as_u64().expect("attempt") > old);
    // Every attempt is support's to read (the app's view has the attempt number only).
    let full = admin
        .get(&format!("/v1/support/renders/{id}"))
        .await
        .expect("support view")
        .json;
    let s = stage(&full, &sid);
    assert!(s["attempt"].as_u64().expect("attempt") > old, "{s}");
    let attempts = s["attempts"].as_array().expect("attempts");
    let first = attempts
        .iter()
        .find(|a| a["attempt"].as_u64() == Some(old))
        .expect("the retried attempt is kept");
    assert_ne!(first["outcome"]["outcome"], "succeeded", "{first}");
    assert_eq!(
        attempts.last().map(|a| a["outcome"]["outcome"].clone()),
        Some(json!("succeeded"))
    );
}

#[tokio::test]
async fn restart_from_redoes_a_finished_stage_and_succeeds_again() {
    let stack = shared_stack();
    let demo = key(stack, Some("sk_test_demo"));
    let admin = key(stack, Some("sk_test_support_admin"));
    let id = create(&demo, &sample_brief()).await.expect("create");
    let before = wait_for(&demo, &id, RENDER_TIMEOUT, is_terminal)
        .await
        .expect("finish");
    assert_eq!(before["status"], "succeeded");
    let target = "s03.motion";
    let old_attempt = stage(&before, target)["attempt"].as_u64().expect("attempt");
    let old_assembly = stage(&before, "assembly")["attempt"]
        .as_u64()
        .expect("assembly");
    let reply = act(
        &admin,
        &id,
        json!({"action": "restart_from", "stage": target, "reason": "the creator flagged a glitch"}),
    )
    .await
    .expect("restart");
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_ne!(reply.json["status"], "succeeded", "{}", reply.text);
    let after = wait_for(&demo, &id, RENDER_TIMEOUT, is_terminal)
        .await
        .expect("finish again");
    assert_eq!(after["status"], "succeeded", "{after}");
    let s = stage(&after, target);
    assert!(s["attempt"].as_u64().expect("attempt") > old_attempt, "{s}");
    assert_eq!(s["status"], "done");
    let assembly = stage(&after, "assembly");
    assert!(
        assembly["attempt"].as_u64().expect("attempt") > old_assembly,
        "the dependents too"
    );
    let statuses: Vec<&str> = after["history"]
        .as_array()
        .expect("history")
        .iter()
        .filter_map(|e| e["status"].as_str())
        .collect();
    let first_success = statuses
        .iter()
        .position(|s| *s == "succeeded")
        .expect("succeeded");
    assert!(
        statuses[first_success + 1..].contains(&"rendering"),
        "{statuses:?}"
    );
    assert_eq!(statuses.last(), Some(&"succeeded"));
}
