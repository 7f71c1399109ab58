//! Validation of a whole registry and of each value an edit sets. Every check names the field
//! it refuses under the path the caller gives (`models[veo-3]`, `edits[2].spec`, `edits[2]`).

use std::collections::BTreeMap;

use super::error::{RegistryError, capability_name};
use super::limits::{
    MAX_ALLOWLIST, MAX_CONCURRENCY, MAX_DURATION_S, MAX_FLAG_NAME_CHARS, MAX_ID_CHARS,
    MAX_LATENCY_MS, MAX_MODELS, MAX_PRICE_USD, MAX_PROVIDER_MODEL_CHARS,
};
use crate::brief::ShotKind;
use crate::plan::Capability;
use crate::providers::ProviderKind;
use crate::routing::{FeatureFlag, ModelSpec, Pricing, Registry};

/// Every capability, in the order coverage is checked (and reported)
const CAPABILITIES: [Capability; 6] = [
    Capability::Image,
    Capability::Video,
    Capability::Speech,
    Capability::Music,
    Capability::Assembly,
    Capability::Frame,
];

/// Whether every registry must keep a model of this capability in service.
///
/// Frame is optional: without a model that cuts frames the planner does not split long shots
/// (`routing::split_limits`), and briefs within one call's length still render, as they did on
/// built-in versions 1 to 3.
pub fn required(capability: Capability) -> bool {
    match capability {
        Capability::Image
        | Capability::Video
        | Capability::Speech
        | Capability::Music
        | Capability::Assembly => true,
        Capability::Frame => false,
    }
}

/// Whether the build's adapter for `provider` makes outputs of `capability`: each adapter
/// builds one kind of request, so a speech model on the Veo adapter would send a video request
pub fn serves(provider: ProviderKind, capability: Capability) -> bool {
    use Capability as C;
    match provider {
        ProviderKind::Veo
        | ProviderKind::Sora
        | ProviderKind::Kling
        | ProviderKind::Runway
        | ProviderKind::FalPika
        | ProviderKind::Luma
        | ProviderKind::Seedance
        | ProviderKind::Hailuo => capability == C::Video,
        ProviderKind::Bfl => capability == C::Image,
        // Voices, and Eleven Music for models named `music_*` (`providers::elevenlabs`).
        ProviderKind::ElevenLabs => matches!(capability, C::Speech | C::Music),
        ProviderKind::MinimaxMusic => capability == C::Music,
        // The generic adapter sends a prompt and an optional image and reads one output URL.
        ProviderKind::Replicate => matches!(capability, C::Video | C::Image),
        ProviderKind::Assembler => matches!(capability, C::Assembly | C::Frame),
        ProviderKind::Shotstack => capability == C::Assembly,
    }
}

/// Whether a model serves every creator for good: never retired, and no flag or one at 100%
pub fn serves_everyone(spec: &ModelSpec) -> bool {
    spec.retired_from.is_none()
        && spec
            .flag
            .as_ref()
            .is_none_or(|flag| flag.rollout_percent >= 100)
}

/// The first required capability without a model that [`serves_everyone`].
///
/// Retirement is the only thing in a registry that changes with time, and it only takes models
/// away, so "a model stays in service after every retirement date" is "a model is never
/// retired"; a flag below 100% would leave the capability missing for some creators.
pub fn uncovered(registry: &Registry) -> Option<Capability> {
    CAPABILITIES
        .into_iter()
        .filter(|c| required(*c))
        .find(|c| !registry.with_capability(*c).any(serves_everyone))
}

