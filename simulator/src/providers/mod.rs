//! The providers: one module each, plus the submission pipeline they share.
//!
//! A provider module checks credentials and validates the body in the provider's own shapes,
//! then calls [`admit`], which applies submit faults, idempotency and counters and creates the
//! [`Task`]. Polls read the task's phase from the clock; callbacks are scheduled by
//! [`crate::delivery::spawn_lifecycle`] and built by the module's `callback` function.
//! [`admit`] also applies the configured provider limits ([`crate::limits`]): every request is
//! handled inside a scope that frees the limiter slots it still holds when it ends.

pub mod bfl;
pub mod elevenlabs;
pub mod elevenlabs_history;
pub mod elevenlabs_voices;
pub mod fal;
pub mod hailuo;
pub mod kling;
pub mod luma;
pub mod minimax_music;
pub mod replicate;
pub mod runway;
pub mod seedance;
pub mod shotstack;
mod shotstack_masters;
pub mod sora;
pub mod veo;

mod common;

pub use common::*;

use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};

use crate::delivery::Outgoing;
use crate::http::{self, SimRequest};
use crate::limits::Refused;
use crate::state::{Phase, Sim, Task, bump};
use crate::util;

/// A provider the simulator plays; the path prefix is [`Provider::as_str`]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Provider {
    /// Google Veo through the Gemini API
    Veo,
    /// OpenAI Sora 2
    Sora,
    /// Kling
    Kling,
    /// Runway
    Runway,
    /// fal queue (Pika)
    Fal,
    /// Luma Dream Machine
    Luma,
    /// Seedance on BytePlus ModelArk
    Seedance,
    /// MiniMax Hailuo video
    Hailuo,
    /// Black Forest Labs FLUX
    Bfl,
    /// ElevenLabs text to speech
    Elevenlabs,
    /// MiniMax music
    MinimaxMusic,
    /// Replicate predictions
    Replicate,
    /// Shotstack's Edit API (the fallback assembly route)
    Shotstack,
}

impl Provider {
    /// Every provider
    pub const ALL: [Self; 13] = [
        Self::Veo,
        Self::Sora,
        Self::Kling,
        Self::Runway,
        Self::Fal,
        Self::Luma,
        Self::Seedance,
        Self::Hailuo,
        Self::Bfl,
        Self::Elevenlabs,
        Self::MinimaxMusic,
        Self::Replicate,
        Self::Shotstack,
    ];

    /// The path prefix and config key
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Veo => "veo",
            Self::Sora => "sora",
            Self::Kling => "kling",
            Self::Runway => "runway",
            Self::Fal => "fal",
            Self::Luma => "luma",
            Self::Seedance => "seedance",
            Self::Hailuo => "hailuo",
            Self::Bfl => "bfl",
            Self::Elevenlabs => "elevenlabs",
            Self::MinimaxMusic => "minimax_music",
            Self::Replicate => "replicate",
            Self::Shotstack => "shotstack",
        }
    }

    /// Parses a path prefix or config key
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }

    /// The phases at which the provider calls back (empty: polled or synchronous)
    pub fn callback_phases(self) -> &'static [Phase] {
        match self {
            Self::Kling | Self::Luma | Self::Seedance | Self::Hailuo => {
                &[Phase::Running, Phase::Done]
            }
            Self::Replicate => &[Phase::Queued, Phase::Running, Phase::Done],
            Self::Sora | Self::Fal | Self::Bfl | Self::Shotstack => &[Phase::Done],
            Self::Veo | Self::Runway | Self::Elevenlabs | Self::MinimaxMusic => &[],
        }
    }

    /// Whether the answer to a submit is the result itself (the task lasts as long as the
    /// request), rather than a task id to poll or to be called back about
    pub fn synchronous(self) -> bool {
        match self {
            Self::Elevenlabs | Self::MinimaxMusic => true,
            Self::Veo
            | Self::Sora
            | Self::Kling
            | Self::Runway
            | Self::Fal
            | Self::Luma
            | Self::Seedance
            | Self::Hailuo
            | Self::Bfl
            | Self::Replicate
            | Self::Shotstack => false,
        }
    }

    /// Mints a task id in the provider's format
    fn mint_id(self, a: u64, b: u64) -> String {
        match self {
            Self::Veo => util::base36(a, 12),
            Self::Sora => format!("video_{a:016x}{b:016x}"),
            Self::Kling | Self::Hailuo => util::numeric_id(a, 18),
            Self::Runway | Self::Fal | Self::Luma | Self::Bfl | Self::Shotstack => util::uuid(a, b),
            Self::Seedance => {
                let stamp: String = util::rfc3339(util::now_unix_ms())
                    .chars()
                    .filter(char::is_ascii_digit)
                    .take(14)
                    .collect();
                format!("cgt-{stamp}-{}", util::base36(a, 5))
            }
            Self::Elevenlabs => util::base36(a, 20),
            Self::MinimaxMusic => format!("{a:016x}{b:016x}"),
            Self::Replicate => util::base36(a, 26),
        }
    }
}

/// Dispatches a request under `/{provider}/...`; the limiter slots it holds are freed when it
/// ends (answered, or dropped when the client goes away)
pub async fn handle(sim: &Sim, p: Provider, req: SimRequest) -> Response {
    within_request(sim, dispatch(sim, p, req)).await
}

