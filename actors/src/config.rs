//! Reading Worker vars and secrets through the core's lookup-closure interface.
//!
//! Every secret the Worker signs or verifies with passes the core's policy here
//! (`studio::api::secrets`): outside `ENVIRONMENT=dev` an empty or public dev value is refused, so
//! the request that needs it fails "not configured" (503) instead of signing with a key anyone
//! can read.

use std::cell::RefCell;
use std::collections::HashMap;

use studio::api::media::MediaKey;
use studio::api::secrets::{self, SecretError};
use studio::providers::config::DEV_CALLBACK_SECRET;
use studio::providers::{CallbackConfig, ConfigError, Environment, ProviderConfig, ProviderKind};
use worker::Env;

/// Why a configuration cannot be used: missing or malformed, or a secret the environment refuses
#[derive(Debug, thiserror::Error)]
pub(crate) enum ConfigRefused {
    /// Missing or malformed settings
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// An empty secret, or outside dev a dev one
    #[error(transparent)]
    Secret(#[from] SecretError),
}

/// A var or secret by name; `None` when unset or empty
///
/// Remembered per isolate: an isolate runs one deployment, whose vars and secrets do not
/// change while it lives, and each read of an unset name costs two JavaScript exceptions
/// (a callback read about twenty names, a tenth of its CPU).
pub(crate) fn lookup(env: &Env, name: &str) -> Option<String> {
    if let Some(known) = LOOKED_UP.with(|m| m.borrow().get(name).cloned()) {
        return known;
    }
    let value = env
        .var(name)
        .map(|v| v.to_string())
        .or_else(|_| env.secret(name).map(|s| s.to_string()))
        .ok()
        .filter(|s| !s.is_empty());
    LOOKED_UP.with(|m| m.borrow_mut().insert(name.to_owned(), value.clone()));
    value
}

thread_local! {
    /// Every var and secret read so far in this isolate, by name (`None`: unset or empty)
    static LOOKED_UP: RefCell<HashMap<String, Option<String>>> = RefCell::new(HashMap::new());
}

/// `ENVIRONMENT`: `dev` is dev, anything else (unset too) is production
pub(crate) fn environment(env: &Env) -> Environment {
    Environment::from_lookup(&|name: &str| lookup(env, name))
}

/// One provider's configuration (dev simulator or real endpoint); outside dev none of its
/// credentials may be a dev value
pub(crate) fn provider(env: &Env, kind: ProviderKind) -> Result<ProviderConfig, ConfigRefused> {
    let config = ProviderConfig::from_lookup(kind, &|name: &str| lookup(env, name))?;
    secrets::check_provider(environment(env), kind, &config)?;
    Ok(config)
}

/// Where callbacks reach us, and their token key (never empty; outside dev never the dev key)
pub(crate) fn callbacks(env: &Env) -> Result<CallbackConfig, ConfigRefused> {
    let config = CallbackConfig::from_lookup(&|name: &str| lookup(env, name))?;
    secrets::check_signing_key(environment(env), "CALLBACK_SECRET", config.secret.expose())?;
    Ok(config)
}

/// The key of signed media URLs: `MEDIA_URL_SECRET`, else the callback secret (in dev its dev
/// default), checked like every key we sign with
pub(crate) fn media_key(env: &Env) -> Result<MediaKey, SecretError> {
    let environment = environment(env);
    let (name, value) = match (
        lookup(env, "MEDIA_URL_SECRET"),
        lookup(env, "CALLBACK_SECRET"),
        environment,
    ) {
        (Some(value), _, _) => ("MEDIA_URL_SECRET", value),
        (None, Some(value), _) => ("CALLBACK_SECRET", value),
        (None, None, Environment::Dev) => ("CALLBACK_SECRET", DEV_CALLBACK_SECRET.to_owned()),
        (None, None, Environment::Production) => ("MEDIA_URL_SECRET", String::new()),
    };
    MediaKey::new(environment, name, &value)
}

/// `PUBLIC_BASE_URL` without a trailing slash
pub(crate) fn public_base(env: &Env) -> String {
    lookup(env, "PUBLIC_BASE_URL")
        .unwrap_or_default()
        .trim_end_matches('/')
        .to_owned()
}

/// A registry as the local stack runs it: in dev, `REGISTRY_LATENCY_SCALE` (e.g. `0.25`) scales
/// every model's latency figures, so that timeouts and poll cadence match a simulator whose
/// latencies are scaled the same way (benchmarks run real schedules in a fraction of the time).
/// Outside dev the registry is unchanged.
pub(crate) fn scaled_for_dev(
    env: &Env,
    mut registry: studio::routing::Registry,
) -> studio::routing::Registry {
    let dev = environment(env) == Environment::Dev;
    let scale = lookup(env, "REGISTRY_LATENCY_SCALE").and_then(|s| s.parse::<f64>().ok());
    if let (true, Some(scale)) = (dev, scale.filter(|s| s.is_finite() && *s > 0.0)) {
        for model in &mut registry.models {
            model.latency_p50_ms = (model.latency_p50_ms as f64 * scale) as u64;
            model.latency_p95_ms = (model.latency_p95_ms as f64 * scale) as u64;
        }
    }
    registry
}

/// The assembler's output quality: `ASSEMBLY_QUALITY` = `hd` (1080p, the default) or `preview`
/// (360p, fast: tests and demos). Anything else is `hd`, so a typo never ships a 360p master.
pub(crate) fn assembly_quality(env: &Env) -> studio::plan::Quality {
    lookup(env, "ASSEMBLY_QUALITY")
        .and_then(|q| studio::plan::Quality::parse(&q))
        .unwrap_or_default()
}

/// One provider's limits in `PROVIDER_LIMITS` (all optional; the defaults fill the rest)
#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct LimitsEntry {
    max_concurrent: Option<u32>,
    requests_per_minute: Option<u32>,
    burst: Option<u32>,
}

