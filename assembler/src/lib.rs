//! The assembler: our own assembly service. A render's timeline comes in over HTTP (the wire
//! format is docs/assembler.md); the system ffmpeg turns it into a master, per-platform
//! variants, a poster and WebVTT captions, served back over HTTP.
//!
//! The media work is pure functions that build ffmpeg argument lists ([`frame`], [`audio`],
//! [`video`], [`captions`], [`loudness`]), unit-tested without ffmpeg; [`pipeline`] runs them
//! with deadlines, [`service`] queues, persists and resumes assemblies, [`server`] speaks HTTP.

#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod audio;
pub mod callback;
pub mod captions;
pub mod config;
pub mod exec;
pub mod fetch;
pub mod ff;
pub mod files;
pub mod frame;
pub mod loudness;
pub mod pipeline;
pub mod probe;
pub mod record;
pub mod server;
pub mod service;
pub mod store;
pub mod timeline;
pub mod video;

pub use config::Settings;
pub use server::{Running, StartError, start};
