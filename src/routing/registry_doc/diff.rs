//! What changed between two registries, model by model, computed from the registries
//! themselves: the same answer whether a version came from edits or from a whole list.

use serde::{Deserialize, Serialize};

use crate::brief::{AspectRatio, ShotKind};
use crate::ids::ModelId;
use crate::plan::Capability;
use crate::providers::ProviderKind;
use crate::routing::{FeatureFlag, ModelSpec, Pricing, Registry};
use crate::time::Timestamp;

/// Where requests for a model go
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Endpoint {
    /// The adapter
    pub provider: ProviderKind,
    /// The provider's model name
    pub provider_model: String,
}

/// A model's latency figures
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Latency {
    /// Median, ms
    pub p50_ms: u64,
    /// 95th percentile, ms
    pub p95_ms: u64,
}

/// One change from one version to the next
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum RegistryChange {
    /// A new model
    Added {
        /// The model
        model: ModelId,
    },
    /// A model no longer listed (publication refuses this; seen only between built-ins)
    Removed {
        /// The model
        model: ModelId,
    },
    /// Requests go to another adapter or provider model name
    EndpointChanged {
        /// The model
        model: ModelId,
        /// Before
        from: Endpoint,
        /// After
        to: Endpoint,
    },
    /// What the model makes (publication refuses this; seen only between built-ins)
    CapabilityChanged {
        /// The model
        model: ModelId,
        /// Before
        from: Capability,
        /// After
        to: Capability,
    },
    /// A quality prior: for one shot kind, or the default (`kind` absent); `from` absent: newly
    /// set, `to` absent: cleared (the default applies)
    QualityChanged {
        /// The model
        model: ModelId,
        /// The shot kind; absent for `default_quality`
        #[serde(default, skip_serializing_if = "Option::is_none")]
        kind: Option<ShotKind>,
        /// Before
        from: Option<f64>,
        /// After
        to: Option<f64>,
    },
    /// The price
    PriceChanged {
        /// The model
        model: ModelId,
        /// Before
        from: Pricing,
        /// After
        to: Pricing,
    },
    /// The latency figures
    LatencyChanged {
        /// The model
        model: ModelId,
        /// Before
        from: Latency,
        /// After
        to: Latency,
    },
    /// The longest output of one call
    MaxDurationChanged {
        /// The model
        model: ModelId,
        /// Before, seconds
        from: f64,
        /// After, seconds
        to: f64,
    },
    /// The frame shapes it renders
    AspectsChanged {
        /// The model
        model: ModelId,
        /// Before
        from: Vec<AspectRatio>,
        /// After
        to: Vec<AspectRatio>,
    },
    /// Tasks in flight at once
    ConcurrencyChanged {
        /// The model
        model: ModelId,
        /// Before
        from: u32,
        /// After
        to: u32,
    },
    /// Whether it holds a cast member's look
    ContinuityChanged {
        /// The model
        model: ModelId,
        /// After
        to: bool,
    },
    /// The feature flag: set, removed, or its rollout or allowlist changed
    FlagChanged {
        /// The model
        model: ModelId,
        /// Before
        from: Option<FeatureFlag>,
        /// After
        to: Option<FeatureFlag>,
    },
    /// Retired from a moment on (it was in service for good before)
    Retired {
        /// The model
        model: ModelId,
        /// From when it is never submitted to
        from: Timestamp,
    },
    /// The retirement moved to another moment
    RetirementMoved {
        /// The model
        model: ModelId,
        /// The moment before
        was: Timestamp,
        /// The moment now
        to: Timestamp,
    },
    /// The retirement was called off
    Unretired {
        /// The model
        model: ModelId,
    },
}

