//! The built-in registries before version 6, kept so that a job pinned to one keeps routing
//! (and falling back) with it; each version is the one before it with its changes.

use std::collections::BTreeMap;

use crate::brief::{AspectRatio, ShotKind};
use crate::ids::ModelId;
use crate::plan::Capability;
use crate::providers::ProviderKind;

use super::registry::{FeatureFlag, ModelSpec, Pricing, Registry};

fn priors(pairs: &[(ShotKind, f64)]) -> BTreeMap<ShotKind, f64> {
    pairs.iter().copied().collect()
}

#[allow(clippy::too_many_arguments)]
fn video(
    id: &str,
    provider: ProviderKind,
    provider_model: &str,
    quality: &[(ShotKind, f64)],
    default_quality: f64,
    usd_per_s: f64,
    (p50_s, p95_s): (u64, u64),
    max_duration_s: f64,
    aspects: &[AspectRatio],
    concurrency: u32,
    continuity: bool,
) -> ModelSpec {
    ModelSpec {
        id: ModelId(id.into()),
        provider,
        provider_model: provider_model.into(),
        capability: Capability::Video,
        quality: priors(quality),
        default_quality,
        pricing: Pricing::PerSecond { usd: usd_per_s },
        latency_p50_ms: p50_s * 1000,
        latency_p95_ms: p95_s * 1000,
        max_duration_s,
        aspects: aspects.to_vec(),
        concurrency,
        continuity,
        flag: None,
        retired_from: None,
    }
}

/// Version 5: two models that take a cast member's reference images (see
/// `providers::references`), so a locked look with images reaches the keyframe and, among
/// near-equal quality, the motion:
///
/// - FLUX.1 Kontext \[pro\] (`flux-kontext-pro`): up to four reference images by URL; $0.04 per
///   image, as FLUX 1.1 \[pro\] (<https://docs.bfl.ml/quick_start/pricing>); the same quality
///   prior as FLUX 1.1 \[pro\], so with references continuity picks it.
/// - Kling 1.6 from several images (`kling-v1-6`, `multi-image2video`): the keyframe and up to
///   three references; $0.056 per second (standard mode, as fal hosts it:
///   <https://fal.ai/models/fal-ai/kling-video/v1.6/standard/elements/llms.txt>); quality priors
///   a step under Kling 2.1, whose close-ups and dialogue it is near.
///
/// Both are candidates only for stages with reference images (`references::needs_references`):
/// every other stage routes exactly as in version 4.
pub(super) fn builtin_v5() -> Registry {
    use AspectRatio::{Landscape as L, Portrait as P, Square as S};
    use ShotKind::{CloseUp, Dialogue};
    let mut registry = builtin_v4();
    registry.version = 5;
    registry.models.push(ModelSpec {
        id: ModelId("flux-kontext-pro".into()),
        provider: ProviderKind::Bfl,
        provider_model: "flux-kontext-pro".into(),
        capability: Capability::Image,
        quality: BTreeMap::new(),
        default_quality: 0.9,
        pricing: Pricing::PerImage { usd: 0.04 },
        latency_p50_ms: 10_000,
        latency_p95_ms: 25_000,
        max_duration_s: 0.0,
        aspects: vec![L, P, S],
        concurrency: 8,
        continuity: true,
        flag: None,
        retired_from: None,
    });
    registry.models.push(video(
        "kling-1.6-multi",
        ProviderKind::Kling,
        "kling-v1-6",
        &[(CloseUp, 0.87), (Dialogue, 0.84)],
        0.78,
        0.056,
        (110, 260),
        10.0,
        &[L, P, S],
        4,
        true,
    ));
    registry
}

/// Version 4: our assembler also cuts the last frame out of a clip (`studio-frame`), so a shot
/// longer than any video model makes in one call is rendered as parts that continue each other
/// (see `plan`). It is our own service: free, and as fast as one ffmpeg seek (the figures leave
/// room for queueing behind an assembly, which our assembler runs one at a time).
pub(super) fn builtin_v4() -> Registry {
    use AspectRatio::{Landscape as L, Portrait as P, Square as S};
    let mut registry = builtin_v3();
    registry.version = 4;
    registry.models.push(ModelSpec {
        id: ModelId("studio-frame".into()),
        provider: ProviderKind::Assembler,
        provider_model: "last-frame-v1".into(),
        capability: Capability::Frame,
        quality: BTreeMap::new(),
        default_quality: 1.0,
        pricing: Pricing::Free,
        latency_p50_ms: 5_000,
        latency_p95_ms: 30_000,
        max_duration_s: 0.0,
        aspects: vec![L, P, S],
        concurrency: 2,
        continuity: false,
        flag: None,
        retired_from: None,
    });
    registry
}

