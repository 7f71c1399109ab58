//! The terminal callback: the assembly object POSTed to `callback_url`, retried with backoff.
//!
//! A 2xx means delivered; a 4xx means the receiver refuses it for good (an expired URL token,
//! a stage that moved on), so retrying would only repeat the refusal. Anything else (5xx,
//! connection failures, timeouts) is retried a bounded number of times; the Worker polls too,
//! so a callback that never arrives delays a render, it does not lose it.

use std::time::Duration;

/// How long one try may take
const TRY_TIMEOUT: Duration = Duration::from_secs(15);

/// The longest wait between tries
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// How a delivery ended
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// The receiver answered 2xx
    Delivered {
        /// The status
        status: u16,
        /// On which try
        tries: u32,
    },
    /// The receiver answered 4xx: not retried
    Refused {
        /// The status
        status: u16,
    },
    /// Every try failed
    GaveUp {
        /// The last failure
        last: String,
    },
}

/// The wait before try `n + 1` (after `n` failed tries): 1 s, 2 s, 4 s, ... at most a minute
pub fn backoff(failed_tries: u32) -> Duration {
    let secs = 1u64 << failed_tries.saturating_sub(1).min(6);
    Duration::from_secs(secs).min(MAX_BACKOFF)
}

/// POSTs `body` (JSON) to `url`, up to `tries` times
pub async fn deliver(client: &reqwest::Client, url: &str, body: Vec<u8>, tries: u32) -> Delivery {
    if let Some(why) = crate::fetch::https_unsupported(url) {
        return Delivery::GaveUp {
            last: why.to_string(),
        };
    }
    let mut last = String::from("not tried");
    for n in 1..=tries.max(1) {
        let sent = client
            .post(url)
            .header("content-type", "application/json")
            .body(body.clone())
            .timeout(TRY_TIMEOUT)
            .send()
            .await;
        match sent {
            Ok(resp) if resp.status().is_success() => {
                return Delivery::Delivered {
                    status: resp.status().as_u16(),
                    tries: n,
                };
            }
            Ok(resp) if resp.status().is_client_error() => {
                return Delivery::Refused {
                    status: resp.status().as_u16(),
                };
            }
            Ok(resp) => last = format!("HTTP {}", resp.status().as_u16()),
            Err(e) => last = e.without_url().to_string(),
        }
        if n < tries {
            tokio::time::sleep(backoff(n)).await;
        }
    }
    Delivery::GaveUp { last }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backs_off_exponentially_and_boundedly() {
        let waits: Vec<u64> = (1..=8).map(|n| backoff(n).as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 32, 60, 60]);
    }
}
