//! Merging what an import learned into a creator's graph, without overwriting what the creator
//! set by hand.
//!
//! The rule: an import writes a value where the graph has none, or where the graph still holds
//! exactly what the previous import wrote there (then nobody has edited it since). A value that
//! differs from both is the creator's and is kept; the answer lists it under `kept`. So:
//!
//! | row | written when |
//! |---|---|
//! | `formats.{f}` | no row `f`, or the row equals the DNA the last import wrote for `f` |
//! | `audience.primary_platform` | it is unset, or equals the last import's |
//! | `audience.regions` | it is empty, or equals the last import's |
//! | `audience.interests` | never (an import knows nothing about them) |
//! | `channel` | whenever it differs: the priors are the imports' own record |
//!
//! The priors merge per format: an import replaces the priors of the formats it has videos for
//! and keeps the others (a creator may import one series at a time); its language, platform
//! and regions replace the channel's when it has them. The channel holds priors for at most
//! [`MAX_FORMATS`] formats: a format beyond them is neither recorded nor written (listed under
//! `kept`), never a refusal, since the body itself is fine. An import deletes nothing.
//! Importing the same history again finds every value already there and changes nothing.

use serde::{Deserialize, Serialize};

use super::analyze::ChannelImport;
use crate::memory::edit::{MAX_FORMATS, RowChange, RowKey};
use crate::memory::graph::MemoryGraph;

/// A value the import did not write, and why
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Kept {
    /// The graph's field (`formats.long_form`, `audience.regions`)
    pub field: String,
    /// Why it was left as it is
    pub reason: String,
}

/// What merging an import did
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ImportApplied {
    /// Whether anything in the graph changed
    pub changed: bool,
    /// The fields written (`formats.shorts`, `audience.regions`, `channel`)
    pub written: Vec<String>,
    /// The fields left alone because the creator set them
    pub kept: Vec<Kept>,
    /// The rows to persist
    #[serde(skip)]
    pub changes: Vec<RowChange>,
}

const SET_BY_HAND: &str =
    "set by hand: an import never overwrites your own values (its estimate is under `channel`)";

/// Merges an import into the graph; returns what changed and what was kept
#[must_use = "the changed rows must be persisted"]
pub fn apply_import(graph: &mut MemoryGraph, import: &ChannelImport) -> ImportApplied {
    let previous = graph.channel.clone().unwrap_or_default();
    let learned = &import.learned;
    let mut out = ImportApplied::default();
    let mut priors = previous.clone();

    for prior in &learned.formats {
        let field = format!("formats.{}", prior.format);
        let recorded = priors.formats.len();
        match priors.formats.iter_mut().find(|f| f.format == prior.format) {
            Some(slot) => *slot = prior.clone(),
            None if recorded >= MAX_FORMATS => {
                out.kept.push(Kept {
                    field,
                    reason: format!("the channel holds priors for {MAX_FORMATS} formats already"),
                });
                continue;
            }
            None => priors.formats.push(prior.clone()),
        }
        let dna = prior.dna();
        let last_written = previous.format(&prior.format).map(|p| p.dna());
        let count = graph.formats.len();
        match graph.formats.iter_mut().find(|f| f.format == prior.format) {
            Some(row) if *row == dna => {}
            Some(row) if Some(&*row) == last_written.as_ref() => {
                *row = dna;
                out.written.push(field);
                out.changes
                    .push(RowChange::Upsert(RowKey::Format(prior.format.clone())));
            }
            Some(_) => out.kept.push(Kept {
                field,
                reason: SET_BY_HAND.into(),
            }),
            None if count >= MAX_FORMATS => out.kept.push(Kept {
                field,
                reason: format!("the graph holds {MAX_FORMATS} formats already"),
            }),
            None => {
                graph.formats.push(dna);
                out.written.push(field);
                out.changes
                    .push(RowChange::Upsert(RowKey::Format(prior.format.clone())));
            }
        }
    }
    priors.formats.sort_by(|a, b| a.format.cmp(&b.format));
    if learned.language.is_some() {
        priors.language.clone_from(&learned.language);
    }
    if learned.primary_platform.is_some() {
        priors.primary_platform = learned.primary_platform;
    }
    if !learned.regions.is_empty() {
        priors.regions.clone_from(&learned.regions);
    }

    let current = graph.audience.clone().unwrap_or_default();
    let mut audience = current.clone();
    if let Some(platform) = learned.primary_platform {
        let field = "audience.primary_platform";
        match audience.primary_platform {
            Some(p) if p == platform => {}
            None => set(
                &mut audience.primary_platform,
                Some(platform),
                field,
                &mut out,
            ),
            Some(p) if Some(p) == previous.primary_platform => {
                set(
                    &mut audience.primary_platform,
                    Some(platform),
                    field,
                    &mut out,
                );
            }
            Some(_) => out.kept.push(Kept {
                field: field.into(),
                reason: SET_BY_HAND.into(),
            }),
        }
    }
    if !learned.regions.is_empty() && audience.regions != learned.regions {
        let field = "audience.regions";
        if audience.regions.is_empty() || audience.regions == previous.regions {
            set(
                &mut audience.regions,
                learned.regions.clone(),
                field,
                &mut out,
            );
        } else {
            out.kept.push(Kept {
                field: field.into(),
                reason: SET_BY_HAND.into(),
            });
        }
    }
    if audience != current {
        graph.audience = Some(audience);
        out.changes.push(RowChange::Upsert(RowKey::Audience));
    }

    if graph.channel.as_ref() != Some(&priors) {
        graph.channel = Some(priors);
        out.written.push("channel".into());
        out.changes.push(RowChange::Upsert(RowKey::Channel));
    }
    out.changed = !out.changes.is_empty();
    out
}

fn set<T>(slot: &mut T, value: T, field: &str, out: &mut ImportApplied) {
    *slot = value;
    out.written.push(field.into());
}