/// Version 3: Shotstack's Edit API as a second assembly model, so a job whose assembly fails on
/// our assembler (or finds it down) falls back to it. It makes the master and a poster only (no
/// variants, no captions: `src/providers/shotstack.rs`), so its quality prior sits well below our
/// assembler's and Ra only reaches it by fallback.
///
/// - Price: Shotstack bills one credit per rendered minute, counted by the second, whatever the
///   resolution (<https://help.shotstack.io/en/articles/8580225-general-faq>); a credit costs
///   $0.20 on the subscription plan and $0.30 pay-as-you-go (secondary, 2026:
///   <https://raw.githubusercontent.com/api-evangelist/shotstack/refs/heads/main/plans/shotstack-plans-pricing.yml>,
///   citing <https://shotstack.io/pricing/>). We take the subscription rate: $0.20/60 per second.
/// - Latency: "approximately 10 seconds for a 30-second video" of rendering
///   (<https://shotstack.io/docs/guide/architecting-an-application/guidelines>), plus queueing
///   and fetching every source from R2; our estimate is 30 s median, 120 s at p95.
/// - Frames: `aspectRatio` 16:9, 9:16 and 1:1 (also 4:5 and 4:3, which we do not plan).
pub(super) fn builtin_v3() -> Registry {
    use AspectRatio::{Landscape as L, Portrait as P, Square as S};
    let mut registry = builtin_v2();
    registry.version = 3;
    registry.models.push(ModelSpec {
        id: ModelId("shotstack-edit".into()),
        provider: ProviderKind::Shotstack,
        provider_model: "edit-v1".into(),
        capability: Capability::Assembly,
        quality: BTreeMap::new(),
        default_quality: 0.8,
        pricing: Pricing::PerSecond { usd: 0.20 / 60.0 },
        latency_p50_ms: 30_000,
        latency_p95_ms: 120_000,
        max_duration_s: 0.0,
        aspects: vec![L, P, S],
        concurrency: 2,
        continuity: false,
        flag: None,
        retired_from: None,
    });
    registry
}

/// Version 2: Wan 2.2 opens to 10% of creators; the Runway and Pika priors are corrected down for
/// dialogue (lip sync drift we saw in review). Every other figure is as in version 1.
pub(super) fn builtin_v2() -> Registry {
    let mut registry = builtin_v1();
    registry.version = 2;
    for model in &mut registry.models {
        match model.id.as_str() {
            "wan-2.2" => {
                if let Some(flag) = model.flag.as_mut() {
                    flag.rollout_percent = 10;
                }
            }
            "runway-gen4-turbo" | "pika-2.2" => {
                model.quality.insert(ShotKind::Dialogue, 0.7);
            }
            _ => {}
        }
    }
    registry
}

