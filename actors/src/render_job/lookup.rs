//! Performs `Effect::LookUp`: searches a provider's list or history for the task of a submit
//! that was in flight when the job's isolate died (see `studio::job::reconcile`).
//!
//! A found task comes back as the inputs its submit would have produced (`SubmitAccepted`, then
//! its status); nothing found, or a failed search, as `LookUpMissed`.

use std::rc::Rc;

use studio::ids::{Attempt, StageId};
use studio::job::{Input, StageInputs};
use studio::providers::{LookedUp, ProviderError, ProviderKind, adapter};
use studio::time::Timestamp;

use super::Inner;
use super::submit_request::{accepted_with_status, submit_request};
use crate::{clock, config, outbound};

/// A `LookUp` effect's fields
pub(crate) struct LookUpEffect {
    pub(crate) stage: StageId,
    pub(crate) attempt: Attempt,
    pub(crate) provider: ProviderKind,
    pub(crate) provider_model: String,
    pub(crate) idempotency_key: String,
    pub(crate) since: Timestamp,
    pub(crate) inputs: StageInputs,
}

/// Performs one lookup; returns the inputs its outcome produced
pub(crate) async fn perform(inner: &Rc<Inner>, effect: LookUpEffect) -> Vec<Input> {
    let LookUpEffect {
        stage,
        attempt,
        provider,
        provider_model,
        idempotency_key,
        since,
        inputs,
    } = effect;
    let missed = |error: Option<ProviderError>| {
        vec![Input::LookUpMissed {
            stage: stage.clone(),
            attempt,
            error,
        }]
    };
    let Some((job_id, Some(kind))) = inner.with_job(|j| {
        (
            j.spec().job_id.clone(),
            j.stage(&stage).map(|r| r.spec.kind),
        )
    }) else {
        return Vec::new();
    };
    let cfg = match config::provider(&inner.env, provider) {
        Ok(cfg) => cfg,
        Err(e) => {
            return missed(Some(ProviderError::Rejected {
                reason: e.to_string(),
            }));
        }
    };
    let now = clock::now();
    let req = match submit_request(
        inner,
        &job_id,
        &stage,
        attempt,
        kind,
        provider,
        provider_model,
        idempotency_key,
        inputs,
        now,
    )
    .await
    {
        Ok(req) => req,
        Err(e) => return missed(Some(e)),
    };
    let adapter = adapter(provider);
    // A provider without a list has nothing to find: the job submits again.
    let Some(http) = adapter.build_lookup(&req, since, &cfg) else {
        return missed(None);
    };
    let resp = match outbound::send(&http, outbound::CALL_TIMEOUT).await {
        Ok(resp) => resp,
        Err(e) => return missed(Some(e)),
    };
    if !resp.is_success() {
        return missed(Some(studio::providers::http_error(&resp, |_| false)));
    }
    match adapter.parse_lookup(&req, since, &resp, &cfg) {
        Ok(LookedUp::Found {
            provider_ref,
            status,
        }) => {
            worker::console_log!("{stage} attempt {attempt}: found {provider_ref} at {provider}");
            accepted_with_status(stage, attempt, provider_ref, status)
        }
        Ok(LookedUp::NotFound) => missed(None),
        Err(e) => missed(Some(e)),
    }
}
