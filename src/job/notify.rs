//! Outgoing status webhooks: an outbox in the header, delivered at least once, retried from the
//! job's one alarm.
//!
//! Every status change of a job whose brief has a `webhook_url` adds a [`Notification`] and emits
//! [`Effect::Notify`]; the shell signs and POSTs the payload with the notification's webhook id
//! (stable across attempts, so receivers dedupe) and answers with `Input::NotifyResult`.
//!
//! ```text
//! status change ----------------------------------> sending(1)      [Notify attempt 1]
//! sending(k) --NotifyResult k ok-------------------> delivered
//! sending(k) --NotifyResult k failed, k < max------> pending         (next_at = now + max(backoff(k), Retry-After))
//! sending(k) --no result by its deadline, k < max--> sending(k + 1)  [Notify] (the isolate died mid-delivery)
//! sending(k) --failed or no result, k = max--------> gave_up
//! pending    --next_at-----------------------------> sending(k + 1)  [Notify, same webhook id]
//! any        --NotifyResult of another attempt, a repeat, or after delivered/gave_up--> unchanged
//! ```
//!
//! The deadlines live in the job's deadline table (so `next_deadline()` includes them) and are
//! handled whatever the job's status: a finished job keeps its alarm until every notification is
//! delivered or given up. Ordering across notifications is not guaranteed; each payload carries
//! `previous` and `at` so receivers can order them.

use super::Job;
use super::deadlines::DeadlineKey;
use super::effect::Effect;
use super::error::JobError;
use super::retry::{hash_str, mix};
use super::state::{EventType, JobStatus, Notification, NotificationState, StatusEvent};
use crate::ids::JobId;
use crate::time::{Millis, Timestamp};

/// Notifications kept in the header; the oldest settled one (else the oldest) makes room
pub const MAX_OUTBOX: usize = 64;
/// How long the shell has to report a delivery before it is sent again (twice its call timeout)
pub const NOTIFY_RESULT_TIMEOUT: Millis = Millis::from_secs(60);
/// Waits after failed attempts 1, 2, ...: about 23.7 h in all, then the notification is given up
pub const NOTIFY_SCHEDULE: [Millis; 10] = [
    Millis::from_secs(5),
    Millis::from_secs(30),
    Millis::from_secs(2 * 60),
    Millis::from_secs(10 * 60),
    Millis::from_secs(30 * 60),
    Millis::from_secs(3600),
    Millis::from_secs(2 * 3600),
    Millis::from_secs(4 * 3600),
    Millis::from_secs(6 * 3600),
    Millis::from_secs(10 * 3600),
];
/// Delivery attempts of one notification: the first and one per step of [`NOTIFY_SCHEDULE`]
pub const MAX_NOTIFY_ATTEMPTS: u32 = NOTIFY_SCHEDULE.len() as u32 + 1;
/// Longest `Retry-After` honoured, so a receiver cannot stretch the schedule past a day or so
pub const NOTIFY_RETRY_AFTER_MAX: Millis = Millis::from_secs(3600);

/// The webhook id of a notification: `{job}-{id}`, the same on every attempt
pub fn webhook_id(job: &JobId, notification: u32) -> String {
    format!("{job}-{notification}")
}

/// The wait after `failures` failed attempts: the schedule's step with ±10% jitter drawn from
/// the job's seed, so a replay computes the same times
pub fn notify_backoff(seed: u64, notification: u32, failures: u32) -> Millis {
    let step = usize::try_from(failures.saturating_sub(1))
        .ok()
        .and_then(|i| NOTIFY_SCHEDULE.get(i))
        .or(NOTIFY_SCHEDULE.last())
        .map_or(0, |m| m.0);
    let tenth = step / 10;
    let draw =
        mix(seed ^ hash_str("notify") ^ (u64::from(notification) << 32) ^ u64::from(failures));
    Millis(step - tenth + draw % (2 * tenth + 1))
}

impl Job {
    /// Queues the webhook of a status change (when the brief has a `webhook_url`) and sends it
    pub(super) fn notify_status(
        &mut self,
        now: Timestamp,
        previous: JobStatus,
        status: JobStatus,
        reason: Option<String>,
        fx: &mut Vec<Effect>,
    ) {
        if self.spec.brief.webhook_url.is_none() {
            return;
        }
        if self.header.outbox.len() >= MAX_OUTBOX {
            // Settled entries go first; a full outbox of unsettled ones (a pause/resume storm)
            // drops its oldest: the receiver still gets the later, more current statuses.
            let evict = self
                .header
                .outbox
                .iter()
                .position(|n| n.state.is_settled())
                .unwrap_or(0);
            if evict < self.header.outbox.len() {
                let gone = self.header.outbox.remove(evict);
                self.idx.deadlines.set(DeadlineKey::Notify(gone.id), None);
            }
        }
        // The webhook goes to the creator's app: the failure in Ra's words, support's actions
        // in plain sentences; support's and the job's own words stay in the support view.
        let reason = self.reason_for_creator(status, reason.as_deref());
        let id = self.header.notifications_issued.saturating_add(1);
        self.header.notifications_issued = id;
        self.header.outbox.push(Notification {
            id,
            event: StatusEvent {
                event_type: EventType::StatusChanged,
                job_id: self.spec.job_id.clone(),
                status,
                previous,
                at: now,
                reason,
            },
            attempts: 0,
            state: NotificationState::Sending { deadline: now },
        });
        self.send_notification(now, id, fx);
    }

