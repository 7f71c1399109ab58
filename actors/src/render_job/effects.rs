//! Performs the job's effects and turns their outcomes into inputs.
//!
//! Nothing here decides anything: each effect is carried out as the core described it, and
//! whatever happens (success, provider error, timeout) goes back to the job as an input.

use std::rc::Rc;
use std::time::Duration;

use studio::ids::{Attempt, ModelId, ProviderRef, StageId};
use studio::job::{
    Effect, Input, MAX_MEMORY_FETCHES, StageInputs, WriteId, artifact_key, submit_call_timeout,
};
use studio::providers::inline_images::KeptImage;
use studio::providers::{
    Output, PollOutcome, ProviderError, ProviderKind, ProviderStatus, Submitted, adapter,
};

use super::Inner;
use super::submit_request::{
    INLINE_DEFAULT_TYPE, MAX_INLINE_IMAGE_BYTES, accepted_with_status, submit_request,
};
use crate::clock;
use crate::{config, fleet_client, media_copy, memory_client, outbound, side_effects};
use studio::fleet::job_calls;

/// Downloads of outputs may be large (a 1080p master is tens of megabytes): allow far longer
/// than a control call; the copy streams, so time, not memory, is what a large file costs
const DOWNLOAD_TIMEOUT: Duration = Duration::from_secs(600);
/// The most bytes of keyframes a job object keeps in memory for inline submits: its isolate's
/// 128 MB is shared with other objects, so a few keyframes, not a job's worth
pub(super) const INLINE_IMAGE_BUDGET: usize = 8 * 1024 * 1024;
/// A write of the job's that found no job in its object (it was never created here)
const NO_JOB: &str = "no job in this object";

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
        } => {
            let facts = inner.with_job(|j| {
                (
                    side_effects::JobFacts::of(j),
                    side_effects::provider_of(j, &model),
                )
            });
            let result = match facts {
                Some((facts, provider)) => {
                    side_effects::record_cost(
                        &inner.env, &facts, provider, &stage, attempt, &model, usd,
                    )
                    .await
                }
                None => Err(NO_JOB.to_owned()),
            };
            written(write, result)
        }
        Effect::StatusChanged {
            from: _,
            to,
            reason: _,
            write,
            seq,
            total_usd,
        } => {
            let result = match inner.with_job(side_effects::JobFacts::of) {
                Some(facts) => {
                    side_effects::index_status(&inner.env, &facts, to, seq, total_usd).await
                }
                None => Err(NO_JOB.to_owned()),
            };
            written(write, result)
        }
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