/// Validates a whole registry: its size, unique ids, every model, and that every required
/// capability keeps a model in service
///
/// # Errors
///
/// The first problem found, in model order, with a path like `models[veo-3].latency_p95_ms`
/// (`models[3].id` for an id that cannot name its model).
pub fn validate(registry: &Registry) -> Result<(), RegistryError> {
    if registry.models.len() > MAX_MODELS {
        return Err(RegistryError::invalid(
            "models",
            format!("at most {MAX_MODELS} models"),
        ));
    }
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, spec) in registry.models.iter().enumerate() {
        check_id(spec.id.as_str(), &format!("models[{i}].id"))?;
        if let Some(first) = seen.insert(spec.id.as_str(), i) {
            return Err(RegistryError::invalid(
                format!("models[{i}].id"),
                format!("{} is already models[{first}]", spec.id),
            ));
        }
        check_model(spec, &format!("models[{}]", spec.id))?;
    }
    match uncovered(registry) {
        Some(capability) => Err(RegistryError::NoModelInService {
            field: "models".into(),
            capability,
        }),
        None => Ok(()),
    }
}

/// A model id: 1 to [`MAX_ID_CHARS`] of `a-z 0-9 . _ -`, starting with a letter or digit (it
/// appears in decisions, logs and support URLs)
pub(crate) fn check_id(id: &str, at: &str) -> Result<(), RegistryError> {
    let ok_char = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c);
    let starts_well = id
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if id.len() > MAX_ID_CHARS || !starts_well || !id.chars().all(ok_char) {
        return Err(RegistryError::invalid(
            at,
            format!(
                "must be 1 to {MAX_ID_CHARS} characters of a-z, 0-9, '.', '_' and '-', starting with a letter or digit"
            ),
        ));
    }
    Ok(())
}

/// Every field of one model, under `at` (`models[veo-3]`, `edits[1].spec`)
pub(crate) fn check_model(spec: &ModelSpec, at: &str) -> Result<(), RegistryError> {
    check_id(spec.id.as_str(), &format!("{at}.id"))?;
    let name = spec.provider_model.trim();
    if name.is_empty()
        || spec.provider_model.chars().count() > MAX_PROVIDER_MODEL_CHARS
        || spec.provider_model.chars().any(char::is_control)
    {
        return Err(RegistryError::invalid(
            format!("{at}.provider_model"),
            format!("must be 1 to {MAX_PROVIDER_MODEL_CHARS} printable characters"),
        ));
    }
    if !serves(spec.provider, spec.capability) {
        return Err(RegistryError::invalid(
            format!("{at}.provider"),
            format!(
                "the {} adapter does not make {} outputs",
                spec.provider,
                capability_name(spec.capability)
            ),
        ));
    }
    check_priors(&spec.quality, spec.default_quality, at)?;
    check_price(&spec.pricing, &format!("{at}.pricing"))?;
    check_latency(
        spec.latency_p50_ms,
        spec.latency_p95_ms,
        &spec.pricing,
        &format!("{at}.latency_p50_ms"),
        &format!("{at}.latency_p95_ms"),
    )?;
    if !spec.max_duration_s.is_finite() || !(0.0..=MAX_DURATION_S).contains(&spec.max_duration_s) {
        return Err(RegistryError::invalid(
            format!("{at}.max_duration_s"),
            format!("must be from 0 (not applicable) to {MAX_DURATION_S} seconds"),
        ));
    }
    if spec.capability == Capability::Video && spec.aspects.is_empty() {
        return Err(RegistryError::invalid(
            format!("{at}.aspects"),
            "a video model must render at least one frame shape",
        ));
    }
    for (i, aspect) in spec.aspects.iter().enumerate() {
        if spec
            .aspects
            .get(..i)
            .is_some_and(|before| before.contains(aspect))
        {
            return Err(RegistryError::invalid(
                format!("{at}.aspects[{i}]"),
                "listed twice",
            ));
        }
    }
    check_concurrency(spec.concurrency, &format!("{at}.concurrency"))?;
    if let Some(flag) = &spec.flag {
        check_flag(flag, &format!("{at}.flag"))?;
    }
    Ok(())
}

fn check_priors(
    quality: &BTreeMap<ShotKind, f64>,
    default_quality: f64,
    at: &str,
) -> Result<(), RegistryError> {
    for (kind, prior) in quality {
        check_prior(*prior, &format!("{at}.quality.{}", kind.as_str()))?;
    }
    check_prior(default_quality, &format!("{at}.default_quality"))
}

