//! The Director Brief: what a creator's app sends to start a render.
//!
//! [`types`] holds the wire shape (serde), [`validate`] turns a raw JSON body into a checked
//! [`Brief`] or a [`BriefError`] that names the offending field (`shots[3].duration_s`), and
//! collects Ra's pacing push-back as [`PacingWarning`]s, which never block a render; [`limits`]
//! holds every size limit of a brief.

pub mod limits;
pub mod ra;
pub mod schema;
pub mod text_size;
pub mod types;
pub mod validate;

pub use types::*;
pub use validate::{
    BriefError, MAX_SHOTS, PacingWarning, ValidatedBrief, pacing_warnings, pacing_warnings_for,
    parse_brief, parse_render_brief, require_pacing, validate_brief,
};
