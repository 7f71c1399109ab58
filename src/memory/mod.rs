//! The Director Memory Graph model: what a creator's graph holds and the context it gives a brief.
//!
//! [`graph`] holds the rows (one `Vec` per SQLite table of the `MemoryGraph` Durable Object); the
//! operations are pure functions over them, each returning the rows it changed:
//!
//! | operation | input | idempotence |
//! |---|---|---|
//! | [`parse_edit`] + [`apply_edit`] | `PUT /v1/memory` body | setting a row twice is one row |
//! | [`record_render`] | a finished render | by job id: the second recording changes nothing |
//! | [`parse_outcomes`] + [`record_outcomes`] | an outcome report for a job | same figures twice: `Unchanged` |
//! | [`build_context`] | a brief | read only |
//! | [`looks_upload::add_reference_image`] | an uploaded image's key | the same image twice is one entry |
//! | [`voice_cast::cast_voices`] | a job's brief and the voice library | a speaker with a voice is never cast again |
//!
//! [`embed`] has the [`Embedder`] trait, a deterministic local embedder and nearest neighbours;
//! [`metric`] says which number measures a shot against each outcome target.
//!
//! Outcome signals beyond the target's metric: [`cta`] names a video's call-to-action shot,
//! whose click-through steers routing for it; [`pacing_evidence`] says how much of a format's
//! videos the audience watches (and Ra's note when a cut runs well beyond it); [`row_embed`]
//! embeds the fingerprint, format DNA, audience and outcome rows from their text forms
//! ([`row_text`]) so a context can find the rows and past renders nearest a brief.

pub mod build;
pub mod compact;
pub mod context;
pub mod cta;
pub mod edit;
pub mod embed;
pub mod error;
pub mod graph;
pub mod import;
mod json;
pub mod looks_upload;
pub mod metric;
pub mod outcomes;
pub mod pacing_evidence;
pub mod record;
pub mod row_embed;
pub mod row_text;
mod signals;
pub mod view;
pub mod voice_cast;
pub mod voice_samples;

pub use build::{DEFAULT_SIMILAR, brief_prompts, build_context};
pub use compact::{Compacted, MAX_FULL_RENDERS, MAX_FULL_SHOTS, compact};
pub use context::{
    CastLook, ClickThroughStat, MemoryContext, OutcomeStat, PacingEvidence, RelatedRow,
    SimilarShot, SimilarShots,
};
pub use edit::{Change, MemoryEdit, RowChange, RowKey, apply_edit, parse_edit};
pub use embed::{Embedder, NgramEmbedder, Precomputed, cosine, top_k};
pub use error::MemoryError;
pub use graph::{GraphRow, MemoryGraph, RowEmbedding};
pub use outcomes::{OutcomeReport, OutcomesRecorded, ShotReport, parse_outcomes, record_outcomes};
pub use pacing_evidence::{pacing_evidence, watch_pacing_note};
pub use record::{FinishedRender, FinishedShot, RenderRecorded, record_render};
pub use row_embed::{refresh_row_embeddings, row_texts, stale_row_texts};
pub use view::{Audience, CreatorContext, GraphView};
