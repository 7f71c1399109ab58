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
//!
//! [`embed`] has the [`Embedder`] trait, a deterministic local embedder and nearest neighbours;
//! [`metric`] says which number measures a shot against each outcome target.

pub mod build;
pub mod compact;
pub mod context;
pub mod edit;
pub mod embed;
pub mod error;
pub mod graph;
mod json;
pub mod metric;
pub mod outcomes;
pub mod record;

pub use build::{DEFAULT_SIMILAR, brief_prompts, build_context};
pub use compact::{Compacted, MAX_FULL_RENDERS, MAX_FULL_SHOTS, compact};
pub use context::{CastLook, MemoryContext, OutcomeStat, SimilarShot, SimilarShots};
pub use edit::{Change, MemoryEdit, RowChange, RowKey, apply_edit, parse_edit};
pub use embed::{Embedder, NgramEmbedder, Precomputed, cosine, top_k};
pub use error::MemoryError;
pub use graph::MemoryGraph;
pub use outcomes::{OutcomeReport, OutcomesRecorded, ShotReport, parse_outcomes, record_outcomes};
pub use record::{FinishedRender, FinishedShot, RenderRecorded, record_render};
