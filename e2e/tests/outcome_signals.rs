//! Outcome signals on the real stack: a render's clicks and watch time, reported over HTTP, reach
//! the next brief's memory context (click-through of its call-to-action shot, pacing evidence,
//! Graph rows near the brief), the Graph's rows are embedded and re-embedded when edited, and
//! the next render's routing decision shows the evidence of the similar past shot.

use std::time::{Duration, Instant};

use e2e::render::{create, is_terminal, sample_brief, wait_for};
use e2e::{Client, Stack, shared_stack};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const RENDER_TIMEOUT: Duration = Duration::from_secs(300);
const RECORD_TIMEOUT: Duration = Duration::from_secs(30);
const FORMAT: &str = "e2e_signals";

fn client(stack: &Stack, key: &str) -> Client {
    Client::new(&stack.worker_url, Some(key))
}

async fn graph(client: &Client) -> Value {
    let reply = client.get("/v1/memory").await.expect("get /v1/memory");
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    reply.json
}

/// A small conversions brief of the sample's shots s01, s03 and s05 (no cast, no lines), in a
/// format of its own; its last shot, s05, is its call to action
fn conversion_brief() -> Value {
    let mut brief = sample_brief();
    let keep = ["s01", "s03", "s05"];
    let shots: Vec<Value> = brief["shots"]
        .as_array()
        .map(|s| {
            s.iter()
                .filter(|s| keep.contains(&s["id"].as_str().unwrap_or_default()))
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    let total: f64 = shots.iter().filter_map(|s| s["duration_s"].as_f64()).sum();
    brief["shots"] = Value::Array(shots);
    brief["format"] = json!(FORMAT);
    brief["outcome_target"] = json!("conversions");
    brief["pacing"] = json!({"target_duration_s": total, "energy": "slow_burn"});
    brief["cast"] = json!([]);
    brief["voiceover"] = Value::Null;
    brief["score"] = Value::Null;
    brief
}

fn total_s(brief: &Value) -> f64 {
    brief["shots"]
        .as_array()
        .map(|s| s.iter().filter_map(|s| s["duration_s"].as_f64()).sum())
        .unwrap_or(0.0)
}

async fn render_to_end(client: &Client, brief: &Value) -> (String, Value) {
    let id = create(client, brief).await.expect("create");
    let view = wait_for(client, &id, RENDER_TIMEOUT, is_terminal)
        .await
        .expect("render finishes");
    assert_eq!(view["status"], "succeeded", "{view}");
    (id, view)
}

async fn wait_recorded(client: &Client, job: &str) -> Value {
    let started = Instant::now();
    loop {
        let g = graph(client).await;
        let recorded = g["renders"]
            .as_array()
            .is_some_and(|r| r.iter().any(|r| r["job"] == job));
        if recorded || started.elapsed() > RECORD_TIMEOUT {
            return g;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

async fn support_view(support: &Client, id: &str) -> Value {
    let reply = support
        .get(&format!("/v1/support/renders/{id}"))
        .await
        .expect("support view");
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    reply.json
}

fn motion_model(view: &Value, stage: &str) -> String {
    view["stages"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["id"] == stage))
        .and_then(|s| {
            s["model"]
                .as_str()
                .or_else(|| s["decision"]["candidates"][0]["model"].as_str())
        })
        .unwrap_or_default()
        .to_owned()
}

fn row_embedding<'a>(graph: &'a Value, table: &str, key: Option<&str>) -> Option<&'a Value> {
    graph["row_embeddings"]
        .as_array()?
        .iter()
        .find(|r| r["row"]["table"] == table && key.is_none_or(|k| r["row"]["key"] == k))
}

#[tokio::test]
async fn clicks_and_watch_time_reach_the_next_brief_and_its_routing() {
    let stack = shared_stack();
    let demo = client(stack, "sk_test_demo");
    let support = client(stack, "sk_test_support");
    let brief = conversion_brief();

    // The fingerprint is embedded as it is written, and again when it is edited.
    let edit = json!({"fingerprint": {"palette": ["#0b1d3a", "#f2c14e"], "grade": "teal-orange",
                                      "lens": "35mm anamorphic"}});
    let reply = demo
        .send(Method::PUT, "/v1/memory", Some(&edit), &[])
        .await
        .expect("put");
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let g = graph(&demo).await;
    let fp = row_embedding(&g, "fingerprint", None).unwrap_or_else(|| panic!("{g}"));
    assert_eq!(
        fp["text"],
        "visual fingerprint: palette #0b1d3a #f2c14e; grade teal-orange; lens 35mm anamorphic"
    );
    // The embedder is named to support only.
    assert!(fp.get("embedding_model").is_none(), "{fp}");
    let full = support
        .get("/v1/support/creators/demo/memory")
        .await
        .expect("support graph");
    assert_eq!(full.status, StatusCode::OK, "{}", full.text);
    let full_fp =
        row_embedding(&full.json, "fingerprint", None).unwrap_or_else(|| panic!("{}", full.text));
    assert_eq!(full_fp["text"], fp["text"]);
    assert_eq!(full_fp["embedding_model"], "local-ngram-256");
    let edit = json!({"fingerprint": {"palette": ["#0b1d3a"], "grade": "bleach bypass"}});
    let reply = demo
        .send(Method::PUT, "/v1/memory", Some(&edit), &[])
        .await
        .expect("put");
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let g = graph(&demo).await;
    let fp = row_embedding(&g, "fingerprint", None).unwrap_or_else(|| panic!("{g}"));
    assert_eq!(
        fp["text"],
        "visual fingerprint: palette #0b1d3a; grade bleach bypass"
    );

    // One render, then its figures: 4% click-through, watched 9 s on average.
    let (first, _) = render_to_end(&demo, &brief).await;
    // Which model made the call-to-action shot is support's to see, not the creator's.
    let view = support_view(&support, &first).await;
    let cta_model = motion_model(&view, "s05.motion");
    assert!(!cta_model.is_empty(), "{view}");
    wait_recorded(&demo, &first).await;
    let report = json!({"views": 1000, "clicks": 40, "conversions": 5, "avg_watch_s": 9.0,
                        "retention_3s": 0.8});
    let reply = demo
        .post(&format!("/v1/renders/{first}/outcomes"), &report)
        .await
        .expect("outcomes");
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let g = graph(&demo).await;
    let outcome = row_embedding(&g, "outcomes", Some(&first)).unwrap_or_else(|| panic!("{g}"));
    let text = outcome["text"].as_str().unwrap_or_default();
    assert!(
        text.starts_with("e2e signals render for conversions"),
        "{text}"
    );
    assert!(text.contains("click-through 4.0%"), "{text}");

    // The next brief's context carries the click-through (per model: support sees it, the
    // creator does not), the pacing evidence and the rows.
    let context = support
        .post("/v1/support/creators/demo/memory/context", &brief)
        .await
        .expect("context");
    assert_eq!(context.status, StatusCode::OK, "{}", context.text);
    let own = demo
        .post("/v1/memory/context", &brief)
        .await
        .expect("context");
    assert_eq!(own.status, StatusCode::OK, "{}", own.text);
    assert!(own.json.get("click_through").is_none(), "{}", own.text);
    assert!(!own.text.contains(cta_model.as_str()), "{}", own.text);
    let ctr = context.json["click_through"]
        .as_array()
        .and_then(|s| {
            s.iter()
                .find(|s| s["model"] == cta_model.as_str() && s["shot_kind"] == "action")
        })
        .unwrap_or_else(|| panic!("no click-through for {cta_model}: {}", context.text));
    assert_eq!(ctr["renders"], 1, "{ctr}");
    assert!(
        (ctr["mean"].as_f64().unwrap_or(0.0) - 0.04).abs() < 1e-9,
        "{ctr}"
    );
    let c = &own.json;
    assert_eq!(c["cta_shot"], "s05", "{c}");
    let pacing = &c["pacing_evidence"];
    assert_eq!(pacing["format"], FORMAT, "{c}");
    assert_eq!(pacing["renders"], 1, "{c}");
    assert_eq!(pacing["avg_watch_s"], 9.0, "{c}");
    let share = pacing["avg_watch_share"].as_f64().unwrap_or(0.0);
    assert!((share - 9.0 / total_s(&brief)).abs() < 1e-9, "{c}");
    let related = c["related_rows"].as_array().cloned().unwrap_or_default();
    assert!(
        related
            .iter()
            .any(|r| r["row"]["table"] == "outcomes" && r["row"]["key"] == first.as_str()),
        "{c}"
    );
    let s05 = c["similar"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["shot"] == "s05"))
        .unwrap_or_else(|| panic!("no similar shots for s05: {c}"));
    let past = s05["matches"]
        .as_array()
        .and_then(|m| {
            m.iter()
                .find(|m| m["job"] == first.as_str() && m["shot"] == "s05")
        })
        .unwrap_or_else(|| panic!("the same prompt is found: {s05}"));
    assert!(
        (past["click_through"].as_f64().unwrap_or(0.0) - 0.04).abs() < 1e-9,
        "{past}"
    );
    assert!(past["render_similarity"].is_number(), "{past}");

    // The next render's call-to-action decision weighs that evidence, and support sees it.
    let (second, _) = render_to_end(&demo, &brief).await;
    let view = support_view(&support, &second).await;
    let stage = view["stages"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["id"] == "s05.motion"))
        .cloned()
        .unwrap_or_else(|| panic!("no s05.motion: {view}"));
    let notes: Vec<String> = stage["decision"]["notes"]
        .as_array()
        .map(|n| {
            n.iter()
                .filter_map(|n| n.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let note = notes
        .iter()
        .find(|n| n.starts_with(&format!("{cta_model}: outcome 0.040 over 1 render(s)")))
        .unwrap_or_else(|| panic!("no click-through evidence for {cta_model}: {notes:?}"));
    assert!(
        note.contains("similar past shots 0.040 over 1 shot(s)"),
        "{note}"
    );
    assert!(note.ends_with("(click-through rate)"), "{note}");
}
