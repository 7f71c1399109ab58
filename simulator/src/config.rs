//! Start-up settings (CLI and environment) and the runtime configuration set by `POST /__sim/config`.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::providers::Provider;

/// Start-up settings: flags, each with an environment variable
#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "simulator",
    about = "Provider simulator for the CreatorStudio render tier"
)]
pub struct Settings {
    /// Address to listen on
    #[arg(long, env = "SIM_LISTEN", default_value = "127.0.0.1:8788")]
    pub listen: SocketAddr,
    /// Base of the absolute URLs the simulator returns (default: http://<bound address>)
    #[arg(long, env = "SIM_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Where Sora's project-level webhook is sent (none: Sora is polled only)
    #[arg(long, env = "SIM_SORA_WEBHOOK_URL")]
    pub sora_webhook_url: Option<String>,
    /// Multiplies every simulated latency, delay, retry backoff and URL lifetime
    #[arg(long, env = "SIM_TIME_SCALE", default_value_t = 1.0)]
    pub time_scale: f64,
    /// Default latency of every provider, in milliseconds (before scaling)
    #[arg(long, env = "SIM_LATENCY_MS", default_value_t = 1500)]
    pub latency_ms: u64,
    /// Seed of the fault decisions
    #[arg(long, env = "SIM_SEED", default_value_t = 0)]
    pub seed: u64,
    /// `per-task` (each task its own picture) or `per-shape` (one file per shape and length,
    /// whatever the prompt: load tests, so hundreds of renders do not wait on ffmpeg)
    #[arg(long, env = "SIM_MEDIA_VARIETY", default_value = "per-task")]
    pub media_variety: String,
    /// `per-task` (Shotstack composes every master) or `per-shape` (one master per frame, rate,
    /// length and poster, composed once and served to every edit of that shape, whose sources
    /// are still fetched: load tests, so the masters of hundreds of renders do not queue on
    /// this machine's cores, which the real service's capacity would not)
    #[arg(long, env = "SIM_MASTERS", default_value = "per-task")]
    pub masters: String,
}

impl Settings {
    /// Settings for an in-process server on an ephemeral loopback port
    pub fn ephemeral() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            public_url: None,
            sora_webhook_url: None,
            time_scale: 1.0,
            latency_ms: 1500,
            seed: 0,
            media_variety: "per-task".into(),
            masters: "per-task".into(),
        }
    }
}

/// A fault rate: a probability in 0..=1, or `{"first": N}` for the first N occurrences
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum FaultRate {
    /// Each occurrence fires with this probability (deterministic for a seed)
    Probability(f64),
    /// The first N occurrences (per provider, since the faults were last set) fire
    First {
        /// How many occurrences fire
        first: u64,
    },
}

/// The faults of one provider
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    /// Submissions answered 500 in the provider's error shape
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub submit_5xx: Option<FaultRate>,
    /// Submissions answered 429 with `Retry-After`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub submit_429: Option<FaultRate>,
    /// The `Retry-After` of injected 429s, in seconds (default 2)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_s: Option<u64>,
    /// Submissions held for `timeout_hold_ms`, then answered 504
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<FaultRate>,
    /// How long a timed-out submission is held, in real milliseconds (default 30000, at most 120000)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_hold_ms: Option<u64>,
    /// Whether a timed-out submission was nevertheless accepted (the task exists and runs)
    #[serde(default)]
    pub timeout_then_accept: bool,
    /// Submissions and polls answered 200 with a truncated JSON body
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub malformed: Option<FaultRate>,
    /// Tasks refused by moderation, in the provider's own moderation shape
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moderation: Option<FaultRate>,
    /// Tasks whose terminal callback is delivered twice
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback_duplicate: Option<FaultRate>,
    /// Extra delay of every callback, in milliseconds (scaled), after the state is visible to polls
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback_late_ms: Option<u64>,
    /// Tasks that send a stale non-terminal callback after the terminal one
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback_out_of_order: Option<FaultRate>,
    /// Tasks whose output URL is already expired when the task completes
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expired_output: Option<FaultRate>,
}

/// The limits of one provider's account; an absent cap is no cap
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderLimits {
    /// Tasks in flight at once (from the accepted submit until the result is final)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_concurrent_tasks: Option<NonZeroU32>,
    /// Submits accepted within a sliding minute (scaled by `time_scale`)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests_per_minute: Option<NonZeroU32>,
}

