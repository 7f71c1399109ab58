//! The Channel Analyzer import on the real stack (`POST /v1/memory/import`): a channel's
//! YouTube history (a Data API v3 `videos.list` response with Analytics v2 `reports.query`
//! results, built here in their real shapes) becomes format DNA, the audience signal and the
//! channel's priors in the creator's graph, as `GET /v1/memory` shows; a bad duration is a 400
//! naming it that changes nothing; the same import twice changes nothing the second time; a
//! value the creator set by hand is kept.
//!
//! Each test uses its own creator, so the tests can run at once on the shared stack.

use e2e::{Client, Stack, shared_stack};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const IMPORT: &str = "/v1/memory/import";

fn client(stack: &Stack, key: &str) -> Client {
    Client::new(&stack.worker_url, Some(key))
}

async fn graph(client: &Client) -> Value {
    let reply = client.get("/v1/memory").await.expect("get /v1/memory");
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    reply.json
}

fn format<'a>(graph: &'a Value, name: &str) -> Option<&'a Value> {
    graph["formats"]
        .as_array()?
        .iter()
        .find(|f| f["format"] == name)
}

fn prior<'a>(graph: &'a Value, name: &str) -> Option<&'a Value> {
    graph["channel"]["formats"]
        .as_array()?
        .iter()
        .find(|f| f["format"] == name)
}

/// A video resource as `videos.list?part=snippet,contentDetails,statistics` returns it
fn video(id: &str, duration: &str, published: &str, views: u64) -> Value {
    json!({
        "kind": "youtube#video",
        "etag": "e2eEtag",
        "id": id,
        "snippet": {
            "publishedAt": published,
            "channelId": "UCe2eChannel0000000000",
            "title": format!("video {id}"),
            "description": "not read by the import",
            "tags": ["lighthouse"],
            "categoryId": "22",
            "liveBroadcastContent": "none",
            "defaultAudioLanguage": "en-GB"
        },
        "contentDetails": {"duration": duration, "dimension": "2d", "definition": "hd"},
        "statistics": {"viewCount": views.to_string(), "likeCount": (views / 20).to_string(), "commentCount": "3"}
    })
}

/// Three Shorts (20, 40, 60 s) and three long-form videos (4 min 13 s, 12 min, 1 h 0 min 30 s),
/// more views on the long ones; Analytics watch figures for two videos and views by country
fn channel() -> Value {
    json!({
        "kind": "youtube#videoListResponse",
        "etag": "e2eListEtag",
        "pageInfo": {"totalResults": 6, "resultsPerPage": 50},
        "items": [
            video("e2eShort001", "PT20S", "2024-05-01T10:00:00Z", 900),
            video("e2eShort002", "PT40S", "2024-06-01T10:00:00Z", 1_100),
            video("e2eShort003", "PT1M", "2024-07-01T10:00:00Z", 1_000),
            video("e2eLong0001", "PT4M13S", "2023-01-01T10:00:00Z", 10_000),
            video("e2eLong0002", "PT12M", "2023-02-01T10:00:00Z", 20_000),
            video("e2eLong0003", "PT1H30S", "2023-03-01T10:00:00Z", 30_000),
        ],
        "analytics": {
            "videos": {
                "kind": "youtubeAnalytics#resultTable",
                "columnHeaders": [
                    {"name": "video", "columnType": "DIMENSION", "dataType": "STRING"},
                    {"name": "views", "columnType": "METRIC", "dataType": "INTEGER"},
                    {"name": "averageViewDuration", "columnType": "METRIC", "dataType": "INTEGER"},
                    {"name": "averageViewPercentage", "columnType": "METRIC", "dataType": "FLOAT"}
                ],
                "rows": [["e2eLong0001", 100, 120, 47.4], ["e2eLong0002", 300, 240, 33.3]]
            },
            "countries": {
                "kind": "youtubeAnalytics#resultTable",
                "columnHeaders": [
                    {"name": "country", "columnType": "DIMENSION", "dataType": "STRING"},
                    {"name": "views", "columnType": "METRIC", "dataType": "INTEGER"}
                ],
                "rows": [["GB", 600], ["US", 300], ["IE", 80], ["NZ", 20]]
            }
        }
    })
}

async fn import(client: &Client, body: &Value) -> e2e::client::Reply {
    client.post(IMPORT, body).await.expect("post import")
}

