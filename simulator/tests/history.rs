//! ElevenLabs history: a generation whose caller hung up mid-request is still made, listed with
//! its text, voice and model, and its audio can be fetched (what a restarted job relies on).

mod common;

use std::time::Duration;

use common::Sim;
use serde_json::{Value, json};

const KEY: (&str, &str) = ("xi-api-key", "sim-elevenlabs-key");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_generation_whose_caller_hung_up_is_in_the_history() {
    let sim = Sim::start(600, 1.0).await;
    // The caller dies 100 ms into a 600 ms generation.
    let cut = sim
        .client
        .post(sim.url("/elevenlabs/v1/text-to-speech/voice_abc"))
        .header(KEY.0, KEY.1)
        .timeout(Duration::from_millis(100))
        .json(&json!({"text": "One more night.", "model_id": "eleven_multilingual_v2"}))
        .send()
        .await;
    assert!(cut.is_err(), "the call was cut off");
    let list = |q: &'static str| sim.get_json_owned(format!("/elevenlabs/v1/history{q}"));
    let (status, early) = list("?voice_id=voice_abc").await;
    assert_eq!(status, 200);
    assert_eq!(early["history"], json!([]), "not made yet: {early}");
    tokio::time::sleep(Duration::from_millis(800)).await;
    let (_, made) =
        list("?voice_id=voice_abc&model_id=eleven_multilingual_v2&sort_direction=asc").await;
    let items = made["history"].as_array().expect("history");
    assert_eq!(items.len(), 1, "{made}");
    let item = &items[0];
    assert_eq!(item["text"], "One more night.");
    assert_eq!(item["voice_id"], "voice_abc");
    assert_eq!(item["model_id"], "eleven_multilingual_v2");
    assert_eq!(item["source"], "TTS");
    assert_eq!(made["has_more"], false);
    assert!(item["date_unix"].as_u64().is_some());
    let (_, other) = list("?voice_id=someone_else").await;
    assert_eq!(other["history"], json!([]));
    let (bad, _) = list("?date_after_unix=soon").await;
    assert_eq!(bad, 422);

    let id = item["history_item_id"].as_str().expect("id");
    let audio = sim
        .client
        .get(sim.url(&format!("/elevenlabs/v1/history/{id}/audio")))
        .header(KEY.0, KEY.1)
        .send()
        .await
        .unwrap();
    assert_eq!(audio.status(), 200);
    assert_eq!(audio.headers()["content-type"], "audio/mpeg");
    assert!(!audio.bytes().await.unwrap().is_empty());
    let (missing, _) = sim
        .get_json(&sim.url("/elevenlabs/v1/history/nope/audio"), &[KEY])
        .await;
    assert_eq!(missing, 404);
    let (unauthorized, _) = sim.get_json(&sim.url("/elevenlabs/v1/history"), &[]).await;
    assert_eq!(unauthorized, 401);
    sim.stop().await;
}

impl Sim {
    async fn get_json_owned(&self, path: String) -> (u16, Value) {
        self.get_json(&self.url(&path), &[KEY]).await
    }
}

/// Luma lists its generations newest first, each with the request it was made from, callback
/// URL included: what finds a submit whose answer a restart lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn luma_lists_generations_with_their_callback_urls_newest_first() {
    let sim = Sim::start(600, 1.0).await;
    let auth = [("authorization", "Bearer sim-luma-key")];
    for n in 1..=3 {
        let made = sim
            .post_json(
                "/luma/dream-machine/v1/generations",
                &auth,
                &json!({
                    "model": "ray-2",
                    "prompt": format!("take {n}"),
                    "callback_url": format!("https://render.example.test/v1/callbacks/luma/j/s/{n}?token=t{n}"),
                }),
            )
            .await;
        assert_eq!(made.status(), 201);
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let (status, page) = sim
        .get_json(
            &sim.url("/luma/dream-machine/v1/generations?limit=2"),
            &auth,
        )
        .await;
    assert_eq!(status, 200, "{page}");
    let listed: Vec<&str> = page["generations"]
        .as_array()
        .expect("generations")
        .iter()
        .map(|g| g["request"]["callback_url"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        listed,
        [
            "https://render.example.test/v1/callbacks/luma/j/s/3?token=t3",
            "https://render.example.test/v1/callbacks/luma/j/s/2?token=t2"
        ]
    );
    assert_eq!(page["has_more"], true);
    assert_eq!(page["count"], 2);
    let (_, rest) = sim
        .get_json(
            &sim.url("/luma/dream-machine/v1/generations?limit=2&offset=2"),
            &auth,
        )
        .await;
    assert_eq!(rest["generations"][0]["request"]["prompt"], "take 1");
    assert_eq!(rest["has_more"], false);
    let (bad, _) = sim
        .get_json(
            &sim.url("/luma/dream-machine/v1/generations?limit=many"),
            &auth,
        )
        .await;
    assert_eq!(bad, 400);
    sim.stop().await;
}
