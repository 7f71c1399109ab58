//! The MemoryGraph actor and its API on the real stack: a creator's own graph (read, edit,
//! isolation, validation), finished renders recorded once, outcome reports, and outcome data
//! reaching Ra's routing for that creator only.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use e2e::render::{create, is_terminal, sample_brief, support_view, wait_for};
use e2e::{Client, Stack, shared_stack};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

// A bound, not a figure: a scenario here renders five full briefs at once on one stack.
const RENDER_TIMEOUT: Duration = Duration::from_secs(600);
/// How long a finished render may take to appear in the graph (the job records it after its
/// terminal status is visible)
const RECORD_TIMEOUT: Duration = Duration::from_secs(30);

fn client(stack: &Stack, key: &str) -> Client {
    Client::new(&stack.worker_url, Some(key))
}

async fn put(client: &Client, body: &Value) -> e2e::client::Reply {
    client
        .send(Method::PUT, "/v1/memory", Some(body), &[])
        .await
        .expect("put /v1/memory")
}

async fn graph(client: &Client) -> Value {
    let reply = client.get("/v1/memory").await.expect("get /v1/memory");
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    reply.json
}

fn voice<'a>(graph: &'a Value, name: &str) -> Option<&'a Value> {
    graph["voices"]
        .as_array()?
        .iter()
        .find(|v| v["name"] == name)
}

/// `v` without any `model` field: the creator's view of a support answer
fn strip_models(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(k, _)| k.as_str() != "model")
                .map(|(k, v)| (k.clone(), strip_models(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(strip_models).collect()),
        other => other.clone(),
    }
}

fn rows_of<'a>(graph: &'a Value, table: &str, job: &str) -> Vec<&'a Value> {
    graph[table]
        .as_array()
        .map(|rows| rows.iter().filter(|r| r["job"] == job).collect())
        .unwrap_or_default()
}

