//! Per-key rate limits, through workerd's native rate-limiting binding (`[[ratelimits]]` in
//! `wrangler.toml`; `wrangler dev` runs the same binding locally).
//!
//! The binding counts requests per key in fixed windows of `period` seconds (10 here) and refuses
//! past `limit`; app keys and support keys have a binding each. On Cloudflare the counters are
//! kept per location and are eventually consistent, so a key spread over many locations can
//! briefly exceed its limit: it is abuse protection, not billing-grade metering. `Retry-After`
//! is the time to the end of the current window. A missing binding or a failing one lets the
//! request through (logged): a limiter outage must not take the API down.

use studio::api::{ApiError, Role};
use studio::time::Millis;
use worker::Env;

use crate::clock;

/// The window of both bindings, seconds; must match `period` in `wrangler.toml`
const WINDOW_SECS: u64 = 10;

fn binding(role: Role) -> &'static str {
    match role {
        Role::App => "APP_RATE_LIMITER",
        Role::Support | Role::SupportAdmin => "SUPPORT_RATE_LIMITER",
    }
}

/// Counts one request of a key (by its hash); 429 with `Retry-After` when over its limit
pub(crate) async fn check(env: &Env, role: Role, key_hash: &str) -> Result<(), ApiError> {
    let name = binding(role);
    let limiter = match env.rate_limiter(name) {
        Ok(limiter) => limiter,
        Err(e) => {
            worker::console_log!("rate limiter {name} unavailable: {e}");
            return Ok(());
        }
    };
    match limiter.limit(key_hash.to_owned()).await {
        Ok(outcome) if outcome.success => Ok(()),
        Ok(_) => {
            let window_ms = WINDOW_SECS * 1000;
            let into_window = clock::now().0 % window_ms;
            Err(ApiError::RateLimited {
                retry_after: Millis(window_ms - into_window),
            })
        }
        Err(e) => {
            worker::console_error!("rate limiter {name}: {e}");
            Ok(())
        }
    }
}
