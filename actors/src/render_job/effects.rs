//! Performs the job's effects and turns their outcomes into inputs.
//!
//! Nothing here decides anything: each effect is carried out as the core described it, and
//! whatever happens (success, provider error, timeout) goes back to the job as an input.

use std::rc::Rc;
use std::time::Duration;

use base64::Engine;
use studio::api::media;
use studio::ids::{Attempt, JobId, ModelId, ProviderRef, StageId};
use studio::job::{
    Effect, Input, MAX_MEMORY_FETCHES, StageInputs, WriteId, artifact_key, submit_call_timeout,
};
use studio::plan::StageKind;
use studio::providers::inline_images::KeptImage;
use studio::providers::signature::token::callback_url;
use studio::providers::{
    Delivery, InlineImage, Output, PollOutcome, ProviderError, ProviderKind, ProviderStatus,
    SubmitRequest, Submitted, adapter, references,
};
use studio::time::{Millis, Timestamp};

use super::Inner;
use crate::clock;
use crate::{config, fleet_client, media_copy, media_links, memory_client, outbound, side_effects};
use studio::fleet::job_calls;

/// How long callback URLs and provider-facing media URLs stay valid
const URL_LIFETIME: Millis = Millis::from_secs(24 * 3600);
/// Downloads of outputs may be large (a 1080p master is tens of megabytes): allow far longer
/// than a control call; the copy streams, so time, not memory, is what a large file costs
const DOWNLOAD_TIMEOUT: Duration = Duration::from_secs(600);
/// The largest keyframe sent inline (base64 in the request body, held in memory to encode):
/// Gemini's limit for inline data in one request is 20 MB
const MAX_INLINE_IMAGE_BYTES: u64 = 20 * 1024 * 1024;
/// The type an inline keyframe is sent as when its source declared none
const INLINE_DEFAULT_TYPE: &str = "image/png";
/// The most bytes of keyframes a job object keeps in memory for inline submits: its isolate's
/// 128 MB is shared with other objects, so a few keyframes, not a job's worth
pub(super) const INLINE_IMAGE_BUDGET: usize = 8 * 1024 * 1024;
/// Used when the memory graph has no voice for a speaker (ElevenLabs' premade "Rachel")
const DEFAULT_VOICE_ID: &str = "21m00Tcm4TlvDq8ikWAM";

/// A provider-facing URL of an object; refused (and the submission with it) when the media key
/// is not configured
fn media_url(inner: &Inner, key: &str, now: Timestamp) -> Result<String, ProviderError> {
    let secret = config::media_key(&inner.env).map_err(|e| ProviderError::Rejected {
        reason: e.to_string(),
    })?;
    Ok(media::signed_url(
        &config::public_base(&inner.env),
        &secret,
        key,
        now.plus(URL_LIFETIME),
    ))
}

/// The keyframe at `key`, base64: the bytes the job kept when it copied them, or read from R2
async fn inline_image(inner: &Inner, key: &str) -> Result<InlineImage, ProviderError> {
    let kept = inner.inline_images.borrow_mut().take(key);
    if let Some(kept) = kept {
        return Ok(InlineImage {
            mime_type: kept.content_type,
            data_base64: base64::engine::general_purpose::STANDARD.encode(kept.bytes),
        });
    }
    let transient = |reason: String| ProviderError::Transient { reason };
    let bucket = inner
        .env
        .bucket("MEDIA")
        .map_err(|e| transient(format!("R2 binding: {e}")))?;
    let object = bucket
        .get(key)
        .execute()
        .await
        .map_err(|e| transient(format!("reading {key}: {e}")))?;
    let object = object.ok_or_else(|| transient(format!("keyframe {key} is not in R2")))?;
    if object.size() > MAX_INLINE_IMAGE_BYTES {
        // Not transient: the same keyframe will never fit; the job falls back to a model that
        // takes the image by URL.
        return Err(ProviderError::Rejected {
            reason: format!(
                "keyframe is {} bytes, over the {MAX_INLINE_IMAGE_BYTES} byte limit of an inline image",
                object.size()
            ),
        });
    }
    let mime_type = object
        .http_metadata()
        .content_type
        .unwrap_or_else(|| INLINE_DEFAULT_TYPE.into());
    let body = object
        .body()
        .ok_or_else(|| transient(format!("{key} has no body")))?;
    let bytes = body
        .bytes()
        .await
        .map_err(|e| transient(format!("reading {key}: {e}")))?;
    Ok(InlineImage {
        mime_type,
        data_base64: base64::engine::general_purpose::STANDARD.encode(bytes),
    })
}

