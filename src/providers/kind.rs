//! The providers we speak to. Adding one means one variant here and one adapter file.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A generation provider (or our own assembler)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[derive(schemars::JsonSchema)]
pub enum ProviderKind {
    /// Google Veo 3 through the Gemini API (long-running operation, polled)
    Veo,
    /// OpenAI Sora 2 videos API (Standard Webhooks)
    Sora,
    /// Kling (JWT auth, `callback_url`)
    Kling,
    /// Runway tasks (polled)
    Runway,
    /// Pika through fal's queue (ED25519 webhooks)
    FalPika,
    /// Luma Dream Machine (`callback_url`)
    Luma,
    /// Seedance on BytePlus ModelArk (`callback_url`)
    Seedance,
    /// MiniMax Hailuo video (callback challenge, file retrieve)
    Hailuo,
    /// Black Forest Labs FLUX 1.1 pro (`webhook_url` + secret)
    Bfl,
    /// ElevenLabs text to speech (synchronous audio body)
    ElevenLabs,
    /// MiniMax music
    MinimaxMusic,
    /// Replicate predictions (Standard Webhooks), a generic adapter
    Replicate,
    /// Our assembler service: timeline in, master and variants out
    Assembler,
    /// Shotstack's Edit API, the fallback assembly route: timeline in, master and poster out
    Shotstack,
}

impl ProviderKind {
    /// Every provider
    pub const ALL: [Self; 14] = [
        Self::Veo,
        Self::Sora,
        Self::Kling,
        Self::Runway,
        Self::FalPika,
        Self::Luma,
        Self::Seedance,
        Self::Hailuo,
        Self::Bfl,
        Self::ElevenLabs,
        Self::MinimaxMusic,
        Self::Replicate,
        Self::Assembler,
        Self::Shotstack,
    ];

    /// The path segment used in callback routes (`/v1/callbacks/{provider}/...`) and config keys
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Veo => "veo",
            Self::Sora => "sora",
            Self::Kling => "kling",
            Self::Runway => "runway",
            Self::FalPika => "fal",
            Self::Luma => "luma",
            Self::Seedance => "seedance",
            Self::Hailuo => "hailuo",
            Self::Bfl => "bfl",
            Self::ElevenLabs => "elevenlabs",
            Self::MinimaxMusic => "minimax_music",
            Self::Replicate => "replicate",
            Self::Assembler => "assembler",
            Self::Shotstack => "shotstack",
        }
    }

    /// Parses a callback path segment
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl fmt::Display for ProviderKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
