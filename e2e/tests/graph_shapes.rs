//! The creator's Memory Graph shapes every render, on the real stack: two creators with
//! different fingerprints, formats and audiences send the same brief; support sees, per stage,
//! the final prompt each job sends (each carrying its creator's look and hook), the Graph rows
//! that shaped it, and each master's shape; a Graph edit changes the next render's prompts. A
//! brief may leave its pacing to a format of the creator's Graph, and without one it is refused
//! naming `pacing`.
//!
//! The renders are cancelled once planned: what is checked is decided at planning.

use std::time::Duration;

use e2e::render::{create, unique, wait_for};
use e2e::{Client, Stack, shared_stack};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const PLAN_TIMEOUT: Duration = Duration::from_secs(120);

fn client(stack: &Stack, key: &str) -> Client {
    Client::new(&stack.worker_url, Some(key))
}

async fn put_graph(client: &Client, edit: &Value) {
    let reply = client
        .send(Method::PUT, "/v1/memory", Some(edit), &[])
        .await
        .expect("put /v1/memory");
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
}

/// The sample brief in its own project, so nothing else of the run is touched
fn brief() -> Value {
    let mut brief: Value =
        serde_json::from_str(include_str!("../../examples/brief.json")).expect("example brief");
    brief["project_id"] = json!(unique("e2e_graph_shapes"));
    brief
}

/// Creates a render, waits until it is planned, reads the support view, cancels the render
async fn planned(app: &Client, support: &Client, brief: &Value) -> Value {
    let id = create(app, brief).await.expect("create");
    wait_for(app, &id, PLAN_TIMEOUT, |v| {
        !matches!(v["status"].as_str(), Some("queued" | "planning"))
    })
    .await
    .expect("the render is planned");
    let reply = support
        .get(&format!("/v1/support/renders/{id}"))
        .await
        .expect("support view");
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    // Best effort: the checks below are about planning, not about the cut.
    let _ = app
        .post(&format!("/v1/renders/{id}/cancel"), &json!({}))
        .await;
    reply.json
}

fn shaping<'a>(view: &'a Value, stage: &str) -> &'a Value {
    view["stages"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["id"] == stage))
        .map(|s| &s["shaping"])
        .unwrap_or_else(|| panic!("no stage {stage} in {view}"))
}

fn prompt<'a>(view: &'a Value, stage: &str) -> &'a str {
    shaping(view, stage)["prompt"]
        .as_str()
        .unwrap_or_else(|| panic!("{stage} has no prompt: {view}"))
}