/// Polls the graph until it holds the render
async fn wait_recorded(client: &Client, job: &str) -> Value {
    let started = Instant::now();
    loop {
        let g = graph(client).await;
        if !rows_of(&g, "renders", job).is_empty() || started.elapsed() > RECORD_TIMEOUT {
            return g;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Renders `brief` to the end; returns the job id and its support view (which names each
/// stage's model and routing decision; the app's view names none)
async fn render_to_end(client: &Client, brief: &Value) -> (String, Value) {
    let id = create(client, brief).await.expect("create");
    let view = wait_for(client, &id, RENDER_TIMEOUT, is_terminal)
        .await
        .expect("render finishes");
    assert_eq!(view["status"], "succeeded", "{view}");
    let full = support_view(&client.with_key(Some("sk_test_support")), &id)
        .await
        .expect("support view");
    (id, full)
}

#[tokio::test]
async fn get_and_put_round_trip_every_kind_of_row() {
    let stack = shared_stack();
    let demo = client(stack, "sk_test_demo");
    let edit = json!({
        "voices": {"e2e_narrator": "21m00Tcm4TlvDq8ikWAM"},
        "looks": {"e2e_lumberjack": {
            "description": "red flannel shirt, grey beard",
            "reference_images": ["creators/demo/looks/e2e/lumberjack-front.png", "creators/demo/looks/e2e/lumberjack-side.png"]
        }},
        "fingerprint": {"palette": ["#1B2A3C", "#e8c547"], "grade": "teal-orange",
                        "lens": "35mm anamorphic", "lighting": "low-key, practicals"},
        "formats": {"e2e_format": {"pacing": {"avg_shot_s": 4.5, "energy": "punchy"},
                                   "shot_mix": {"close_up": 0.5, "action": 0.5},
                                   "hook_style": "cold open on a question"}},
        "audience": {"primary_platform": "tiktok", "regions": ["DE", "AT"], "interests": ["sea"]}
    });
    let reply = put(&demo, &edit).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let after_put = reply.json;
    assert_eq!(after_put["creator"], "demo");

    let g = graph(&demo).await;
    for (table, key, value) in [
        ("voices", "name", "e2e_narrator"),
        ("looks", "cast_id", "e2e_lumberjack"),
        ("formats", "format", "e2e_format"),
    ] {
        let find = |g: &Value| {
            g[table]
                .as_array()
                .and_then(|rows| rows.iter().find(|r| r[key] == value).cloned())
        };
        let row = find(&g).unwrap_or_else(|| panic!("{table} has no {value}: {g}"));
        assert_eq!(
            Some(&row),
            find(&after_put).as_ref(),
            "PUT answered the graph"
        );
    }
    assert_eq!(
        voice(&g, "e2e_narrator").map(|v| v["voice_id"].clone()),
        Some(json!("21m00Tcm4TlvDq8ikWAM"))
    );
    let look = g["looks"]
        .as_array()
        .and_then(|l| l.iter().find(|r| r["cast_id"] == "e2e_lumberjack"))
        .expect("look");
    assert_eq!(
        look["reference_images"],
        json!([
            "creators/demo/looks/e2e/lumberjack-front.png",
            "creators/demo/looks/e2e/lumberjack-side.png"
        ])
    );
    // Colours are normalised to lowercase by the core.
    assert_eq!(g["fingerprint"]["palette"], json!(["#1b2a3c", "#e8c547"]));
    assert_eq!(g["fingerprint"]["grade"], "teal-orange");
    assert_eq!(g["audience"]["primary_platform"], "tiktok");
    assert_eq!(g["audience"]["regions"], json!(["DE", "AT"]));
    let format = g["formats"]
        .as_array()
        .and_then(|f| f.iter().find(|r| r["format"] == "e2e_format"))
        .expect("format");
    assert_eq!(
        format["pacing"],
        json!({"avg_shot_s": 4.5, "energy": "punchy"})
    );
    assert_eq!(format["shot_mix"], json!({"close_up": 0.5, "action": 0.5}));

    // null deletes a row, an absent key leaves it alone.
    let reply = put(
        &demo,
        &json!({"voices": {"e2e_narrator": null}, "audience": null}),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let g = graph(&demo).await;
    assert!(voice(&g, "e2e_narrator").is_none(), "{g}");
    assert!(g["audience"].is_null(), "{g}");
    assert_eq!(g["fingerprint"]["grade"], "teal-orange");
    assert!(
        g["looks"]
            .as_array()
            .is_some_and(|l| l.iter().any(|r| r["cast_id"] == "e2e_lumberjack"))
    );
}

#[tokio::test]
async fn a_creator_sees_and_edits_only_their_own_graph() {
    let stack = shared_stack();
    let demo = client(stack, "sk_test_demo");
    let rival = client(stack, "sk_test_rival");
    let reply = put(
        &demo,
        &json!({"voices": {"e2e_private": "demo-only-voice"}}),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let reply = put(
        &rival,
        &json!({"voices": {"e2e_rival_only": "rival-voice"}}),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);

    let seen_by_rival = graph(&rival).await;
    assert_eq!(seen_by_rival["creator"], "rival");
    assert!(voice(&seen_by_rival, "e2e_private").is_none());
    assert!(voice(&seen_by_rival, "e2e_rival_only").is_some());
    let seen_by_demo = graph(&demo).await;
    assert_eq!(seen_by_demo["creator"], "demo");
    assert!(voice(&seen_by_demo, "e2e_private").is_some());
    assert!(voice(&seen_by_demo, "e2e_rival_only").is_none());

    for key in ["sk_test_support", "sk_test_support_admin"] {
        let support = client(stack, key);
        let reply = support.get("/v1/memory").await.expect("get");
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.text);
        let reply = put(&support, &json!({"voices": {"x": "y"}})).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.text);
    }
    let anonymous = Client::new(&stack.worker_url, None);
    let reply = anonymous.get("/v1/memory").await.expect("get");
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.text);

    // Support reads any creator's graph whole, names only creators that exist, and an app key
    // reads no other graph that way, not even its own.
    let support = client(stack, "sk_test_support");
    let reply = support
        .get("/v1/support/creators/rival/memory")
        .await
        .expect("get");
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.json["creator"], "rival");
    assert!(
        voice(&reply.json, "e2e_rival_only").is_some(),
        "{}",
        reply.text
    );
    let reply = support
        .get("/v1/support/creators/e2e_nobody/memory")
        .await
        .expect("get");
    assert_eq!(reply.status, StatusCode::NOT_FOUND, "{}", reply.text);
    for path in [
        "/v1/support/creators/rival/memory",
        "/v1/support/creators/demo/memory",
    ] {
        let reply = demo.get(path).await.expect("get");
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.text);
    }
}

#[tokio::test]
async fn bad_edit_values_are_400_naming_the_field_and_change_nothing() {
    let stack = shared_stack();
    let demo = client(stack, "sk_test_demo");
    let cases = [
        (
            json!({"looks": {"e2e_bad": {"description": "x",
                   "reference_images": ["looks/ok.png", "../../etc/passwd"]}}}),
            "looks.e2e_bad.reference_images[1]",
        ),
        (
            json!({"formats": {"e2e_bad": {"pacing": {"avg_shot_s": 600, "energy": "steady"}}}}),
            "formats.e2e_bad.pacing.avg_shot_s",
        ),
        (
            json!({"formats": {"e2e_bad": {"pacing": {"avg_shot_s": 5, "energy": "steady"},
                   "shot_mix": {"close_up": 0.9, "action": 0.5}}}}),
            "formats.e2e_bad.shot_mix",
        ),
        (
            json!({"fingerprint": {"palette": ["red"]}}),
            "fingerprint.palette[0]",
        ),
        (
            json!({"audience": {"primary_platform": "myspace"}}),
            "audience.primary_platform",
        ),
        (
            json!({"voices": {"e2e bad name": "v"}}),
            "voices.e2e bad name",
        ),
        (json!({"voices": {"e2e_bad": 42}}), "voices.e2e_bad"),
        (json!({"colour": "blue"}), "colour"),
        (json!([1, 2]), "body"),
    ];
    for (body, field) in cases {
        let reply = put(&demo, &body).await;
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
        assert!(reply.json["error"]["message"].is_string(), "{}", reply.text);
    }
    let http = reqwest::Client::new();
    let resp = http
        .put(format!("{}/v1/memory", stack.worker_url))
        .bearer_auth("sk_test_demo")
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("put");
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let body: Value = resp.json().await.expect("json");
    assert_eq!(body["error"]["field"], "body", "{body}");

    let g = graph(&demo).await;
    assert!(
        !g.to_string().contains("e2e_bad"),
        "a refused edit changed nothing: {g}"
    );
}

#[tokio::test]
async fn a_finished_render_is_recorded_once_and_takes_outcome_reports() {
    let stack = shared_stack();
    let demo = client(stack, "sk_test_demo");
    let rival = client(stack, "sk_test_rival");
    let brief = sample_brief();
    let (id, view) = render_to_end(&demo, &brief).await;

    let g = wait_recorded(&demo, &id).await;
    assert_eq!(rows_of(&g, "renders", &id).len(), 1, "{g}");
    let render = rows_of(&g, "renders", &id)[0];
    assert_eq!(render["format"], "short_doc");
    assert_eq!(render["outcome_target"], "watch_time");
    assert!(render["cost_usd"].as_f64().unwrap_or(0.0) > 0.0, "{render}");
    let shots = rows_of(&g, "shots", &id);
    assert_eq!(shots.len(), 12, "{g}");
    let text = g.to_string();
    for model in &studio::routing::Registry::builtin().models {
        assert!(
            !text.contains(&format!("\"{}\"", model.id)),
            "the creator's graph names {}",
            model.id
        );
    }
    // Support staff see the model of every shot; the creator never does.
    let support = client(stack, "sk_test_support");
    let full = support
        .get("/v1/support/creators/demo/memory")
        .await
        .expect("support graph");
    assert_eq!(full.status, StatusCode::OK, "{}", full.text);
    let full_shots = rows_of(&full.json, "shots", &id);
    assert_eq!(full_shots.len(), 12, "{}", full.text);
    let stages = view["stages"].as_array().expect("stages");
    for shot in brief["shots"].as_array().expect("shots") {
        let sid = shot["id"].as_str().expect("id");
        let row = shots
            .iter()
            .find(|r| r["shot"] == sid)
            .unwrap_or_else(|| panic!("no shot {sid}"));
        let full_row = full_shots
            .iter()
            .find(|r| r["shot"] == sid)
            .unwrap_or_else(|| panic!("no shot {sid} for support"));
        let motion = stages
            .iter()
            .find(|s| s["id"] == format!("{sid}.motion"))
            .expect("motion stage");
        assert_eq!(
            full_row["model"], motion["model"],
            "{sid}: the model that made it"
        );
        assert!(row.get("model").is_none(), "the creator sees {row}");
        assert_eq!(row["kind"], shot["kind"], "{sid}");
        assert_eq!(row["prompt"], shot["prompt"], "{sid}");
        assert_eq!(
            row["duration_s"].as_f64(),
            shot["duration_s"].as_f64(),
            "{sid}"
        );
        assert_eq!(
            row["hero"],
            shot["hero"].as_bool().unwrap_or(false),
            "{sid}"
        );
        assert_eq!(full_row["embedding_model"], "local-ngram-256", "{sid}");
        assert!(
            row.get("embedding_model").is_none(),
            "the creator sees {row}"
        );
        assert!(row.get("embedding").is_none(), "vectors stay inside");
        assert!(full_row.get("embedding").is_none(), "vectors stay inside");
    }

    let path = format!("/v1/renders/{id}/outcomes");
    // Another creator's render is not there for them; support keys cannot report.
    let reply = rival.post(&path, &json!({"views": 5})).await.expect("post");
    assert_eq!(reply.status, StatusCode::NOT_FOUND, "{}", reply.text);
    let support = client(stack, "sk_test_support_admin");
    let reply = support
        .post(&path, &json!({"views": 5}))
        .await
        .expect("post");
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.text);
    let missing = demo
        .post(
            "/v1/renders/rnd_00000000000000000000000000000000/outcomes",
            &json!({"views": 5}),
        )
        .await
        .expect("post");
    assert_eq!(missing.status, StatusCode::NOT_FOUND, "{}", missing.text);

    for (body, field) in [
        (json!({"retention_3s": 2}), "retention_3s"),
        (json!({"views": -1}), "views"),
        (json!({"avg_watch_s": "long"}), "avg_watch_s"),
        (
            json!({"shots": [{"shot_id": "s99", "retention_3s": 0.5}]}),
            "shots[0].shot_id",
        ),
        (
            json!({"shots": [{"retention_3s": 0.5}]}),
            "shots[0].shot_id",
        ),
        (
            json!({"shots": [{"shot_id": "s01", "conversions": 1.5}]}),
            "shots[0].conversions",
        ),
        (json!({"likes": 3}), "likes"),
    ] {
        let reply = demo.post(&path, &body).await.expect("post");
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

    // Only the establishing shot gets a figure for the target, so the close-up statistics of
    // the routing scenario (which runs alongside on the same creator) stay its own.
    let report = json!({"views": 12000, "avg_watch_s": 31.5, "clicks": 420, "conversions": 37,
                        "shots": [{"shot_id": "s01", "retention_3s": 0.82, "conversions": 5}]});
    let first = demo.post(&path, &report).await.expect("post");
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    assert_eq!(first.json["result"], "updated", "{}", first.text);
    assert_eq!(first.json["outcome"]["views"], 12000);
    let again = demo.post(&path, &report).await.expect("post");
    assert_eq!(again.status, StatusCode::OK, "{}", again.text);
    assert_eq!(again.json["result"], "unchanged", "{}", again.text);
    let g = graph(&demo).await;
    assert_eq!(rows_of(&g, "renders", &id).len(), 1, "still one render row");
    assert_eq!(
        rows_of(&g, "shots", &id).len(),
        12,
        "still twelve shot rows"
    );
    let outcomes = rows_of(&g, "outcomes", &id);
    assert_eq!(outcomes.len(), 1, "{g}");
    assert_eq!(outcomes[0]["clicks"], 420);
    let shot_outcomes = rows_of(&g, "shot_outcomes", &id);
    assert_eq!(shot_outcomes.len(), 1, "{g}");
    assert_eq!(shot_outcomes[0]["retention_3s"], 0.82);

    // A render that has not finished has no outcomes yet; a cancelled one never will.
    let pending = create(&demo, &brief).await.expect("create");
    let reply = demo
        .post(
            &format!("/v1/renders/{pending}/outcomes"),
            &json!({"views": 1}),
        )
        .await
        .expect("post");
    assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.text);
    let cancel = demo
        .post(&format!("/v1/renders/{pending}/cancel"), &json!({}))
        .await
        .expect("cancel");
    assert_eq!(cancel.status, StatusCode::OK, "{}", cancel.text);
    let reply = demo
        .post(
            &format!("/v1/renders/{pending}/outcomes"),
            &json!({"views": 1}),
        )
        .await
        .expect("post");
    assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.text);
    assert_eq!(
        reply.json["error"]["code"], "render_not_succeeded",
        "{}",
        reply.text
    );
}

