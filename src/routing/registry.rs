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
