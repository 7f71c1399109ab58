//! Submit, poll, call back and download for each provider family, with the counters.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kling_jwt_callbacks_idempotency_and_counters() {
    let sim = Sim::start(300, 1.0).await;
    let rx = Receiver::start().await;
    let good = format!("Bearer {}", kling_jwt("sim-kling-ak", "sim-kling-sk", 1800));
    let body = json!({
        "model_name": "kling-v2-6",
        "prompt": "a paper boat on a river",
        "duration": "5",
        "aspect_ratio": "16:9",
        "callback_url": rx.url("/v1/callbacks/kling/job_1/shot-1.motion/1?token=t1"),
        "external_task_id": "job_1:shot-1.motion:1",
    });

    // Auth failures in Kling's own shape
    let r = sim
        .post_json("/kling/v1/videos/text2video", &[], &body)
        .await;
    assert_eq!(r.status(), 401);
    assert_eq!(r.json::<Value>().await.unwrap()["code"], 1001);
    let wrong = format!("Bearer {}", kling_jwt("sim-kling-ak", "wrong-secret", 1800));
    let r = sim
        .post_json(
            "/kling/v1/videos/text2video",
            &[("authorization", &wrong)],
            &body,
        )
        .await;
    assert_eq!(r.json::<Value>().await.unwrap()["code"], 1002);
    let expired = format!("Bearer {}", kling_jwt("sim-kling-ak", "sim-kling-sk", -10));
    let r = sim
        .post_json(
            "/kling/v1/videos/text2video",
            &[("authorization", &expired)],
            &body,
        )
        .await;
    assert_eq!(r.json::<Value>().await.unwrap()["code"], 1004);

    // Validation
    let r = sim
        .post_json(
            "/kling/v1/videos/text2video",
            &[("authorization", &good)],
            &json!({"prompt": "x", "duration": "7"}),
        )
        .await;
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["code"], 1201);

    let r = sim
        .post_json(
            "/kling/v1/videos/text2video",
            &[("authorization", &good)],
            &body,
        )
        .await;
    assert_eq!(r.status(), 200);
    let first: Value = r.json().await.unwrap();
    assert_eq!(first["code"], 0);
    assert_eq!(first["data"]["task_status"], "submitted");
    let task_id = first["data"]["task_id"].as_str().unwrap().to_string();
    // A repeat with the same external_task_id is absorbed
    let again: Value = sim
        .post_json(
            "/kling/v1/videos/text2video",
            &[("authorization", &good)],
            &body,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again["data"]["task_id"], task_id.as_str());

    let got = rx
        .wait_until("kling succeed callback", WAIT, |r| {
            r.iter().any(|c| c.json()["task_status"] == "succeed")
        })
        .await;
    let statuses: Vec<Value> = got
        .iter()
        .map(|c| c.json()["task_status"].clone())
        .collect();
    assert_eq!(statuses, [json!("processing"), json!("succeed")]);
    assert_eq!(
        got[0].path,
        "/v1/callbacks/kling/job_1/shot-1.motion/1?token=t1"
    );
    let done = got[1].json();
    assert_eq!(
        done["task_info"]["external_task_id"],
        "job_1:shot-1.motion:1"
    );
    let video_url = done["task_result"]["videos"][0]["url"]
        .as_str()
        .unwrap()
        .to_string();

    let (code, polled) = sim
        .get_json(
            &sim.url(&format!("/kling/v1/videos/text2video/{task_id}")),
            &[("authorization", &good)],
        )
        .await;
    assert_eq!(code, 200);
    assert_eq!(polled["data"]["task_status"], "succeed");
    let (code, _) = sim
        .get_json(
            &sim.url(&format!("/kling/v1/videos/image2video/{task_id}")),
            &[("authorization", &good)],
        )
        .await;
    assert_eq!(code, 404, "a task is only found under its own endpoint");

    let v = sim.client.get(&video_url).send().await.unwrap();
    assert_eq!(v.headers()["content-type"], "video/mp4");
    assert_eq!(&v.bytes().await.unwrap()[4..8], b"ftyp");

    let stats = sim.stats().await;
    assert_eq!(stats["submissions"]["kling"], 2);
    assert_eq!(
        stats["submissions_by_task"]["kling:cb:kling/job_1/shot-1.motion/1"],
        2
    );
    assert_eq!(stats["idempotent_replays"], 1);
    assert_eq!(stats["duplicate_submissions"], 0);
    assert_eq!(stats["callbacks_sent"]["kling"], 2);
    assert_eq!(stats["polls"]["kling"], 2);
    assert_eq!(stats["downloads"]["kling"], 1);
    assert!(stats["rejected_requests"]["kling"].as_u64().unwrap() >= 4);

    // Reset clears everything
    sim.client
        .post(sim.url("/__sim/reset"))
        .send()
        .await
        .unwrap();
    let stats = sim.stats().await;
    assert_eq!(stats["submissions"], json!({}));
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runway_is_polled_and_repeats_count_as_duplicates() {
    let sim = Sim::start(200, 1.0).await;
    let auth = [
        ("authorization", "Bearer sim-runway-key"),
        ("x-runway-version", "2024-11-06"),
    ];
    let body = json!({"model": "gen4_turbo", "promptImage": "https://example.com/a.png", "promptText": "pan left", "ratio": "1280:720", "duration": 5});

    let r = sim
        .post_json(
            "/runway/v1/image_to_video",
            &[("authorization", "Bearer sim-runway-key")],
            &body,
        )
        .await;
    assert_eq!(r.status(), 400, "X-Runway-Version is required");
    let r = sim
        .post_json(
            "/runway/v1/image_to_video",
            &auth,
            &json!({"model": "gen4_turbo"}),
        )
        .await;
    assert_eq!(r.status(), 400);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"],
        "Validation of body failed"
    );

    let id = sim
        .post_json("/runway/v1/image_to_video", &auth, &body)
        .await
        .json::<Value>()
        .await
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, early) = sim
        .get_json(&sim.url(&format!("/runway/v1/tasks/{id}")), &auth)
        .await;
    assert!(["PENDING", "RUNNING"].contains(&early["status"].as_str().unwrap()));
    let done = eventually("runway SUCCEEDED", WAIT, || async {
        let (_, t) = sim
            .get_json(&sim.url(&format!("/runway/v1/tasks/{id}")), &auth)
            .await;
        (t["status"] == "SUCCEEDED").then_some(t)
    })
    .await;
    let out = done["output"][0].as_str().unwrap();
    assert_eq!(
        sim.client.get(out).send().await.unwrap().headers()["content-type"],
        "video/mp4"
    );

    // Runway has no idempotency key: the same request again is a second task and a duplicate
    let second = sim
        .post_json("/runway/v1/image_to_video", &auth, &body)
        .await
        .json::<Value>()
        .await
        .unwrap();
    assert_ne!(second["id"], id.as_str());
    let stats = sim.stats().await;
    assert_eq!(stats["submissions"]["runway"], 2);
    assert_eq!(stats["duplicate_submissions"], 1);
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn veo_operation_and_keyed_download() {
    let sim = Sim::start(200, 1.0).await;
    let key = [("x-goog-api-key", "sim-veo-key")];
    let r = sim
        .post_json(
            "/veo/v1beta/models/veo-3.0-generate-001:predictLongRunning",
            &[("x-goog-api-key", "bad")],
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), 400);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"]["status"],
        "INVALID_ARGUMENT"
    );
    let body = json!({"instances": [{"prompt": "a city at night"}], "parameters": {"aspectRatio": "16:9", "durationSeconds": 8}});
    let op: Value = sim
        .post_json(
            "/veo/v1beta/models/veo-3.0-generate-001:predictLongRunning",
            &key,
            &body,
        )
        .await
        .json()
        .await
        .unwrap();
    let name = op["name"].as_str().unwrap().to_string();
    assert!(name.starts_with("models/veo-3.0-generate-001/operations/"));
    let (_, running) = sim
        .get_json(&sim.url(&format!("/veo/v1beta/{name}")), &key)
        .await;
    assert!(running.get("done").is_none());
    let done = eventually("veo done", WAIT, || async {
        let (_, o) = sim
            .get_json(&sim.url(&format!("/veo/v1beta/{name}")), &key)
            .await;
        (o["done"] == true).then_some(o)
    })
    .await;
    let uri = done["response"]["generateVideoResponse"]["generatedSamples"][0]["video"]["uri"]
        .as_str()
        .unwrap()
        .to_string();
    let anon = sim.client.get(&uri).send().await.unwrap();
    assert_eq!(anon.status(), 403);
    let with_query = sim
        .client
        .get(format!("{uri}&key=sim-veo-key"))
        .send()
        .await
        .unwrap();
    assert_eq!(with_query.status(), 200);
    assert_eq!(with_query.headers()["content-type"], "video/mp4");
    let with_header = sim
        .client
        .get(&uri)
        .header("x-goog-api-key", "sim-veo-key")
        .send()
        .await
        .unwrap();
    assert_eq!(with_header.status(), 200);
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hailuo_challenge_then_callbacks_and_file_retrieve() {
    let sim = Sim::start(300, 1.0).await;
    let rx = Receiver::start().await;
    let auth = [("authorization", "Bearer sim-minimax-key")];
    let body = json!({"model": "MiniMax-Hailuo-02", "prompt": "a fox in snow", "duration": 6, "resolution": "1080P",
                      "callback_url": rx.url("/v1/callbacks/hailuo/job_2/shot-1.motion/1")});
    let created: Value = sim
        .post_json("/hailuo/v1/video_generation", &auth, &body)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(created["base_resp"]["status_code"], 0);
    let task_id = created["task_id"].as_str().unwrap().to_string();
    let got = rx
        .wait_until("hailuo success", WAIT, |r| {
            r.iter().any(|c| c.json()["status"] == "success")
        })
        .await;
    assert_eq!(got[0].json()["status"], "processing");
    let file_id = got.last().unwrap().json()["file_id"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, q) = sim
        .get_json(
            &sim.url(&format!(
                "/hailuo/v1/query/video_generation?task_id={task_id}"
            )),
            &auth,
        )
        .await;
    assert_eq!(q["status"], "Success");
    assert_eq!(q["file_id"], file_id.as_str());
    // The video is small by default (640x360), or the nominal 1080P with SIM_MEDIA_FULL_SIZE=1
    assert!(q["video_width"] == 640 || q["video_width"] == 1920, "{q}");
    let (_, f) = sim
        .get_json(
            &sim.url(&format!("/hailuo/v1/files/retrieve?file_id={file_id}")),
            &auth,
        )
        .await;
    let url = f["file"]["download_url"].as_str().unwrap();
    assert_eq!(
        sim.client.get(url).send().await.unwrap().headers()["content-type"],
        "video/mp4"
    );

    // A callback route that does not echo the challenge fails the task, with no callbacks
    let bad = Receiver::start().await;
    bad.break_challenges();
    let body = json!({"model": "MiniMax-Hailuo-02", "prompt": "another", "callback_url": bad.url("/v1/callbacks/hailuo/job_3/s/1")});
    let created: Value = sim
        .post_json("/hailuo/v1/video_generation", &auth, &body)
        .await
        .json()
        .await
        .unwrap();
    let id = created["task_id"].as_str().unwrap().to_string();
    let failed = eventually("hailuo Fail", WAIT, || async {
        let (_, q) = sim
            .get_json(
                &sim.url(&format!("/hailuo/v1/query/video_generation?task_id={id}")),
                &auth,
            )
            .await;
        (q["status"] == "Fail").then_some(q)
    })
    .await;
    assert_ne!(failed["base_resp"]["status_code"], 0);
    assert!(bad.received().is_empty());
    let stats = sim.stats().await;
    assert_eq!(stats["challenges"], 2);
    assert_eq!(stats["challenges_failed"], 1);
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn luma_and_seedance_call_back_with_their_objects() {
    let sim = Sim::start(250, 1.0).await;
    let rx = Receiver::start().await;
    let luma = json!({"model": "ray-2", "prompt": "clouds", "duration": "5s", "aspect_ratio": "16:9",
                      "callback_url": rx.url("/v1/callbacks/luma/job_4/shot-1.motion/1")});
    let r = sim
        .post_json(
            "/luma/dream-machine/v1/generations",
            &[("authorization", "Bearer sim-luma-key")],
            &luma,
        )
        .await;
    assert_eq!(r.status(), 201);
    assert_eq!(r.json::<Value>().await.unwrap()["state"], "queued");
    let seed = json!({"model": "seedance-1-0-pro-250528",
                      "content": [{"type": "text", "text": "a lantern --ratio 9:16 --dur 5"}],
                      "callback_url": rx.url("/v1/callbacks/seedance/job_4/shot-2.motion/1")});
    let r = sim
        .post_json(
            "/seedance/api/v3/contents/generations/tasks",
            &[("authorization", "Bearer sim-seedance-key")],
            &seed,
        )
        .await;
    assert_eq!(r.status(), 200);
    let sid = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(sid.starts_with("cgt-"));

    let got = rx
        .wait_until("both terminal callbacks", WAIT, |r| {
            r.iter().any(|c| c.json()["state"] == "completed")
                && r.iter().any(|c| c.json()["status"] == "succeeded")
        })
        .await;
    let luma_states: Vec<Value> = got
        .iter()
        .filter(|c| c.path.contains("luma"))
        .map(|c| c.json()["state"].clone())
        .collect();
    assert_eq!(luma_states, [json!("dreaming"), json!("completed")]);
    let luma_done = got
        .iter()
        .find(|c| c.json()["state"] == "completed")
        .unwrap()
        .json();
    assert!(
        luma_done["assets"]["video"]
            .as_str()
            .unwrap()
            .ends_with(".mp4")
    );
    let seed_done = got
        .iter()
        .find(|c| c.json()["status"] == "succeeded")
        .unwrap()
        .json();
    assert_eq!(seed_done["ratio"], "9:16");
    let video = seed_done["content"]["video_url"].as_str().unwrap();
    assert_eq!(sim.client.get(video).send().await.unwrap().status(), 200);
    let (_, polled) = sim
        .get_json(
            &sim.url(&format!(
                "/seedance/api/v3/contents/generations/tasks/{sid}"
            )),
            &[("authorization", "Bearer sim-seedance-key")],
        )
        .await;
    assert_eq!(polled["status"], "succeeded");
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn synchronous_audio_providers() {
    let sim = Sim::start(100, 1.0).await;
    let r = sim
        .post_json(
            "/elevenlabs/v1/text-to-speech/voice_abc",
            &[("xi-api-key", "sim-elevenlabs-key")],
            &json!({"text": "Hello", "model_id": "eleven_multilingual_v2"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "audio/mpeg");
    let bytes = r.bytes().await.unwrap();
    assert_eq!(&bytes[..2], &[0xff, 0xfb]);
    let r = sim
        .post_json(
            "/elevenlabs/v1/text-to-speech/voice_abc",
            &[("xi-api-key", "nope")],
            &json!({"text": "x"}),
        )
        .await;
    assert_eq!(r.status(), 401);
    assert_eq!(
        r.json::<Value>().await.unwrap()["detail"]["status"],
        "invalid_api_key"
    );

    let music: Value = sim
        .post_json(
            "/minimax_music/v1/music_generation",
            &[("authorization", "Bearer sim-minimax-key")],
            &json!({"model": "music-2.0", "prompt": "lofi", "lyrics": "[Verse] la"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(music["data"]["status"], 2);
    let audio = hex::decode(music["data"]["audio"].as_str().unwrap()).unwrap();
    assert_eq!(&audio[..2], &[0xff, 0xfb]);
    assert_eq!(sim.stats().await["submissions"]["minimax_music"], 1);
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn control_endpoints() {
    let sim = Sim::start(100, 1.0).await;
    let (code, health) = sim.get_json(&sim.url("/healthz"), &[]).await;
    assert_eq!((code, health), (200, json!({"ok": true})));
    let r = sim
        .client
        .post(sim.url("/__sim/config"))
        .json(&json!({"faults": {"sora": {"submit_429": 2.0}}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = sim
        .client
        .post(sim.url("/__sim/config"))
        .json(&json!({"latency_ms": {"nope": 1}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let cfg = sim.config(json!({"latency_ms": {"sora": 5, "*": 50}, "seed": 9, "faults": {"*": {"moderation": 0.0}}})).await;
    assert_eq!(cfg["latency_ms"]["sora"], 5);
    assert_eq!(cfg["default_latency_ms"], 50);
    assert_eq!(cfg["seed"], 9);
    assert_eq!(cfg["faults"]["luma"]["moderation"], 0.0);
    let (code, _) = sim.get_json(&sim.url("/nowhere"), &[]).await;
    assert_eq!(code, 404);
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn task_timings_are_listed_per_job() {
    let sim = Sim::start(300, 1.0).await;
    let rx = Receiver::start().await;
    let auth = format!("Bearer {}", kling_jwt("sim-kling-ak", "sim-kling-sk", 1800));
    let before_us = now_us();
    let r = sim
        .post_json(
            "/kling/v1/videos/text2video",
            &[("authorization", &auth)],
            &json!({
                "model_name": "kling-v2-6",
                "prompt": "a kite over dunes",
                "duration": "5",
                "callback_url": rx.url("/v1/callbacks/kling/job_9/s01.motion/1?token=t"),
            }),
        )
        .await;
    assert_eq!(r.status(), 200);
    let task_id = r.json::<Value>().await.unwrap()["data"]["task_id"]
        .as_str()
        .unwrap()
        .to_string();
    let got = rx
        .wait_until("kling succeed callback", WAIT, |r| {
            r.iter().any(|c| c.json()["task_status"] == "succeed")
        })
        .await;
    let url = got[1].json()["task_result"]["videos"][0]["url"]
        .as_str()
        .unwrap()
        .to_string();
    let (code, _) = sim
        .get_json(
            &sim.url(&format!("/kling/v1/videos/text2video/{task_id}")),
            &[("authorization", &auth)],
        )
        .await;
    assert_eq!(code, 200);
    assert!(
        sim.client
            .get(&url)
            .send()
            .await
            .unwrap()
            .status()
            .is_success()
    );

    // The delivery is recorded once its answer is in: wait for the record, not the receiver
    let tasks = eventually("the done delivery recorded", WAIT, || async {
        let (_, v) = sim.get_json(&sim.url("/__sim/tasks?job=job_9"), &[]).await;
        let done = v["tasks"][0]["deliveries"]
            .as_array()
            .is_some_and(|d| d.iter().any(|d| d["phase"] == "done"));
        done.then_some(v)
    })
    .await;
    let list = tasks["tasks"].as_array().unwrap();
    assert_eq!(list.len(), 1);
    let t = &list[0];
    assert_eq!(t["id"], task_id.as_str());
    assert_eq!(t["stage"], "s01.motion");
    assert_eq!(t["attempt"], "1");
    let received = t["received_unix_us"].as_u64().unwrap();
    assert!(received >= before_us, "{t}");
    assert!(
        received / 1000 <= t["created_unix_ms"].as_u64().unwrap(),
        "{t}"
    );
    let phases: Vec<&str> = t["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["phase"].as_str().unwrap())
        .collect();
    assert_eq!(phases, ["running", "done"]);
    let done = &t["deliveries"][1];
    assert_eq!(done["ok"], true);
    let sent = done["sent_unix_us"].as_u64().unwrap();
    assert!(
        sent >= received + 300_000 - 1_000,
        "sent after the latency: {t}"
    );
    assert!(done["answered_unix_us"].as_u64().unwrap() >= sent);
    assert!(
        t["done_polled_unix_us"].as_u64().unwrap() >= received,
        "{t}"
    );
    let download = &t["downloads"][0];
    assert!(
        download["ready_unix_us"].as_u64().unwrap() >= download["asked_unix_us"].as_u64().unwrap()
    );

    // Another job's filter lists nothing; no filter lists every task
    let (_, other) = sim.get_json(&sim.url("/__sim/tasks?job=job_x"), &[]).await;
    assert_eq!(other["tasks"], json!([]));
    let (_, all) = sim.get_json(&sim.url("/__sim/tasks"), &[]).await;
    assert_eq!(all["tasks"].as_array().unwrap().len(), 1);
    sim.stop().await;
}

fn now_us() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_micros() as u64
}
