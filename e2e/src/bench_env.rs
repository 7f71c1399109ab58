//! The benchmarks' settings from the environment (`RENDERS=200 CAP=8 ...`).

use std::str::FromStr;

/// `name` parsed as a `T`, or `default` when it is unset or does not parse
pub fn number<T: FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}