#[allow(clippy::too_many_arguments)]
pub(super) async fn submit_request(
    inner: &Inner,
    job: &JobId,
    stage: &StageId,
    attempt: Attempt,
    kind: StageKind,
    provider: ProviderKind,
    provider_model: String,
    idempotency_key: String,
    inputs: StageInputs,
    now: Timestamp,
) -> Result<SubmitRequest, ProviderError> {
    let adapter = adapter(provider);
    let callbacks = config::callbacks(&inner.env).map_err(|e| ProviderError::Rejected {
        reason: e.to_string(),
    })?;
    let callback = match adapter.delivery() {
        Delivery::Callback => Some(callback_url(
            &callbacks.public_base,
            provider,
            job,
            stage,
            attempt,
            now.plus(URL_LIFETIME),
            &callbacks.secret,
        )),
        Delivery::Poll | Delivery::Sync => None,
    };
    let mut req = SubmitRequest {
        job: job.clone(),
        stage: stage.clone(),
        attempt,
        provider_model,
        kind,
        prompt: String::new(),
        negative_prompt: None,
        duration_s: 0.0,
        aspect: None,
        image_url: None,
        image_inline: None,
        reference_images: Vec::new(),
        voice_id: None,
        text: None,
        language: None,
        callback_url: callback,
        idempotency_key,
        timeline: None,
    };
    match inputs {
        StageInputs::Image {
            prompt,
            negative_prompt,
            aspect,
            reference_images,
        } => {
            req.prompt = prompt;
            req.negative_prompt = negative_prompt;
            req.aspect = Some(aspect);
            req.reference_images = reference_images
                .iter()
                .map(|k| media_url(inner, k, now))
                .collect::<Result<_, _>>()?;
        }
        StageInputs::Video {
            prompt,
            negative_prompt,
            duration_s,
            aspect,
            image_key,
            reference_images,
        } => {
            req.prompt = prompt;
            req.negative_prompt = negative_prompt;
            req.duration_s = duration_s;
            req.aspect = Some(aspect);
            if adapter.needs_inline_image() {
                req.image_inline = Some(inline_image(inner, &image_key).await?);
            } else {
                req.image_url = Some(media_url(inner, &image_key, now)?);
            }
            // Signed like the keyframe, and only those the model's request will carry.
            let carried =
                references::carried(provider, &req.provider_model, kind, &reference_images);
            req.reference_images = carried
                .iter()
                .map(|k| media_url(inner, k, now))
                .collect::<Result<_, _>>()?;
        }
        StageInputs::Speech {
            text,
            voice,
            voice_id,
            language,
        } => {
            req.prompt = text.clone();
            req.text = Some(text);
            req.language = language;
            req.voice_id = Some(voice_id.unwrap_or_else(|| {
                worker::console_log!("no voice id for {voice}: using the default voice");
                DEFAULT_VOICE_ID.to_owned()
            }));
        }
        StageInputs::Music { mood, duration_s } => {
            req.prompt = mood;
            req.duration_s = duration_s;
        }
        StageInputs::Assembly { mut timeline } => {
            timeline.quality = config::assembly_quality(&inner.env);
            let mut value =
                serde_json::to_value(&timeline).map_err(|e| ProviderError::Rejected {
                    reason: e.to_string(),
                })?;
            media_links::sign_keys(&inner.env, &mut value, now, URL_LIFETIME).map_err(|e| {
                ProviderError::Rejected {
                    reason: e.to_string(),
                }
            })?;
            req.duration_s = timeline.duration_s;
            req.aspect = Some(timeline.master);
            req.timeline = Some(value);
        }
    }
    Ok(req)
}