    /// The shell's report on one delivery attempt
    pub(super) fn on_notify_result(
        &mut self,
        now: Timestamp,
        id: u32,
        attempt: u32,
        ok: bool,
        retry_after: Option<Millis>,
        error: Option<String>,
    ) -> Result<(), JobError> {
        if id == 0 || id > self.header.notifications_issued {
            return Err(JobError::UnknownNotification {
                job: self.spec.job_id.clone(),
                notification: id,
            });
        }
        let seed = self.spec.seed;
        // Dropped from the bounded outbox: nothing left to update.
        let Some(n) = self.notification_mut(id) else {
            return Ok(());
        };
        if attempt != n.attempts || !matches!(n.state, NotificationState::Sending { .. }) {
            return Ok(());
        }
        n.state = if ok {
            NotificationState::Delivered { at: now }
        } else {
            let last_error = error.unwrap_or_else(|| "delivery failed".into());
            if n.attempts >= MAX_NOTIFY_ATTEMPTS {
                NotificationState::GaveUp {
                    at: now,
                    last_error,
                }
            } else {
                // Never sooner than the schedule, never before the receiver asked.
                let asked = retry_after.map_or(Millis(0), |d| d.min(NOTIFY_RETRY_AFTER_MAX));
                let wait = notify_backoff(seed, id, n.attempts).max(asked);
                NotificationState::Pending {
                    next_at: now.plus(wait),
                    last_error,
                }
            }
        };
        let wake = n.state.wake_at();
        self.idx.deadlines.set(DeadlineKey::Notify(id), wake);
        self.header_dirty = true;
        Ok(())
    }

    /// A notification's deadline: send the next attempt, or give up
    pub(super) fn on_notify_due(&mut self, now: Timestamp, id: u32, fx: &mut Vec<Effect>) {
        let Some(n) = self.notification_mut(id) else {
            return;
        };
        match &n.state {
            NotificationState::Sending { deadline } if now >= *deadline => {
                if n.attempts >= MAX_NOTIFY_ATTEMPTS {
                    let last_error = format!("no result for attempt {}", n.attempts);
                    n.state = NotificationState::GaveUp {
                        at: now,
                        last_error,
                    };
                    self.idx.deadlines.set(DeadlineKey::Notify(id), None);
                    self.header_dirty = true;
                } else {
                    // No result: the isolate died mid-delivery, or the shell lost it. Send again
                    // with the same webhook id; the receiver dedupes.
                    self.send_notification(now, id, fx);
                }
            }
            NotificationState::Pending { next_at, .. } if now >= *next_at => {
                self.send_notification(now, id, fx);
            }
            NotificationState::Sending { .. }
            | NotificationState::Pending { .. }
            | NotificationState::Delivered { .. }
            | NotificationState::GaveUp { .. } => {}
        }
    }

    /// Sends the next attempt of a notification
    fn send_notification(&mut self, now: Timestamp, id: u32, fx: &mut Vec<Effect>) {
        let url = self.spec.brief.webhook_url.clone();
        let job = self.spec.job_id.clone();
        let Some(n) = self.notification_mut(id) else {
            return;
        };
        n.attempts = n.attempts.saturating_add(1);
        let deadline = now.plus(NOTIFY_RESULT_TIMEOUT);
        n.state = NotificationState::Sending { deadline };
        let (attempt, payload) = (n.attempts, n.event.clone());
        self.idx
            .deadlines
            .set(DeadlineKey::Notify(id), Some(deadline));
        self.header_dirty = true;
        if let Some(url) = url {
            fx.push(Effect::Notify {
                notification: id,
                attempt,
                url,
                payload,
                webhook_id: webhook_id(&job, id),
            });
        }
    }

    /// A notification in the outbox (kept in id order, so a binary search)
    fn notification_mut(&mut self, id: u32) -> Option<&mut Notification> {
        let outbox = &mut self.header.outbox;
        let i = outbox.binary_search_by_key(&id, |n| n.id).ok()?;
        outbox.get_mut(i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schedule_spans_about_a_day_with_bounded_jitter() {
        let total: u64 = NOTIFY_SCHEDULE.iter().map(|m| m.0).sum();
        assert!(
            (22 * 3_600_000..=26 * 3_600_000).contains(&total),
            "{total}"
        );
        for failures in 1..=MAX_NOTIFY_ATTEMPTS + 2 {
            let i = (failures as usize - 1).min(NOTIFY_SCHEDULE.len() - 1);
            let step = NOTIFY_SCHEDULE[i].0;
            for seed in 0..40 {
                let d = notify_backoff(seed, 3, failures).0;
                assert!(
                    d >= step - step / 10 && d <= step + step / 10,
                    "{d} vs {step}"
                );
                assert_eq!(d, notify_backoff(seed, 3, failures).0);
            }
        }
    }
}
