//! The interface every provider adapter implements, and the data that crosses it.
//!
//! An adapter is stateless and pure: requests come out as [`HttpRequest`] values for the shell to
//! send, responses and callbacks go back in, and every outcome is normalised to a
//! [`ProviderStatus`]. One task runs through these steps:
//!
//! ```text
//! build_submit -> (shell sends) -> parse_submit
//!   Submitted::Accepted { .. } -> callbacks: verify_callback + parse_callback
//!                                 and/or polls: build_poll -> parse_poll
//!                                 PollOutcome::FollowUp(req) -> parse_follow_up
//!   Submitted::Finished { .. } (synchronous JSON answer)
//!   Submitted::Body { .. }      (the response body is the output: the shell stores it in R2)
//! ProviderStatus::Succeeded { outputs } -> build_output_fetch per output -> copy to R2
//! ```

use serde::{Deserialize, Serialize};

use super::config::{ProviderConfig, Secret};
use super::signature::{Jwks, SignatureError};
use super::{HttpRequest, HttpResponse, Output, ProviderError, ProviderKind, ProviderStatus};
use crate::brief::AspectRatio;
use crate::ids::{Attempt, DeliveryId, JobId, ProviderRef, StageId};
use crate::plan::StageKind;
use crate::time::Timestamp;

/// How a provider reports the end of a task
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Delivery {
    /// It calls us back; polling is only a slow backstop for lost callbacks
    Callback,
    /// It never calls: poll until terminal
    Poll,
    /// The submit response is the result
    Sync,
}

/// An image sent inline, for providers that do not fetch URLs (Veo on the Gemini API)
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InlineImage {
    /// MIME type, e.g. `image/png`
    pub mime_type: String,
    /// The bytes, standard base64
    pub data_base64: String,
}

/// Everything an adapter needs to submit one attempt of one stage
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubmitRequest {
    /// The render job
    pub job: JobId,
    /// The stage
    pub stage: StageId,
    /// The attempt, which fences callbacks
    pub attempt: Attempt,
    /// The provider's model name from the registry (`veo-3.0-generate-001`, `fal-ai/pika/...`)
    pub provider_model: String,
    /// What the stage produces
    pub kind: StageKind,
    /// The generation prompt (mood prompt for music)
    pub prompt: String,
    /// What the image or video must not show, for providers whose API has a negative prompt
    /// (Veo, Kling, Pika on fal); the others never see it
    #[serde(default)]
    pub negative_prompt: Option<String>,
    /// Wanted length in seconds; adapters round up to what the model offers
    pub duration_s: f64,
    /// Frame shape for image and video stages
    pub aspect: Option<AspectRatio>,
    /// Keyframe for image-to-video, a URL the provider can fetch
    pub image_url: Option<String>,
    /// The keyframe inline, for providers that take no URLs (see [`Adapter::needs_inline_image`])
    pub image_inline: Option<InlineImage>,
    /// Reference images for continuity
    pub reference_images: Vec<String>,
    /// Provider voice id (speech)
    pub voice_id: Option<String>,
    /// Words to speak, or lyrics for music
    pub text: Option<String>,
    /// The language of speech (ISO 639-1), sent to speech models that take one
    #[serde(default)]
    pub language: Option<String>,
    /// Our callback URL ([`super::signature::token::callback_url`]); `None` for poll-only
    pub callback_url: Option<String>,
    /// Stable across resubmits of the same attempt, for providers that deduplicate
    pub idempotency_key: String,
    /// The assembler's timeline (see [`super::assembler`])
    pub timeline: Option<serde_json::Value>,
}

/// The outcome of a submit.
///
/// The [`ProviderRef`] is opaque to everyone but its adapter, which reads it back in
/// [`Adapter::build_poll`] and [`Adapter::build_cancel`]: it is the provider's task id, except
/// where the id alone cannot find the task again (Kling: `{text2video|image2video}/{task_id}`;
/// fal: the returned `status_url`; BFL: the returned `polling_url`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Submitted {
    /// Queued at the provider; wait for a callback or poll
    Accepted {
        /// How to find the task again
        provider_ref: ProviderRef,
    },
    /// A synchronous provider answered with the result
    Finished {
        /// The provider's id of the answer (trace id), or our idempotency key
        provider_ref: ProviderRef,
        /// The result
        status: ProviderStatus,
    },
    /// The response body itself is the output (ElevenLabs audio): the shell stores it and
    /// reports an [`Output::Stored`]
    Body {
        /// The provider's id of the answer (request id), or our idempotency key
        provider_ref: ProviderRef,
        /// MIME type of the body
        content_type: String,
    },
}

/// What a search for an in-doubt submit's task found ([`Adapter::parse_lookup`])
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LookedUp {
    /// The submit made this task; its status as the provider reports it now
    Found {
        /// How to find the task again
        provider_ref: ProviderRef,
        /// Its status (a synchronous provider's output as a URL to copy)
        status: ProviderStatus,
    },
    /// Nothing of ours: the submit never reached the provider
    NotFound,
}

/// The outcome of a poll
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum PollOutcome {
    /// The task's status
    Status {
        /// The status
        status: ProviderStatus,
    },
    /// Send this request now and give its response to [`Adapter::parse_follow_up`] (Hailuo's
    /// file retrieve, fal's result)
    FollowUp {
        /// The request, with auth
        request: HttpRequest,
    },
}