/// Stores a response body (a synchronous provider's output) in R2
async fn put_bytes(
    inner: &Inner,
    key: &str,
    bytes: Vec<u8>,
    content_type: &str,
) -> Result<u64, String> {
    let size = bytes.len() as u64;
    let bucket = inner
        .env
        .bucket("MEDIA")
        .map_err(|e| format!("R2 binding: {e}"))?;
    bucket
        .put(key, bytes)
        .http_metadata(worker::HttpMetadata {
            content_type: Some(content_type.to_owned()),
            ..Default::default()
        })
        .execute()
        .await
        .map_err(|e| format!("writing {key}: {e}"))?;
    Ok(size)
}

fn extension(content_type: &str) -> &'static str {
    match content_type.split(';').next().unwrap_or("").trim() {
        "video/mp4" => "mp4",
        "image/png" => "png",
        "image/jpeg" => "jpg",
        "image/webp" => "webp",
        "audio/mpeg" => "mp3",
        "audio/wav" | "audio/x-wav" => "wav",
        _ => "bin",
    }
}

async fn perform_submit(inner: &Rc<Inner>, effect: SubmitEffect) -> Vec<Input> {
    let SubmitEffect {
        stage,
        attempt,
        model,
        provider,
        provider_model,
        idempotency_key,
        inputs,
    } = effect;
    let now = clock::now();
    let Some((job_id, kind, call_timeout)) = inner.with_job(|j| {
        (
            j.spec().job_id.clone(),
            j.stage(&stage).map(|r| r.spec.kind),
            // A provider that answers with the result is given the generation's time.
            submit_call_timeout(j.spec().registry.get(&model)),
        )
    }) else {
        return Vec::new();
    };
    let failed = |error: ProviderError| {
        vec![Input::SubmitFailed {
            stage: stage.clone(),
            attempt,
            error,
        }]
    };
    let Some(kind) = kind else { return Vec::new() };
    let cfg = match config::provider(&inner.env, provider) {
        Ok(cfg) => cfg,
        Err(e) => {
            return failed(ProviderError::Rejected {
                reason: e.to_string(),
            });
        }
    };
    let adapter = adapter(provider);
    let req = match submit_request(
        inner,
        &job_id,
        &stage,
        attempt,
        kind,
        provider,
        provider_model,
        idempotency_key.clone(),
        inputs,
        now,
    )
    .await
    {
        Ok(req) => req,
        Err(e) => return failed(e),
    };
    let http = match adapter.build_submit(&req, &cfg, now) {
        Ok(http) => http,
        Err(e) => return failed(e),
    };
    let timeout = Duration::from_millis(call_timeout.0);
    let resp = match outbound::send_or_unanswered(&http, timeout).await {
        Ok(resp) => resp,
        // The provider may have made the task: the job reconciles it instead of retrying.
        Err(outbound::Unanswered(reason)) => {
            return vec![Input::SubmitUnanswered {
                stage,
                attempt,
                reason,
            }];
        }
    };
    match adapter.parse_submit(&req, &resp, &cfg, clock::now()) {
        // The acceptance is fed back (and committed) before anything else is awaited: a crash
        // during the writes below must not leave the job unaware that the provider has the task.
        Ok(Submitted::Accepted { provider_ref }) => {
            inner.feed(Input::SubmitAccepted {
                stage: stage.clone(),
                attempt,
                provider_ref: provider_ref.clone(),
            });
            side_effects::index_task(
                &inner.env,
                provider,
                &provider_ref,
                &job_id,
                &stage,
                attempt,
            )
            .await;
            Vec::new()
        }
        Ok(Submitted::Finished {
            provider_ref,
            status,
        }) => accepted_with_status(stage, attempt, provider_ref, status),
        Ok(Submitted::Body {
            provider_ref,
            content_type,
        }) => {
            let key = artifact_key(
                &job_id,
                &stage,
                attempt,
                &format!("output.{}", extension(&content_type)),
            );
            inner.feed(Input::SubmitAccepted {
                stage: stage.clone(),
                attempt,
                provider_ref,
            });
            // The task is accepted now, so a failed store is the attempt's failure (retried).
            let status = match put_bytes(inner, &key, resp.body, &content_type).await {
                Ok(bytes) => ProviderStatus::Succeeded {
                    outputs: vec![Output::Stored {
                        key,
                        content_type,
                        bytes,
                    }],
                },
                Err(reason) => ProviderStatus::Failed {
                    reason: format!("storing the output: {reason}"),
                    retryable: true,
                },
            };
            vec![Input::ProviderUpdate {
                stage,
                attempt,
                status,
                delivery_id: None,
            }]
        }
        Err(e) => failed(e),
    }
}

