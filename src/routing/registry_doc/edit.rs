//! The edits an operator sends, each applied to the model list with its own values checked
//! under the edit's path (`edits[2].pricing.usd`), before the whole result is validated.

use serde::{Deserialize, Serialize};

use super::check;
use super::error::RegistryError;
use super::limits::MAX_MODELS;
use super::moment::{MOMENT_FORMAT, Moment};
use super::service::spec_in_service;
use crate::brief::ShotKind;
use crate::ids::ModelId;
use crate::routing::{FeatureFlag, ModelSpec, Pricing, Registry};
use crate::time::Timestamp;

/// One change to the latest version, as an operator sends it
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum RegistryEdit {
    /// A new model (its id must be new)
    AddModel {
        /// The whole model
        spec: ModelSpec,
    },
    /// Every figure of a listed model at once (endpoint, aspects, continuity...); its id names
    /// it, and its capability must stay the same (outcome data is kept per model id)
    ReplaceModel {
        /// The whole model
        spec: ModelSpec,
    },
    /// A new price
    SetPrice {
        /// The model
        model: ModelId,
        /// The price
        pricing: Pricing,
    },
    /// A quality prior for one shot kind, or the default prior when `kind` is absent
    SetQuality {
        /// The model
        model: ModelId,
        /// The shot kind; absent: `default_quality`
        #[serde(default)]
        kind: Option<ShotKind>,
        /// The prior, 0 to 1
        prior: f64,
    },
    /// Drops a shot kind's prior, so the model's default applies to it
    ClearQuality {
        /// The model
        model: ModelId,
        /// The shot kind
        kind: ShotKind,
    },
    /// New latency figures
    SetLatency {
        /// The model
        model: ModelId,
        /// Median, ms
        p50_ms: u64,
        /// 95th percentile, ms
        p95_ms: u64,
    },
    /// How many tasks may be in flight with the model at once
    SetConcurrency {
        /// The model
        model: ModelId,
        /// 1 or more
        concurrency: u32,
    },
    /// Sets, replaces (rollout percentage, allowlist) or removes (`null`) the feature flag
    SetFlag {
        /// The model
        model: ModelId,
        /// The flag; `null` opens the model to every creator
        flag: Option<FeatureFlag>,
    },
    /// Only the rollout percentage of the model's existing flag
    SetRollout {
        /// The model
        model: ModelId,
        /// 0 to 100
        rollout_percent: u8,
    },
    /// Never submit to the model from a moment on; a moment in the past, or none, means now
    Retire {
        /// The model
        model: ModelId,
        /// From when; absent: now
        #[serde(default)]
        from: Option<Moment>,
    },
    /// Calls a retirement off, past or scheduled
    Unretire {
        /// The model
        model: ModelId,
    },
}

impl RegistryEdit {
    /// The model this edit changes
    pub fn model(&self) -> &ModelId {
        match self {
            Self::AddModel { spec } | Self::ReplaceModel { spec } => &spec.id,
            Self::SetPrice { model, .. }
            | Self::SetQuality { model, .. }
            | Self::ClearQuality { model, .. }
            | Self::SetLatency { model, .. }
            | Self::SetConcurrency { model, .. }
            | Self::SetFlag { model, .. }
            | Self::SetRollout { model, .. }
            | Self::Retire { model, .. }
            | Self::Unretire { model } => model,
        }
    }

    /// The edit's field that names the model
    fn model_field(&self) -> &'static str {
        match self {
            Self::AddModel { .. } | Self::ReplaceModel { .. } => "spec.id",
            Self::SetPrice { .. }
            | Self::SetQuality { .. }
            | Self::ClearQuality { .. }
            | Self::SetLatency { .. }
            | Self::SetConcurrency { .. }
            | Self::SetFlag { .. }
            | Self::SetRollout { .. }
            | Self::Retire { .. }
            | Self::Unretire { .. } => "model",
        }
    }

    /// Whether the edit can take a model out of service for some creators (so a capability
    /// left without a model is blamed on it)
    pub(crate) fn can_withdraw(&self) -> bool {
        match self {
            Self::ReplaceModel { .. }
            | Self::SetFlag { .. }
            | Self::SetRollout { .. }
            | Self::Retire { .. } => true,
            Self::AddModel { .. }
            | Self::SetPrice { .. }
            | Self::SetQuality { .. }
            | Self::ClearQuality { .. }
            | Self::SetLatency { .. }
            | Self::SetConcurrency { .. }
            | Self::Unretire { .. } => false,
        }
    }
}