/// What a provider account allows when `PROVIDER_LIMITS` does not say: generous enough for a
/// paid account of any of our providers, so the gate only binds where it is configured tighter
const DEFAULT_LIMITS: studio::fleet::gate::ProviderLimits = studio::fleet::gate::ProviderLimits {
    max_concurrent: 64,
    requests_per_minute: 600,
    burst: 60,
};

/// A provider account's limits: `PROVIDER_LIMITS` is JSON keyed by provider (`"*"` for every
/// provider not named), e.g. `{"kling": {"max_concurrent": 2, "requests_per_minute": 60}}`.
/// A value that does not parse is logged and the defaults apply.
pub(crate) fn provider_limits(
    env: &Env,
    provider: ProviderKind,
) -> studio::fleet::gate::ProviderLimits {
    let Some(raw) = lookup(env, "PROVIDER_LIMITS").filter(|s| !s.trim().is_empty()) else {
        return DEFAULT_LIMITS;
    };
    let table: std::collections::BTreeMap<String, LimitsEntry> = match serde_json::from_str(&raw) {
        Ok(t) => t,
        Err(e) => {
            worker::console_error!("PROVIDER_LIMITS does not parse ({e}); using the defaults");
            return DEFAULT_LIMITS;
        }
    };
    let entry = table.get(provider.as_str()).or_else(|| table.get("*"));
    match entry {
        None => DEFAULT_LIMITS,
        Some(e) => studio::fleet::gate::ProviderLimits {
            max_concurrent: e.max_concurrent.unwrap_or(DEFAULT_LIMITS.max_concurrent),
            requests_per_minute: e
                .requests_per_minute
                .unwrap_or(DEFAULT_LIMITS.requests_per_minute),
            burst: e.burst.unwrap_or(DEFAULT_LIMITS.burst),
        },
    }
}

/// Whether new jobs take their submit slots at the providers' gates: `FLEET_GATES` = `off`
/// turns it off (for measuring a submit without a gate); anything else, or unset, is on
pub(crate) fn fleet_gates(env: &Env) -> bool {
    lookup(env, "FLEET_GATES").is_none_or(|v| v.trim() != "off")
}
