//! Golden tests of the provider adapters against fixtures of the providers' real wire shapes
//! (`tests/fixtures/providers/<provider>/`), plus the signature schemes, configuration and the
//! shared error mapping. No network, no clock: `now` is a constant.

mod support;

mod assembler;
mod bfl;
mod config;
mod elevenlabs;
mod elevenlabs_history;
mod errors;
mod fal;
mod hailuo;
mod kling;
mod luma;
mod minimax_music;
mod registry;
mod replicate;
mod runway;
mod seedance;
mod shotstack;
mod signature;
mod sora;
mod veo;
