//! `GET /openapi.json` is kept true: the document's operations are exactly the Worker's route
//! table (`x-routes`, the table the dispatcher lets requests through by), each documented
//! operation is served (probed: no "no route" 404 or 405), and real responses of the main
//! routes validate against the document's schemas.

use std::collections::BTreeSet;
use std::time::Duration;

use e2e::render::{act, brief_in, create, is_terminal, sample_brief, unique, wait_for};
use e2e::schema::{check, component, response_schema};
use e2e::{Client, Stack, sse};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const RENDER_TIMEOUT: Duration = Duration::from_secs(240);
const METHODS: [&str; 5] = ["get", "put", "post", "delete", "patch"];

async fn document(stack: &Stack) -> Value {
    let reply = Client::new(&stack.worker_url, None)
        .get("/openapi.json")
        .await
        .expect("openapi.json");
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    reply.json
}

fn operations(doc: &Value) -> BTreeSet<String> {
    doc["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .flat_map(|(path, item)| {
            METHODS
                .iter()
                .filter(|m| item.get(**m).is_some())
                .map(move |m| format!("{} {path}", m.to_uppercase()))
        })
        .collect()
}

fn refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get("$ref") {
                out.push(r.clone());
            }
            map.values().for_each(|v| refs(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

/// Asserts `value` fits the documented response `status` of `method path`
fn conforms(doc: &Value, method: &str, path: &str, status: u16, value: &Value) {
    let schema = response_schema(doc, path, method, status)
        .unwrap_or_else(|| panic!("{method} {path} documents no JSON {status}"));
    let errors = check(doc, schema, value);
    assert!(
        errors.is_empty(),
        "{method} {path} {status} does not match the document:\n{}\n{value}",
        errors.join("\n")
    );
}

fn fill(template: &str, id: &str) -> String {
    template
        .replace("{id}", id)
        .replace("{provider}", "kling")
        .replace("{job}", id)
        .replace("{stage}", "s01.motion")
        .replace("{attempt}", "1")
        .replace("{key}", &format!("renders/{id}/s01.motion/1/output.mp4"))
}

#[tokio::test]
async fn the_document_lists_exactly_the_routes_the_worker_serves() {
    let stack = e2e::shared_stack();
    let doc = document(stack).await;
    assert_eq!(doc["openapi"], "3.1.0");
    let documented = operations(&doc);
    let served: BTreeSet<String> = doc["x-routes"]
        .as_array()
        .expect("x-routes")
        .iter()
        .filter_map(|r| r.as_str().map(str::to_owned))
        .collect();
    let undocumented: Vec<&String> = served.difference(&documented).collect();
    let unserved: Vec<&String> = documented.difference(&served).collect();
    assert!(
        undocumented.is_empty(),
        "served but not documented: {undocumented:?}"
    );
    assert!(
        unserved.is_empty(),
        "documented but not served: {unserved:?}"
    );
    // Every reference resolves.
    let mut all = Vec::new();
    refs(&doc, &mut all);
    for r in &all {
        let target = r.strip_prefix('#').and_then(|p| doc.pointer(p));
        assert!(target.is_some(), "dangling $ref {r}");
    }
    // The dispatcher serves each documented operation: probed without a key, none is a
    // "no route" 404 or a 405.
    let app = Client::new(&stack.worker_url, Some("sk_test_demo"));
    let id = create(&app, &sample_brief()).await.expect("create");
    let anyone = Client::new(&stack.worker_url, None);
    for op in &documented {
        let (method, template) = op.split_once(' ').expect("op");
        let path = fill(template, &id);
        let method = Method::from_bytes(method.as_bytes()).expect("method");
        let reply = anyone
            .send(method.clone(), &path, Some(&json!({})), &[])
            .await
            .expect("probe");
        let message = reply.json["error"]["message"].as_str().unwrap_or("");
        assert!(
            !(reply.status == StatusCode::NOT_FOUND && message.starts_with("no route")),
            "{op} is documented but not served: {}",
            reply.text
        );
        assert_ne!(reply.status, StatusCode::METHOD_NOT_ALLOWED, "{op}");
        // Keyed routes say 401 without a key, and document it.
        if reply.status == StatusCode::UNAUTHORIZED {
            let item = &doc["paths"][template][method.as_str().to_lowercase()];
            assert!(
                item["responses"].get("401").is_some(),
                "{op} does not document 401"
            );
        }
    }
    // And what is not in the table is not served.
    for (method, path) in [
        (Method::GET, "/v1/renders/x/y/z".to_owned()),
        (Method::GET, "/v1/support/nothing".to_owned()),
        (Method::GET, "/v1/webhooks".to_owned()),
        (Method::GET, format!("/v1/renders/{id}/journal")),
    ] {
        let reply = anyone
            .send(method.clone(), &path, None, &[])
            .await
            .expect("probe");
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{method} {path}");
    }
    // A 405 says which methods the path has (RFC 9110's `Allow`), as the document lists them.
    for (method, path, allow) in [
        (Method::DELETE, format!("/v1/renders/{id}"), "GET"),
        (Method::PUT, "/v1/renders".to_owned(), "POST, GET"),
        (
            Method::GET,
            format!("/v1/support/renders/{id}/actions"),
            "POST",
        ),
        (Method::DELETE, "/v1/memory".to_owned(), "GET, PUT"),
        (Method::GET, "/v1/memory/context".to_owned(), "POST"),
    ] {
        let reply = anyone
            .send(method.clone(), &path, None, &[])
            .await
            .expect("probe");
        assert_eq!(
            reply.status,
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path}"
        );
        assert_eq!(reply.header("allow"), Some(allow), "{method} {path}");
    }
    let _ = app
        .post(&format!("/v1/renders/{id}/cancel"), &json!({}))
        .await;
}

#[tokio::test]
async fn real_responses_match_the_documented_schemas() {
    let stack = e2e::shared_stack();
    let doc = document(stack).await;
    let brief_schema = component(&doc, "Brief").expect("Brief");
    let errors = check(&doc, brief_schema, &sample_brief());
    assert!(errors.is_empty(), "the sample brief: {errors:?}");

    let app = Client::new(&stack.worker_url, Some("sk_test_demo"));
    let support = Client::new(&stack.worker_url, Some("sk_test_support"));
    let admin = Client::new(&stack.worker_url, Some("sk_test_support_admin"));
    let anyone = Client::new(&stack.worker_url, None);

    let health = anyone.get("/healthz").await.expect("health");
    conforms(&doc, "get", "/healthz", 200, &health.json);
    let whoami = app.get("/v1/whoami").await.expect("whoami");
    conforms(&doc, "get", "/v1/whoami", 200, &whoami.json);
    let secret = app.get("/v1/webhooks/secret").await.expect("secret");
    conforms(&doc, "get", "/v1/webhooks/secret", 200, &secret.json);

    // A render from creation to the end, through every app read.
    let project = unique("proj_openapi");
    let created = app
        .post("/v1/renders", &brief_in(&project))
        .await
        .expect("create");
    assert_eq!(created.status, StatusCode::ACCEPTED);
    conforms(&doc, "post", "/v1/renders", 202, &created.json);
    let id = created.json["job_id"].as_str().expect("id").to_owned();
    let events_url = format!("{}/v1/renders/{id}/events", stack.worker_url);
    let events = sse::collect(&events_url, Some("sk_test_demo"), RENDER_TIMEOUT)
        .await
        .expect("events");
    assert!(events.ended);
    let event_schemas = &doc["paths"]["/v1/renders/{id}/events"]["get"]["responses"]["200"]["content"]
        ["text/event-stream"]["x-events"];
    for e in &events.events {
        let schema = event_schemas
            .get(&e.event)
            .unwrap_or_else(|| panic!("undocumented event {}", e.event));
        let errors = check(&doc, schema, &e.data);
        assert!(
            errors.is_empty(),
            "event {}: {errors:?}\n{}",
            e.event,
            e.data
        );
    }
    let view = wait_for(&app, &id, RENDER_TIMEOUT, is_terminal)
        .await
        .expect("finish");
    assert_eq!(view["status"], "succeeded");
    let got = app.get(&format!("/v1/renders/{id}")).await.expect("get");
    conforms(&doc, "get", "/v1/renders/{id}", 200, &got.json);
    let list = app
        .get(&format!("/v1/renders?project={project}"))
        .await
        .expect("list");
    conforms(&doc, "get", "/v1/renders", 200, &list.json);
    let support_view = support
        .get(&format!("/v1/support/renders/{id}"))
        .await
        .expect("support view");
    conforms(
        &doc,
        "get",
        "/v1/support/renders/{id}",
        200,
        &support_view.json,
    );
    let journal = support
        .get(&format!("/v1/support/renders/{id}/journal?limit=50"))
        .await
        .expect("journal");
    conforms(
        &doc,
        "get",
        "/v1/support/renders/{id}/journal",
        200,
        &journal.json,
    );
    let search = support
        .get("/v1/support/renders?creator=demo&limit=5")
        .await
        .expect("search");
    conforms(&doc, "get", "/v1/support/renders", 200, &search.json);
    let restarted = act(
        &admin,
        &id,
        json!({"action": "restart_from", "stage": "s02.motion", "reason": "schema check"}),
    )
    .await
    .expect("act");
    assert_eq!(restarted.status, StatusCode::OK, "{}", restarted.text);
    conforms(
        &doc,
        "post",
        "/v1/support/renders/{id}/actions",
        200,
        &restarted.json,
    );
    let refused = act(
        &admin,
        &id,
        json!({"action": "resume", "reason": "schema check"}),
    )
    .await
    .expect("act");
    assert_eq!(refused.status, StatusCode::CONFLICT);
    conforms(
        &doc,
        "post",
        "/v1/support/renders/{id}/actions",
        409,
        &refused.json,
    );
    let cancelled = app
        .post(&format!("/v1/renders/{id}/cancel"), &json!({}))
        .await
        .expect("cancel");
    assert_eq!(cancelled.status, StatusCode::OK, "{}", cancelled.text);
    conforms(
        &doc,
        "post",
        "/v1/renders/{id}/cancel",
        200,
        &cancelled.json,
    );

    // Errors, each as documented.
    let mut bad = sample_brief();
    bad["budget_usd"] = json!(-1);
    let invalid = app.post("/v1/renders", &bad).await.expect("invalid");
    assert_eq!(invalid.status, StatusCode::BAD_REQUEST);
    conforms(&doc, "post", "/v1/renders", 400, &invalid.json);
    let unauth = anyone.get("/v1/renders").await.expect("unauth");
    conforms(&doc, "get", "/v1/renders", 401, &unauth.json);
    let forbidden = app.get("/v1/support/renders").await.expect("forbidden");
    conforms(&doc, "get", "/v1/support/renders", 403, &forbidden.json);
    let missing = app
        .get("/v1/renders/rnd_00000000000000000000000000000000")
        .await
        .expect("missing");
    conforms(&doc, "get", "/v1/renders/{id}", 404, &missing.json);
    let wait = app
        .get(&format!("/v1/renders/{id}?wait=99"))
        .await
        .expect("wait");
    conforms(&doc, "get", "/v1/renders/{id}", 400, &wait.json);
    assert_eq!(wait.json["error"]["field"], "wait");
}