fn rows(view: &Value, stage: &str) -> Vec<String> {
    shaping(view, stage)["shaped_by"]
        .as_array()
        .map(|r| {
            r.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn two_creators_get_their_own_look_hook_and_master_and_an_edit_changes_the_next_render() {
    let stack = shared_stack();
    let demo = client(stack, "sk_test_demo");
    let rival = client(stack, "sk_test_rival");
    let support = client(stack, "sk_test_support");
    put_graph(
        &demo,
        &json!({
            "fingerprint": {"palette": ["#1b2a3c", "#e07a2f"], "grade": "teal-orange",
                            "lens": "35mm anamorphic", "lighting": "low-key, practicals"},
            "formats": {"short_doc": {"pacing": {"avg_shot_s": 5.2, "energy": "slow_burn"},
                                      "hook_style": "cold open on a question"}},
            "audience": {"primary_platform": "youtube", "regions": ["US"], "interests": []},
            "voices": {"narrator": "demo_narrator_voice"}
        }),
    )
    .await;
    put_graph(
        &rival,
        &json!({
            "fingerprint": {"palette": ["#f2f2f2", "#c8102e"], "grade": "bleach bypass",
                            "lens": "16mm zoom", "lighting": "high-key daylight"},
            "formats": {"short_doc": {"pacing": {"avg_shot_s": 1.8, "energy": "punchy"},
                                      "hook_style": "start mid-action"}},
            "audience": {"primary_platform": "tiktok", "regions": ["DE", "AT"], "interests": []},
            "voices": {"narrator": "rival_narrator_voice"}
        }),
    )
    .await;

    let b = brief();
    let a = planned(&demo, &support, &b).await;
    let r = planned(&rival, &support, &b).await;

    let (pa, pr) = (prompt(&a, "s01.keyframe"), prompt(&r, "s01.keyframe"));
    assert!(pa.starts_with("aerial dawn over a basalt headland"), "{pa}");
    assert!(pr.starts_with("aerial dawn over a basalt headland"), "{pr}");
    assert!(
        pa.contains("Opening hook: cold open on a question."),
        "{pa}"
    );
    assert!(pr.contains("Opening hook: start mid-action."), "{pr}");
    assert!(
        pa.contains("Look: teal-orange grade; palette #1b2a3c, #e07a2f; 35mm anamorphic lens"),
        "{pa}"
    );
    assert!(
        pr.contains("Look: bleach bypass grade; palette #f2f2f2, #c8102e; 16mm zoom lens"),
        "{pr}"
    );
    assert_ne!(pa, pr);
    // Every shot carries its creator's look, the hook only the first.
    for stage in ["s05.motion", "s12.keyframe"] {
        assert!(prompt(&a, stage).contains("teal-orange grade"), "{stage}");
        assert!(prompt(&r, stage).contains("bleach bypass grade"), "{stage}");
        assert!(!prompt(&a, stage).contains("Opening hook"), "{stage}");
    }
    // The rows behind them, as support reads them.
    assert_eq!(
        rows(&a, "s01.keyframe"),
        vec!["format_dna:short_doc", "fingerprint"]
    );
    assert_eq!(
        rows(&r, "s01.keyframe"),
        vec!["format_dna:short_doc", "fingerprint", "audience"]
    );
    assert!(
        shaping(&r, "s01.motion")["negative_prompt"]
            .as_str()
            .is_some_and(|n| n.contains("murky shadows")),
        "{r}"
    );
    // The audience decides the master: YouTube for one, TikTok for the other.
    assert_eq!(shaping(&a, "assembly")["aspect"], "16:9");
    assert_eq!(shaping(&r, "assembly")["aspect"], "9:16");
    assert_eq!(shaping(&r, "s01.keyframe")["aspect"], "9:16");
    assert_eq!(rows(&r, "assembly"), vec!["audience"]);
    // Speech in the audience's language.
    assert_eq!(shaping(&r, "voiceover")["language"], "de");
    assert_eq!(shaping(&a, "voiceover")["language"], "en");
    // Each creator's narrator speaks with the voice their Graph keeps.
    assert_eq!(shaping(&a, "voiceover")["voice_id"], "demo_narrator_voice");
    assert_eq!(shaping(&r, "voiceover")["voice_id"], "rival_narrator_voice");
    assert!(
        rows(&a, "voiceover").contains(&"voice:narrator".to_owned()),
        "{a}"
    );

    // An edit of the Graph reaches the next render's prompts.
    put_graph(
        &demo,
        &json!({"fingerprint": {"palette": ["#ffcc00"], "grade": "warm kodachrome",
                                "lighting": "golden hour"}}),
    )
    .await;
    let again = planned(&demo, &support, &brief()).await;
    let p = prompt(&again, "s01.keyframe");
    assert!(
        p.contains("Look: warm kodachrome grade; palette #ffcc00; lighting golden hour."),
        "{p}"
    );
    assert!(!p.contains("teal-orange"), "{p}");
}

#[tokio::test]
async fn a_brief_may_leave_its_pacing_to_a_format_of_the_graph() {
    let stack = shared_stack();
    let demo = client(stack, "sk_test_demo");
    let support = client(stack, "sk_test_support");
    let format = unique("e2e_vlog");
    put_graph(
        &demo,
        &json!({"formats": {format.clone(): {"pacing": {"avg_shot_s": 2.1, "energy": "punchy"},
                                             "hook_style": "a question to camera"}}}),
    )
    .await;
    let mut b = brief();
    b.as_object_mut().expect("object").remove("pacing");
    b["format"] = json!(format);
    let view = planned(&demo, &support, &b).await;
    assert!(
        prompt(&view, "s01.keyframe").contains("Opening hook: a question to camera."),
        "{view}"
    );
    // Paced by the creator's vlogs (2.1 s a shot): the sample's 5-6 s shots are slow for them.
    let warnings = view["warnings"].to_string();
    assert!(
        warnings.contains("hold 2.1 s a shot") || warnings.contains("cut every 2.1 s"),
        "{warnings}"
    );

    // A format the Graph does not have, and no pacing: refused, naming `pacing`, nothing made.
    b["format"] = json!(unique("e2e_unknown_format"));
    let reply = demo.post("/v1/renders", &b).await.expect("post");
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text);
    assert_eq!(reply.json["error"]["field"], "pacing", "{}", reply.text);
}
