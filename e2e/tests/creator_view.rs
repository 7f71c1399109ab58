//! The creator never sees a model, on the real stack: one render, watched through its event
//! stream from the start; its app view, its list item and every event name no model id,
//! provider model name, provider or flag of any built-in registry version (case-insensitive,
//! over the JSON text), while the support view of the same job names the model of every stage.
//! Every note in the app view is from Ra and opens by addressing the Director.

#[path = "../../tests/creator_words/mod.rs"]
mod creator_words;

use std::time::Duration;

use e2e::render::{brief_in, create, support_view, unique, wait_for};
use e2e::{Client, Stack, shared_stack, sse};
use reqwest::StatusCode;

const RENDER_TIMEOUT: Duration = Duration::from_secs(300);

fn app(stack: &Stack) -> Client {
    Client::new(&stack.worker_url, Some("sk_test_demo"))
}

#[tokio::test]
async fn the_app_sees_stages_cost_and_ra_notes_and_never_a_model() {
    let stack = shared_stack();
    let client = app(stack);
    let project = unique("proj_creator_view");
    let mut brief = brief_in(&project);
    // A target the shot list misses by far, so Ra has a pacing note for the Director.
    brief["pacing"]["target_duration_s"] = serde_json::json!(100);
    let id = create(&client, &brief).await.expect("create");

    // The stream from the start: a snapshot, every stage and status change, Ra's notes.
    let url = format!("{}/v1/renders/{id}/events", stack.worker_url);
    let stream = sse::collect(&url, Some("sk_test_demo"), RENDER_TIMEOUT)
        .await
        .expect("stream");
    assert!(stream.ended, "the stream ends with the job");
    assert!(stream.events.len() > 2, "{:?}", stream.events);
    for e in &stream.events {
        creator_words::assert_clean(&format!("event {}", e.event), &e.data.to_string());
    }
    let snapshot = &stream.events[0];
    assert_eq!(snapshot.event, "snapshot");
    for note in snapshot.data["notes"].as_array().expect("snapshot notes") {
        assert_eq!(note["from"], "Ra", "{note}");
        creator_words::assert_said(note["text"].as_str().unwrap_or_default());
    }

    // The app's view: stages, progress, cost and Ra's notes.
    let view = wait_for(&client, &id, RENDER_TIMEOUT, e2e::render::is_terminal)
        .await
        .expect("finish");
    assert_eq!(view["status"], "succeeded", "{view}");
    creator_words::assert_clean("the app view", &view.to_string());
    assert!(view["cost_usd"].as_f64().unwrap_or(0.0) > 0.0, "{view}");
    assert_eq!(view["progress"]["done"], view["progress"]["total"]);
    let notes = view["notes"].as_array().expect("notes");
    assert!(
        notes.iter().any(|n| n["topic"] == "pacing"),
        "Ra pushed back on the timing: {view}"
    );
    for note in notes {
        assert_eq!(note["from"], "Ra", "{note}");
        creator_words::assert_said(note["text"].as_str().unwrap_or_default());
    }
    for warning in view["warnings"].as_array().expect("warnings") {
        assert_eq!(warning["from"], "Ra", "{warning}");
        creator_words::assert_said(warning["message"].as_str().unwrap_or_default());
    }
    let stages = view["stages"].as_array().expect("stages");
    for stage in stages {
        creator_words::assert_said(stage["why"].as_str().unwrap_or_default());
        for hidden in ["model", "provider_ref", "decision", "attempts"] {
            assert!(stage.get(hidden).is_none(), "{hidden} in {stage}");
        }
    }

    // Its list item.
    let list = client
        .get(&format!("/v1/renders?project={project}"))
        .await
        .expect("list");
    assert_eq!(list.status, StatusCode::OK, "{}", list.text);
    let items = list.json["renders"].as_array().expect("renders");
    assert_eq!(items.len(), 1, "{}", list.text);
    assert_eq!(items[0]["job_id"], id.as_str());
    creator_words::assert_clean("the list item", &items[0].to_string());

    // Support's view of the same job names the model of every stage.
    let support = client.with_key(Some("sk_test_support"));
    let full = support_view(&support, &id).await.expect("support view");
    let named = creator_words::leaks(&full.to_string());
    let full_stages = full["stages"].as_array().expect("stages");
    assert_eq!(full_stages.len(), stages.len());
    for stage in full_stages {
        let model = stage["model"]
            .as_str()
            .expect("a done stage names its model");
        assert!(
            named.contains(&model.to_lowercase()),
            "{model} not in {named:?}"
        );
        let reason = stage["decision"]["reason"].as_str().unwrap_or_default();
        assert!(!creator_words::leaks(reason).is_empty(), "{reason}");
    }
}
