//! Bounds on a publication and on the registry, checked before any work is done (the admin API
//! is reachable from the internet; a typo should not be able to make a huge registry either).

/// Most models a registry lists
pub const MAX_MODELS: usize = 200;
/// Most edits in one publication
pub const MAX_EDITS: usize = 100;
/// Longest note, in characters
pub const MAX_NOTE_CHARS: usize = 500;
/// Longest model id
pub const MAX_ID_CHARS: usize = 64;
/// Longest provider model name
pub const MAX_PROVIDER_MODEL_CHARS: usize = 200;
/// Longest feature flag name
pub const MAX_FLAG_NAME_CHARS: usize = 100;
/// Most creators on a flag's allowlist
pub const MAX_ALLOWLIST: usize = 1000;
/// Highest price per unit (second, image, 1,000 characters), USD: today's dearest is $0.40 a
/// second, so anything near this is dollars typed for cents
pub const MAX_PRICE_USD: f64 = 100.0;
/// Highest latency figure, ms: a day
pub const MAX_LATENCY_MS: u64 = 86_400_000;
/// Longest output of one call, seconds: an hour
pub const MAX_DURATION_S: f64 = 3600.0;
/// Most tasks in flight with one model
pub const MAX_CONCURRENCY: u32 = 1000;
