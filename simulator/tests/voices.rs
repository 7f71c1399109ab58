//! ElevenLabs voices on the simulator: a library in the real `GET /v2/voices` shape, instant
//! voice clones from multipart audio samples that join it, and the reference-image fields of
//! FLUX Kontext and Kling's multi-image endpoint, counted in the stats.

mod common;

use common::{Sim, kling_jwt};
use serde_json::{Value, json};

const KEY: (&str, &str) = ("xi-api-key", "sim-elevenlabs-key");
const WAV: &[u8] = b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\x44\xac\x00\x00";

/// A `multipart/form-data` body: text fields, then `files` parts
fn multipart(fields: &[(&str, &str)], files: &[&[u8]]) -> (String, Vec<u8>) {
    let b = "sim-test-boundary";
    let mut body = Vec::new();
    for (k, v) in fields {
        body.extend_from_slice(
            format!("--{b}\r\ncontent-disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    for (i, f) in files.iter().enumerate() {
        body.extend_from_slice(
            format!(
                "--{b}\r\ncontent-disposition: form-data; name=\"files\"; filename=\"s{i}.wav\"\r\ncontent-type: audio/wav\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(f);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{b}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={b}"), body)
}

/// POSTs JSON to a simulator path; the status and the JSON answer
async fn post(sim: &Sim, path: &str, headers: &[(&str, &str)], body: &Value) -> (u16, Value) {
    let resp = sim.post_json(path, headers, body).await;
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn add(sim: &Sim, fields: &[(&str, &str)], files: &[&[u8]]) -> (u16, Value) {
    let (ct, body) = multipart(fields, files);
    let resp = sim
        .client
        .post(sim.url("/elevenlabs/v1/voices/add"))
        .header(KEY.0, KEY.1)
        .header("content-type", ct)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_library_is_served_in_the_v2_shape_and_clones_join_it() {
    let sim = Sim::start(50, 1.0).await;
    let (status, page) = sim
        .get_json(
            &sim.url("/elevenlabs/v2/voices?page_size=100&sort=name&sort_direction=asc"),
            &[KEY],
        )
        .await;
    assert_eq!(status, 200);
    let voices = page["voices"].as_array().expect("voices");
    assert!(voices.len() >= 10, "{page}");
    assert_eq!(page["has_more"], false);
    assert_eq!(page["total_count"], voices.len());
    for v in voices {
        assert!(
            v["voice_id"].as_str().is_some_and(|id| !id.is_empty()),
            "{v}"
        );
        for label in ["gender", "age", "accent", "use_case"] {
            assert!(v["labels"][label].is_string(), "{label} of {v}");
        }
    }
    let names: Vec<&str> = voices.iter().filter_map(|v| v["name"].as_str()).collect();
    let mut sorted = names.clone();
    sorted.sort_unstable();
    assert_eq!(names, sorted);
    // Paging: two voices, then the rest from the token.
    let (_, first) = sim
        .get_json(&sim.url("/elevenlabs/v2/voices?page_size=2"), &[KEY])
        .await;
    assert_eq!(first["voices"].as_array().map(Vec::len), Some(2));
    assert_eq!(first["has_more"], true);
    let token = first["next_page_token"].as_str().expect("token").to_owned();
    let (_, rest) = sim
        .get_json(
            &sim.url(&format!(
                "/elevenlabs/v2/voices?page_size=100&next_page_token={token}"
            )),
            &[KEY],
        )
        .await;
    assert_eq!(
        rest["voices"].as_array().map(Vec::len),
        Some(voices.len() - 2)
    );
    let (bad, _) = sim
        .get_json(&sim.url("/elevenlabs/v2/voices?page_size=500"), &[KEY])
        .await;
    assert_eq!(bad, 422);
    let (unauthorized, _) = sim.get_json(&sim.url("/elevenlabs/v2/voices"), &[]).await;
    assert_eq!(unauthorized, 401);

    // An instant clone from two WAV samples joins the library as `cloned`.
    let (status, made) = add(
        &sim,
        &[
            ("name", "demo-keeper"),
            ("labels", r#"{"accent": "british"}"#),
        ],
        &[WAV, WAV],
    )
    .await;
    assert_eq!(status, 200, "{made}");
    let id = made["voice_id"].as_str().expect("voice_id").to_owned();
    assert_eq!(made["requires_verification"], false);
    let (_, one) = sim
        .get_json(&sim.url(&format!("/elevenlabs/v1/voices/{id}")), &[KEY])
        .await;
    assert_eq!(one["category"], "cloned");
    assert_eq!(one["name"], "demo-keeper");
    assert_eq!(one["labels"]["accent"], "british");
    let (_, cloned) = sim
        .get_json(&sim.url("/elevenlabs/v2/voices?category=cloned"), &[KEY])
        .await;
    assert_eq!(cloned["voices"][0]["voice_id"], id.as_str());
    // Not audio, no files, no name: refused as the API does, nothing made.
    let (status, _) = add(&sim, &[("name", "x")], &[b"<html>not audio</html>"]).await;
    assert_eq!(status, 422);
    let (status, _) = add(&sim, &[("name", "x")], &[]).await;
    assert_eq!(status, 422);
    let (status, _) = add(&sim, &[], &[WAV]).await;
    assert_eq!(status, 422);
    assert_eq!(sim.stats().await["voice_clones"], 1);
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reference_images_are_taken_where_the_real_apis_take_them() {
    let sim = Sim::start(50, 1.0).await;
    let refs = [
        "https://media.example.test/creators/demo/looks/keeper/a.png",
        "https://media.example.test/creators/demo/looks/keeper/b.png",
    ];
    let (status, bfl) = post(
        &sim,
        "/bfl/v1/flux-kontext-pro",
        &[("x-key", "sim-bfl-key")],
        &json!({
            "prompt": "Ines winding the lamp",
            "input_image": refs[0],
            "input_image_2": refs[1],
            "aspect_ratio": "16:9",
            "output_format": "png",
        }),
    )
    .await;
    assert_eq!(status, 200, "{bfl}");
    let (status, _) = post(
        &sim,
        "/bfl/v1/flux-kontext-pro",
        &[("x-key", "sim-bfl-key")],
        &json!({"prompt": "x", "input_image_2": ""}),
    )
    .await;
    assert_eq!(status, 422);

    let auth = format!("Bearer {}", kling_jwt("sim-kling-ak", "sim-kling-sk", 1800));
    let list = json!([
        {"image": "https://media.example.test/renders/j/s02.keyframe/1/output.png"},
        {"image": refs[0]},
        {"image": refs[1]},
    ]);
    let (status, kling) = post(
            &sim,
            "/kling/v1/videos/multi-image2video",
            &[("authorization", auth.as_str())],
            &json!({"model_name": "kling-v1-6", "prompt": "p", "image_list": list, "aspect_ratio": "16:9", "duration": "5"}),
        )
        .await;
    assert_eq!(status, 200, "{kling}");
    let id = kling["data"]["task_id"]
        .as_str()
        .expect("task id")
        .to_owned();
    let (status, polled) = sim
        .get_json(
            &sim.url(&format!("/kling/v1/videos/multi-image2video/{id}")),
            &[("authorization", auth.as_str())],
        )
        .await;
    assert_eq!(status, 200, "{polled}");
    for bad in [
        json!({"model_name": "kling-v2-1", "prompt": "p", "image_list": list}),
        json!({"model_name": "kling-v1-6", "prompt": "p", "image_list": []}),
        json!({"model_name": "kling-v1-6", "prompt": "p"}),
    ] {
        let (status, body) = post(
            &sim,
            "/kling/v1/videos/multi-image2video",
            &[("authorization", auth.as_str())],
            &bad,
        )
        .await;
        assert_ne!(status, 200, "{bad} -> {body}");
    }
    let stats = sim.stats().await;
    assert_eq!(stats["reference_images"]["bfl"], 2, "{stats}");
    assert_eq!(stats["reference_images"]["kling"], 2, "{stats}");
    sim.stop().await;
}
