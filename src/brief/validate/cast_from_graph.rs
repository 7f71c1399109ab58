//! Cast members taken from the Memory Graph by id.
//!
//! A brief may name a recurring character by its id alone (`{"id": "keeper"}`) instead of
//! sending its name and description again: the Graph's look for that id (its description and
//! reference images) is the character. At create the Worker asks the creator's Graph for the
//! looks of those ids ([`graph_cast_ids`]) and [`cast_from_graph`] fills each entry in: the id
//! as its name, the look's description as its description (cut to the brief's limit; the plan
//! uses the locked look itself wherever it fits). An id the Graph has no look for is refused
//! with a 400 naming `cast[i].description`, before anything is written. The job then holds a
//! complete brief, so a later change to the Graph never changes a render already made.

use std::collections::BTreeMap;

use super::BriefError;
use crate::brief::limits::MAX_CAST_DESCRIPTION_CHARS;
use crate::brief::types::Brief;
use crate::memory::CastLook;

/// The ids of the cast entries that only name an id (to be taken from the Graph)
pub fn graph_cast_ids(brief: &Brief) -> Vec<String> {
    brief
        .cast
        .iter()
        .filter(|m| m.from_graph())
        .map(|m| m.id.clone())
        .collect()
}

/// The brief with every id-only cast entry filled in from the Graph's `looks` (by cast id)
///
/// # Errors
///
/// [`BriefError::Invalid`] naming `cast[i].description` for the first id without a look.
pub fn cast_from_graph(
    mut brief: Brief,
    looks: &BTreeMap<String, CastLook>,
) -> Result<Brief, BriefError> {
    for (i, member) in brief.cast.iter_mut().enumerate() {
        if !member.from_graph() {
            continue;
        }
        let Some(look) = looks.get(&member.id) else {
            return Err(BriefError::Invalid {
                field: format!("cast[{i}].description"),
                message: format!(
                    "`{}` is only an id and your Memory Graph has no look for it: send its name \
                     and description, or set its look first (PUT /v1/memory, or upload an image \
                     with PUT /v1/memory/looks/{}/images)",
                    member.id, member.id
                ),
            });
        };
        member.name = member.id.clone();
        member.description = look
            .description
            .trim()
            .chars()
            .take(MAX_CAST_DESCRIPTION_CHARS)
            .collect();
    }
    Ok(brief)
}
