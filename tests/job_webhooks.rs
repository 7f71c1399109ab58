//! Outgoing status webhooks: one per status change, retried with backoff from the job's alarm,
//! Retry-After honoured, stale results ignored, given up after a day, and a finished job keeps
//! its alarm until every notification is settled.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Received, T0, WEBHOOK_URL, WebhookFault, World, created, small_brief, webhook_brief};
use studio::job::{
    Effect, Input, JobError, JobStatus, MAX_NOTIFY_ATTEMPTS, MAX_OUTBOX, NOTIFY_RESULT_TIMEOUT,
    NOTIFY_RETRY_AFTER_MAX, NOTIFY_SCHEDULE, NotificationState, SupportAction, notify_backoff,
};
use studio::journal::{Actor, JournalEntry};
use studio::time::Millis;

fn fail(status: u16) -> WebhookFault {
    WebhookFault::Fail {
        status,
        retry_after: None,
    }
}

fn throttled(retry_after: Millis) -> WebhookFault {
    WebhookFault::Fail {
        status: 429,
        retry_after: Some(retry_after),
    }
}

/// The deliveries of one notification
fn deliveries(w: &World, id: u32) -> Vec<Received> {
    w.fake
        .received
        .iter()
        .filter(|r| r.notification == id)
        .cloned()
        .collect()
}

fn state(w: &World, id: u32) -> NotificationState {
    w.job
        .header()
        .outbox
        .iter()
        .find(|n| n.id == id)
        .map(|n| n.state.clone())
        .expect("notification in the outbox")
}

fn result(id: u32, attempt: u32, ok: bool) -> Input {
    Input::NotifyResult {
        notification: id,
        attempt,
        ok,
        retry_after: None,
        error: (!ok).then(|| "HTTP 500".into()),
    }
}

/// The fake answers each delivery this long after it was sent
const RTT: Millis = Millis(150);

#[test]
fn every_status_change_is_notified_once_signed_with_a_stable_id() {
    let mut w = World::new(webhook_brief(2));
    w.run();
    assert_eq!(w.status(), JobStatus::Succeeded);
    let history = w.job.view().history;
    let got: Vec<_> = w.fake.received.iter().collect();
    assert_eq!(got.len(), history.len() - 1, "one per change after queued");
    for (n, (r, pair)) in got.iter().zip(history.windows(2)).enumerate() {
        let id = n as u32 + 1;
        assert_eq!(r.notification, id);
        assert_eq!(r.attempt, 1);
        assert_eq!(r.webhook_id, format!("rnd_test-{id}"));
        assert_eq!(r.payload.previous, pair[0].status);
        assert_eq!(r.payload.status, pair[1].status);
        assert_eq!(r.payload.at, pair[1].at);
        assert_eq!(r.at, pair[1].at, "sent in the step that changed the status");
    }
    let urls: Vec<&str> = w
        .effects
        .iter()
        .filter_map(|(_, e)| match e {
            Effect::Notify { url, .. } => Some(url.as_str()),
            _ => None,
        })
        .collect();
    assert!(urls.iter().all(|u| *u == WEBHOOK_URL));
    let json = serde_json::to_value(&got[0].payload).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "type": "render.status_changed",
            "job_id": "rnd_test",
            "status": "planning",
            "previous": "queued",
            "at": T0.0,
            "reason": null
        })
    );
    let view = w.job.view();
    assert_eq!(view.notifications.len(), 4);
    assert!(
        view.notifications
            .iter()
            .all(|n| n.attempts == 1 && matches!(n.state, NotificationState::Delivered { .. }))
    );
    assert_eq!(view.notifications[3].status, JobStatus::Succeeded);
    assert_eq!(w.job.next_deadline(), None);
    w.assert_replays();
}

#[test]
fn no_webhook_url_no_notifications() {
    let mut w = World::new(small_brief(2));
    w.run();
    assert_eq!(w.status(), JobStatus::Succeeded);
    assert!(w.notifies().is_empty());
    assert!(w.job.header().outbox.is_empty());
    assert!(w.job.view().notifications.is_empty());
}

#[test]
fn a_failed_delivery_is_retried_with_seeded_backoff_at_the_expected_times() {
    let mut w = World::with(created(webhook_brief(1), 42, false), |f| {
        f.fault_webhook(1, [fail(500), fail(503), fail(502)])
    });
    w.run();
    let d = deliveries(&w, 1);
    assert_eq!(
        d.iter().map(|r| r.attempt).collect::<Vec<_>>(),
        [1, 2, 3, 4]
    );
    for (k, pair) in d.windows(2).enumerate() {
        let failures = k as u32 + 1;
        let wait = notify_backoff(42, 1, failures);
        assert_eq!(
            pair[1].at,
            pair[0].at.plus(RTT).plus(wait),
            "attempt {}",
            failures + 1
        );
        // the schedule's step, give or take a tenth
        let step = NOTIFY_SCHEDULE[k].0;
        assert!(wait.0.abs_diff(step) <= step / 10, "{wait:?} vs {step}");
        // the same notification each time: same webhook id, same bytes
        assert_eq!(pair[1].webhook_id, pair[0].webhook_id);
        assert_eq!(pair[1].payload, pair[0].payload);
    }
    assert!(matches!(state(&w, 1), NotificationState::Delivered { at } if at == d[3].at.plus(RTT)));
    assert_eq!(w.job.view().notifications[0].attempts, 4);
    // Other notifications were not held up by this one.
    assert!(deliveries(&w, 2).len() == 1);
    w.assert_replays();
}