/// Why a configuration was refused
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A key names no provider
    #[error("unknown provider: {0}")]
    UnknownProvider(String),
    /// A probability is outside 0..=1
    #[error("{field}: probability must be within 0..=1")]
    Probability {
        /// Which field
        field: String,
    },
    /// The time scale is not a positive finite number
    #[error("time_scale must be a positive number")]
    TimeScale,
}

/// The runtime configuration
#[derive(Debug, Clone, Serialize)]
pub struct SimConfig {
    /// Multiplier of every simulated duration
    pub time_scale: f64,
    /// Latency of providers without an entry in `latency_ms`
    pub default_latency_ms: u64,
    /// Per-provider latency, in milliseconds before scaling
    pub latency_ms: BTreeMap<Provider, u64>,
    /// Sora's project webhook URL
    pub sora_webhook_url: Option<String>,
    /// Per-provider faults; `"*"` in a request applies to providers without their own entry
    pub faults: BTreeMap<Provider, FaultSpec>,
    /// Seed of the fault decisions
    pub seed: u64,
    /// Providers whose `Idempotency-Key` request header is honored
    pub honor_idempotency_key: BTreeSet<Provider>,
    /// Zero bytes appended to every output file a provider serves (streamed, never held): large
    /// outputs for tests of the orchestrator's copies, from small real media
    pub pad_outputs_bytes: BTreeMap<Provider, u64>,
    /// Per-provider caps, answered with the provider's 429 beyond them (none by default)
    pub limits: BTreeMap<Provider, ProviderLimits>,
    /// Every picture and score of one shape is one file (`SIM_MEDIA_VARIETY=per-shape`)
    pub media_per_shape: bool,
    /// Shotstack composes one master per shape (`SIM_MASTERS=per-shape`)
    pub masters_per_shape: bool,
}

impl SimConfig {
    /// The configuration at start-up and after `POST /__sim/reset`
    pub fn from_settings(s: &Settings) -> Self {
        Self {
            time_scale: if s.time_scale.is_finite() && s.time_scale > 0.0 {
                s.time_scale
            } else {
                1.0
            },
            default_latency_ms: s.latency_ms,
            latency_ms: BTreeMap::new(),
            sora_webhook_url: s.sora_webhook_url.clone(),
            faults: BTreeMap::new(),
            seed: s.seed,
            honor_idempotency_key: BTreeSet::new(),
            pad_outputs_bytes: BTreeMap::new(),
            limits: BTreeMap::new(),
            media_per_shape: s.media_variety == "per-shape",
            masters_per_shape: s.masters == "per-shape",
        }
    }

    /// Scales a simulated duration given in milliseconds
    pub fn scaled(&self, ms: u64) -> Duration {
        Duration::from_secs_f64((ms as f64 * self.time_scale / 1000.0).clamp(0.0, 1e9))
    }

    /// Returns the scaled latency of a provider
    pub fn latency(&self, p: Provider) -> Duration {
        self.scaled(
            self.latency_ms
                .get(&p)
                .copied()
                .unwrap_or(self.default_latency_ms),
        )
    }

    /// Returns the caps of a provider (none when none are set)
    pub fn limits(&self, p: Provider) -> ProviderLimits {
        self.limits.get(&p).copied().unwrap_or_default()
    }

    /// The sliding window of the requests-per-minute caps: one minute, scaled
    pub fn limit_window(&self) -> Duration {
        self.scaled(60_000)
    }

    /// Returns the faults of a provider (empty when none are set)
    pub fn faults(&self, p: Provider) -> FaultSpec {
        self.faults.get(&p).cloned().unwrap_or_default()
    }