/// The changes from `old` to `new`: per model in `new`'s order, added or changed field by field
/// (in the order of [`ModelSpec`]'s fields), then the models `new` no longer lists in `old`'s
/// order. Empty exactly when the two list the same models with the same figures.
pub fn diff(old: &Registry, new: &Registry) -> Vec<RegistryChange> {
    let mut changes = Vec::new();
    for spec in &new.models {
        match old.get(&spec.id) {
            None => changes.push(RegistryChange::Added {
                model: spec.id.clone(),
            }),
            Some(before) => model_changes(before, spec, &mut changes),
        }
    }
    for spec in &old.models {
        if new.get(&spec.id).is_none() {
            changes.push(RegistryChange::Removed {
                model: spec.id.clone(),
            });
        }
    }
    changes
}

fn model_changes(old: &ModelSpec, new: &ModelSpec, out: &mut Vec<RegistryChange>) {
    // No `..`: a new field of `ModelSpec` does not compile until the diff reports it.
    let ModelSpec {
        id,
        provider,
        provider_model,
        capability,
        quality,
        default_quality,
        pricing,
        latency_p50_ms,
        latency_p95_ms,
        max_duration_s,
        aspects,
        concurrency,
        continuity,
        flag,
        retired_from,
    } = new;
    let model = || id.clone();
    if (*provider, provider_model) != (old.provider, &old.provider_model) {
        out.push(RegistryChange::EndpointChanged {
            model: model(),
            from: Endpoint {
                provider: old.provider,
                provider_model: old.provider_model.clone(),
            },
            to: Endpoint {
                provider: *provider,
                provider_model: provider_model.clone(),
            },
        });
    }
    if *capability != old.capability {
        out.push(RegistryChange::CapabilityChanged {
            model: model(),
            from: old.capability,
            to: *capability,
        });
    }
    if *default_quality != old.default_quality {
        out.push(RegistryChange::QualityChanged {
            model: model(),
            kind: None,
            from: Some(old.default_quality),
            to: Some(*default_quality),
        });
    }
    for kind in ShotKind::ALL {
        let (from, to) = (old.quality.get(&kind).copied(), quality.get(&kind).copied());
        if from != to {
            out.push(RegistryChange::QualityChanged {
                model: model(),
                kind: Some(kind),
                from,
                to,
            });
        }
    }
    if *pricing != old.pricing {
        out.push(RegistryChange::PriceChanged {
            model: model(),
            from: old.pricing,
            to: *pricing,
        });
    }
    if (*latency_p50_ms, *latency_p95_ms) != (old.latency_p50_ms, old.latency_p95_ms) {
        out.push(RegistryChange::LatencyChanged {
            model: model(),
            from: Latency {
                p50_ms: old.latency_p50_ms,
                p95_ms: old.latency_p95_ms,
            },
            to: Latency {
                p50_ms: *latency_p50_ms,
                p95_ms: *latency_p95_ms,
            },
        });
    }
    if *max_duration_s != old.max_duration_s {
        out.push(RegistryChange::MaxDurationChanged {
            model: model(),
            from: old.max_duration_s,
            to: *max_duration_s,
        });
    }
    if *aspects != old.aspects {
        out.push(RegistryChange::AspectsChanged {
            model: model(),
            from: old.aspects.clone(),
            to: aspects.clone(),
        });
    }
    if *concurrency != old.concurrency {
        out.push(RegistryChange::ConcurrencyChanged {
            model: model(),
            from: old.concurrency,
            to: *concurrency,
        });
    }
    if *continuity != old.continuity {
        out.push(RegistryChange::ContinuityChanged {
            model: model(),
            to: *continuity,
        });
    }
    if *flag != old.flag {
        out.push(RegistryChange::FlagChanged {
            model: model(),
            from: old.flag.clone(),
            to: flag.clone(),
        });
    }
    match (old.retired_from, *retired_from) {
        (None, None) => {}
        (None, Some(from)) => out.push(RegistryChange::Retired {
            model: model(),
            from,
        }),
        (Some(_), None) => out.push(RegistryChange::Unretired { model: model() }),
        (Some(was), Some(to)) => {
            if was != to {
                out.push(RegistryChange::RetirementMoved {
                    model: model(),
                    was,
                    to,
                });
            }
        }
    }
}