#[test]
fn retry_after_is_honoured_but_never_shortens_the_schedule() {
    let mut w = World::with(created(webhook_brief(1), 7, false), |f| {
        f.fault_webhook(1, [throttled(Millis::from_secs(90))]);
        f.fault_webhook(2, [throttled(Millis(10))]);
        f.fault_webhook(3, [throttled(Millis::from_secs(5 * 3600))]);
    });
    w.run();
    let gap = |id: u32| {
        let d = deliveries(&w, id);
        assert_eq!(d.len(), 2, "notification {id}");
        d[1].at.since(d[0].at.plus(RTT))
    };
    assert_eq!(gap(1), Millis::from_secs(90), "as the receiver asked");
    assert_eq!(
        gap(2),
        notify_backoff(7, 2, 1),
        "not sooner than the schedule"
    );
    assert_eq!(gap(3), NOTIFY_RETRY_AFTER_MAX, "capped");
}

#[test]
fn results_of_older_attempts_and_repeats_change_nothing() {
    let mut w = World::manual(webhook_brief(1));
    assert_eq!(w.notifies(), vec![(T0, 1, 1)]);
    // Never sent, or never issued.
    w.assert_noop(result(1, 2, true));
    for id in [0, 9] {
        let err = w.deliver(Actor::System, result(id, 1, true)).unwrap_err();
        assert!(
            matches!(err, JobError::UnknownNotification { notification, .. } if notification == id)
        );
    }
    w.now = T0.plus(RTT);
    w.poke(result(1, 1, false));
    let next = T0.plus(RTT).plus(notify_backoff(42, 1, 1));
    assert!(
        matches!(state(&w, 1), NotificationState::Pending { next_at, ref last_error } if next_at == next && last_error == "HTTP 500")
    );
    // The failure again, or a late success of the same attempt: already handled.
    w.assert_noop(result(1, 1, false));
    w.assert_noop(result(1, 1, true));
    w.advance_to(next);
    assert!(w.notifies().contains(&(next, 1, 2)));
    w.assert_noop(result(1, 1, true));
    w.poke(result(1, 2, true));
    assert!(matches!(state(&w, 1), NotificationState::Delivered { .. }));
    w.assert_noop(result(1, 2, true));
    w.assert_noop(result(1, 2, false));
    w.assert_replays();
}

#[test]
fn a_notification_is_given_up_after_the_last_retry() {
    let mut w = World::with(created(webhook_brief(1), 3, false), |f| {
        f.fault_webhook(1, (0..MAX_NOTIFY_ATTEMPTS).map(|_| fail(500)));
    });
    w.run();
    let d = deliveries(&w, 1);
    assert_eq!(d.len() as u32, MAX_NOTIFY_ATTEMPTS);
    let span = d.last().unwrap().at.since(d[0].at).0;
    let schedule: u64 = NOTIFY_SCHEDULE.iter().map(|m| m.0).sum();
    let rtts = RTT.0 * u64::from(MAX_NOTIFY_ATTEMPTS - 1);
    assert!(
        span >= schedule - schedule / 10 + rtts && span <= schedule + schedule / 10 + rtts,
        "{span} vs {schedule}"
    );
    assert!(span > 20 * 3600 * 1000, "about a day of retries");
    assert!(matches!(
        state(&w, 1),
        NotificationState::GaveUp { ref last_error, .. } if last_error == "HTTP 500"
    ));
    assert_eq!(w.job.next_deadline(), None, "nothing left to do");
    w.assert_replays();
}

#[test]
fn a_finished_job_keeps_its_alarm_until_its_notifications_settle() {
    // The last notification (succeeded) fails once.
    let mut w = World::with(created(webhook_brief(1), 42, false), |f| {
        f.fault_webhook(4, [fail(502)])
    });
    assert!(w.run_until(|w| w.status() == JobStatus::Succeeded));
    let done_at = w.now;
    w.advance_to(done_at.plus(RTT)); // the writes' acknowledgements, then the failed result
    let next = done_at.plus(RTT).plus(notify_backoff(42, 4, 1));
    assert_eq!(w.job.next_deadline(), Some(next));
    assert_eq!(w.job.view().next_deadline, Some(next));
    // Evicted in between: the rows still carry the deadline.
    w.job = w.store.load();
    assert_eq!(w.job.next_deadline(), Some(next));
    w.run();
    assert_eq!(deliveries(&w, 4).len(), 2);
    assert!(matches!(state(&w, 4), NotificationState::Delivered { .. }));
    assert_eq!(w.job.next_deadline(), None);
    assert_eq!(
        w.status(),
        JobStatus::Succeeded,
        "a tick changed nothing else"
    );
    w.assert_replays();
}

