//! The model registry: what each model can do, how well, how fast, at what price.
//!
//! Figures are list prices and latencies as published by the providers in 2026 (rounded); quality
//! priors are our own editorial judgement per shot kind and are what outcome data corrects over
//! time. A job pins the registry `version` it started with.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::brief::{AspectRatio, ShotKind};
use crate::ids::{CreatorId, ModelId};
use crate::plan::Capability;
use crate::providers::ProviderKind;
use crate::time::Timestamp;

/// How a model charges
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "unit", rename_all = "snake_case")]
pub enum Pricing {
    /// Per second of output (video, music)
    PerSecond {
        /// USD per second
        usd: f64,
    },
    /// Per generated image
    PerImage {
        /// USD per image
        usd: f64,
    },
    /// Per 1,000 characters of input text (speech)
    PerThousandChars {
        /// USD per 1,000 characters
        usd: f64,
    },
    /// Free (our own assembler)
    Free,
}

/// A feature flag gating a new model
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct FeatureFlag {
    /// Flag name, shown in decisions
    pub name: String,
    /// Percentage of creators (by a stable hash of the creator id) that get the model
    pub rollout_percent: u8,
    /// Creators that always get it
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowlist: Vec<String>,
}

/// One model of the stack
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ModelSpec {
    /// Our id (`veo-3`)
    pub id: ModelId,
    /// Who runs it
    pub provider: ProviderKind,
    /// The provider's own model name, sent in the request
    pub provider_model: String,
    /// What it can do
    pub capability: Capability,
    /// Quality prior per shot kind, 0..=1; `default_quality` for kinds not listed and non-shot stages
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub quality: BTreeMap<ShotKind, f64>,
    /// Quality prior where `quality` has no entry
    pub default_quality: f64,
    /// Price
    pub pricing: Pricing,
    /// Median time from submit to output, ms
    pub latency_p50_ms: u64,
    /// 95th percentile, ms
    pub latency_p95_ms: u64,
    /// Longest output it makes in one call, seconds (0: not applicable)
    pub max_duration_s: f64,
    /// Frame shapes it renders (empty: not applicable)
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aspects: Vec<AspectRatio>,
    /// How many tasks we may have in flight with it at once
    pub concurrency: u32,
    /// Accepts reference images or a character lock, so a cast member looks the same across shots
    pub continuity: bool,
    /// Present when the model is only for some creators
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flag: Option<FeatureFlag>,
    /// From this moment on the model is never submitted to (the provider shut it down or we
    /// stopped using it); `None`: in service
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retired_from: Option<Timestamp>,
}

impl ModelSpec {
    /// The quality prior for a shot kind
    pub fn quality_for(&self, kind: Option<ShotKind>) -> f64 {
        kind.and_then(|k| self.quality.get(&k).copied())
            .unwrap_or(self.default_quality)
    }

    /// Price of one output: seconds for video and music, one image, or characters of speech
    pub fn cost_usd(&self, duration_s: f64, chars: usize) -> f64 {
        match self.pricing {
            Pricing::PerSecond { usd } => usd * duration_s.max(0.0),
            Pricing::PerImage { usd } => usd,
            Pricing::PerThousandChars { usd } => usd * chars as f64 / 1000.0,
            Pricing::Free => 0.0,
        }
    }
}

/// A versioned set of models
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Registry {
    /// Bumped on every change; jobs pin the version they started with
    pub version: u32,
    /// The models
    pub models: Vec<ModelSpec>,
}

impl Registry {
    /// A model by id
    pub fn get(&self, id: &ModelId) -> Option<&ModelSpec> {
        self.models.iter().find(|m| &m.id == id)
    }

    /// Models with a capability
    pub fn with_capability(&self, cap: Capability) -> impl Iterator<Item = &ModelSpec> {
        self.models.iter().filter(move |m| m.capability == cap)
    }

    /// The newest registry this build ships
    pub fn builtin() -> Self {
        super::builtin_v6::builtin_v6()
    }

    /// The newest built-in version
    pub const LATEST_VERSION: u32 = 6;

    /// A built-in registry by version, so a job in flight keeps routing (and falling back) with
    /// the version it started with even after the build ships a newer one
    pub fn builtin_version(version: u32) -> Option<Self> {
        match version {
            1 => Some(builtin_v1()),
            2 => Some(builtin_v2()),
            3 => Some(builtin_v3()),
            4 => Some(builtin_v4()),
            5 => Some(builtin_v5()),
            6 => Some(super::builtin_v6::builtin_v6()),
            _ => None,
        }
    }
}

/// Whether a feature flag lets a creator in, and why: recorded in routing decisions
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum FlagVerdict {
    /// The creator is on the flag's allowlist
    Allowlisted,
    /// The creator's bucket is inside the rollout
    InRollout {
        /// `fnv1a64(creator id) % 100`
        bucket: u8,
        /// The flag's rollout percentage
        rollout_percent: u8,
    },
    /// The creator's bucket is outside the rollout
    NotInRollout {
        /// `fnv1a64(creator id) % 100`
        bucket: u8,
        /// The flag's rollout percentage
        rollout_percent: u8,
    },
}

impl FlagVerdict {
    /// Whether the model may be routed to
    pub fn admits(&self) -> bool {
        match self {
            Self::Allowlisted | Self::InRollout { .. } => true,
            Self::NotInRollout { .. } => false,
        }
    }
}

impl FeatureFlag {
    /// Whether this flag lets `creator` in
    pub fn verdict(&self, creator: &CreatorId) -> FlagVerdict {
        if self.allowlist.iter().any(|c| c == creator.as_str()) {
            return FlagVerdict::Allowlisted;
        }
        let bucket = rollout_bucket(creator);
        let rollout_percent = self.rollout_percent;
        if bucket < rollout_percent {
            FlagVerdict::InRollout {
                bucket,
                rollout_percent,
            }
        } else {
            FlagVerdict::NotInRollout {
                bucket,
                rollout_percent,
            }
        }
    }
}

/// The creator's rollout bucket, 0..100: FNV-1a (64 bit) of the creator id's UTF-8 bytes, mod 100.
///
/// FNV-1a is fixed by its spec (unlike `std`'s `DefaultHasher`, which may change between Rust
/// releases and is seeded per process in `HashMap`), so a creator stays in the same bucket across
/// builds, isolates and the native and wasm targets. Raising `rollout_percent` only ever adds
/// creators.
pub fn rollout_bucket(creator: &CreatorId) -> u8 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in creator.as_str().bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    // The remainder is below 100, so the conversion cannot fail; 0 is unreachable.
    u8::try_from(hash % 100).unwrap_or(0)
}

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
fn builtin_v4() -> Registry {
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
fn builtin_v3() -> Registry {
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
fn builtin_v2() -> Registry {
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
fn builtin_v1() -> Registry {
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
