//! No spend without a way to finish: a brief is refused at create when no assembly route is
//! configured and reachable here, before anything is written or submitted.
//!
//! A route is an assembly model of the registry whose provider has credentials in this
//! environment. Our own assembler must also answer its `/healthz`: it is a service we run, and an
//! unset or dead one is the common way to lose every render at its last stage. Hosted routes
//! (Shotstack) count when configured; their outages are what fallback is for. The probe's answer
//! is kept for [`PROBE_TTL_MS`] per isolate, so creating jobs does not probe every time.

use std::cell::Cell;
use std::time::Duration;

use studio::api::ApiError;
use studio::plan::Capability;
use studio::providers::{HttpRequest, ProviderKind};
use studio::routing::Registry;
use worker::Env;

use crate::{clock, config, outbound};

const PROBE_TTL_MS: u64 = 30_000;
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);

thread_local! {
    /// When our assembler last answered its health check, ms since the epoch
    static ASSEMBLER_SEEN_AT: Cell<Option<u64>> = const { Cell::new(None) };
}

async fn reachable(env: &Env, kind: ProviderKind) -> bool {
    let Ok(cfg) = config::provider(env, kind) else {
        return false;
    };
    if kind != ProviderKind::Assembler {
        return true;
    }
    let now = clock::now().0;
    if ASSEMBLER_SEEN_AT
        .get()
        .is_some_and(|seen| now.saturating_sub(seen) < PROBE_TTL_MS)
    {
        return true;
    }
    let probe = HttpRequest::get(format!("{}/healthz", cfg.base_url.trim_end_matches('/')));
    let ok = matches!(
        outbound::send_for_status(&probe, PROBE_TIMEOUT).await,
        Ok(r) if r.is_success()
    );
    if ok {
        ASSEMBLER_SEEN_AT.set(Some(now));
    }
    ok
}

/// `Ok` when at least one assembly model of `registry` (the one the new job pins) can run here
pub(crate) async fn ensure(env: &Env, registry: &Registry) -> Result<(), ApiError> {
    let mut providers: Vec<ProviderKind> = registry
        .models
        .iter()
        .filter(|m| m.capability == Capability::Assembly)
        .map(|m| m.provider)
        .collect();
    providers.dedup();
    for kind in providers {
        if reachable(env, kind).await {
            return Ok(());
        }
    }
    Err(ApiError::Unavailable(
        "no assembly route is configured and reachable here, so this render could not be \
         finished; nothing was submitted or charged. Configure our assembler \
         (ASSEMBLER_BASE_URL and ASSEMBLER_API_KEY) or a hosted route (SHOTSTACK_API_KEY)"
            .into(),
    ))
}
