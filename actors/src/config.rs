//! Reading Worker vars and secrets through the core's lookup-closure interface.

use studio::providers::{CallbackConfig, ConfigError, ProviderConfig, ProviderKind};
use worker::Env;

/// A var or secret by name; `None` when unset or empty
pub(crate) fn lookup(env: &Env, name: &str) -> Option<String> {
    env.var(name)
        .map(|v| v.to_string())
        .or_else(|_| env.secret(name).map(|s| s.to_string()))
        .ok()
        .filter(|s| !s.is_empty())
}

/// One provider's configuration (dev simulator or real endpoint)
pub(crate) fn provider(env: &Env, kind: ProviderKind) -> Result<ProviderConfig, ConfigError> {
    ProviderConfig::from_lookup(kind, &|name: &str| lookup(env, name))
}

/// Where callbacks reach us, and their token key
pub(crate) fn callbacks(env: &Env) -> Result<CallbackConfig, ConfigError> {
    CallbackConfig::from_lookup(&|name: &str| lookup(env, name))
}

/// The key of signed media URLs: `MEDIA_URL_SECRET`, else (dev only) the callback secret
pub(crate) fn media_secret(env: &Env) -> Vec<u8> {
    lookup(env, "MEDIA_URL_SECRET")
        .or_else(|| callbacks(env).ok().map(|c| c.secret.expose().to_owned()))
        .unwrap_or_default()
        .into_bytes()
}

/// `PUBLIC_BASE_URL` without a trailing slash
pub(crate) fn public_base(env: &Env) -> String {
    lookup(env, "PUBLIC_BASE_URL")
        .unwrap_or_default()
        .trim_end_matches('/')
        .to_owned()
}

/// The model registry a new job pins. In dev, `REGISTRY_LATENCY_SCALE` (e.g. `0.25`) scales
/// every model's latency figures, so that timeouts and poll cadence match a simulator whose
/// latencies are scaled the same way (benchmarks run real schedules in a fraction of the time).
pub(crate) fn registry(env: &Env) -> studio::routing::Registry {
    let mut registry = studio::routing::Registry::builtin();
    let dev = lookup(env, "ENVIRONMENT").as_deref() == Some("dev");
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
