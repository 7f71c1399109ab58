//! Fetching an input to disk: streamed, size-capped, with one deadline for the whole transfer.
//!
//! Inputs are signed URLs into our own storage, so the body is never held in memory: chunks go
//! straight to a file, counted as they arrive, and the transfer stops the moment it passes the
//! cap (a `Content-Length` over the cap stops it before the first byte).
//!
//! That storage is served by the Worker, which restarts (a deploy, an evicted or crashed
//! isolate): a refused connection, a transfer cut off, a 5xx or a 429 is tried again, from the
//! first byte, with backoff until the input's deadline, so a restart of a few seconds delays an
//! assembly instead of failing it (and, after three failures, sending the render to a fallback
//! that makes no variants). An answer that will not change (404, 403, too large) fails at once.

use std::path::Path;
use std::time::Duration;

use tokio::time::Instant;

use tokio::io::AsyncWriteExt;

/// Why an input could not be fetched
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FetchError {
    /// The server answered with an error status
    #[error("HTTP {0}")]
    Status(u16),
    /// The body is larger than the cap
    #[error("larger than the {} limit", human_bytes(*limit))]
    TooLarge {
        /// The cap, in bytes
        limit: u64,
    },
    /// The transfer did not complete in time
    #[error("no complete answer within {} s", .0.as_secs())]
    Timeout(Duration),
    /// The connection failed
    #[error("{0}")]
    Network(String),
    /// Our own disk failed
    #[error("cannot write it to disk: {0}")]
    Disk(String),
}

/// The HTTP client for inputs and callbacks
pub fn client() -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .user_agent(concat!(
            "creatorstudio-assembler/",
            env!("CARGO_PKG_VERSION")
        ))
        .build()
}

/// Whether this build can fetch https URLs (the `tls` feature)
pub const HTTPS: bool = cfg!(feature = "tls");

/// Says why an https URL cannot be fetched by this build (`None` when it can)
pub fn https_unsupported(url: &str) -> Option<&'static str> {
    let https = url
        .get(..8)
        .is_some_and(|s| s.eq_ignore_ascii_case("https://"));
    (https && !HTTPS).then_some(
        "this assembler was built without the `tls` feature, so it cannot fetch https URLs",
    )
}

/// First wait before trying a failed transfer again
const RETRY_FIRST: Duration = Duration::from_millis(250);
/// Longest wait between two tries
const RETRY_MAX: Duration = Duration::from_secs(4);

impl FetchError {
    /// Whether another try may succeed: the server was unreachable, cut the transfer, failed or
    /// throttled (a restarting Worker does all of these for a few seconds)
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Network(_) => true,
            Self::Status(code) => *code == 429 || (500..=599).contains(code),
            Self::TooLarge { .. } | Self::Timeout(_) | Self::Disk(_) => false,
        }
    }
}

/// Fetches `url` into `dest`; returns the size. Transient failures are tried again from the
/// first byte until `limit` (one deadline for every try); the last failure is returned. A
/// partial file is removed on failure.
pub async fn fetch_to_file(
    client: &reqwest::Client,
    url: &str,
    dest: &Path,
    max_bytes: u64,
    limit: Duration,
) -> Result<u64, FetchError> {
    if let Some(why) = https_unsupported(url) {
        return Err(FetchError::Network(why.to_string()));
    }
    let deadline = Instant::now() + limit;
    let mut wait = RETRY_FIRST;
    let result = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let result = match tokio::time::timeout(left, transfer(client, url, dest, max_bytes)).await
        {
            Ok(r) => r,
            Err(_) => Err(FetchError::Timeout(limit)),
        };
        match result {
            Err(e) if e.is_transient() && Instant::now() + wait < deadline => {
                let _ = tokio::fs::remove_file(dest).await;
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(RETRY_MAX);
            }
            r => break r,
        }
    };
    if result.is_err() {
        let _ = tokio::fs::remove_file(dest).await;
    }
    result
}

async fn transfer(
    client: &reqwest::Client,
    url: &str,
    dest: &Path,
    max_bytes: u64,
) -> Result<u64, FetchError> {
    let mut resp = client.get(url).send().await.map_err(network)?;
    let status = resp.status();
    if !status.is_success() {
        return Err(FetchError::Status(status.as_u16()));
    }
    if resp.content_length().is_some_and(|n| n > max_bytes) {
        return Err(FetchError::TooLarge { limit: max_bytes });
    }
    let mut file = tokio::fs::File::create(dest)
        .await
        .map_err(|e| FetchError::Disk(e.to_string()))?;
    let mut size: u64 = 0;
    while let Some(chunk) = resp.chunk().await.map_err(network)? {
        size += chunk.len() as u64;
        if size > max_bytes {
            return Err(FetchError::TooLarge { limit: max_bytes });
        }
        file.write_all(&chunk)
            .await
            .map_err(|e| FetchError::Disk(e.to_string()))?;
    }
    file.flush()
        .await
        .map_err(|e| FetchError::Disk(e.to_string()))?;
    Ok(size)
}

/// A network error as a person reads it: its root cause, never the (signed) URL
fn network(e: reqwest::Error) -> FetchError {
    if e.is_timeout() {
        return FetchError::Network("the transfer timed out".into());
    }
    let connect = e.is_connect();
    let e = e.without_url();
    let mut root: &dyn std::error::Error = &e;
    while let Some(next) = root.source() {
        root = next;
    }
    let cause = root.to_string();
    FetchError::Network(if connect {
        format!("cannot connect ({cause})")
    } else {
        cause
    })
}

/// Formats a byte count for people: `512 MiB`, `64 KiB`, `100 bytes`
pub fn human_bytes(n: u64) -> String {
    const KIB: u64 = 1024;
    const MIB: u64 = 1024 * KIB;
    const GIB: u64 = 1024 * MIB;
    match n {
        n if n >= GIB && n % GIB == 0 => format!("{} GiB", n / GIB),
        n if n >= MIB && n % MIB == 0 => format!("{} MiB", n / MIB),
        n if n >= KIB && n % KIB == 0 => format!("{} KiB", n / KIB),
        n if n >= MIB => format!("{:.1} MiB", n as f64 / MIB as f64),
        n => format!("{n} bytes"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knows_whether_it_speaks_https() {
        assert_eq!(https_unsupported("http://127.0.0.1/x"), None);
        assert_eq!(https_unsupported("HTTPS://r2.example/x").is_some(), !HTTPS);
    }

    #[test]
    fn formats_sizes() {
        assert_eq!(human_bytes(512 * 1024 * 1024), "512 MiB");
        assert_eq!(human_bytes(64 * 1024), "64 KiB");
        assert_eq!(human_bytes(3 * 1024 * 1024 + 1), "3.0 MiB");
        assert_eq!(human_bytes(100), "100 bytes");
        assert_eq!(
            FetchError::TooLarge { limit: 1 << 20 }.to_string(),
            "larger than the 1 MiB limit"
        );
        assert_eq!(FetchError::Status(404).to_string(), "HTTP 404");
    }
}
