//! Registry version 6: a current model stack.
//!
//! Built from version 5, whose builder is left untouched so jobs pinned to 1..=5 route exactly as
//! before. What changes:
//!
//! - **Sora 2 is retired from 2026-09-24T00:00:00Z.** OpenAI shut the Sora 2 models and the
//!   Videos API down that day ("The Sora 2 video generation models and Videos API are deprecated
//!   and will shut down on September 24, 2026":
//!   <https://developers.openai.com/api/docs/guides/video-generation>; OpenAI's `sora-2` model
//!   page says the same). The entry stays, so decisions recorded with it still read, but
//!   `retired_from` is set: a submit to it would meet "model not found".
//! - **Newer video models**, each on an endpoint and with fields its adapter already sends
//!   (sources on each entry): Veo 3.1, Kling 2.6, Runway Gen-4.5, Seedance 1.0 Pro Fast.
//! - **A second model for every capability that had one**: FLUX 1.1 \[pro\] through Replicate for
//!   keyframes (a second provider for the same weights), ElevenLabs Flash v2.5 for speech, and
//!   for music MiniMax Music 2.6 and Eleven Music (a second provider).
//!
//! Prices are the providers' list prices where we found them (cited; a reseller's figure where
//! the provider publishes none, said so). Latencies and quality priors are our editorial
//! judgement, as in earlier versions, reasoned on each entry; outcome data corrects the priors.
//!
//! Not added, because the request our adapter sends could not be verified for them: Seedance
//! 1.5 Pro and 2.0 (they generate audio unless a body field says otherwise, and the adapter sends
//! its parameters as prompt flags), MiniMax Hailuo 2.3 (which durations it renders at 768P),
//! Kling 2.5 Turbo (documented in pro mode only; the adapter sends `std`), Kling 3.

use std::collections::BTreeMap;

use crate::brief::{AspectRatio, ShotKind};
use crate::ids::ModelId;
use crate::plan::Capability;
use crate::providers::ProviderKind;
use crate::time::Timestamp;

use super::builtin_early::builtin_v5;
use super::registry::{ModelSpec, Pricing, Registry};

/// The moment OpenAI shut the Sora 2 models and the Videos API down: 2026-09-24T00:00:00Z
const SORA_2_SHUTDOWN: Timestamp = Timestamp(1_790_208_000_000);

/// A model in service with no feature flag; the fields that differ are set by the caller
fn spec(
    id: &str,
    provider: ProviderKind,
    provider_model: &str,
    capability: Capability,
    pricing: Pricing,
    (p50_ms, p95_ms): (u64, u64),
) -> ModelSpec {
    ModelSpec {
        id: ModelId(id.into()),
        provider,
        provider_model: provider_model.into(),
        capability,
        quality: BTreeMap::new(),
        default_quality: 0.0,
        pricing,
        latency_p50_ms: p50_ms,
        latency_p95_ms: p95_ms,
        max_duration_s: 0.0,
        aspects: Vec::new(),
        concurrency: 1,
        continuity: false,
        flag: None,
        retired_from: None,
    }
}

fn priors(pairs: &[(ShotKind, f64)]) -> BTreeMap<ShotKind, f64> {
    pairs.iter().copied().collect()
}

/// Version 6 (see the module documentation)
pub(super) fn builtin_v6() -> Registry {
    let mut registry = builtin_v5();
    registry.version = 6;
    for model in &mut registry.models {
        if model.id.as_str() == "sora-2" {
            model.retired_from = Some(SORA_2_SHUTDOWN);
        }
    }
    registry.models.extend(video_models());
    registry.models.extend(second_models());
    registry
}

