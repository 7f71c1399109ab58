//! Provider adapters: one file per provider, each building real requests and parsing real
//! responses and callbacks of that provider's wire format. Nothing here performs IO: requests
//! come out as [`HttpRequest`] values for the shell to send, responses go back in as
//! [`HttpResponse`]s, and every outcome is normalised to a [`ProviderStatus`] for the job machine.
//!
//! - [`mod@adapter`]: the [`Adapter`] trait and the data crossing it; [`adapter()`] picks one.
//! - [`config`]: [`ProviderConfig`] from Worker vars and secrets (dev simulator or production).
//! - [`errors`]: the one mapping from HTTP failures to [`ProviderError`].
//! - [`signature`]: callback authenticity (Standard Webhooks, BFL, fal, ElevenLabs, our token).
//!
//! | provider | delivery | callback authenticity |
//! |---|---|---|
//! | veo | poll | — |
//! | sora | project webhook (id only), then poll | Standard Webhooks |
//! | kling, luma, seedance | `callback_url` | our URL token |
//! | runway | poll | — |
//! | fal (Pika) | `?fal_webhook=` | ED25519 + JWKS, and our token |
//! | hailuo | `callback_url` with challenge handshake | our URL token |
//! | bfl | `webhook_url` + `webhook_secret` | `X-BFL-Signature`, and our token |
//! | elevenlabs, minimax_music | synchronous | — |
//! | replicate | `webhook` | Standard Webhooks, and our token |
//! | assembler | `callback_url` | our URL token |
//! | shotstack | `callback` (render id and status only), then poll | our URL token |

pub mod adapter;
pub mod config;
pub mod errors;
pub mod http;
pub mod inline_images;
pub mod kind;
pub mod signature;
pub mod status;

mod common;
mod minimax;
mod url;

pub mod assembler;
pub mod bfl;
pub mod elevenlabs;
pub mod elevenlabs_voices;
pub mod fal;
pub mod hailuo;
pub mod kling;
pub mod luma;
pub mod minimax_music;
pub mod references;
pub mod replicate;
pub mod runway;
pub mod seedance;
pub mod shotstack;
pub mod sora;
pub mod veo;

pub use adapter::LookedUp;
pub use adapter::{
    Adapter, Callback, CallbackEvent, Delivery, InlineImage, PollOutcome, SubmitRequest, Submitted,
    VerifyContext,
};
pub use config::{CallbackConfig, ConfigError, Environment, ProviderConfig, Secret};
pub use errors::http_error;
pub use http::{HttpRequest, HttpResponse, Method};
pub use kind::ProviderKind;
pub use signature::SignatureError;
pub use status::{Output, ProviderError, ProviderStatus};

/// The adapter of a provider
pub fn adapter(kind: ProviderKind) -> &'static dyn Adapter {
    match kind {
        ProviderKind::Veo => &veo::Veo,
        ProviderKind::Sora => &sora::Sora,
        ProviderKind::Kling => &kling::Kling,
        ProviderKind::Runway => &runway::Runway,
        ProviderKind::FalPika => &fal::FalPika,
        ProviderKind::Luma => &luma::Luma,
        ProviderKind::Seedance => &seedance::Seedance,
        ProviderKind::Hailuo => &hailuo::Hailuo,
        ProviderKind::Bfl => &bfl::Bfl,
        ProviderKind::ElevenLabs => &elevenlabs::ElevenLabs,
        ProviderKind::MinimaxMusic => &minimax_music::MinimaxMusic,
        ProviderKind::Replicate => &replicate::Replicate,
        ProviderKind::Assembler => &assembler::Assembler,
        ProviderKind::Shotstack => &shotstack::Shotstack,
    }
}
