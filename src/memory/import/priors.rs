//! The channel's priors an import leaves in the graph; the types are the graph's own
//! (`graph::channel`), named here too where the import code has always found them.

pub use crate::memory::graph::{ChannelPriors, FormatPrior};
