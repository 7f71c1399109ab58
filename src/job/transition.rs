//! The per-stage transition table: `(state, event) -> outcome`, one exhaustive match.
//!
//! This is pure: it reads the state and the event and says what happened. [`Job`](super::Job)
//! applies the outcome (new state, money, counters, deadlines, effects). Fencing comes first:
//! an event for any attempt but the one in flight is stale and changes nothing.

use super::deadlines::{MAX_STORE_REISSUES, MAX_SUBMIT_REISSUES};
use super::retry::Failure;
use super::state::{InDoubt, Progress, StageState};
use crate::ids::{Attempt, ProviderRef};
use crate::providers::{Output, ProviderError, ProviderStatus};
use crate::time::Timestamp;

/// A stage-level event, from an input or a due deadline
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum StageEvent {
    Accepted {
        attempt: Attempt,
        provider_ref: ProviderRef,
    },
    SubmitFailed {
        attempt: Attempt,
        error: ProviderError,
    },
    Update {
        attempt: Attempt,
        status: ProviderStatus,
    },
    PollFailed {
        attempt: Attempt,
        error: ProviderError,
    },
    Stored {
        attempt: Attempt,
        key: String,
        content_type: String,
        bytes: u64,
    },
    StoreFailed {
        attempt: Attempt,
        key: String,
        reason: String,
    },
    Due,
}

impl StageEvent {
    fn attempt(&self) -> Option<Attempt> {
        match self {
            Self::Accepted { attempt, .. }
            | Self::SubmitFailed { attempt, .. }
            | Self::Update { attempt, .. }
            | Self::PollFailed { attempt, .. }
            | Self::Stored { attempt, .. }
            | Self::StoreFailed { attempt, .. } => Some(*attempt),
            Self::Due => None,
        }
    }
}

/// What an event means for the stage
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Outcome {
    /// Stale, duplicate, late, out of order or not yet due: nothing changes
    Ignore,
    /// The provider acknowledged the submit
    Accepted { provider_ref: ProviderRef },
    /// The acknowledgement arrived after the result: remember the task id
    LateRef { provider_ref: ProviderRef },
    /// The task moved from queued to running
    Progressed(Progress),
    /// The provider finished with outputs (not yet in R2)
    Succeeded { outputs: Vec<Output> },
    /// The attempt failed
    Failed(Failure),
    /// No acknowledgement in time: issue the same submit again
    Resubmit,
    /// Time to poll
    PollNow,
    /// The provider throttled our poll: next poll at this time
    PollLater(Timestamp),
    /// One output is in R2
    Stored {
        key: String,
        content_type: String,
        bytes: u64,
    },
    /// The copies are overdue: issue them again
    StoreAgain,
    /// The backoff is over: ready again
    BackoffOver,
    /// A submit in doubt after a reload takes its next reconciliation step
    Doubt(DoubtStep),
}

