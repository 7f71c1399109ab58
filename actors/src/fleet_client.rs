//! Calls to the providers' gate objects (`ProviderGate`, one per provider), and the gate's push
//! of a granted slot to the job that waited for it.
//!
//! Every call has a deadline: a gate that does not answer in time counts as not reached, and the
//! job asks again later (a slot request) or goes on without (a release frees itself when its
//! lease ends; health falls back to the registry's priors).

use std::time::Duration;

use futures::future::{Either, select};
use serde::Serialize;
use serde::de::DeserializeOwned;
use studio::fleet::desk::{AcquireAnswer, AcquireCall, ProviderView, ReleaseCall, SlotNotice};
use studio::fleet::health::Latency;
use studio::ids::ModelId;
use studio::providers::ProviderKind;
use studio::routing::live::LiveHealth;
use worker::{Delay, Env, Method, Request, RequestInit};

use crate::object_fetch;

/// Names the provider a gate object serves (its object name)
pub(crate) const PROVIDER_HEADER: &str = "x-provider";

/// How long a gate call may take
const GATE_TIMEOUT: Duration = Duration::from_secs(5);

async fn gate_call<T: DeserializeOwned>(
    env: &Env,
    provider: ProviderKind,
    method: Method,
    path: &str,
    body: Option<String>,
) -> worker::Result<T> {
    let stub = env
        .durable_object("PROVIDER_GATE")?
        .id_from_name(provider.as_str())?
        .get_stub()?;
    let url = format!("https://gate{path}");
    let work = Box::pin(async move {
        let headers = [
            (PROVIDER_HEADER, provider.as_str()),
            ("content-type", "application/json"),
        ];
        let (status, text) = object_fetch::text(stub, method, &url, &headers, body).await?;
        if status != 200 {
            return Err(worker::Error::RustError(format!(
                "{provider} gate answered {status}: {text}"
            )));
        }
        serde_json::from_str(&text)
            .map_err(|e| worker::Error::RustError(format!("{provider} gate: {e}")))
    });
    match select(work, Box::pin(Delay::from(GATE_TIMEOUT))).await {
        Either::Left((result, _)) => result,
        Either::Right(_) => Err(worker::Error::RustError(format!(
            "{provider} gate did not answer in {} s",
            GATE_TIMEOUT.as_secs()
        ))),
    }
}

fn json(value: &impl Serialize) -> worker::Result<Option<String>> {
    Ok(Some(serde_json::to_string(value)?))
}

/// Asks a provider's gate for a slot
pub(crate) async fn acquire(
    env: &Env,
    provider: ProviderKind,
    call: &AcquireCall,
    probe_lease_ms: u64,
) -> worker::Result<AcquireAnswer> {
    #[derive(Serialize)]
    struct Body<'a> {
        call: &'a AcquireCall,
        probe_lease_ms: u64,
    }
    let body = json(&Body {
        call,
        probe_lease_ms,
    })?;
    gate_call(env, provider, Method::Post, "/acquire", body).await
}

/// Gives a slot back to a provider's gate, with how the attempt ended
pub(crate) async fn release(
    env: &Env,
    provider: ProviderKind,
    call: &ReleaseCall,
) -> worker::Result<()> {
    let _: serde_json::Value =
        gate_call(env, provider, Method::Post, "/release", json(call)?).await?;
    Ok(())
}

/// The live health of `models` at one provider, for routing
pub(crate) async fn health(
    env: &Env,
    provider: ProviderKind,
    models: Vec<(ModelId, Latency)>,
) -> worker::Result<Vec<LiveHealth>> {
    #[derive(Serialize)]
    struct Body {
        models: Vec<(ModelId, Latency)>,
    }
    gate_call(
        env,
        provider,
        Method::Post,
        "/health",
        json(&Body { models })?,
    )
    .await
}

/// Tells a provider's gate which of its models are retired
pub(crate) async fn set_retired(
    env: &Env,
    provider: ProviderKind,
    retired: &std::collections::BTreeMap<ModelId, studio::time::Timestamp>,
) -> worker::Result<()> {
    let _: serde_json::Value =
        gate_call(env, provider, Method::Post, "/retired", json(retired)?).await?;
    Ok(())
}

/// A provider's gate, for support
pub(crate) async fn view(env: &Env, provider: ProviderKind) -> worker::Result<ProviderView> {
    gate_call(env, provider, Method::Get, "/view", None).await
}

/// Pushes a granted slot to the job that waited for it (best effort: the job asks again anyway)
pub(crate) async fn push_grant(env: &Env, notice: &SlotNotice) {
    let result = async {
        let stub = env
            .durable_object("RENDER_JOB")?
            .id_from_name(notice.key.job.as_str())?
            .get_stub()?;
        let body = serde_json::json!({
            "stage": notice.key.stage,
            "attempt": notice.key.attempt,
            "model": notice.model,
        });
        let mut init = RequestInit::new();
        init.with_method(Method::Post)
            .with_body(Some(body.to_string().into()));
        let req = Request::new_with_init("https://job/slot", &init)?;
        stub.fetch_with_request(req).await.map(|_| ())
    };
    if let Err(e) = result.await {
        worker::console_log!("pushing a slot to {}: {e}", notice.key.job);
    }
}