async fn perform_poll(
    inner: &Rc<Inner>,
    stage: StageId,
    attempt: Attempt,
    provider: ProviderKind,
    provider_ref: ProviderRef,
) -> Vec<Input> {
    let failed = |error: ProviderError| {
        vec![Input::PollFailed {
            stage: stage.clone(),
            attempt,
            error,
        }]
    };
    let cfg = match config::provider(&inner.env, provider) {
        Ok(cfg) => cfg,
        Err(e) => {
            return failed(ProviderError::Rejected {
                reason: e.to_string(),
            });
        }
    };
    let adapter = adapter(provider);
    let now = clock::now();
    let http = match adapter.build_poll(&provider_ref, &cfg, now) {
        Ok(http) => http,
        Err(e) => return failed(e),
    };
    let resp = match outbound::send(&http, outbound::CALL_TIMEOUT).await {
        Ok(resp) => resp,
        Err(e) => return failed(e),
    };
    let status = match adapter.parse_poll(&resp, &cfg, clock::now()) {
        Ok(PollOutcome::Status { status }) => status,
        Ok(PollOutcome::FollowUp { request }) => {
            let follow = match outbound::send(&request, outbound::CALL_TIMEOUT).await {
                Ok(resp) => resp,
                Err(e) => return failed(e),
            };
            match adapter.parse_follow_up(&follow, clock::now()) {
                Ok(status) => status,
                Err(e) => return failed(e),
            }
        }
        Err(e) => return failed(e),
    };
    vec![Input::ProviderUpdate {
        stage,
        attempt,
        status,
        delivery_id: None,
    }]
}

async fn perform_store(
    inner: &Rc<Inner>,
    stage: StageId,
    attempt: Attempt,
    output: Output,
    key: String,
) -> Vec<Input> {
    let failed = |reason: String| {
        vec![Input::ArtifactFailed {
            stage: stage.clone(),
            attempt,
            key: key.clone(),
            reason,
        }]
    };
    match &output {
        Output::Stored {
            key: stored,
            content_type,
            bytes,
        } => {
            return vec![Input::ArtifactStored {
                stage: stage.clone(),
                attempt,
                key: stored.clone(),
                content_type: content_type.clone(),
                bytes: *bytes,
            }];
        }
        Output::Url { .. } => {}
    }
    let provider = inner
        .with_job(|j| j.attempt_provider(&stage, attempt))
        .flatten();
    let Some(provider) = provider else {
        return failed("no attempt record for this output".into());
    };
    let cfg = match config::provider(&inner.env, provider) {
        Ok(cfg) => cfg,
        Err(e) => return failed(e.to_string()),
    };
    let Some(request) = adapter(provider).build_output_fetch(&output, &cfg) else {
        return failed("output has nothing to download".into());
    };
    let bucket = match inner.env.bucket("MEDIA") {
        Ok(bucket) => bucket,
        Err(e) => return failed(format!("R2 binding: {e}")),
    };
    let declared = match &output {
        Output::Url { content_type, .. } => content_type.clone(),
        Output::Stored { .. } => None,
    };
    // A dependent that sends this output inline would read it back from R2 right after the
    // copy: keep it in hand instead (bounded by the cache's budget and the inline limit).
    let sent_inline = inner
        .with_job(|j| j.dependent_providers(&stage))
        .unwrap_or_default()
        .into_iter()
        .any(|p| adapter(p).needs_inline_image());
    let keep = sent_inline.then(|| {
        let budget = inner.inline_images.borrow().budget() as u64;
        budget.min(MAX_INLINE_IMAGE_BYTES)
    });
    match media_copy::copy(
        &bucket,
        &request,
        &key,
        declared.as_deref(),
        media_copy::MAX_OUTPUT_BYTES,
        keep,
        DOWNLOAD_TIMEOUT,
    )
    .await
    {
        Ok(copied) => {
            if let Some(bytes) = copied.kept {
                // As `inline_image` would read it back from R2
                let image = KeptImage {
                    content_type: copied
                        .content_type
                        .clone()
                        .unwrap_or_else(|| INLINE_DEFAULT_TYPE.into()),
                    bytes,
                };
                inner.inline_images.borrow_mut().keep(key.clone(), image);
            }
            vec![Input::ArtifactStored {
                stage,
                attempt,
                key,
                content_type: copied
                    .content_type
                    .unwrap_or_else(|| "application/octet-stream".into()),
                bytes: copied.bytes,
            }]
        }
        Err(e) => failed(e.to_string()),
    }
}

