//! The app's surface on the real stack: idempotent creates, long-polls, Server-Sent Events,
//! listing, and the boundaries (413, 429 with Retry-After, idempotency keys that expire).

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use e2e::render::{act, brief_in, create, sample_brief, unique, wait_for};
use e2e::sse;
use e2e::{Client, Stack, StackOptions, shared_stack};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const RENDER_TIMEOUT: Duration = Duration::from_secs(240);

fn app(stack: &Stack) -> Client {
    Client::new(&stack.worker_url, Some("sk_test_demo"))
}

fn admin(stack: &Stack) -> Client {
    Client::new(&stack.worker_url, Some("sk_test_support_admin"))
}

#[tokio::test]
async fn an_event_stream_follows_a_render_to_succeeded_and_ends() {
    let stack = shared_stack();
    let client = app(stack);
    let id = create(&client, &sample_brief()).await.expect("create");
    let url = format!("{}/v1/renders/{id}/events", stack.worker_url);
    let out = sse::collect(&url, Some("sk_test_demo"), RENDER_TIMEOUT)
        .await
        .expect("stream");
    assert!(
        out.ended,
        "the stream must end with the job: {:?}",
        out.events.last()
    );
    let first = out.events.first().expect("a first event");
    assert_eq!(first.event, "snapshot", "{first:?}");
    assert_eq!(first.data["job_id"], id.as_str());
    assert!(first.data["stages"].is_array(), "{first:?}");
    let statuses: Vec<&str> = out
        .events
        .iter()
        .filter(|e| e.event == "status")
        .filter_map(|e| e.data["status"].as_str())
        .collect();
    assert_eq!(statuses.last(), Some(&"succeeded"), "{statuses:?}");
    assert!(statuses.contains(&"assembling"), "{statuses:?}");
    let last = out.events.last().expect("events");
    assert_eq!(
        last.event, "status",
        "the terminal status is the last event"
    );
    // Events arrive as they happen, not in one piece at the end.
    assert!(
        last.at.duration_since(first.at) > Duration::from_secs(3),
        "the stream was buffered: {:?}",
        last.at.duration_since(first.at)
    );
    // Every stage change names the stage, its status and attempt, with the job's progress and
    // cost, and never a model (the app's stream, like its view, names none); each stage is seen
    // done, at the attempt the view shows.
    let stage_events: Vec<&sse::SseEvent> =
        out.events.iter().filter(|e| e.event == "stage").collect();
    assert!(!stage_events.is_empty());
    for e in &stage_events {
        for field in ["stage", "status", "attempt", "progress", "cost_usd"] {
            assert!(
                e.data.get(field).is_some(),
                "{field} missing in {:?}",
                e.data
            );
        }
        assert!(e.data.get("model").is_none(), "{:?}", e.data);
    }
    let view = client
        .get(&format!("/v1/renders/{id}"))
        .await
        .expect("get")
        .json;
    assert_eq!(view["status"], "succeeded");
    for stage in view["stages"].as_array().expect("stages") {
        let done = stage_events
            .iter()
            .rev()
            .find(|e| e.data["stage"] == stage["id"]);
        let done = done.unwrap_or_else(|| panic!("no event for {}", stage["id"]));
        assert_eq!(done.data["status"], "done", "{:?}", done.data);
        assert_eq!(done.data["attempt"], stage["attempt"], "{:?}", done.data);
    }
    // A finished job's stream is its snapshot, then the end.
    let again = sse::collect(&url, Some("sk_test_demo"), Duration::from_secs(10))
        .await
        .expect("stream");
    assert!(again.ended);
    assert_eq!(again.events.len(), 1, "{:?}", again.events);
    assert_eq!(again.events[0].data["status"], "succeeded");
    // Another creator's stream is a 404, like the job.
    let rival = sse::collect(&url, Some("sk_test_rival"), Duration::from_secs(10)).await;
    assert!(rival.is_err_and(|e| e.starts_with("404")));
}

/// Waits until a paused job has nothing in flight, so that only our own action changes it
async fn quiet(client: &Client, id: &str) -> Value {
    wait_for(client, id, RENDER_TIMEOUT, |v| {
        v["status"] == "paused" && v["progress"]["running"] == 0
    })
    .await
    .expect("quiet")
}