/// Version 1, as first shipped: Wan 2.2 behind its flag for nobody
pub(super) fn builtin_v1() -> Registry {
    use AspectRatio::{Landscape as L, Portrait as P, Square as S};
    use ShotKind::*;
    let models = vec![
        video(
            "veo-3",
            ProviderKind::Veo,
            "veo-3.0-generate-001",
            &[
                (Establishing, 0.95),
                (Action, 0.92),
                (Dialogue, 0.93),
                (Crowd, 0.9),
                (BRoll, 0.84),
            ],
            0.9,
            0.40,
            (90, 180),
            8.0,
            &[L, P],
            4,
            true,
        ),
        video(
            "sora-2",
            ProviderKind::Sora,
            "sora-2",
            &[
                (Establishing, 0.9),
                (Action, 0.9),
                (Dialogue, 0.88),
                (CloseUp, 0.86),
            ],
            0.86,
            0.10,
            (120, 300),
            12.0,
            &[L, P],
            4,
            false,
        ),
        video(
            "kling-2.1",
            ProviderKind::Kling,
            "kling-v2-1",
            &[(CloseUp, 0.9), (Dialogue, 0.86), (Action, 0.84)],
            0.84,
            0.098,
            (100, 240),
            10.0,
            &[L, P, S],
            5,
            true,
        ),
        video(
            "runway-gen4-turbo",
            ProviderKind::Runway,
            "gen4_turbo",
            &[(BRoll, 0.86), (Establishing, 0.84), (Action, 0.85)],
            0.82,
            0.05,
            (45, 120),
            10.0,
            &[L, P, S],
            5,
            true,
        ),
        video(
            "pika-2.2",
            ProviderKind::FalPika,
            "fal-ai/pika/v2.2/image-to-video",
            &[(BRoll, 0.78), (CloseUp, 0.76)],
            0.74,
            0.04,
            (40, 100),
            10.0,
            &[L, P, S],
            6,
            true,
        ),
        video(
            "luma-ray-2",
            ProviderKind::Luma,
            "ray-2",
            &[(Establishing, 0.86), (BRoll, 0.84)],
            0.8,
            0.07,
            (60, 150),
            9.0,
            &[L, P, S],
            4,
            true,
        ),
        video(
            "seedance-1-pro",
            ProviderKind::Seedance,
            "seedance-1-0-pro-250528",
            &[(Crowd, 0.84), (Action, 0.83), (BRoll, 0.8)],
            0.8,
            0.03,
            (50, 130),
            12.0,
            &[L, P, S],
            6,
            true,
        ),
        video(
            "hailuo-02",
            ProviderKind::Hailuo,
            "MiniMax-Hailuo-02",
            &[(Action, 0.85), (Crowd, 0.82), (CloseUp, 0.8)],
            0.8,
            0.045,
            (70, 160),
            10.0,
            &[L, P],
            5,
            true,
        ),
        ModelSpec {
            flag: Some(FeatureFlag {
                name: "wan-2.2-on-replicate".into(),
                rollout_percent: 0,
                allowlist: vec![],
            }),
            ..video(
                "wan-2.2",
                ProviderKind::Replicate,
                "wan-video/wan-2.2-i2v-fast",
                &[(BRoll, 0.76), (Establishing, 0.74)],
                0.72,
                0.02,
                (40, 90),
                5.0,
                &[L, P],
                4,
                true,
            )
        },
        ModelSpec {
            id: ModelId("flux-1.1-pro".into()),
            provider: ProviderKind::Bfl,
            provider_model: "flux-pro-1.1".into(),
            capability: Capability::Image,
            quality: BTreeMap::new(),
            default_quality: 0.9,
            pricing: Pricing::PerImage { usd: 0.04 },
            latency_p50_ms: 8_000,
            latency_p95_ms: 20_000,
            max_duration_s: 0.0,
            aspects: vec![L, P, S],
            concurrency: 8,
            continuity: true,
            flag: None,
            retired_from: None,
        },
        ModelSpec {
            id: ModelId("eleven-multilingual-v2".into()),
            provider: ProviderKind::ElevenLabs,
            provider_model: "eleven_multilingual_v2".into(),
            capability: Capability::Speech,
            quality: BTreeMap::new(),
            default_quality: 0.92,
            pricing: Pricing::PerThousandChars { usd: 0.30 },
            latency_p50_ms: 3_000,
            latency_p95_ms: 8_000,
            max_duration_s: 0.0,
            aspects: vec![],
            concurrency: 4,
            continuity: true,
            flag: None,
            retired_from: None,
        },
        ModelSpec {
            id: ModelId("minimax-music-1.5".into()),
            provider: ProviderKind::MinimaxMusic,
            provider_model: "music-1.5".into(),
            capability: Capability::Music,
            quality: BTreeMap::new(),
            default_quality: 0.85,
            pricing: Pricing::PerSecond { usd: 0.0025 },
            latency_p50_ms: 30_000,
            latency_p95_ms: 60_000,
            max_duration_s: 240.0,
            aspects: vec![],
            concurrency: 2,
            continuity: false,
            flag: None,
            retired_from: None,
        },
        ModelSpec {
            id: ModelId("studio-assembler".into()),
            provider: ProviderKind::Assembler,
            provider_model: "timeline-v1".into(),
            capability: Capability::Assembly,
            quality: BTreeMap::new(),
            default_quality: 1.0,
            pricing: Pricing::Free,
            latency_p50_ms: 20_000,
            latency_p95_ms: 45_000,
            max_duration_s: 0.0,
            aspects: vec![L, P, S],
            concurrency: 2,
            continuity: false,
            flag: None,
            retired_from: None,
        },
    ];
    Registry { version: 1, models }
}