    /// Applies a patch; returns whether the fault decisions must restart (faults or seed changed)
    pub fn apply(&mut self, patch: ConfigPatch) -> Result<bool, ConfigError> {
        let mut next = self.clone();
        if let Some(ts) = patch.time_scale {
            if !(ts.is_finite() && ts > 0.0) {
                return Err(ConfigError::TimeScale);
            }
            next.time_scale = ts;
        }
        if let Some(ms) = patch.default_latency_ms {
            next.default_latency_ms = ms;
        }
        if let Some(lat) = patch.latency_ms {
            for (k, ms) in lat {
                if k == "*" {
                    next.default_latency_ms = ms;
                } else {
                    next.latency_ms.insert(parse_provider(&k)?, ms);
                }
            }
        }
        if let Some(url) = patch.sora_webhook_url {
            next.sora_webhook_url = url.filter(|u| !u.is_empty());
        }
        if let Some(pads) = patch.pad_outputs_bytes {
            next.pad_outputs_bytes = pads
                .into_iter()
                .map(|(k, n)| Ok((parse_provider(&k)?, n)))
                .collect::<Result<_, ConfigError>>()?;
        }
        if let Some(list) = patch.honor_idempotency_key {
            next.honor_idempotency_key = list
                .iter()
                .map(|k| parse_provider(k))
                .collect::<Result<_, _>>()?;
        }
        if let Some(limits) = patch.limits {
            // As for faults, `"*"` covers the providers without their own entry
            let mut table = BTreeMap::new();
            if let Some(w) = limits.get("*") {
                for p in Provider::ALL {
                    table.insert(p, *w);
                }
            }
            for (k, caps) in limits {
                if k != "*" {
                    table.insert(parse_provider(&k)?, caps);
                }
            }
            next.limits = table;
        }
        let mut restart = false;
        if let Some(faults) = patch.faults {
            let wildcard = faults.get("*").cloned();
            let mut table = BTreeMap::new();
            if let Some(w) = &wildcard {
                validate(w, "*")?;
                for p in Provider::ALL {
                    table.insert(p, w.clone());
                }
            }
            for (k, spec) in faults {
                if k == "*" {
                    continue;
                }
                validate(&spec, &k)?;
                table.insert(parse_provider(&k)?, spec);
            }
            next.faults = table;
            restart = true;
        }
        if let Some(seed) = patch.seed {
            next.seed = seed;
            restart = true;
        }
        *self = next;
        Ok(restart)
    }
}

fn parse_provider(k: &str) -> Result<Provider, ConfigError> {
    Provider::parse(k).ok_or_else(|| ConfigError::UnknownProvider(k.to_string()))
}

fn validate(spec: &FaultSpec, provider: &str) -> Result<(), ConfigError> {
    let rates = [
        ("submit_5xx", spec.submit_5xx),
        ("submit_429", spec.submit_429),
        ("timeout", spec.timeout),
        ("malformed", spec.malformed),
        ("moderation", spec.moderation),
        ("callback_duplicate", spec.callback_duplicate),
        ("callback_out_of_order", spec.callback_out_of_order),
        ("expired_output", spec.expired_output),
    ];
    for (name, rate) in rates {
        if let Some(FaultRate::Probability(p)) = rate
            && !(0.0..=1.0).contains(&p)
        {
            return Err(ConfigError::Probability {
                field: format!("faults.{provider}.{name}"),
            });
        }
    }
    Ok(())
}

/// The body of `POST /__sim/config`; every field is optional and replaces what it names
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigPatch {
    /// Multiplier of every simulated duration
    pub time_scale: Option<f64>,
    /// Latency of providers without their own entry
    pub default_latency_ms: Option<u64>,
    /// Per-provider latency (`"*"` sets the default)
    pub latency_ms: Option<BTreeMap<String, u64>>,
    /// Sora's project webhook URL (`null` or `""` removes it)
    #[serde(default, deserialize_with = "some_option")]
    pub sora_webhook_url: Option<Option<String>>,
    /// The whole fault table (replaces the previous one; `{}` clears it)
    pub faults: Option<BTreeMap<String, FaultSpec>>,
    /// Seed of the fault decisions
    pub seed: Option<u64>,
    /// Providers whose `Idempotency-Key` header is honored
    pub honor_idempotency_key: Option<Vec<String>>,
    /// Zero bytes appended to each provider's output files (replaces the table; `{}` clears it)
    pub pad_outputs_bytes: Option<BTreeMap<String, u64>>,
    /// Per-provider caps (replaces the table; `{}` clears it; `"*"` covers the others)
    pub limits: Option<BTreeMap<String, ProviderLimits>>,
}

fn some_option<'de, D>(d: D) -> Result<Option<Option<String>>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    Option::<String>::deserialize(d).map(Some)
}