/// Newer video models, on the endpoints and fields their adapters already send
fn video_models() -> [ModelSpec; 4] {
    use AspectRatio::{Landscape as L, Portrait as P, Square as S};
    use ShotKind::{Action, BRoll, CloseUp, Crowd, Dialogue, Establishing};
    [
        // Veo 3.1 on the Gemini API: the same `predictLongRunning` body as Veo 3 (`instances[0]`
        // prompt and inline `image.bytesBase64Encoded`, `parameters.durationSeconds` 4|6|8,
        // `aspectRatio`, `negativePrompt`); `veo-3.1-generate-preview` is the Gemini API's name
        // (the `-001` names are Vertex's and are "not found for API version v1beta"): official
        // SDK googleapis/python-genai `README.md` and `tests/shared/models/test_generate_videos.py`;
        // google-gemini/cookbook `quickstarts/Get_started_Veo_REST.ipynb`. $0.40 per second at
        // 720p and 1080p (<https://ai.google.dev/gemini-api/docs/pricing>, as quoted in 2026).
        // Priors a step above Veo 3 on every kind (sharper prompt adherence, first and last
        // frame control), close-ups added; the same latency, as the same service renders it.
        ModelSpec {
            quality: priors(&[
                (Establishing, 0.96),
                (Action, 0.93),
                (Dialogue, 0.95),
                (Crowd, 0.91),
                (BRoll, 0.86),
                (CloseUp, 0.92),
            ]),
            default_quality: 0.91,
            max_duration_s: 8.0,
            aspects: vec![L, P],
            concurrency: 4,
            continuity: true,
            ..spec(
                "veo-3.1",
                ProviderKind::Veo,
                "veo-3.1-generate-preview",
                Capability::Video,
                Pricing::PerSecond { usd: 0.40 },
                (90_000, 180_000),
            )
        },
        // Kling 2.6: `POST /v1/videos/image2video` with `model_name: kling-v2-6`, `image`,
        // `prompt`, `negative_prompt`, `duration` "5"|"10", `mode`, `callback_url`,
        // `external_task_id` (Kling API "Image to Video" example request, which uses exactly
        // `kling-v2-6`: <https://app.klingai.com/global/dev/document-api/apiReference/model/imageToVideo>).
        // `std` mode renders 720p without sound, which the assembler does not want anyway.
        // $0.07 per second without audio as fal hosts it
        // (<https://fal.ai/models/fal-ai/kling-video/v2.6/pro/image-to-video/llms.txt>); Kling's
        // own price is in resource-pack units. Priors a step above Kling 2.1 on its strong kinds.
        ModelSpec {
            quality: priors(&[(CloseUp, 0.91), (Dialogue, 0.87), (Action, 0.86)]),
            default_quality: 0.85,
            max_duration_s: 10.0,
            aspects: vec![L, P, S],
            concurrency: 5,
            continuity: true,
            ..spec(
                "kling-2.6",
                ProviderKind::Kling,
                "kling-v2-6",
                Capability::Video,
                Pricing::PerSecond { usd: 0.07 },
                (100_000, 240_000),
            )
        },
        // Runway Gen-4.5: `POST /v1/image_to_video` with `model: gen4.5`, `promptImage`,
        // `promptText`, `ratio` (1280:720, 720:1280 and 960:960 among its values) and `duration`
        // 2..=10 (official SDK runwayml/sdk-python `types/image_to_video_create_params.py`).
        // 12 credits per second at $0.01 a credit: $0.12 (as Runway's rate is resold,
        // <https://inference.sh/apps/runway/gen-4-5.md>). Priors above Gen-4 Turbo for B-roll,
        // establishing and action; dialogue stays low, as version 2 found for Gen-4 Turbo.
        ModelSpec {
            quality: priors(&[
                (BRoll, 0.88),
                (Establishing, 0.87),
                (Action, 0.87),
                (Dialogue, 0.72),
            ]),
            default_quality: 0.84,
            max_duration_s: 10.0,
            aspects: vec![L, P, S],
            concurrency: 5,
            continuity: true,
            ..spec(
                "runway-gen4.5",
                ProviderKind::Runway,
                "gen4.5",
                Capability::Video,
                Pricing::PerSecond { usd: 0.12 },
                (60_000, 150_000),
            )
        },
        // Seedance 1.0 Pro Fast on BytePlus ModelArk: the same content generation task as 1.0 Pro
        // (`content` text with `--ratio`/`--duration` flags, `image_url` with
        // `role: first_frame`, `callback_url`; Comfy Router's schema of
        // `byteplus/seedance-1-0-pro-fast-251015`:
        // <https://docs.comfy.org/development/comfy-router/models/byteplus/seedance-1-0-pro-fast-251015/code>).
        // About $0.032 per second at its default 1080p (<https://runware.ai/docs/models/bytedance-seedance-1-0-pro-fast.md>:
        // $0.1589 for 5 s at 16:9). Faster than 1.0 Pro, priors a step under it: a fallback.
        ModelSpec {
            quality: priors(&[(Crowd, 0.8), (Action, 0.79), (BRoll, 0.77)]),
            default_quality: 0.76,
            max_duration_s: 10.0,
            aspects: vec![L, P, S],
            concurrency: 6,
            continuity: true,
            ..spec(
                "seedance-1-pro-fast",
                ProviderKind::Seedance,
                "seedance-1-0-pro-fast-251015",
                Capability::Video,
                Pricing::PerSecond { usd: 0.032 },
                (30_000, 80_000),
            )
        },
    ]
}