/// Chosen model, reason and notes of every motion stage, by stage id
fn motion_decisions(view: &Value) -> BTreeMap<String, (String, String, Vec<String>)> {
    view["stages"]
        .as_array()
        .map(|stages| {
            stages
                .iter()
                .filter(|s| s["kind"] == "motion")
                .map(|s| {
                    let d = &s["decision"];
                    let notes = d["notes"]
                        .as_array()
                        .map(|n| {
                            n.iter()
                                .filter_map(|x| x.as_str().map(str::to_owned))
                                .collect()
                        })
                        .unwrap_or_default();
                    (
                        s["id"].as_str().unwrap_or_default().to_owned(),
                        (
                            d["candidates"][0]["model"]
                                .as_str()
                                .unwrap_or_default()
                                .to_owned(),
                            d["reason"].as_str().unwrap_or_default().to_owned(),
                            notes,
                        ),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn close_up_stages(brief: &Value) -> Vec<String> {
    brief["shots"]
        .as_array()
        .map(|shots| {
            shots
                .iter()
                .filter(|s| s["kind"] == "close_up")
                .filter_map(|s| s["id"].as_str().map(|id| format!("{id}.motion")))
                .collect()
        })
        .unwrap_or_default()
}

/// Seeds demo's memory, renders the sample brief twice, reports that its close-ups lost the
/// audience, renders it again; the rival renders the same brief before and after. Returns the
/// close-up decisions (baseline, after) and asserts everything that must hold either way.
async fn close_up_scenario() -> (Vec<(String, String)>, Vec<(String, String, Vec<String>)>) {
    let stack = shared_stack();
    let demo = client(stack, "sk_test_demo");
    let rival = client(stack, "sk_test_rival");
    let brief = sample_brief();
    let seed = json!({
        "voices": {"narrator": "21m00Tcm4TlvDq8ikWAM", "keeper": "EXAVITQu4vr4xnSDxMaL"},
        "looks": {"keeper": {"description": "weathered woman in her sixties, yellow oilskin",
                             "reference_images": ["creators/demo/looks/keeper/front.png"]}},
        "formats": {"short_doc": {"pacing": {"avg_shot_s": 5.2, "energy": "slow_burn"},
                                  "hook_style": "cold open on a question"}}
    });
    let reply = put(&demo, &seed).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);

    // Baseline: two renders for demo, one for the rival, all before any outcome data.
    let (first, second, rival_before) = tokio::join!(
        render_to_end(&demo, &brief),
        render_to_end(&demo, &brief),
        render_to_end(&rival, &brief),
    );
    let baseline = motion_decisions(&first.1);
    let models = |d: &BTreeMap<String, (String, String, Vec<String>)>| -> BTreeMap<String, String> {
        d.iter().map(|(k, v)| (k.clone(), v.0.clone())).collect()
    };
    assert_eq!(
        models(&baseline),
        models(&motion_decisions(&second.1)),
        "same brief, same routing"
    );
    let close_ups = close_up_stages(&brief);
    assert!(!close_ups.is_empty());

    // The close-ups of both renders lost the audience; everything else held it.
    for (id, _) in [&first, &second] {
        wait_recorded(&demo, id).await;
        let shots: Vec<Value> = brief["shots"]
            .as_array()
            .expect("shots")
            .iter()
            .map(|s| {
                if s["kind"] == "close_up" {
                    json!({"shot_id": s["id"], "retention_3s": 0.05, "conversions": 0})
                } else {
                    json!({"shot_id": s["id"], "retention_3s": 0.7, "conversions": 3})
                }
            })
            .collect();
        let report = json!({"views": 20000, "avg_watch_s": 24.0, "retention_3s": 0.62,
                            "clicks": 300, "conversions": 25, "shots": shots});
        let reply = demo
            .post(&format!("/v1/renders/{id}/outcomes"), &report)
            .await
            .expect("outcomes");
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    }

    // The memory context now carries the statistic the router reads: support sees it per
    // model, the creator's own context names no model.
    let context = client(stack, "sk_test_support")
        .post("/v1/support/creators/demo/memory/context", &brief)
        .await
        .expect("context");
    assert_eq!(context.status, StatusCode::OK, "{}", context.text);
    let own = demo
        .post("/v1/memory/context", &brief)
        .await
        .expect("context");
    assert_eq!(own.status, StatusCode::OK, "{}", own.text);
    assert!(own.json.get("outcomes").is_none(), "{}", own.text);
    assert!(!own.text.contains("\"model\""), "{}", own.text);
    assert_eq!(own.json["similar"], strip_models(&context.json["similar"]));
    let baseline_models: Vec<(String, String)> = close_ups
        .iter()
        .map(|s| {
            (
                s.clone(),
                baseline.get(s).map(|d| d.0.clone()).unwrap_or_default(),
            )
        })
        .collect();
    for (_, model) in &baseline_models {
        let stat = context.json["outcomes"].as_array().and_then(|o| {
            o.iter()
                .find(|s| s["model"] == model.as_str() && s["shot_kind"] == "close_up")
        });
        let stat =
            stat.unwrap_or_else(|| panic!("no close_up statistic for {model}: {}", context.text));
        assert!(stat["renders"].as_u64().unwrap_or(0) >= 2, "{stat}");
        assert!(stat["mean"].as_f64().unwrap_or(1.0) < 0.3, "{stat}");
    }

    let (after, rival_after) =
        tokio::join!(render_to_end(&demo, &brief), render_to_end(&rival, &brief));
    let after = motion_decisions(&after.1);

    // The rival's routing is exactly as it was, with no outcome data in it.
    let rival_before = motion_decisions(&rival_before.1);
    let rival_after = motion_decisions(&rival_after.1);
    for (stage, (model, reason, notes)) in &rival_after {
        assert_eq!(
            rival_before.get(stage).map(|d| &d.0),
            Some(model),
            "{stage}: the rival's routing did not move"
        );
        assert!(!reason.contains("outcome data"), "{stage}: {reason}");
        assert!(
            notes.iter().all(|n| !n.contains("outcome")),
            "{stage}: {notes:?}"
        );
    }

    // Demo's close-up decisions now weigh the reported figures: the evidence is in the notes.
    let mut after_close_ups = Vec::new();
    for (stage, baseline_model) in &baseline_models {
        let (model, reason, notes) = after.get(stage).cloned().expect("close-up stage");
        assert!(
            notes
                .iter()
                .any(|n| n.starts_with(&format!("{baseline_model}: outcome 0.050"))),
            "{stage}: the decision records the outcome data for {baseline_model}: {notes:?}"
        );
        if &model != baseline_model {
            assert!(
                reason.contains("outcome data"),
                "{stage}: a move must say outcome data made it: {reason}"
            );
        }
        after_close_ups.push((stage.clone(), model, notes));
    }
    (baseline_models, after_close_ups)
}

/// The full expectation: after two renders whose close-ups lost the audience, the next
/// render routes close-ups to another model and its decisions say outcome data made the move;
/// the rival's routing stays as it was (checked inside the scenario).
#[tokio::test]
async fn bad_close_up_outcomes_move_that_kind_to_another_model() {
    let (baseline, after) = close_up_scenario().await;
    for ((stage, before), (_, now, notes)) in baseline.iter().zip(&after) {
        assert_ne!(
            before, now,
            "{stage}: routing did not move off {before}: {notes:?}"
        );
    }
}

/// Issue 10: a look's reference images are signed and sent to providers, so they must be the
/// creator's own uploads (`creators/{creator}/...`): another creator's key, a render's frames, or
/// an encoded traversal is a 400 naming the image, and the graph keeps what it had.
#[tokio::test]
async fn reference_images_must_be_the_creators_own_uploads() {
    let stack = shared_stack();
    let demo = client(stack, "sk_test_demo");
    for (images, at) in [
        (json!(["creators/rival/looks/keeper.png"]), 0),
        (
            json!([
                "creators/demo/looks/ok.png",
                "renders/rnd_0123/s01.keyframe/1/out.png"
            ]),
            1,
        ),
        (json!(["creators/demo/%2e%2e/rival/keeper.png"]), 0),
        (json!(["creators/demo/looks/../../rival/keeper.png"]), 0),
    ] {
        let body =
            json!({"looks": {"e2e_foreign": {"description": "x", "reference_images": images}}});
        let reply = put(&demo, &body).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{body}: {}",
            reply.text
        );
        assert_eq!(
            reply.json["error"]["field"],
            format!("looks.e2e_foreign.reference_images[{at}]"),
            "{body}: {}",
            reply.text
        );
    }
    let g = graph(&demo).await;
    assert!(
        !g.to_string().contains("e2e_foreign"),
        "a refused edit changed nothing: {g}"
    );
    let own = json!({"looks": {"e2e_own_refs": {"description": "x",
        "reference_images": ["creators/demo/looks/e2e/own.png"]}}});
    let reply = put(&demo, &own).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    // The same key is foreign to the rival.
    let rival = client(stack, "sk_test_rival");
    let reply = put(&rival, &own).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text);
}