#[test]
fn a_delivery_lost_with_its_isolate_is_sent_again_with_the_same_webhook_id() {
    let mut w = World::with(created(webhook_brief(1), 42, false), |f| {
        f.fault_webhook(1, [WebhookFault::Lost])
    });
    // The shell persisted the step (notification 1 sending) and died: load from the rows.
    w.job = w.store.load();
    let deadline = T0.plus(NOTIFY_RESULT_TIMEOUT);
    assert_eq!(state(&w, 1), NotificationState::Sending { deadline });
    w.run();
    let d = deliveries(&w, 1);
    assert_eq!(d.len(), 2);
    assert_eq!(d[1].at, T0.plus(NOTIFY_RESULT_TIMEOUT));
    assert_eq!((d[0].attempt, d[1].attempt), (1, 2));
    assert_eq!(d[1].webhook_id, d[0].webhook_id);
    assert_eq!(d[1].payload, d[0].payload);
    assert!(matches!(state(&w, 1), NotificationState::Delivered { .. }));
    w.assert_replays();
}

#[test]
fn pause_resume_and_support_cancel_are_notified_with_plain_sentences_not_staff_words() {
    let mut w = World::new(webhook_brief(1));
    assert!(w.run_until(|w| w.status() == JobStatus::Rendering));
    w.act(SupportAction::Pause, "provider incident").unwrap();
    w.act(SupportAction::Resume, "all clear").unwrap();
    w.act(SupportAction::Cancel, "duplicate render").unwrap();
    w.run();
    let tail: Vec<_> = w.fake.received.iter().rev().take(3).rev().collect();
    let summary: Vec<_> = tail
        .iter()
        .map(|r| {
            (
                r.payload.previous,
                r.payload.status,
                r.payload.reason.clone().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (
                JobStatus::Rendering,
                JobStatus::Paused,
                "Director, our support team paused your render while they look into it.".into()
            ),
            (
                JobStatus::Paused,
                JobStatus::Rendering,
                "Director, our support team resumed your render.".into()
            ),
            (
                JobStatus::Rendering,
                JobStatus::Cancelled,
                "Director, our support team cancelled your render.".into()
            ),
        ]
    );
    assert!(w.job.header().outbox.iter().all(|n| n.state.is_settled()));
    w.assert_replays();
}

#[test]
fn the_outbox_is_bounded_and_ids_keep_counting() {
    let mut w = World::new(webhook_brief(1));
    assert!(w.run_until(|w| w.status() == JobStatus::Rendering));
    for _ in 0..40 {
        w.act(SupportAction::Pause, "flapping").unwrap();
        w.advance(Millis(500));
        w.act(SupportAction::Resume, "flapping").unwrap();
        w.advance(Millis(500));
    }
    w.run();
    assert_eq!(w.status(), JobStatus::Succeeded);
    let h = w.job.header();
    assert_eq!(h.outbox.len(), MAX_OUTBOX);
    let issued = h.notifications_issued;
    assert_eq!(
        issued,
        2 + 80 + 2,
        "planning, rendering, 40 x (paused, rendering), assembling, succeeded"
    );
    assert_eq!(h.outbox[0].id, issued - MAX_OUTBOX as u32 + 1);
    assert_eq!(h.actions.len(), 64, "the action log is bounded too");
    // A late result for a dropped notification is acknowledged and ignored.
    w.assert_noop(result(1, 1, true));
    w.assert_replays();
}

#[test]
fn notify_results_are_journaled_and_replay() {
    let mut w = World::with(created(webhook_brief(1), 11, false), |f| {
        f.fault_webhook(2, [fail(500), throttled(Millis::from_secs(40))])
    });
    w.run();
    assert!(
        w.journal
            .iter()
            .any(|e| matches!(e.input, Input::NotifyResult { ok: false, .. }))
    );
    let json = serde_json::to_string(&w.journal).unwrap();
    let back: Vec<JournalEntry> = serde_json::from_str(&json).unwrap();
    assert_eq!(back, w.journal);
    w.assert_replays();
}

#[test]
fn a_restarted_job_notifies_its_way_back_to_succeeded() {
    let mut w = World::new(webhook_brief(1));
    w.run();
    let before = w.fake.received.len();
    w.act(
        SupportAction::RestartFrom {
            stage: "assembly".into(),
        },
        "badge missing",
    )
    .unwrap();
    w.run();
    let again: Vec<_> = w.fake.received[before..]
        .iter()
        .map(|r| {
            (
                r.payload.previous,
                r.payload.status,
                r.payload.reason.clone(),
            )
        })
        .collect();
    assert_eq!(
        again,
        vec![
            (
                JobStatus::Succeeded,
                JobStatus::Assembling,
                Some("Director, our support team redid part of your render to fix it.".into())
            ),
            (JobStatus::Assembling, JobStatus::Succeeded, None),
        ]
    );
    w.assert_replays();
}