#[tokio::test]
async fn a_channel_builds_format_dna_and_audience_and_a_second_import_changes_nothing() {
    let stack = shared_stack();
    let demo = client(stack, "sk_test_demo");

    let first = import(&demo, &channel()).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    assert_eq!(first.json["changed"], true, "{}", first.text);
    assert_eq!(first.json["videos"], 6);

    let g = graph(&demo).await;
    // Format DNA: the mean lengths decide the assumed pacing (40 s: punchy 2 s; about 25 min:
    // slow-burn 6 s); YouTube reports no cuts, so nothing else is invented.
    let shorts = format(&g, "shorts").expect("shorts DNA");
    assert_eq!(shorts["pacing"]["avg_shot_s"], 2.0, "{shorts}");
    assert_eq!(shorts["pacing"]["energy"], "punchy");
    let long = format(&g, "long_form").expect("long-form DNA");
    assert_eq!(long["pacing"]["avg_shot_s"], 6.0, "{long}");
    assert_eq!(long["pacing"]["energy"], "slow_burn");
    // The mean lengths, from the ISO 8601 durations
    let shorts_prior = prior(&g, "shorts").expect("shorts prior");
    assert_eq!(shorts_prior["videos"], 3);
    assert_eq!(shorts_prior["avg_duration_s"], 40.0);
    let long_prior = prior(&g, "long_form").expect("long-form prior");
    assert_eq!(long_prior["avg_duration_s"], 1_534.333); // (253 + 720 + 3,630) / 3, to 3 decimals
    // Analytics watch figures, weighted by the report's views
    assert_eq!(long_prior["avg_view_percentage"], 36.825); // (47.4 * 100 + 33.3 * 300) / 400
    assert_eq!(long_prior["avg_view_duration_s"], 210.0); // (120 * 100 + 240 * 300) / 400
    // Audience: most views are long-form; GB 60 %, US 30 %, IE 8 % (NZ 2 % is not a region)
    assert_eq!(g["audience"]["primary_platform"], "youtube");
    assert_eq!(g["audience"]["regions"], json!(["GB", "US", "IE"]));
    assert_eq!(g["channel"]["language"], "en-GB");

    // The same history again: nothing changes.
    let second = import(&demo, &channel()).await;
    assert_eq!(second.status, StatusCode::OK, "{}", second.text);
    assert_eq!(second.json["changed"], false, "{}", second.text);
    assert_eq!(second.json["written"], json!([]));
    assert_eq!(graph(&demo).await, g);
}

#[tokio::test]
async fn a_bad_duration_is_a_400_naming_it_and_changes_nothing() {
    let stack = shared_stack();
    let rival = client(stack, "sk_test_rival");
    let before = graph(&rival).await;

    let mut body = channel();
    body["items"][2]["contentDetails"]["duration"] = json!("1 minute");
    let reply = import(&rival, &body).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text);
    assert_eq!(
        reply.json["error"]["code"], "invalid_import",
        "{}",
        reply.text
    );
    assert_eq!(
        reply.json["error"]["field"], "items[2].contentDetails.duration",
        "{}",
        reply.text
    );
    // A report row of the wrong width names the row
    let mut body = channel();
    body["analytics"]["countries"]["rows"][1] = json!(["US"]);
    let reply = import(&rival, &body).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text);
    assert_eq!(reply.json["error"]["field"], "analytics.countries.rows[1]");
    // Not JSON at all
    let reply = rival
        .post_raw(IMPORT, b"{\"kind\": ".to_vec(), "application/json")
        .await
        .expect("post raw");
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text);

    assert_eq!(
        graph(&rival).await,
        before,
        "a refused import changes nothing"
    );

    // Without a key: 401; a body over the cap: 413, before anything is parsed
    let anyone = Client::new(&stack.worker_url, None);
    let reply = anyone
        .send(Method::POST, IMPORT, Some(&channel()), &[])
        .await
        .expect("post");
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.text);
    let huge = vec![b' '; 9 * 1024 * 1024];
    let reply = rival
        .post_raw(IMPORT, huge, "application/json")
        .await
        .expect("post huge");
    assert_eq!(
        reply.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        reply.text
    );
    assert_eq!(graph(&rival).await, before);
}

#[tokio::test]
async fn values_the_creator_set_by_hand_are_kept() {
    let stack = shared_stack();
    let studio = client(stack, "sk_test_studio");
    let edit = json!({
        "formats": {"long_form": {"pacing": {"avg_shot_s": 3.2, "energy": "steady"}, "hook_style": "cold open"}},
        "audience": {"regions": ["AU"], "interests": ["sea"]}
    });
    let reply = studio
        .send(Method::PUT, "/v1/memory", Some(&edit), &[])
        .await
        .expect("put");
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);

    let reply = import(&studio, &channel()).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let kept: Vec<&str> = reply.json["kept"]
        .as_array()
        .map(|k| k.iter().filter_map(|k| k["field"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(
        kept,
        ["formats.long_form", "audience.regions"],
        "{}",
        reply.text
    );

    let g = graph(&studio).await;
    let long = format(&g, "long_form").expect("long-form DNA");
    assert_eq!(long["pacing"]["avg_shot_s"], 3.2, "{long}");
    assert_eq!(long["hook_style"], "cold open");
    assert_eq!(g["audience"]["regions"], json!(["AU"]));
    assert_eq!(g["audience"]["interests"], json!(["sea"]));
    // What was unset is filled; the estimate sits under `channel`
    assert_eq!(g["audience"]["primary_platform"], "youtube");
    assert!(format(&g, "shorts").is_some());
    assert_eq!(
        prior(&g, "long_form").map(|p| &p["pacing"]["avg_shot_s"]),
        Some(&json!(6.0))
    );
}