/// A quality prior: a finite number from 0 to 1
pub(crate) fn check_prior(prior: f64, at: &str) -> Result<(), RegistryError> {
    if prior.is_finite() && (0.0..=1.0).contains(&prior) {
        Ok(())
    } else {
        Err(RegistryError::invalid(at, "must be a number from 0 to 1"))
    }
}

/// A price: finite, not negative, at most [`MAX_PRICE_USD`] a unit; `at` is the pricing object
pub(crate) fn check_price(pricing: &Pricing, at: &str) -> Result<(), RegistryError> {
    let usd = match pricing {
        Pricing::PerSecond { usd }
        | Pricing::PerImage { usd }
        | Pricing::PerThousandChars { usd } => *usd,
        Pricing::Free => return Ok(()),
    };
    if usd.is_finite() && (0.0..=MAX_PRICE_USD).contains(&usd) {
        Ok(())
    } else {
        Err(RegistryError::invalid(
            format!("{at}.usd"),
            format!("must be a number of USD from 0 to {MAX_PRICE_USD} a unit"),
        ))
    }
}

/// Latencies: p50 at most p95, at most [`MAX_LATENCY_MS`], and above 0 unless the model is free
/// (a paid provider that answers in 0 ms is a typo, and would win every latency comparison)
pub(crate) fn check_latency(
    p50_ms: u64,
    p95_ms: u64,
    pricing: &Pricing,
    at_p50: &str,
    at_p95: &str,
) -> Result<(), RegistryError> {
    let free = matches!(pricing, Pricing::Free);
    for (ms, at) in [(p50_ms, at_p50), (p95_ms, at_p95)] {
        if ms > MAX_LATENCY_MS {
            return Err(RegistryError::invalid(
                at,
                format!("must be at most {MAX_LATENCY_MS} ms (a day)"),
            ));
        }
        if ms == 0 && !free {
            return Err(RegistryError::invalid(
                at,
                "must be above 0 ms for a paid model",
            ));
        }
    }
    if p50_ms > p95_ms {
        return Err(RegistryError::invalid(
            at_p95,
            format!("must be at least the p50 latency ({p50_ms} ms)"),
        ));
    }
    Ok(())
}

/// Tasks in flight at once: 1 to [`MAX_CONCURRENCY`] (0 would never submit)
pub(crate) fn check_concurrency(concurrency: u32, at: &str) -> Result<(), RegistryError> {
    if (1..=MAX_CONCURRENCY).contains(&concurrency) {
        Ok(())
    } else {
        Err(RegistryError::invalid(
            at,
            format!("must be from 1 to {MAX_CONCURRENCY}"),
        ))
    }
}

/// A rollout percentage: 0 to 100
pub(crate) fn check_rollout(rollout_percent: u8, at: &str) -> Result<(), RegistryError> {
    if rollout_percent <= 100 {
        Ok(())
    } else {
        Err(RegistryError::invalid(at, "must be from 0 to 100"))
    }
}

/// A feature flag, under `at` (the flag object)
pub(crate) fn check_flag(flag: &FeatureFlag, at: &str) -> Result<(), RegistryError> {
    if flag.name.trim().is_empty() || flag.name.chars().count() > MAX_FLAG_NAME_CHARS {
        return Err(RegistryError::invalid(
            format!("{at}.name"),
            format!("must be 1 to {MAX_FLAG_NAME_CHARS} characters"),
        ));
    }
    check_rollout(flag.rollout_percent, &format!("{at}.rollout_percent"))?;
    if flag.allowlist.len() > MAX_ALLOWLIST {
        return Err(RegistryError::invalid(
            format!("{at}.allowlist"),
            format!("at most {MAX_ALLOWLIST} creators"),
        ));
    }
    for (i, creator) in flag.allowlist.iter().enumerate() {
        if creator.trim().is_empty() {
            return Err(RegistryError::invalid(
                format!("{at}.allowlist[{i}]"),
                "must be a creator id",
            ));
        }
    }
    Ok(())
}