/// What a callback asks of us
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum CallbackEvent {
    /// The task's new status
    Status {
        /// The status
        status: ProviderStatus,
    },
    /// Something changed but the callback does not say what (Sora sends only the id, Hailuo
    /// sends a file id): poll now
    FetchStatus,
    /// A handshake to answer with this response before any job state exists (Hailuo)
    Challenge {
        /// The response to send
        response: HttpResponse,
    },
    /// A delivery about nothing we track (another event type on a project-wide webhook):
    /// acknowledge with 2xx and do nothing
    Ignore,
}

/// A parsed callback
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Callback {
    /// The provider's task id as the body names it, when it does. It routes project-level
    /// webhooks to their job (Sora, where it equals the submit's ref); elsewhere the callback
    /// URL names job, stage and attempt, and it is for logs (for Kling, fal and BFL it is the
    /// bare id, not the submit's composite ref).
    pub provider_ref: Option<ProviderRef>,
    /// The provider's delivery id, for dropping replays, when it has one
    pub delivery_id: Option<DeliveryId>,
    /// What happened
    pub event: CallbackEvent,
}

/// What verifying a callback needs besides the provider's config
#[derive(Debug, Clone, Copy)]
pub struct VerifyContext<'a> {
    /// Now, for timestamp tolerances and token expiry
    pub now: Timestamp,
    /// `CALLBACK_SECRET`, the key of our callback URL tokens
    pub callback_secret: &'a Secret,
    /// fal's JWKS, fetched and cached by the shell ([`super::fal::jwks_request`])
    pub fal_jwks: Option<&'a Jwks>,
}

/// One provider's wire format
pub trait Adapter: Sync {
    /// Which provider this is
    fn kind(&self) -> ProviderKind;

    /// How it reports the end of a task
    fn delivery(&self) -> Delivery;

    /// Whether the keyframe must come as [`SubmitRequest::image_inline`] rather than a URL
    fn needs_inline_image(&self) -> bool {
        false
    }

    /// The submit request
    fn build_submit(
        &self,
        req: &SubmitRequest,
        cfg: &ProviderConfig,
        now: Timestamp,
    ) -> Result<HttpRequest, ProviderError>;

    /// Reads the submit response of `req`
    fn parse_submit(
        &self,
        req: &SubmitRequest,
        resp: &HttpResponse,
        cfg: &ProviderConfig,
        now: Timestamp,
    ) -> Result<Submitted, ProviderError>;

    /// The status request of a task
    fn build_poll(
        &self,
        provider_ref: &ProviderRef,
        cfg: &ProviderConfig,
        now: Timestamp,
    ) -> Result<HttpRequest, ProviderError>;

    /// The request that cancels a task, for providers that can; best effort, so `None` also
    /// when the request cannot be built
    fn build_cancel(
        &self,
        _provider_ref: &ProviderRef,
        _cfg: &ProviderConfig,
        _now: Timestamp,
    ) -> Option<HttpRequest> {
        None
    }

    /// Reads a status response
    fn parse_poll(
        &self,
        resp: &HttpResponse,
        cfg: &ProviderConfig,
        now: Timestamp,
    ) -> Result<PollOutcome, ProviderError>;

    /// Reads the response to a [`PollOutcome::FollowUp`] request
    fn parse_follow_up(
        &self,
        _resp: &HttpResponse,
        _now: Timestamp,
    ) -> Result<ProviderStatus, ProviderError> {
        Err(ProviderError::Malformed {
            reason: format!("{} asks for no follow-up request", self.kind()),
        })
    }

    /// Checks that a callback really comes from the provider (signature, or our URL token)
    fn verify_callback(
        &self,
        req: &HttpRequest,
        cfg: &ProviderConfig,
        ctx: &VerifyContext<'_>,
    ) -> Result<(), SignatureError>;

    /// Reads a verified callback
    fn parse_callback(&self, req: &HttpRequest, now: Timestamp) -> Result<Callback, ProviderError>;

    /// The search of the provider's list or history for the task `req` made if it reached the
    /// provider at or after `since` (see `studio::job::reconcile`); `None` for a provider that
    /// keeps no such list
    fn build_lookup(
        &self,
        _req: &SubmitRequest,
        _since: Timestamp,
        _cfg: &ProviderConfig,
    ) -> Option<HttpRequest> {
        None
    }

    /// Reads the answer to [`Adapter::build_lookup`]
    fn parse_lookup(
        &self,
        _req: &SubmitRequest,
        _since: Timestamp,
        resp: &HttpResponse,
        _cfg: &ProviderConfig,
    ) -> Result<LookedUp, ProviderError> {
        Err(ProviderError::Malformed {
            reason: format!(
                "{} keeps no list to search (HTTP {})",
                self.kind(),
                resp.status
            ),
        })
    }

    /// The download of an output, with credentials when the provider's download needs them;
    /// `None` for an output already stored
    fn build_output_fetch(&self, output: &Output, _cfg: &ProviderConfig) -> Option<HttpRequest> {
        match output {
            Output::Url { url, .. } => Some(HttpRequest::get(url.clone())),
            Output::Stored { .. } => None,
        }
    }
}