/// The table
pub(crate) fn transition(state: &StageState, now: Timestamp, event: StageEvent) -> Outcome {
    use StageEvent as E;
    use StageState as S;

    if let Some(a) = event.attempt()
        && state.attempt() != Some(a)
    {
        // Fencing: a callback or result of an older (or never issued) attempt.
        return Outcome::Ignore;
    }
    if let S::Submitting {
        doubt: Some(doubt),
        deadline,
        reissues,
        ..
    } = state
    {
        let in_doubt = match &event {
            E::Update { status, .. } => {
                in_doubt_transition(*doubt, *deadline, *reissues, now, Some(status))
            }
            E::Due => in_doubt_transition(*doubt, *deadline, *reissues, now, None),
            E::Accepted { .. }
            | E::SubmitFailed { .. }
            | E::PollFailed { .. }
            | E::Stored { .. }
            | E::StoreFailed { .. } => None,
        };
        if let Some(outcome) = in_doubt {
            return outcome;
        }
    }
    match (state, event) {
        // No attempt in flight: anything attempt-bound was fenced off above.
        (
            S::Blocked
            | S::Ready { .. }
            | S::BackingOff { .. }
            | S::Done { .. }
            | S::Failed { .. }
            | S::Cancelled { .. },
            E::Accepted { .. }
            | E::SubmitFailed { .. }
            | E::Update { .. }
            | E::PollFailed { .. }
            | E::Stored { .. }
            | E::StoreFailed { .. },
        ) => Outcome::Ignore,
        (
            S::Blocked | S::Ready { .. } | S::Done { .. } | S::Failed { .. } | S::Cancelled { .. },
            E::Due,
        ) => Outcome::Ignore,
        (S::BackingOff { until, .. }, E::Due) => {
            if now >= *until {
                Outcome::BackoffOver
            } else {
                Outcome::Ignore
            }
        }

        (S::Submitting { .. }, E::Accepted { provider_ref, .. }) => {
            Outcome::Accepted { provider_ref }
        }
        (S::Submitting { .. }, E::SubmitFailed { error, .. }) => {
            Outcome::Failed(Failure::from_error(&error))
        }
        // Without the task id we cannot poll; the acknowledgement will follow.
        (
            S::Submitting { .. },
            E::Update {
                status: ProviderStatus::Queued | ProviderStatus::Running,
                ..
            },
        ) => Outcome::Ignore,
        // The result beat the acknowledgement: take it.
        (
            S::Submitting { .. } | S::Running { .. },
            E::Update {
                status: ProviderStatus::Succeeded { outputs },
                ..
            },
        ) => Outcome::Succeeded { outputs },
        (
            S::Submitting { .. } | S::Running { .. },
            E::Update {
                status: status @ (ProviderStatus::Failed { .. } | ProviderStatus::Moderated { .. }),
                ..
            },
        ) => match Failure::from_status(&status) {
            Some(f) => Outcome::Failed(f),
            None => Outcome::Ignore,
        },
        (S::Submitting { .. }, E::PollFailed { .. } | E::Stored { .. } | E::StoreFailed { .. }) => {
            Outcome::Ignore
        }
        (
            S::Submitting {
                deadline, reissues, ..
            },
            E::Due,
        ) => {
            if now < *deadline {
                Outcome::Ignore
            } else if *reissues < MAX_SUBMIT_REISSUES {
                Outcome::Resubmit
            } else {
                Outcome::Failed(Failure::TimedOut {
                    reason: "the provider never acknowledged the submit".into(),
                })
            }
        }

        // A duplicate acknowledgement, or a re-issued submit failing after the first one took.
        (S::Running { .. }, E::Accepted { .. } | E::SubmitFailed { .. }) => Outcome::Ignore,
        // Statuses never go backwards.
        (
            S::Running { .. },
            E::Update {
                status: ProviderStatus::Queued,
                ..
            },
        ) => Outcome::Ignore,
        (
            S::Running { progress, .. },
            E::Update {
                status: ProviderStatus::Running,
                ..
            },
        ) => {
            if *progress == Progress::Queued {
                Outcome::Progressed(Progress::Running)
            } else {
                Outcome::Ignore
            }
        }
        (S::Running { .. }, E::PollFailed { error, .. }) => match error {
            ProviderError::RateLimited {
                retry_after: Some(d),
            } => Outcome::PollLater(now.plus(d)),
            // The next poll is already scheduled; the attempt timeout bounds the wait.
            ProviderError::RateLimited { retry_after: None }
            | ProviderError::Transient { .. }
            | ProviderError::Malformed { .. } => Outcome::Ignore,
            ProviderError::Rejected { reason } => Outcome::Failed(Failure::Transient {
                reason: format!("provider lost the task: {reason}"),
            }),
            e @ (ProviderError::Unauthorized | ProviderError::Moderated { .. }) => {
                Outcome::Failed(Failure::from_error(&e))
            }
        },
        (S::Running { .. }, E::Stored { .. } | E::StoreFailed { .. }) => Outcome::Ignore,
        (
            S::Running {
                deadline,
                next_poll,
                ..
            },
            E::Due,
        ) => {
            if now >= *deadline {
                Outcome::Failed(Failure::TimedOut {
                    reason: "no result within the model's p95 and margin".into(),
                })
            } else if now >= *next_poll {
                Outcome::PollNow
            } else {
                Outcome::Ignore
            }
        }

        (
            S::Storing { provider_ref, .. },
            E::Accepted {
                provider_ref: r, ..
            },
        ) => {
            if provider_ref.is_none() {
                Outcome::LateRef { provider_ref: r }
            } else {
                Outcome::Ignore
            }
        }
        // The output is already ours: duplicates, late statuses and poll answers change nothing.
        (S::Storing { .. }, E::SubmitFailed { .. } | E::Update { .. } | E::PollFailed { .. }) => {
            Outcome::Ignore
        }
        (
            S::Storing { pending, .. },
            E::Stored {
                key,
                content_type,
                bytes,
                ..
            },
        ) => {
            if pending.iter().any(|p| p.key == key) {
                Outcome::Stored {
                    key,
                    content_type,
                    bytes,
                }
            } else {
                Outcome::Ignore
            }
        }
        (S::Storing { pending, .. }, E::StoreFailed { key, reason, .. }) => {
            if pending.iter().any(|p| p.key == key) {
                Outcome::Failed(Failure::StoreFailed { reason })
            } else {
                Outcome::Ignore
            }
        }
        (
            S::Storing {
                pending,
                deadline,
                reissues,
                ..
            },
            E::Due,
        ) => {
            let expired = pending.iter().any(|p| match &p.output {
                Output::Url {
                    expires_at: Some(t),
                    ..
                } => *t <= now,
                Output::Url {
                    expires_at: None, ..
                }
                | Output::Stored { .. } => false,
            });
            if now < *deadline {
                Outcome::Ignore
            } else if expired {
                Outcome::Failed(Failure::StoreFailed {
                    reason: "the output URL expired before it was copied".into(),
                })
            } else if *reissues < MAX_STORE_REISSUES {
                Outcome::StoreAgain
            } else {
                Outcome::Failed(Failure::StoreFailed {
                    reason: "the copy into R2 never completed".into(),
                })
            }
        }
    }
}