async fn dispatch(sim: &Sim, p: Provider, req: SimRequest) -> Response {
    match p {
        Provider::Veo => veo::handle(sim, req).await,
        Provider::Sora => sora::handle(sim, req).await,
        Provider::Kling => kling::handle(sim, req).await,
        Provider::Runway => runway::handle(sim, req).await,
        Provider::Fal => fal::handle(sim, req).await,
        Provider::Luma => luma::handle(sim, req).await,
        Provider::Seedance => seedance::handle(sim, req).await,
        Provider::Hailuo => hailuo::handle(sim, req).await,
        Provider::Bfl => bfl::handle(sim, req).await,
        Provider::Elevenlabs => elevenlabs::handle(sim, req).await,
        Provider::MinimaxMusic => minimax_music::handle(sim, req).await,
        Provider::Replicate => replicate::handle(sim, req).await,
        Provider::Shotstack => shotstack::handle(sim, req).await,
    }
}

/// Builds the callback a task sends at `phase` (None: nothing to send)
pub fn callback(sim: &Sim, task: &Task, phase: Phase) -> Option<Outgoing> {
    match task.provider {
        Provider::Sora => sora::callback(sim, task, phase),
        Provider::Kling => kling::callback(sim, task, phase),
        Provider::Fal => fal::callback(sim, task, phase),
        Provider::Luma => luma::callback(sim, task, phase),
        Provider::Seedance => seedance::callback(sim, task, phase),
        Provider::Hailuo => hailuo::callback(sim, task, phase),
        Provider::Bfl => bfl::callback(sim, task, phase),
        Provider::Replicate => replicate::callback(sim, task, phase),
        Provider::Shotstack => shotstack::callback(sim, task, phase),
        Provider::Veo | Provider::Runway | Provider::Elevenlabs | Provider::MinimaxMusic => None,
    }
}

/// A refusal, rendered by each provider in its own error shape
#[derive(Debug, Clone, PartialEq)]
pub enum Failure {
    /// No credential
    MissingAuth,
    /// A wrong credential, with the reason
    BadAuth(String),
    /// Invalid input, with the message and the field
    Invalid {
        /// What is wrong
        message: String,
        /// Which field
        field: Option<String>,
    },
    /// No such resource
    NotFound(String),
    /// Rate limited (an injected 429)
    RateLimited,
    /// Server error (an injected 5xx)
    ServerError,
    /// Held past the client's timeout (an injected timeout)
    Timeout,
}

impl Failure {
    /// Invalid input of `field`
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self::Invalid {
            message: message.into(),
            field: Some(field.to_string()),
        }
    }

    /// Invalid input not tied to one field
    pub fn body(message: impl Into<String>) -> Self {
        Self::Invalid {
            message: message.into(),
            field: None,
        }
    }

    /// The status most providers use for it
    pub fn status(&self) -> StatusCode {
        match self {
            Self::MissingAuth | Self::BadAuth(_) => StatusCode::UNAUTHORIZED,
            Self::Invalid { .. } => StatusCode::BAD_REQUEST,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            Self::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
            Self::Timeout => StatusCode::GATEWAY_TIMEOUT,
        }
    }

    /// A default human message
    pub fn message(&self) -> String {
        match self {
            Self::MissingAuth => "missing credentials".to_string(),
            Self::BadAuth(m) | Self::NotFound(m) => m.clone(),
            Self::Invalid { message, .. } => message.clone(),
            Self::RateLimited => "rate limit exceeded, retry later".to_string(),
            Self::ServerError => "internal server error".to_string(),
            Self::Timeout => "upstream request timed out".to_string(),
        }
    }
}

/// Renders a failure in the provider's shape, counts refusals and adds Retry-After to 429s
pub fn reject(sim: &Sim, p: Provider, f: &Failure) -> Response {
    if matches!(
        f,
        Failure::MissingAuth | Failure::BadAuth(_) | Failure::Invalid { .. }
    ) {
        sim.with(|s| bump(&mut s.stats.rejected_requests, p.as_str()));
    }
    let r = render(p, f);
    if *f == Failure::RateLimited {
        let after = sim.with(|s| s.config.faults(p).retry_after_s.unwrap_or(2));
        return http::with_header(r, "retry-after", &after.to_string());
    }
    r
}

/// Answers a submit refused by a configured provider limit (counted when it was refused): the
/// provider's own 429, with `Retry-After` saying when a retry should pass the cap
pub fn refuse_over_limit(p: Provider, refused: &Refused) -> Response {
    http::with_header(
        render(p, &Failure::RateLimited),
        "retry-after",
        &refused.retry_after_s().to_string(),
    )
}

/// Renders a failure in the provider's shape
fn render(p: Provider, f: &Failure) -> Response {
    let (status, body) = match p {
        Provider::Veo => veo::error(f),
        Provider::Sora => sora::error(f),
        Provider::Kling => kling::error(f),
        Provider::Runway => runway::error(f),
        Provider::Fal => fal::error(f),
        Provider::Luma => luma::error(f),
        Provider::Seedance => seedance::error(f),
        Provider::Hailuo | Provider::MinimaxMusic => hailuo::error(f),
        Provider::Bfl => bfl::error(f),
        Provider::Elevenlabs => elevenlabs::error(f),
        Provider::Replicate => replicate::error(f),
        Provider::Shotstack => shotstack::error(f),
    };
    http::json(status, &body)
}
