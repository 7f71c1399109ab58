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
//! Stages come out in dispatch order (shot order, then job-level stages, assembly last), which is
//! also a topological order: every dependency precedes its dependents.

mod build;
pub mod stage;
pub mod timeline;

pub use build::{Plan, PlanOptions, build};
pub use stage::{
    AssemblySpec, Capability, ShotSlot, SpokenLine, StageKind, StageSpec, StageWork, shot_stage_id,
};
pub use timeline::{CaptionOptions, Clip, Cue, Quality, Timeline};
