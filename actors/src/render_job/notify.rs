//! Delivers the job's status webhooks (`Effect::Notify`): the payload is POSTed as JSON to the
//! brief's `webhook_url`, signed with Standard Webhooks (`webhook-id` stable across retries,
//! `webhook-timestamp`, `webhook-signature: v1,...` keyed with the creator's `whsec_` secret).
//! A 2xx is delivered; anything else (429, 5xx, other 4xx, network errors, timeouts) is a failed
//! attempt, reported with the receiver's `Retry-After`. The schedule is the core's.

use std::time::Duration;

use studio::job::{Input, StatusEvent};
use studio::providers::errors::retry_after;
use studio::providers::signature::standard::{
    ID_HEADER, SIGNATURE_HEADER, StandardWebhooks, TIMESTAMP_HEADER,
};
use studio::providers::{HttpRequest, Method};

use super::Inner;
use crate::{clock, outbound, webhook_secret};

/// How long a receiver has to answer (the spec recommends 15 to 30 s)
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(15);

impl Inner {
    /// The creator's signing secret: cached in the object after the first read (minted in D1
    /// if the creator never asked for it)
    async fn signing_secret(&self) -> Result<String, String> {
        if let Some(secret) = self.webhook_secret.borrow().clone() {
            return Ok(secret);
        }
        let creator = self
            .with_job(|j| j.spec().creator.clone())
            .ok_or_else(|| "no job".to_owned())?;
        let secret = webhook_secret::get_or_mint(&self.env, &creator)
            .await
            .map_err(|e| e.to_string())?;
        *self.webhook_secret.borrow_mut() = Some(secret.clone());
        Ok(secret)
    }
}

/// One delivery attempt; its outcome as the `NotifyResult` input
pub(super) async fn deliver(
    inner: &Inner,
    notification: u32,
    attempt: u32,
    url: &str,
    payload: &StatusEvent,
    webhook_id: &str,
) -> Vec<Input> {
    let report = |ok: bool, retry_after, error: Option<String>| {
        vec![Input::NotifyResult {
            notification,
            attempt,
            ok,
            retry_after,
            error,
        }]
    };
    let signer = match inner
        .signing_secret()
        .await
        .and_then(|s| StandardWebhooks::new(&s).map_err(|e| e.to_string()))
    {
        Ok(signer) => signer,
        Err(e) => return report(false, None, Some(format!("signing secret: {e}"))),
    };
    // The exact bytes sent are the bytes signed.
    let body = match serde_json::to_vec(payload) {
        Ok(body) => body,
        Err(e) => return report(false, None, Some(format!("encoding payload: {e}"))),
    };
    let timestamp = clock::now().as_secs();
    let signature = signer.sign(webhook_id, timestamp, &body);
    let request = HttpRequest {
        method: Method::Post,
        url: url.to_owned(),
        headers: vec![
            ("content-type".into(), "application/json".into()),
            ("user-agent".into(), "CreatorStudio-Webhooks/1".into()),
            (ID_HEADER.into(), webhook_id.to_owned()),
            (TIMESTAMP_HEADER.into(), timestamp.to_string()),
            (SIGNATURE_HEADER.into(), signature),
        ],
        body,
    };
    // The receiver's body is never used: only its status and Retry-After are.
    match outbound::send_for_status(&request, DELIVERY_TIMEOUT).await {
        Ok(resp) if resp.is_success() => report(true, None, None),
        Ok(resp) => report(
            false,
            retry_after(&resp),
            Some(format!("receiver answered {}", resp.status)),
        ),
        Err(e) => report(false, None, Some(e.to_string())),
    }
}