/// A `Submit` effect's fields
struct SubmitEffect {
    stage: StageId,
    attempt: Attempt,
    model: ModelId,
    provider: ProviderKind,
    provider_model: String,
    idempotency_key: String,
    inputs: StageInputs,
}

/// A write's outcome as the job's input (failures are logged here: the job only keeps the last)
fn written(write: WriteId, result: Result<(), String>) -> Vec<Input> {
    if let Err(e) = &result {
        worker::console_error!("write {write}: {e}");
    }
    vec![Input::WriteResult {
        write,
        ok: result.is_ok(),
        error: result.err(),
    }]
}

/// What the gates of the pinned registry's providers observed of its models (latency, open
/// breakers), asked of every provider at once; a gate that does not answer adds nothing, and
/// routing uses the registry's priors for its models
async fn fleet_health(inner: &Inner) -> Vec<studio::routing::live::LiveHealth> {
    let Some(by_provider) = inner.with_job(|j| {
        let mut map: std::collections::BTreeMap<ProviderKind, Vec<_>> = Default::default();
        for m in &j.spec().registry.models {
            map.entry(m.provider)
                .or_default()
                .push((m.id.clone(), studio::fleet::health::Latency::prior(m)));
        }
        map
    }) else {
        return Vec::new();
    };
    let asks = by_provider
        .into_iter()
        .map(|(provider, models)| fleet_client::health(&inner.env, provider, models));
    futures::future::join_all(asks)
        .await
        .into_iter()
        .filter_map(Result::ok)
        .flatten()
        .collect()
}