#[tokio::test]
async fn a_long_poll_answers_within_a_second_of_a_change() {
    let stack = shared_stack();
    let client = app(stack);
    let id = create(&client, &sample_brief()).await.expect("create");
    wait_for(&client, &id, RENDER_TIMEOUT, |v| {
        v["stages"].as_array().is_some_and(|s| !s.is_empty())
    })
    .await
    .expect("planned");
    let paused = act(
        &admin(stack),
        &id,
        json!({"action": "pause", "reason": "long-poll test wants a quiet job"}),
    )
    .await
    .expect("pause");
    assert_eq!(paused.status, StatusCode::OK, "{}", paused.text);
    let mut attempts = 0;
    loop {
        attempts += 1;
        assert!(attempts <= 5, "the job never stayed quiet long enough");
        quiet(&client, &id).await;
        let now = client.get(&format!("/v1/renders/{id}")).await.expect("get");
        let tag = now.header("etag").expect("etag").to_owned();
        let poller = client.clone();
        let path = format!("/v1/renders/{id}?wait=30");
        let started = Instant::now();
        let poll = tokio::spawn(async move {
            let reply = poller
                .send(Method::GET, &path, None, &[("if-none-match", &tag)])
                .await;
            (reply, Instant::now())
        });
        tokio::time::sleep(Duration::from_millis(1500)).await;
        if poll.is_finished() {
            // Something else changed the job meanwhile (a late deadline): try again.
            continue;
        }
        let cancelled_at = Instant::now();
        let cancel = client
            .post(&format!("/v1/renders/{id}/cancel"), &json!({}))
            .await
            .expect("cancel");
        assert_eq!(cancel.status, StatusCode::OK, "{}", cancel.text);
        let (reply, answered_at) = poll.await.expect("join");
        let reply = reply.expect("long poll");
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        assert_eq!(reply.json["status"], "cancelled");
        let lag = answered_at.saturating_duration_since(cancelled_at);
        assert!(
            lag < Duration::from_secs(1),
            "answered {lag:?} after the change"
        );
        assert!(started.elapsed() < Duration::from_secs(30));
        break;
    }
    // Nothing changes any more: the poll is held for `wait` seconds and answers 304.
    let tag = client
        .get(&format!("/v1/renders/{id}"))
        .await
        .expect("get")
        .header("etag")
        .expect("etag")
        .to_owned();
    let started = Instant::now();
    let held = client
        .send(
            Method::GET,
            &format!("/v1/renders/{id}?wait=2"),
            None,
            &[("if-none-match", &tag)],
        )
        .await
        .expect("held");
    assert_eq!(held.status, StatusCode::NOT_MODIFIED);
    assert_eq!(held.header("etag"), Some(tag.as_str()));
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(1800) && took < Duration::from_secs(6),
        "{took:?}"
    );
    // A stale tag answers at once with the current view.
    let started = Instant::now();
    let stale = client
        .send(
            Method::GET,
            &format!("/v1/renders/{id}?wait=30"),
            None,
            &[("if-none-match", "\"stale\"")],
        )
        .await
        .expect("stale");
    assert_eq!(stale.status, StatusCode::OK);
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn wait_is_validated() {
    let stack = shared_stack();
    let client = app(stack);
    let id = create(&client, &sample_brief()).await.expect("create");
    for bad in ["61", "-1", "soon", "1.5"] {
        let reply = client
            .get(&format!("/v1/renders/{id}?wait={bad}"))
            .await
            .expect("get");
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{bad}: {}",
            reply.text
        );
        assert_eq!(reply.json["error"]["field"], "wait", "{}", reply.text);
    }
    let _ = client
        .post(&format!("/v1/renders/{id}/cancel"), &json!({}))
        .await;
}

#[tokio::test]
async fn ten_concurrent_creates_with_one_key_make_one_job() {
    let stack = shared_stack();
    let client = app(stack);
    let project = unique("proj_idem");
    let brief = brief_in(&project);
    let key = unique("idem");
    let replies = futures_util::future::join_all((0..10).map(|_| {
        let (client, brief, key) = (client.clone(), brief.clone(), key.clone());
        async move {
            client
                .send(
                    Method::POST,
                    "/v1/renders",
                    Some(&brief),
                    &[("idempotency-key", &key)],
                )
                .await
                .expect("create")
        }
    }))
    .await;
    let ids: BTreeSet<String> = replies
        .iter()
        .map(|r| {
            assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
            r.json["job_id"].as_str().expect("job_id").to_owned()
        })
        .collect();
    assert_eq!(ids.len(), 1, "one job for one key: {ids:?}");
    let fresh = replies
        .iter()
        .filter(|r| r.header("idempotent-replayed").is_none())
        .count();
    assert_eq!(fresh, 1, "exactly one create made the job");
    let id = ids.into_iter().next().expect("id");
    for r in &replies {
        assert_eq!(
            r.header("location"),
            Some(format!("/v1/renders/{id}").as_str())
        );
    }
    let listed = client
        .get(&format!("/v1/renders?project={project}"))
        .await
        .expect("list");
    assert_eq!(
        listed.json["renders"].as_array().map(Vec::len),
        Some(1),
        "{}",
        listed.text
    );
    // The same key with another body is a conflict and changes nothing.
    let mut other = brief.clone();
    other["logline"] = json!("A different film altogether, told with the same key.");
    let conflict = client
        .send(
            Method::POST,
            "/v1/renders",
            Some(&other),
            &[("idempotency-key", &key)],
        )
        .await
        .expect("create");
    assert_eq!(conflict.status, StatusCode::CONFLICT, "{}", conflict.text);
    assert_eq!(conflict.json["error"]["code"], "idempotency_conflict");
    // Another creator with the same key gets their own job.
    let rival = Client::new(&stack.worker_url, Some("sk_test_rival"))
        .send(
            Method::POST,
            "/v1/renders",
            Some(&brief),
            &[("idempotency-key", &key)],
        )
        .await
        .expect("create");
    assert_eq!(rival.status, StatusCode::ACCEPTED, "{}", rival.text);
    assert_ne!(rival.json["job_id"], id.as_str());
    let _ = client
        .post(&format!("/v1/renders/{id}/cancel"), &json!({}))
        .await;
    let rival_id = rival.json["job_id"].as_str().unwrap_or_default();
    let _ = Client::new(&stack.worker_url, Some("sk_test_rival"))
        .post(&format!("/v1/renders/{rival_id}/cancel"), &json!({}))
        .await;
}