/// What an in-doubt submit does next (applied by [`Job::apply_doubt`])
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DoubtStep {
    /// The task exists: wait for its result until the attempt's timeout
    Adopt,
    /// Search the provider now
    LookUp,
    /// The search could not tell: search again after [`LOOKUP_RETRY`]
    LookUpLater,
}

/// The in-doubt part of the stage table: `Some` for the events an in-doubt submit handles its
/// own way, `None` for those it handles like any submit (a result, an acknowledgement, a failure)
pub(crate) fn in_doubt_transition(
    doubt: InDoubt,
    deadline: Timestamp,
    reissues: u32,
    now: Timestamp,
    status: Option<&ProviderStatus>,
) -> Option<Outcome> {
    let due = now >= deadline;
    let spent = reissues >= MAX_SUBMIT_REISSUES;
    match (doubt, status) {
        // A status short of the result proves the task exists.
        (
            InDoubt::AwaitingCallback | InDoubt::LookUp | InDoubt::LookingUp | InDoubt::Resubmit,
            Some(ProviderStatus::Queued | ProviderStatus::Running),
        ) => Some(Outcome::Doubt(DoubtStep::Adopt)),
        (InDoubt::Adopted, Some(ProviderStatus::Queued | ProviderStatus::Running)) => {
            Some(Outcome::Ignore)
        }
        (_, Some(_)) => None,
        // The deadline (a `Due`, since no status came with the event)
        (_, None) if !due => Some(Outcome::Ignore),
        (InDoubt::Adopted, None) => Some(Outcome::Failed(Failure::TimedOut {
            reason: "the task adopted after a restart never reported a result".into(),
        })),
        (InDoubt::AwaitingCallback | InDoubt::Resubmit, None) if !spent => Some(Outcome::Resubmit),
        (InDoubt::LookUp | InDoubt::LookingUp, None) if !spent => {
            Some(Outcome::Doubt(DoubtStep::LookUp))
        }
        (_, None) => Some(Outcome::Failed(Failure::TimedOut {
            reason: "the provider never acknowledged the submit".into(),
        })),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::ids::ModelId;
    use crate::job::budget::Micros;

    const T: Timestamp = Timestamp(1_000_000);

    fn running(next_poll: u64, deadline: u64) -> StageState {
        StageState::Running {
            attempt: Attempt(2),
            model: ModelId("veo-3".into()),
            reserved: Micros(1),
            provider_ref: ProviderRef("op-1".into()),
            since: T,
            deadline: Timestamp(deadline),
            next_poll: Timestamp(next_poll),
            progress: Progress::Queued,
        }
    }

    #[test]
    fn events_of_other_attempts_are_fenced_off() {
        let s = running(2_000_000, 3_000_000);
        for a in [1, 3] {
            let ev = StageEvent::Update {
                attempt: Attempt(a),
                status: ProviderStatus::Succeeded { outputs: vec![] },
            };
            assert_eq!(transition(&s, T, ev), Outcome::Ignore);
        }
        let ev = StageEvent::Update {
            attempt: Attempt(2),
            status: ProviderStatus::Running,
        };
        assert_eq!(
            transition(&s, T, ev),
            Outcome::Progressed(Progress::Running)
        );
    }

    #[test]
    fn a_due_running_stage_times_out_before_it_polls() {
        let s = running(1_500_000, 2_000_000);
        assert_eq!(
            transition(&s, Timestamp(1_400_000), StageEvent::Due),
            Outcome::Ignore
        );
        assert_eq!(
            transition(&s, Timestamp(1_500_000), StageEvent::Due),
            Outcome::PollNow
        );
        assert!(matches!(
            transition(&s, Timestamp(2_000_000), StageEvent::Due),
            Outcome::Failed(Failure::TimedOut { .. })
        ));
    }

    #[test]
    fn a_throttled_poll_waits_for_retry_after_and_a_lost_task_is_a_failure() {
        let s = running(1_500_000, 2_000_000);
        let ev = StageEvent::PollFailed {
            attempt: Attempt(2),
            error: ProviderError::RateLimited {
                retry_after: Some(crate::time::Millis(9_000)),
            },
        };
        assert_eq!(
            transition(&s, T, ev),
            Outcome::PollLater(Timestamp(1_009_000))
        );
        let ev = StageEvent::PollFailed {
            attempt: Attempt(2),
            error: ProviderError::Transient {
                reason: "503".into(),
            },
        };
        assert_eq!(transition(&s, T, ev), Outcome::Ignore);
        let ev = StageEvent::PollFailed {
            attempt: Attempt(2),
            error: ProviderError::Rejected {
                reason: "404".into(),
            },
        };
        assert!(matches!(
            transition(&s, T, ev),
            Outcome::Failed(Failure::Transient { .. })
        ));
    }

    #[test]
    fn a_submit_is_reissued_three_times_then_times_out() {
        let submitting = |reissues| StageState::Submitting {
            attempt: Attempt(1),
            model: ModelId("flux-1.1-pro".into()),
            reserved: Micros(1),
            since: T,
            deadline: T,
            reissues,
            doubt: None,
        };
        assert_eq!(
            transition(&submitting(0), T, StageEvent::Due),
            Outcome::Resubmit
        );
        assert_eq!(
            transition(&submitting(2), T, StageEvent::Due),
            Outcome::Resubmit
        );
        assert!(matches!(
            transition(&submitting(3), T, StageEvent::Due),
            Outcome::Failed(Failure::TimedOut { .. })
        ));
    }

    #[test]
    fn finished_stages_ignore_everything() {
        let done = StageState::Done {
            attempt: Attempt(1),
            model: ModelId("m".into()),
            artifacts: vec![],
            finished_at: T,
        };
        assert_eq!(transition(&done, T, StageEvent::Due), Outcome::Ignore);
        let ev = StageEvent::Accepted {
            attempt: Attempt(1),
            provider_ref: ProviderRef("x".into()),
        };
        assert_eq!(transition(&done, T, ev), Outcome::Ignore);
    }

    #[test]
    fn a_running_status_adopts_and_the_deadline_runs_the_plan() {
        let running = Some(&ProviderStatus::Running);
        assert_eq!(
            in_doubt_transition(InDoubt::AwaitingCallback, T, 0, T, running),
            Some(Outcome::Doubt(DoubtStep::Adopt))
        );
        assert_eq!(
            in_doubt_transition(InDoubt::Adopted, T, 0, T, running),
            Some(Outcome::Ignore)
        );
        let early = Timestamp(T.0 - 1);
        assert_eq!(
            in_doubt_transition(InDoubt::LookUp, T, 0, early, None),
            Some(Outcome::Ignore)
        );
        assert_eq!(
            in_doubt_transition(InDoubt::LookUp, T, 0, T, None),
            Some(Outcome::Doubt(DoubtStep::LookUp))
        );
        assert_eq!(
            in_doubt_transition(InDoubt::AwaitingCallback, T, 0, T, None),
            Some(Outcome::Resubmit)
        );
        assert!(matches!(
            in_doubt_transition(InDoubt::LookingUp, T, MAX_SUBMIT_REISSUES, T, None),
            Some(Outcome::Failed(Failure::TimedOut { .. }))
        ));
        let done = ProviderStatus::Succeeded { outputs: vec![] };
        assert_eq!(
            in_doubt_transition(InDoubt::LookingUp, T, 0, T, Some(&done)),
            None
        );
    }
}
