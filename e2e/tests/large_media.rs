//! An output larger than one upload part passes through the Worker in parts: the copy into R2
//! is a multipart upload fed as the download arrives, and the download by range streams.
//!
//! That the copy holds at most one part at a time, for 200 MB, is shown natively
//! (`studio::api::upload_parts`). Here the same path runs on the real runtime at a size the local
//! runtime can carry: under `wrangler dev` (4.86) reading a large response body in the Worker
//! keeps a loopback socket to wrangler's Node process open per few kilobytes read, so bodies of
//! 48 MB and more exhaust this machine's hard limit of 20,000 file descriptors before they are
//! read. We measured it with the Worker only draining the body, no R2 involved: it is the local
//! runtime's fetch, not our copy. The runtime's memory growth is printed for the record.

use std::time::{Duration, Instant};

use e2e::render::{create, sample_brief};
use e2e::{Client, Stack, StackOptions};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// What the keyframe provider's output is padded to: two 8 MiB parts and a tail
/// (`LARGE_MEDIA_BYTES` overrides it)
fn big() -> u64 {
    std::env::var("LARGE_MEDIA_BYTES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(18_000_000)
}

/// A one-shot brief: one keyframe, one motion clip, nothing spoken
fn one_shot_brief() -> Value {
    let mut brief = sample_brief();
    let shot = brief["shots"][2].clone();
    brief["shots"] = json!([shot]);
    brief["cast"] = json!([]);
    brief["voiceover"] = Value::Null;
    brief["score"] = Value::Null;
    brief["pacing"]["target_duration_s"] = json!(4);
    brief
}

fn keyframe(view: &Value) -> Option<&Value> {
    view["stages"]
        .as_array()?
        .iter()
        .find(|s| s["id"].as_str().is_some_and(|id| id.ends_with(".keyframe")))
}

#[tokio::test]
async fn an_output_larger_than_a_part_is_copied_in_parts_and_served_by_range() {
    let stack = Stack::start_with(StackOptions::default()).expect("stack");
    let sim = Client::new(&stack.sim_url, None);
    let set = sim
        .post(
            "/__sim/config",
            &json!({"pad_outputs_bytes": {"bfl": big()}}),
        )
        .await
        .expect("sim config");
    assert!(set.status.is_success(), "{}", set.text);
    let client = Client::new(&stack.worker_url, Some("sk_test_demo"));
    let id = create(&client, &one_shot_brief()).await.expect("create");
    let baseline = stack.worker_rss_bytes().expect("workerd rss");
    let mut peak = baseline;
    let started = Instant::now();
    let mut stored = None;
    while started.elapsed() < Duration::from_secs(180) {
        peak = peak.max(stack.worker_rss_bytes().unwrap_or(0));
        // The local runtime may reset a connection while it copies: ask again.
        let Ok(view) = client.get(&format!("/v1/renders/{id}")).await else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        if let Some(k) = keyframe(&view.json).filter(|k| k["status"] == "done") {
            stored = k["artifacts"][0].as_object().cloned();
            break;
        }
        assert_ne!(view.json["status"], "failed", "{}", view.text);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let artifact = stored.expect("the keyframe was stored in time");
    let bytes = artifact["bytes"].as_u64().expect("bytes");
    assert!(bytes > big(), "stored {bytes} bytes");
    eprintln!(
        "copied {bytes} bytes; workerd grew by {} bytes (from {baseline} to {peak})",
        peak.saturating_sub(baseline)
    );

    // Its last bytes, by range, from the same object: 206 and the padding's zeros.
    let url = artifact["url"].as_str().expect("signed url");
    let resp = reqwest::Client::new()
        .get(url)
        .header("range", "bytes=-1000")
        .send()
        .await
        .expect("range");
    assert_eq!(resp.status(), StatusCode::PARTIAL_CONTENT);
    let range = resp.headers()["content-range"]
        .to_str()
        .expect("content-range")
        .to_owned();
    assert_eq!(
        range,
        format!("bytes {}-{}/{bytes}", bytes - 1000, bytes - 1)
    );
    let tail = resp.bytes().await.expect("tail");
    assert_eq!(tail.len(), 1000);
    assert!(tail.iter().all(|b| *b == 0));
    let cancel = client
        .post(&format!("/v1/renders/{id}/cancel"), &json!({}))
        .await
        .expect("cancel");
    assert!(cancel.status.is_success(), "{}", cancel.text);
}
