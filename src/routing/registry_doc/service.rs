//! Which models are in service at a moment: a model whose `retired_from` has come is never
//! routed or submitted to again, whatever version a job pinned.

use crate::ids::ModelId;
use crate::routing::{ModelSpec, Registry};
use crate::time::Timestamp;

/// Whether a model is in service at `now`: not retired, or retired only from a later moment
pub fn spec_in_service(spec: &ModelSpec, now: Timestamp) -> bool {
    spec.retired_from.is_none_or(|from| now < from)
}

/// Whether `registry` lists `model` and it is in service at `now`
pub fn in_service(registry: &Registry, model: &ModelId, now: Timestamp) -> bool {
    registry
        .get(model)
        .is_some_and(|spec| spec_in_service(spec, now))
}

/// The models of `registry` in service at `now`, in registry order
pub fn in_service_models(registry: &Registry, now: Timestamp) -> impl Iterator<Item = &ModelSpec> {
    registry
        .models
        .iter()
        .filter(move |spec| spec_in_service(spec, now))
}

/// `registry` without the models retired by `now`, same version: what the planner and the
/// router get, so a retired model is neither a candidate nor a fallback, nor counted when the
/// planner asks whether frames can be cut
pub fn serving(registry: &Registry, now: Timestamp) -> Registry {
    Registry {
        version: registry.version,
        models: in_service_models(registry, now).cloned().collect(),
    }
}

/// Whether a job pinned to any version may still submit to `model`, going by the latest
/// version's retirements: false once the latest version retires it.
///
/// A model the latest version does not list has no retirement on record (publication never
/// removes a model, so this is only a model of a built-in version older than the stored
/// history), and stays submittable for the jobs that pinned it.
pub fn may_submit(latest: &Registry, model: &ModelId, now: Timestamp) -> bool {
    latest
        .get(model)
        .is_none_or(|spec| spec_in_service(spec, now))
}
