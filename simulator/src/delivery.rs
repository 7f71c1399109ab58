//! Outgoing callbacks: the per-task schedule, signing per attempt, and bounded retries.

use std::time::{Duration, Instant};

use crate::providers::{self, Provider};
use crate::signing;
use crate::state::{DeliveryRecord, Phase, Sim, Task, bump};
use crate::util;

/// How an outgoing callback is signed; re-applied on every attempt with a fresh timestamp
#[derive(Debug, Clone)]
pub enum Signer {
    /// Unsigned (Kling, Luma, Seedance, Hailuo, assembler: the URL carries our token)
    None,
    /// Standard Webhooks with a `whsec_` secret; the id is stable across retries
    StandardWebhooks {
        /// The `whsec_` secret
        secret: &'static str,
        /// The `webhook-id`
        msg_id: String,
    },
    /// BFL `X-BFL-Signature: sha256=<hex>` (no header when there is no secret)
    Bfl {
        /// The request's `webhook_secret`
        secret: Option<String>,
    },
    /// fal ED25519 headers
    Fal {
        /// The fal request id
        request_id: String,
    },
}

/// One callback to deliver
#[derive(Debug, Clone)]
pub struct Outgoing {
    /// Where to POST
    pub url: String,
    /// The exact bytes (signed as sent)
    pub body: Vec<u8>,
    /// How to sign
    pub signer: Signer,
}

impl Outgoing {
    /// A JSON callback
    pub fn json(url: &str, body: &serde_json::Value, signer: Signer) -> Self {
        Self {
            url: url.to_string(),
            body: body.to_string().into_bytes(),
            signer,
        }
    }
}

fn sign(sim: &Sim, signer: &Signer, body: &[u8]) -> Vec<(&'static str, String)> {
    let ts = util::now_unix_s();
    match signer {
        Signer::None => Vec::new(),
        Signer::StandardWebhooks { secret, msg_id } => {
            match signing::standard_webhooks_sign(secret, msg_id, ts, body) {
                Ok(sig) => vec![
                    ("webhook-id", msg_id.clone()),
                    ("webhook-timestamp", ts.to_string()),
                    ("webhook-signature", sig),
                ],
                Err(e) => {
                    eprintln!("sim: cannot sign webhook {msg_id}: {e}");
                    Vec::new()
                }
            }
        }
        Signer::Bfl { secret } => secret
            .as_deref()
            .map(|s| vec![("x-bfl-signature", signing::bfl_sign(s, body))])
            .unwrap_or_default(),
        Signer::Fal { request_id } => vec![
            ("x-fal-webhook-request-id", request_id.clone()),
            ("x-fal-webhook-user-id", signing::FAL_USER_ID.to_string()),
            ("x-fal-webhook-timestamp", ts.to_string()),
            (
                "x-fal-webhook-signature",
                signing::fal_sign(sim.fal_key(), request_id, ts, body),
            ),
        ],
    }
}

/// Delays before each retry (before scaling) and the per-attempt timeout of a provider
fn retry_policy(p: Provider) -> (&'static [u64], Duration) {
    match p {
        // Luma: "retried 3 times with a 100 ms delay", 5 s timeout
        Provider::Luma => (&[100, 100, 100], Duration::from_secs(5)),
        // fal: 15 s initial timeout
        Provider::Fal => (&[1_000, 5_000, 20_000], Duration::from_secs(15)),
        _ => (&[1_000, 5_000, 20_000], Duration::from_secs(15)),
    }
}

/// Delivers one callback with bounded retries; returns whether a 2xx came back
pub async fn deliver(sim: &Sim, p: Provider, epoch: u64, out: &Outgoing) -> bool {
    let (delays, timeout) = retry_policy(p);
    for attempt in 0..=delays.len() {
        if attempt > 0 {
            let delay = sim.with(|s| s.config.scaled(delays[attempt - 1]));
            if !sim.sleep(delay).await {
                return false;
            }
        }
        if sim.with(|s| s.epoch) != epoch {
            return false;
        }
        sim.with(|s| bump(&mut s.stats.callback_attempts, p.as_str()));
        let mut rb = sim
            .client()
            .post(&out.url)
            .timeout(timeout)
            .header("content-type", "application/json")
            .header("user-agent", format!("creatorstudio-sim/{}", p.as_str()))
            .body(out.body.clone());
        for (k, v) in sign(sim, &out.signer, &out.body) {
            rb = rb.header(k, v);
        }
        match rb.send().await {
            Ok(resp) if resp.status().is_success() => {
                eprintln!(
                    "sim: callback {} -> {} {}",
                    p.as_str(),
                    out.url,
                    resp.status()
                );
                sim.with(|s| bump(&mut s.stats.callbacks_sent, p.as_str()));
                return true;
            }
            Ok(resp) => {
                eprintln!(
                    "sim: callback {} -> {} {} (attempt {})",
                    p.as_str(),
                    out.url,
                    resp.status(),
                    attempt + 1
                );
                // Standard Webhooks: 410 Gone disables the endpoint, no more retries
                if resp.status() == reqwest::StatusCode::GONE {
                    break;
                }
            }
            Err(e) => eprintln!(
                "sim: callback {} -> {} failed: {e} (attempt {})",
                p.as_str(),
                out.url,
                attempt + 1
            ),
        }
    }
    sim.with(|s| s.stats.callbacks_failed += 1);
    false
}

/// [`deliver`] for `task`'s `phase`, recording on the task when it was sent and answered (the
/// stage-overhead benchmark's "callback sent" moment); returns whether a 2xx came back
pub async fn deliver_for(sim: &Sim, task: &Task, phase: Phase, out: &Outgoing) -> bool {
    let sent_unix_us = util::now_unix_us();
    let ok = deliver(sim, task.provider, task.epoch, out).await;
    let record = DeliveryRecord {
        phase: phase.as_str(),
        sent_unix_us,
        answered_unix_us: util::now_unix_us(),
        ok,
    };
    sim.with_task(task.provider, &task.id, |t| t.deliveries.push(record));
    ok
}

/// Schedules a task's callbacks: each non-terminal phase when it starts, the terminal one at
/// completion plus `callback_late_ms`, a duplicate and a stale one when those faults were drawn
pub fn spawn_lifecycle(sim: Sim, task: Task) {
    let phases = task.provider.callback_phases();
    if phases.is_empty() {
        return;
    }
    let mut events: Vec<(Instant, Phase)> = Vec::new();
    for &phase in phases {
        let at = match phase {
            Phase::Queued => task.created,
            Phase::Running => task.created + task.latency.mul_f64(0.2),
            Phase::Done => task.ready_at(),
        };
        events.push((at + task.callbacks.late, phase));
    }
    let done_at = task.ready_at() + task.callbacks.late;
    if task.callbacks.duplicate {
        events.push((done_at, Phase::Done));
    }
    if task.callbacks.out_of_order
        && let Some(&stale) = phases.iter().rev().find(|ph| **ph != Phase::Done)
    {
        events.push((done_at, stale));
    }
    tokio::spawn(async move {
        for (at, phase) in events {
            if !sim.sleep_until(at).await {
                return;
            }
            // Re-read: a reset or a cancel since scheduling changes what is sent
            let Some(current) = sim.task(task.provider, &task.id) else {
                return;
            };
            if current.epoch != task.epoch || current.cancelled {
                return;
            }
            if let Some(out) = providers::callback(&sim, &current, phase) {
                deliver_for(&sim, &current, phase, &out).await;
            }
        }
    });
}