/// Applies edit number `index` to `registry` (whose version is still the latest's), checking
/// the values it sets under `edits[index]`
pub(crate) fn apply(
    registry: &mut Registry,
    index: usize,
    edit: &RegistryEdit,
    now: Timestamp,
) -> Result<(), RegistryError> {
    let at = format!("edits[{index}]");
    match edit {
        RegistryEdit::AddModel { spec } => {
            check::check_model(spec, &format!("{at}.spec"))?;
            if registry.get(&spec.id).is_some() {
                return Err(RegistryError::invalid(
                    format!("{at}.spec.id"),
                    format!(
                        "{} is already listed: use replace_model or a set_ edit",
                        spec.id
                    ),
                ));
            }
            if registry.models.len() >= MAX_MODELS {
                return Err(RegistryError::invalid(
                    at,
                    format!("at most {MAX_MODELS} models"),
                ));
            }
            registry.models.push(spec.clone());
        }
        RegistryEdit::ReplaceModel { spec } => {
            let slot = target(registry, edit, &at)?;
            check::check_model(spec, &format!("{at}.spec"))?;
            if slot.capability != spec.capability {
                return Err(RegistryError::invalid(
                    format!("{at}.spec.capability"),
                    "a model's capability never changes: add a model with a new id",
                ));
            }
            *slot = spec.clone();
        }
        RegistryEdit::SetPrice { pricing, .. } => {
            check::check_price(pricing, &format!("{at}.pricing"))?;
            let slot = target(registry, edit, &at)?;
            // A paid price on a free model with 0 ms latencies is caught by the whole-registry
            // check, under the model's path.
            slot.pricing = *pricing;
        }
        RegistryEdit::SetQuality { kind, prior, .. } => {
            check::check_prior(*prior, &format!("{at}.prior"))?;
            let slot = target(registry, edit, &at)?;
            match kind {
                Some(kind) => {
                    slot.quality.insert(*kind, *prior);
                }
                None => slot.default_quality = *prior,
            }
        }
        RegistryEdit::ClearQuality { kind, .. } => {
            let slot = target(registry, edit, &at)?;
            if slot.quality.remove(kind).is_none() {
                return Err(RegistryError::invalid(
                    format!("{at}.kind"),
                    format!("{} has no prior for {}", slot.id, kind.as_str()),
                ));
            }
        }
        RegistryEdit::SetLatency { p50_ms, p95_ms, .. } => {
            let slot = target(registry, edit, &at)?;
            check::check_latency(
                *p50_ms,
                *p95_ms,
                &slot.pricing,
                &format!("{at}.p50_ms"),
                &format!("{at}.p95_ms"),
            )?;
            slot.latency_p50_ms = *p50_ms;
            slot.latency_p95_ms = *p95_ms;
        }
        RegistryEdit::SetConcurrency { concurrency, .. } => {
            check::check_concurrency(*concurrency, &format!("{at}.concurrency"))?;
            target(registry, edit, &at)?.concurrency = *concurrency;
        }
        RegistryEdit::SetFlag { flag, .. } => {
            if let Some(flag) = flag {
                check::check_flag(flag, &format!("{at}.flag"))?;
            }
            target(registry, edit, &at)?.flag.clone_from(flag);
        }
        RegistryEdit::SetRollout {
            rollout_percent, ..
        } => {
            check::check_rollout(*rollout_percent, &format!("{at}.rollout_percent"))?;
            let slot = target(registry, edit, &at)?;
            let Some(flag) = slot.flag.as_mut() else {
                return Err(RegistryError::invalid(
                    format!("{at}.model"),
                    format!("{} has no feature flag: use set_flag", slot.id),
                ));
            };
            flag.rollout_percent = *rollout_percent;
        }
        RegistryEdit::Retire { from, .. } => {
            let requested = match from {
                Some(moment) => moment
                    .resolve()
                    .ok_or_else(|| RegistryError::invalid(format!("{at}.from"), MOMENT_FORMAT))?,
                None => now,
            };
            let slot = target(registry, edit, &at)?;
            if !spec_in_service(slot, now) {
                return Err(RegistryError::invalid(
                    format!("{at}.model"),
                    format!("{} is already out of service: unretire it first", slot.id),
                ));
            }
            // Jobs were submitted to it until now: the record must not say it was out then.
            slot.retired_from = Some(requested.max(now));
        }
        RegistryEdit::Unretire { .. } => {
            let slot = target(registry, edit, &at)?;
            if slot.retired_from.take().is_none() {
                return Err(RegistryError::invalid(
                    format!("{at}.model"),
                    format!("{} is not retired", slot.id),
                ));
            }
        }
    }
    Ok(())
}

/// The listed model an edit names
fn target<'r>(
    registry: &'r mut Registry,
    edit: &RegistryEdit,
    at: &str,
) -> Result<&'r mut ModelSpec, RegistryError> {
    let version = registry.version;
    let model = edit.model();
    registry
        .models
        .iter_mut()
        .find(|m| &m.id == model)
        .ok_or_else(|| RegistryError::UnknownModel {
            field: format!("{at}.{}", edit.model_field()),
            model: model.clone(),
            version,
        })
}