/// Performs one effect; returns the inputs its outcome produced
pub(crate) async fn perform(inner: Rc<Inner>, effect: Effect) -> Vec<Input> {
    match effect {
        Effect::FetchMemoryContext { job: _, creator } => {
            let asked = inner.with_job(|j| {
                let fetches = j.header().memory_wait.map_or(0, |w| w.fetches);
                (j.spec().brief.clone(), fetches >= MAX_MEMORY_FETCHES)
            });
            let Some((brief, last_ask)) = asked else {
                return Vec::new();
            };
            let (live, context) = futures::join!(
                fleet_health(&inner),
                memory_client::context(&inner.env, &creator, &brief, last_ask)
            );
            match context {
                Ok(context) => vec![
                    Input::FleetHealth { models: live },
                    Input::MemoryContext { context },
                ],
                // The job asks again on its deadline, then plans without.
                Err(e) => {
                    worker::console_error!("memory context for {creator}: {e}");
                    Vec::new()
                }
            }
        }
        Effect::AcquireSlot {
            ref stage,
            attempt,
            ref model,
            ..
        } => {
            let Some(Some(ask)) = inner.with_job(|j| job_calls::acquire_of(j.spec(), &effect))
            else {
                return Vec::new();
            };
            let provider = ask.provider;
            match fleet_client::acquire(&inner.env, provider, &ask.call, ask.probe_lease.0).await {
                Ok(answer) => vec![answer.into_input(stage.clone(), attempt, model.clone())],
                // The stage asks again at its deadline.
                Err(e) => {
                    worker::console_error!("{stage} attempt {attempt}: {provider} gate: {e}");
                    Vec::new()
                }
            }
        }
        Effect::ReleaseSlot {
            ref stage, attempt, ..
        } => {
            let Some(Some((provider, call))) =
                inner.with_job(|j| job_calls::release_of(j.spec(), &effect))
            else {
                return Vec::new();
            };
            // A release that is lost frees itself when its lease ends.
            if let Err(e) = fleet_client::release(&inner.env, provider, &call).await {
                worker::console_error!(
                    "{stage} attempt {attempt}: releasing at the {provider} gate: {e}"
                );
            }
            Vec::new()
        }
        Effect::Submit {
            stage,
            attempt,
            model,
            provider,
            provider_model,
            idempotency_key,
            seed: _,
            inputs,
        } => {
            perform_submit(
                &inner,
                SubmitEffect {
                    stage,
                    attempt,
                    model,
                    provider,
                    provider_model,
                    idempotency_key: idempotency_key.0,
                    inputs,
                },
            )
            .await
        }
        Effect::LookUp {
            stage,
            attempt,
            model: _,
            provider,
            provider_model,
            idempotency_key,
            since,
            inputs,
        } => {
            let effect = super::lookup::LookUpEffect {
                stage,
                attempt,
                provider,
                provider_model,
                idempotency_key: idempotency_key.0,
                since,
                inputs,
            };
            super::lookup::perform(&inner, effect).await
        }
        Effect::Poll {
            stage,
            attempt,
            model: _,
            provider,
            provider_ref,
        } => perform_poll(&inner, stage, attempt, provider, provider_ref).await,
        Effect::CancelTask {
            provider,
            provider_ref,
            ..
        } => {
            // Best effort: the job no longer waits for this task; nothing comes back.
            if let Ok(cfg) = config::provider(&inner.env, provider)
                && let Some(req) = adapter(provider).build_cancel(&provider_ref, &cfg, clock::now())
                && let Err(e) = outbound::send(&req, outbound::CALL_TIMEOUT).await
            {
                worker::console_log!("cancelling {provider_ref} at {provider}: {e}");
            }
            Vec::new()
        }
        Effect::StoreArtifact {
            stage,
            attempt,
            output,
            key,
        } => perform_store(&inner, stage, attempt, output, key).await,
        Effect::RecordCost {
            stage,
            attempt,
            model,
            usd,
            write,
        } => written(
            write,
            side_effects::record_cost(&inner, &stage, attempt, &model, usd).await,
        ),
        Effect::StatusChanged {
            from: _,
            to,
            reason: _,
            write,
            seq,
            total_usd,
        } => written(
            write,
            side_effects::index_status(&inner, to, seq, total_usd).await,
        ),
        Effect::EnrichMemory { summary, write } => {
            written(write, memory_client::enrich(&inner.env, &summary).await)
        }
        Effect::Notify {
            notification,
            attempt,
            url,
            payload,
            webhook_id,
        } => {
            super::notify::deliver(&inner, notification, attempt, &url, &payload, &webhook_id).await
        }
    }
}

impl Inner {
    /// A poll the shell itself asks for (a callback that carries only "something changed"):
    /// always of the task the job recorded for the attempt, never of the one the callback
    /// names; a callback naming another task (a replay aimed at this stage) asks for nothing
    pub(crate) fn poll_now(
        &self,
        stage: &StageId,
        attempt: Attempt,
        provider_ref: ProviderRef,
    ) -> Vec<Effect> {
        let poll = self.with_job(|j| j.poll_now(stage, attempt, Some(&provider_ref)));
        match poll.flatten() {
            Some(effect) => vec![effect],
            None => {
                worker::console_log!(
                    "poll-now for {stage} attempt {attempt} ignored: not the task it runs"
                );
                Vec::new()
            }
        }
    }
}

/// A task known together with its status (a synchronous provider's answer, or a task found by
/// looking it up): accepted, then updated, as its webhook would have done
pub(super) fn accepted_with_status(
    stage: StageId,
    attempt: Attempt,
    provider_ref: ProviderRef,
    status: ProviderStatus,
) -> Vec<Input> {
    vec![
        Input::SubmitAccepted {
            stage: stage.clone(),
            attempt,
            provider_ref,
        },
        Input::ProviderUpdate {
            stage,
            attempt,
            status,
            delivery_id: None,
        },
    ]
}