/// A second model for keyframes, speech and music, so none has a single model to fall back from
fn second_models() -> [ModelSpec; 4] {
    use AspectRatio::{Landscape as L, Portrait as P, Square as S};
    [
        // FLUX 1.1 [pro] through Replicate: the same weights as BFL's, on a second provider, so
        // a keyframe survives BFL being down. `black-forest-labs/flux-1.1-pro` is an official
        // model (run by name: <https://replicate.com/changelog/2025-01-29-official-models>) whose
        // input takes `prompt`, `aspect_ratio` and `output_format`, and whose output is one
        // image URL (<https://replicate.com/black-forest-labs/flux-1.1-pro>); the Replicate
        // adapter sends those for keyframes. $0.04 per image, as at BFL
        // (<https://lumenfall.ai/models/black-forest-labs/flux1.1-pro> lists Replicate's price).
        // A hair under BFL's prior so BFL's own endpoint leads even for hero shots, and a little
        // slower (one more hop, Replicate's queue).
        ModelSpec {
            default_quality: 0.89,
            aspects: vec![L, P, S],
            concurrency: 6,
            continuity: true,
            ..spec(
                "flux-1.1-pro-replicate",
                ProviderKind::Replicate,
                "black-forest-labs/flux-1.1-pro",
                Capability::Image,
                Pricing::PerImage { usd: 0.04 },
                (10_000, 30_000),
            )
        },
        // ElevenLabs Flash v2.5 (`eleven_flash_v2_5`, <https://elevenlabs.io/docs/models>): the
        // same text-to-speech endpoint and voices as Multilingual v2, so a cast voice speaks on
        // either; it also takes `language_code`, which the adapter sends it. $0.05 per 1,000
        // characters, half of Multilingual's API rate
        // (<https://developer.puter.com/tutorials/elevenlabs-api-pricing/>, quoting ElevenLabs'
        // API pricing, 2026). A second model at the same provider: the voice ids are
        // ElevenLabs', so no other provider could speak a cast voice. Prior below Multilingual
        // v2 (built for latency, less expressive), so it is the fallback; faster.
        ModelSpec {
            default_quality: 0.86,
            concurrency: 4,
            continuity: true,
            ..spec(
                "eleven-flash-v2.5",
                ProviderKind::ElevenLabs,
                "eleven_flash_v2_5",
                Capability::Speech,
                Pricing::PerThousandChars { usd: 0.05 },
                (1_500, 5_000),
            )
        },
        // MiniMax Music 2.6 (`music-2.6`): the same synchronous `POST /v1/music_generation` with
        // `is_instrumental: true` for a score without lyrics and `output_format: "url"`
        // (MiniMax's music skill for Volcengine: <https://www.skills.sh/site/skills.volces.com/minimaxmusic>;
        // the official MCP server MiniMax-AI/MiniMax-MCP `const.py` already defaults to the
        // 2.x line, and music-1.5 may no longer be served). $0.18 a track
        // (<https://docs.venice.ai/models/minimax-music-2-6>, a reseller: MiniMax publishes no
        // per-song figure we found), counted over one minute of score: $0.003 per second. The
        // newer generation, so a prior above music-1.5's; MiniMax takes no length, so the same
        // 240 s ceiling as music-1.5.
        ModelSpec {
            default_quality: 0.9,
            max_duration_s: 240.0,
            concurrency: 2,
            ..spec(
                "minimax-music-2.6",
                ProviderKind::MinimaxMusic,
                "music-2.6",
                Capability::Music,
                Pricing::PerSecond { usd: 0.003 },
                (40_000, 100_000),
            )
        },
        // Eleven Music (`music_v1`) on a second provider: `POST /v1/music?output_format=..` with
        // `prompt`, `music_length_ms`, `model_id` and `force_instrumental`, the audio in the
        // response body (official SDK elevenlabs/elevenlabs-python `music/raw_client.py`); the
        // ElevenLabs adapter sends it for music models. $0.30 per minute
        // (<https://developer.puter.com/tutorials/elevenlabs-api-pricing/>): $0.005 per second.
        // `music_length_ms` is 10..=300 s in the SDK's older releases (3..=600 s now), so 300 s
        // is the ceiling. Prior under MiniMax's: the fallback.
        ModelSpec {
            default_quality: 0.86,
            max_duration_s: 300.0,
            concurrency: 2,
            ..spec(
                "eleven-music-v1",
                ProviderKind::ElevenLabs,
                "music_v1",
                Capability::Music,
                Pricing::PerSecond { usd: 0.005 },
                (45_000, 120_000),
            )
        },
    ]
}
