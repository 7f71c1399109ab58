//! The plan: a brief plus memory context becomes a DAG of stages.
//!
//! Per shot: a keyframe (image), then its motion (video, waiting on its own keyframe only), and a
//! dialogue stage when the shot has a line. Per job: the voiceover and the score when the brief
//! has them, and the assembly, which waits on everything and returns the master plus one variant
//! per further aspect ratio of the brief's platforms.
//!
//! ```text
//! s01.keyframe -> s01.motion ----\
//! s02.keyframe -> s02.motion -----\
//! s04.dialogue --------------------> assembly -> master + variants
//! voiceover, score ----------------/
//! ```
//!
//! A shot longer than one video call makes ([`PlanOptions::max_clip_s`]) becomes equal parts
//! that continue each other: part k+1 starts from the last frame of part k, which a `frame`
//! stage cuts out of part k's clip (our assembler serves it), so the parts are one continuous
//! take. A score longer than one music call makes ([`PlanOptions::max_music_s`]) becomes
//! segments that the assembler joins with crossfades:
//!
//! ```text
//! s01.keyframe -> s01.motion -> s01.p2.frame -> s01.p2.motion -> s01.p3.frame -> ...
//! score, score.p2, ... (each at most one call long, overlapping by the crossfade)
//! ```
//!
//! Stages come out in dispatch order (shot order, then job-level stages, assembly last), which is
//! also a topological order: every dependency precedes its dependents.
//!
//! The creator's Memory Graph shapes what each stage sends: the cast's locked looks and voices,
//! the visual fingerprint on every image and video prompt (and a negative prompt for models that
//! take one), the format's hook on the first shot ([`style`]), the audience's choice of master
//! shape and speech language ([`audience`]). Each stage records the rows that shaped it
//! ([`StageSpec::shaped_by`], shown to support with the final prompt by
//! [`StageSpec::shaping`]).

pub mod audience;
mod build;
mod graph_row;
pub mod stage;
pub mod style;
pub mod timeline;

pub use build::{Plan, PlanOptions, SCORE_CROSSFADE_S, build, parts_of, score_segments};
pub use graph_row::{GraphRow, GraphRowError};
pub use stage::{
    AssemblySpec, Capability, Segment, ShotSlot, SpokenLine, StageKind, StageShaping, StageSpec,
    StageWork, part_stage_id, shot_stage_id,
};
pub use timeline::{CaptionOptions, Clip, Cue, CueSegment, Quality, Still, Timeline};
