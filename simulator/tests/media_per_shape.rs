//! `SIM_MEDIA_VARIETY=per-shape`, for load tests: two pictures of the same shape are one file
//! whatever their prompts, so hundreds of renders do not each wait on ffmpeg; by default
//! (`per-task`) each is its own.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use serde_json::json;

async fn picture(sim: &Sim, prompt: &str) -> Vec<u8> {
    let sample = bfl_sample(sim, json!({"prompt": prompt, "output_format": "png"})).await;
    let r = sim.client.get(&sample).send().await.unwrap();
    assert_eq!(r.status(), 200);
    r.bytes().await.unwrap().to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_shape_media_serves_one_file_for_every_picture_of_a_shape() {
    let mut settings = simulator::Settings::ephemeral();
    settings.latency_ms = 50;
    settings.media_variety = "per-shape".into();
    let sim = Sim::start_with(settings).await;
    let a = picture(&sim, "a lighthouse in fog").await;
    let b = picture(&sim, "a market at noon").await;
    assert!(a.starts_with(b"\x89PNG"), "a real PNG");
    assert_eq!(a, b, "one file per shape");
    sim.stop().await;
    let each = Sim::start(50, 1.0).await;
    let c = picture(&each, "a lighthouse in fog").await;
    let d = picture(&each, "a market at noon").await;
    assert_ne!(c, d, "by default each picture is its own");
    each.stop().await;
}
