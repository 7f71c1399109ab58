//! The model registry as data: published versions, each validated as a whole, with the changes
//! it made (issue 12). The Worker keeps the versions in a Durable Object and serves the admin
//! API; everything here is pure.
//!
//! - [`publish`]: a [`Publication`] (a note plus either edits to the latest version or a whole
//!   model list) becomes the next version and its [`RegistryVersionRecord`], or a
//!   [`RegistryError`] naming the field; nothing is published on error.
//! - [`validate`]: the rules every version obeys (also for versions read back from storage).
//! - [`diff`]: the [`RegistryChange`]s between two versions.
//! - [`in_service`], [`serving`], [`may_submit`]: retirement at a moment. New jobs route on
//!   `serving(latest, now)`; a running job keeps its pinned version but asks [`may_submit`] of
//!   the latest before every submit, so a retired model is never submitted to again.
//!
//! Why edits are the main form: an operator at 2 a.m. on a phone sends
//! `{"note": "Veo price cut", "edits": [{"op": "set_price", "model": "veo-3", "pricing":
//! {"unit": "per_second", "usd": 0.35}}]}`, not 200 models retyped. The whole-list form is
//! for a reviewed file synced from a repository; both go through the same validation and
//! the same [`diff`].
//!
//! A model is never removed, only retired: jobs pinned to an older version must still learn
//! that it is out (through [`may_submit`]), and the history stays readable. Its capability
//! never changes either: outcome data is kept per model id.

mod check;
mod diff;
mod edit;
mod error;
pub mod limits;
mod moment;
mod record;
mod service;

use serde::{Deserialize, Serialize};

pub use check::{required, serves, serves_everyone, uncovered, validate};
pub use diff::{Endpoint, Latency, RegistryChange, diff};
pub use edit::RegistryEdit;
pub use error::RegistryError;
pub use moment::{MOMENT_FORMAT, Moment};
pub use record::{RegistryHistory, RegistryVersionRecord, SEEDED_BY};
pub use service::{in_service, in_service_models, may_submit, serving, spec_in_service};

use crate::routing::{ModelSpec, Registry};
use crate::time::Timestamp;
use limits::{MAX_EDITS, MAX_MODELS, MAX_NOTE_CHARS};

/// What the admin sends to publish a new version: a note and exactly one of `edits` (applied in
/// order to the latest version) or `models` (the whole new list)
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Publication {
    /// Why, for the history (1 to 500 characters)
    #[schemars(length(min = 1, max = MAX_NOTE_CHARS))]
    pub note: String,
    /// Changes to the latest version, applied in order
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = MAX_EDITS))]
    pub edits: Vec<RegistryEdit>,
    /// The whole new model list, instead of edits
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = MAX_MODELS))]
    pub models: Option<Vec<ModelSpec>>,
}

/// A published version and its history record, for the shell to store together
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Published {
    /// The new version
    pub registry: Registry,
    /// Its record: version, when, who, note, changes
    pub record: RegistryVersionRecord,
}

/// Publishes `publication` on top of `latest`: applies it to a copy, numbers it
/// `latest.version + 1`, validates the whole result and records what changed.
///
/// `now` is the publication time (a retirement in the past or without a date takes effect now);
/// `by` is who publishes, from the admin key.
///
/// # Errors
///
/// The first problem, naming its field: a bound exceeded (`note`, `edits`, `models`), an edit's
/// own value (`edits[2].pricing.usd`), an unknown model (`edits[0].model`), a rule of the whole
/// result (`models[veo-3].latency_p95_ms`), a capability left without a model
/// ([`RegistryError::NoModelInService`], blamed on the edit that withdrew the last one), or a
/// publication that changes nothing.
pub fn publish(
    latest: &Registry,
    publication: &Publication,
    now: Timestamp,
    by: &str,
) -> Result<Published, RegistryError> {
    check_bounds(publication)?;
    let version = latest
        .version
        .checked_add(1)
        .ok_or(RegistryError::VersionExhausted {
            version: latest.version,
        })?;
    let mut next = latest.clone();
    match &publication.models {
        Some(models) => {
            next.models.clone_from(models);
            keeps_every_model(latest, &next)?;
        }
        None => {
            for (i, edit) in publication.edits.iter().enumerate() {
                edit::apply(&mut next, i, edit, now)?;
            }
        }
    }
    validate(&next).map_err(|e| blame(e, latest, &next, publication))?;
    let changes = diff(latest, &next);
    if changes.is_empty() {
        return Err(RegistryError::NothingChanged {
            version: latest.version,
        });
    }
    next.version = version;
    Ok(Published {
        record: RegistryVersionRecord {
            version,
            published_at: now,
            published_by: by.to_owned(),
            note: publication.note.trim().to_owned(),
            changes,
        },
        registry: next,
    })
}

/// The size bounds, before any work
fn check_bounds(publication: &Publication) -> Result<(), RegistryError> {
    let note = publication.note.trim();
    if note.is_empty() || publication.note.chars().count() > MAX_NOTE_CHARS {
        return Err(RegistryError::invalid(
            "note",
            format!("must say why, in 1 to {MAX_NOTE_CHARS} characters"),
        ));
    }
    if publication.edits.len() > MAX_EDITS {
        return Err(RegistryError::invalid(
            "edits",
            format!("at most {MAX_EDITS} edits"),
        ));
    }
    match &publication.models {
        Some(models) if models.len() > MAX_MODELS => Err(RegistryError::invalid(
            "models",
            format!("at most {MAX_MODELS} models"),
        )),
        Some(_) if !publication.edits.is_empty() => Err(RegistryError::invalid(
            "models",
            "send edits or models, not both",
        )),
        None if publication.edits.is_empty() => Err(RegistryError::invalid(
            "edits",
            "nothing to publish: send edits or models",
        )),
        Some(_) | None => Ok(()),
    }
}

/// A whole list keeps every model of the latest version (retire instead of removing), each with
/// its capability
fn keeps_every_model(latest: &Registry, next: &Registry) -> Result<(), RegistryError> {
    for old in &latest.models {
        match next.get(&old.id) {
            None => {
                return Err(RegistryError::invalid(
                    "models",
                    format!(
                        "{} of version {} is missing: models are retired, never removed",
                        old.id, latest.version
                    ),
                ));
            }
            Some(new) if new.capability != old.capability => {
                return Err(RegistryError::invalid(
                    format!("models[{}].capability", old.id),
                    "a model's capability never changes: add a model with a new id",
                ));
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// Blames a capability left without a model on the last edit that withdrew a model of it, when
/// edits were sent and the latest version still had one
fn blame(
    error: RegistryError,
    latest: &Registry,
    next: &Registry,
    publication: &Publication,
) -> RegistryError {
    let RegistryError::NoModelInService { capability, field } = error else {
        return error;
    };
    let culprit = publication
        .edits
        .iter()
        .enumerate()
        .rev()
        .find(|(_, edit)| {
            edit.can_withdraw()
                && next
                    .get(edit.model())
                    .is_some_and(|spec| spec.capability == capability)
        })
        .map(|(i, _)| i);
    let field = match culprit {
        Some(i) if uncovered(latest) != Some(capability) => format!("edits[{i}]"),
        Some(_) | None => field,
    };
    RegistryError::NoModelInService { field, capability }
}