#[tokio::test]
async fn the_list_validates_its_filters_and_pages_stably() {
    let stack = shared_stack();
    let client = app(stack);
    for (query, field) in [
        ("status=finished", "status"),
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("cursor=yesterday", "cursor"),
    ] {
        let reply = client
            .get(&format!("/v1/renders?{query}"))
            .await
            .expect("list");
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{query}: {}",
            reply.text
        );
        assert_eq!(reply.json["error"]["field"], field, "{}", reply.text);
    }
    let project = unique("proj_page");
    let brief = brief_in(&project);
    let created: BTreeSet<String> = futures_util::future::join_all((0..5).map(|_| {
        let (client, brief) = (client.clone(), brief.clone());
        async move { create(&client, &brief).await.expect("create") }
    }))
    .await
    .into_iter()
    .collect();
    for id in &created {
        let _ = client
            .post(&format!("/v1/renders/{id}/cancel"), &json!({}))
            .await;
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..10 {
        let mut path = format!("/v1/renders?project={project}&limit=2");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let page = client.get(&path).await.expect("page");
        assert_eq!(page.status, StatusCode::OK, "{}", page.text);
        for r in page.json["renders"].as_array().expect("renders") {
            seen.push(r["job_id"].as_str().expect("id").to_owned());
        }
        match page.json["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    let unique_seen: BTreeSet<String> = seen.iter().cloned().collect();
    assert_eq!(seen.len(), unique_seen.len(), "no render twice: {seen:?}");
    assert_eq!(unique_seen, created, "every render once");
    // Filtered by status (the index follows the job's status).
    let cancelled = wait_until_listed(&client, &project, "cancelled", created.len()).await;
    assert_eq!(cancelled, created.len());
    let rendering = client
        .get(&format!("/v1/renders?project={project}&status=succeeded"))
        .await
        .expect("list");
    assert_eq!(rendering.json["renders"].as_array().map(Vec::len), Some(0));
}

async fn wait_until_listed(client: &Client, project: &str, status: &str, want: usize) -> usize {
    let mut n = 0;
    for _ in 0..40 {
        let reply = client
            .get(&format!("/v1/renders?project={project}&status={status}"))
            .await
            .expect("list");
        n = reply.json["renders"].as_array().map_or(0, Vec::len);
        if n >= want {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    n
}

#[tokio::test]
async fn a_body_over_the_limit_is_413() {
    let stack = shared_stack();
    let mut brief = sample_brief();
    brief["logline"] = json!("x".repeat(600 * 1024));
    let reply = app(stack).post("/v1/renders", &brief).await.expect("post");
    assert_eq!(
        reply.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        reply.status
    );
    assert_eq!(reply.json["error"]["code"], "payload_too_large");
}

/// Its own stack: the burst would starve the other tests of their key, and the idempotency keys
/// here live two seconds.
#[tokio::test]
async fn keys_expire_and_a_burst_over_the_rate_gets_429_with_retry_after() {
    let stack = Stack::start_with(StackOptions {
        worker_vars: vec![("IDEMPOTENCY_TTL_S".into(), "2".into())],
        ..Default::default()
    })
    .expect("stack");
    let client = app(&stack);
    let brief = brief_in(&unique("proj_ttl"));
    let key = unique("ttl");
    let with_key = |c: &Client| {
        let (c, brief, key) = (c.clone(), brief.clone(), key.clone());
        async move {
            c.send(
                Method::POST,
                "/v1/renders",
                Some(&brief),
                &[("idempotency-key", &key)],
            )
            .await
            .expect("create")
        }
    };
    let first = with_key(&client).await;
    let again = with_key(&client).await;
    assert_eq!(first.status, StatusCode::ACCEPTED, "{}", first.text);
    assert_eq!(first.json["job_id"], again.json["job_id"]);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    // A create says where its time went, the job object's phases included.
    let timing = first.header("server-timing").unwrap_or_default();
    for phase in ["registry;dur=", "admit;dur=", "job-step;dur=", "total;dur="] {
        assert!(timing.contains(phase), "{phase} in {timing}");
    }
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let later = with_key(&client).await;
    assert_eq!(later.status, StatusCode::ACCEPTED, "{}", later.text);
    assert_ne!(
        later.json["job_id"], first.json["job_id"],
        "an expired key starts a new job"
    );
    assert!(later.header("idempotent-replayed").is_none());
    for reply in [&first, &later] {
        let id = reply.json["job_id"].as_str().unwrap_or_default();
        let _ = client
            .post(&format!("/v1/renders/{id}/cancel"), &json!({}))
            .await;
    }

    // A burst on one key: the first requests pass, then 429 with Retry-After; another key is
    // not affected.
    let rival = Client::new(&stack.worker_url, Some("sk_test_rival"));
    let mut limited = None;
    let mut sent = 0;
    while limited.is_none() && sent < 3000 {
        let burst = futures_util::future::join_all((0..50).map(|_| {
            let rival = rival.clone();
            async move { rival.get("/v1/whoami").await.expect("whoami") }
        }))
        .await;
        sent += burst.len();
        limited = burst
            .into_iter()
            .find(|r| r.status == StatusCode::TOO_MANY_REQUESTS);
    }
    let limited = limited.unwrap_or_else(|| panic!("no 429 after {sent} requests"));
    assert_eq!(
        limited.json["error"]["code"], "rate_limited",
        "{}",
        limited.text
    );
    let retry_after: u64 = limited
        .header("retry-after")
        .and_then(|v| v.parse().ok())
        .expect("Retry-After in seconds");
    assert!((1..=10).contains(&retry_after), "{retry_after}");
    let other = client.get("/v1/whoami").await.expect("whoami");
    assert_eq!(other.status, StatusCode::OK, "another key is not limited");
    // After the window the key is served again.
    tokio::time::sleep(Duration::from_secs(retry_after + 1)).await;
    let back = rival.get("/v1/whoami").await.expect("whoami");
    assert_eq!(back.status, StatusCode::OK, "{}", back.text);
}

/// Opens an event stream and keeps it open (the response is held, unread)
async fn open_stream(stack: &Stack, id: &str, key: &str) -> reqwest::Response {
    reqwest::Client::new()
        .get(format!("{}/v1/renders/{id}/events", stack.worker_url))
        .header("accept", "text/event-stream")
        .bearer_auth(key)
        .send()
        .await
        .expect("events request")
}

#[tokio::test]
async fn event_streams_are_capped_per_key_with_429() {
    let stack = shared_stack();
    let client = app(stack);
    let id = create(&client, &sample_brief()).await.expect("create");
    // A paused job stays open, so its streams stay open too.
    wait_for(&client, &id, RENDER_TIMEOUT, |v| {
        v["stages"].as_array().is_some_and(|s| !s.is_empty())
    })
    .await
    .expect("planned");
    let paused = act(
        &admin(stack),
        &id,
        json!({"action": "pause", "reason": "stream cap test keeps the job open"}),
    )
    .await
    .expect("pause");
    assert_eq!(paused.status, StatusCode::OK, "{}", paused.text);
    let mut open = Vec::new();
    for _ in 0..8 {
        let resp = open_stream(stack, &id, "sk_test_demo").await;
        assert_eq!(resp.status(), StatusCode::OK);
        open.push(resp);
    }
    let refused = open_stream(stack, &id, "sk_test_demo").await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(refused.headers().get("retry-after").is_some());
    let body: Value = refused.json().await.expect("json error");
    assert_eq!(body["error"]["code"], "rate_limited", "{body}");
    // A seat is freed when its client goes away (the object prunes closed channels: native test
    // `live::tests`), but not observably here: `wrangler dev`'s local proxy keeps its upstream
    // connection to workerd open after the client hangs up, so the object never sees the close.
    drop(open);
    let cancelled = client
        .post(&format!("/v1/renders/{id}/cancel"), &json!({}))
        .await
        .expect("cancel");
    assert_eq!(cancelled.status, StatusCode::OK, "{}", cancelled.text);
}
