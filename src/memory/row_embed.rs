//! Embeddings of the Graph's rows beyond shot prompts: the fingerprint, each format's DNA, the
//! audience signal and each render's outcomes, each embedded from its text form
//! ([`crate::memory::row_text`]) with the configured embedder and stored with the row.
//!
//! A vector is kept with the text it was made from and its embedder's id, so whether it is stale
//! is a comparison, not a bookkeeping rule: after any change to the graph (an edit, a recorded
//! render, an outcome report, a compaction) the shell calls [`refresh_row_embeddings`], which
//! re-embeds the rows whose text changed, embeds new rows, drops the vectors of rows that are
//! gone, and returns the rows it changed for the store to write. A shell whose embedder is
//! remote first embeds [`stale_row_texts`] (see [`crate::memory::Precomputed`]); a text it could
//! not embed leaves that row without a vector until the next refresh.
//!
//! What uses them ([`crate::memory::build_context`]):
//!
//! - `MemoryContext::related_rows`: the rows nearest the brief's own text (its format, target,
//!   platforms and logline), so the planner and support see which of the creator's facts are
//!   about this kind of video;
//! - `SimilarShot::render_similarity`: how close a similar past shot's render (its outcome row:
//!   format, target, figures) is to this brief; routing weighs a similar past shot's outcome by
//!   it, so shots from renders like this one count more (see `routing::similar_evidence`).

use std::collections::BTreeMap;

use crate::ids::JobId;
use crate::memory::context::RelatedRow;
use crate::memory::embed::{Embedder, cosine, top_k};
use crate::memory::graph::{Embedding, GraphRow, MemoryGraph, RowEmbedding};
use crate::memory::pacing_evidence::render_durations;
use crate::memory::row_text::{audience_text, fingerprint_text, format_text, outcome_text};

/// Every row with a text form, with that text, in row order
pub fn row_texts(graph: &MemoryGraph) -> Vec<(GraphRow, String)> {
    let mut out = Vec::new();
    if let Some(f) = &graph.fingerprint {
        out.push((GraphRow::Fingerprint, fingerprint_text(f)));
    }
    for f in &graph.formats {
        out.push((GraphRow::Format(f.format.clone()), format_text(f)));
    }
    if let Some(a) = &graph.audience {
        out.push((GraphRow::Audience, audience_text(a)));
    }
    if !graph.outcomes.is_empty() {
        let durations = render_durations(graph);
        for o in &graph.outcomes {
            let Some(render) = graph.render(&o.job) else {
                continue;
            };
            let duration = durations.get(&o.job).copied().unwrap_or(0.0);
            out.push((
                GraphRow::Outcome(o.job.clone()),
                outcome_text(render, o, duration),
            ));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn fresh(stored: Option<&RowEmbedding>, text: &str, embedder_id: &str) -> bool {
    stored.is_some_and(|e| e.text == text && e.embedding.model == embedder_id)
}

/// The texts of rows whose vector is missing, of another embedder, or of an older text: what a
/// remote embedder must embed before [`refresh_row_embeddings`]
pub fn stale_row_texts(graph: &MemoryGraph, embedder_id: &str) -> Vec<String> {
    let stored: BTreeMap<&GraphRow, &RowEmbedding> =
        graph.row_embeddings.iter().map(|e| (&e.row, e)).collect();
    row_texts(graph)
        .into_iter()
        .filter(|(row, text)| !fresh(stored.get(row).copied(), text, embedder_id))
        .map(|(_, text)| text)
        .collect()
}

/// Brings the row vectors in line with the rows: re-embeds changed texts, embeds new rows, drops
/// the vectors of rows that are gone (or whose new text the embedder has no vector for). Returns
/// the rows whose vector was written or removed, for the store; nothing when all were fresh.
pub fn refresh_row_embeddings(graph: &mut MemoryGraph, embedder: &dyn Embedder) -> Vec<GraphRow> {
    let id = embedder.id();
    let mut stored: BTreeMap<GraphRow, RowEmbedding> = std::mem::take(&mut graph.row_embeddings)
        .into_iter()
        .map(|e| (e.row.clone(), e))
        .collect();
    let mut kept = Vec::new();
    let mut changed = Vec::new();
    for (row, text) in row_texts(graph) {
        let old = stored.remove(&row);
        if fresh(old.as_ref(), &text, id) {
            kept.extend(old);
            continue;
        }
        match embedder.embed(&text) {
            Some(vector) => kept.push(RowEmbedding {
                row: row.clone(),
                text,
                embedding: Embedding {
                    model: id.to_owned(),
                    vector,
                },
            }),
            // A stale vector would misplace the row; with none it is simply not found.
            None if old.is_none() => continue,
            None => {}
        }
        changed.push(row);
    }
    // What is left belongs to rows that no longer exist (a deleted format, a folded render).
    changed.extend(stored.into_keys());
    changed.sort();
    graph.row_embeddings = kept;
    changed
}

/// How many related rows the context carries by default
pub const DEFAULT_RELATED: usize = 5;

/// The `k` rows whose vectors (of `embedder_id`) are nearest `query`, best first
pub fn nearest_rows(
    graph: &MemoryGraph,
    query: &[f32],
    embedder_id: &str,
    k: usize,
) -> Vec<RelatedRow> {
    let indexed: Vec<&RowEmbedding> = graph
        .row_embeddings
        .iter()
        .filter(|e| e.embedding.model == embedder_id)
        .collect();
    top_k(
        query,
        indexed.iter().map(|e| e.embedding.vector.as_slice()),
        k,
    )
    .into_iter()
    .filter_map(|(i, similarity)| {
        let e = indexed.get(i)?;
        Some(RelatedRow {
            row: e.row.clone(),
            text: e.text.clone(),
            similarity: f64::from(similarity),
        })
    })
    .collect()
}

/// Cosine similarity of `query` and a render's outcome-row vector (of `embedder_id`), by job
pub fn render_similarities<'a>(
    graph: &'a MemoryGraph,
    query: &[f32],
    embedder_id: &str,
) -> BTreeMap<&'a JobId, f64> {
    graph
        .row_embeddings
        .iter()
        .filter(|e| e.embedding.model == embedder_id)
        .filter_map(|e| match &e.row {
            GraphRow::Outcome(job) => Some((job, f64::from(cosine(query, &e.embedding.vector)))),
            GraphRow::Fingerprint | GraphRow::Format(_) | GraphRow::Audience => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_reads_back_from_its_table_and_key_and_names_the_same_table_on_the_wire() {
        for row in [
            GraphRow::Fingerprint,
            GraphRow::Format("vlog".into()),
            GraphRow::Audience,
            GraphRow::Outcome(JobId("rnd_1".into())),
        ] {
            assert_eq!(
                GraphRow::from_parts(row.table(), row.key()),
                Some(row.clone())
            );
            let wire = serde_json::to_value(&row).unwrap_or_default();
            assert_eq!(wire["table"], row.table(), "{wire}");
        }
        assert_eq!(GraphRow::from_parts("shots", "x"), None);
    }
}
