//! Named deadlines, one alarm (quinn's `TimerTable`, for a Durable Object's single alarm).
//!
//! Every wait of the job has a deadline here: the memory context fetch, per stage the submit
//! acknowledgement, the attempt timeout, the next poll, the artifact copy, the end of a backoff,
//! and per status webhook the next delivery attempt (these outlive the job's end).
//! [`DeadlineTable::next`] is what the shell arms the alarm at; a `Tick` handles every entry due
//! and ignores the rest, so an alarm that fires twice or late is harmless.
//!
//! The table is derived from the states (each stage's [`wake_at`](super::state::StageState::wake_at),
//! each notification's [`wake_at`](super::state::NotificationState::wake_at)), so it is rebuilt
//! on load and never persisted. Stages are keyed by their plan position, so
//! moving a deadline costs one O(1) lookup and two O(log n) integer-keyed set operations.

use std::collections::{BTreeMap, BTreeSet};

use crate::providers::ProviderKind;
use crate::routing::ModelSpec;
use crate::time::{Millis, Timestamp};

/// What a deadline is for
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum DeadlineKey {
    /// The memory context has not arrived: fetch again, or plan without it
    Memory,
    /// A stage's next wake-up (submit ack, timeout, poll, copy, backoff), by plan position
    Stage(u32),
    /// A status webhook's next delivery attempt (or the end of the wait for a result), by id
    Notify(u32),
    /// A write's next issue (or the end of the wait for its result), by id
    Write(u32),
}

/// Deadlines by time (for the earliest) and by key (to move or drop one)
#[derive(Debug, Clone, Default)]
pub(crate) struct DeadlineTable {
    by_time: BTreeSet<(Timestamp, DeadlineKey)>,
    memory: Option<Timestamp>,
    stages: Vec<Option<Timestamp>>,
    notify: BTreeMap<u32, Timestamp>,
    writes: BTreeMap<u32, Timestamp>,
}

/// Two tables are equal when they hold the same deadlines (`by_time` determines the rest)
impl PartialEq for DeadlineTable {
    fn eq(&self, other: &Self) -> bool {
        self.by_time == other.by_time
    }
}

impl Eq for DeadlineTable {}

impl DeadlineTable {
    /// Stores `at` under `key`; returns the deadline it replaces (`Err` when unchanged)
    fn swap(&mut self, key: DeadlineKey, at: Option<Timestamp>) -> Result<Option<Timestamp>, ()> {
        let slot = match key {
            DeadlineKey::Memory => &mut self.memory,
            DeadlineKey::Stage(i) => {
                let i = usize::try_from(i).unwrap_or(usize::MAX);
                if i >= self.stages.len() {
                    self.stages.resize(i.saturating_add(1), None);
                }
                // `resize` made `i` a valid index; `get_mut` keeps this panic-free regardless.
                match self.stages.get_mut(i) {
                    Some(s) => s,
                    None => return Err(()),
                }
            }
            // Notifications and writes are few and sparse (ids grow forever): maps, not vectors.
            DeadlineKey::Notify(id) => return swap_in(&mut self.notify, id, at),
            DeadlineKey::Write(id) => return swap_in(&mut self.writes, id, at),
        };
        if *slot == at {
            return Err(());
        }
        Ok(std::mem::replace(slot, at))
    }

    /// Sets, moves or (with `None`) drops a deadline
    pub fn set(&mut self, key: DeadlineKey, at: Option<Timestamp>) {
        let Ok(old) = self.swap(key, at) else {
            return;
        };
        if let Some(old) = old {
            self.by_time.remove(&(old, key));
        }
        if let Some(at) = at {
            self.by_time.insert((at, key));
        }
    }

    /// The earliest deadline
    pub fn next(&self) -> Option<Timestamp> {
        self.by_time.first().map(|(t, _)| *t)
    }

    /// The keys due at `now`, earliest first
    pub fn due(&self, now: Timestamp) -> Vec<DeadlineKey> {
        self.by_time
            .iter()
            .take_while(|(t, _)| *t <= now)
            .map(|(_, k)| *k)
            .collect()
    }
}

/// [`DeadlineTable::swap`] for the map-held keys
fn swap_in(
    map: &mut BTreeMap<u32, Timestamp>,
    id: u32,
    at: Option<Timestamp>,
) -> Result<Option<Timestamp>, ()> {
    let old = map.get(&id).copied();
    if old == at {
        return Err(());
    }
    match at {
        Some(t) => map.insert(id, t),
        None => map.remove(&id),
    };
    Ok(old)
}

/// How long the shell has to report a submit's outcome before it is issued again, for a
/// provider that acknowledges at once (see [`submit_ack_timeout`] for those that answer with
/// the result)
pub const SUBMIT_ACK_TIMEOUT: Millis = Millis::from_secs(60);
/// How long the shell waits for a provider's answer to a control call (a submit that is
/// acknowledged at once, a poll, a lookup)
pub const CALL_TIMEOUT: Millis = Millis::from_secs(30);
/// Re-issues of one submit (same idempotency key) before the attempt counts as timed out
pub const MAX_SUBMIT_REISSUES: u32 = 3;
/// How long the shell has to copy an output into R2 before the copy is issued again
pub const STORE_TIMEOUT: Millis = Millis::from_secs(120);
/// Re-issues of one copy before the attempt counts as failed
pub const MAX_STORE_REISSUES: u32 = 3;
/// How long the memory graph has to answer
pub const MEMORY_TIMEOUT: Millis = Millis::from_secs(30);
/// Memory context fetches before the job plans without the creator's context
pub const MAX_MEMORY_FETCHES: u32 = 3;
/// Timeout of an attempt on a model missing from the registry (should not happen)
pub const FALLBACK_ATTEMPT_TIMEOUT: Millis = Millis::from_secs(600);

/// How a provider tells us a task is done
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// No callbacks: we poll on a schedule
    Polled,
    /// Callbacks, with a slower safety-net poll in case one is lost
    Callback,
}

/// How each provider delivers (an exhaustive match: a new provider must choose)
pub fn delivery(kind: ProviderKind) -> Delivery {
    match kind {
        ProviderKind::Veo | ProviderKind::Runway => Delivery::Polled,
        ProviderKind::Sora
        | ProviderKind::Kling
        | ProviderKind::FalPika
        | ProviderKind::Luma
        | ProviderKind::Seedance
        | ProviderKind::Hailuo
        | ProviderKind::Bfl
        | ProviderKind::ElevenLabs
        | ProviderKind::MinimaxMusic
        | ProviderKind::Replicate
        | ProviderKind::Assembler
        | ProviderKind::Shotstack => Delivery::Callback,
    }
}

/// Whether a provider's submit answers with the result itself, so the call lasts as long as the
/// generation (ElevenLabs speech and music, MiniMax music); an exhaustive match: a new provider
/// must choose
pub fn answers_with_result(kind: ProviderKind) -> bool {
    match kind {
        ProviderKind::ElevenLabs | ProviderKind::MinimaxMusic => true,
        ProviderKind::Veo
        | ProviderKind::Runway
        | ProviderKind::Sora
        | ProviderKind::Kling
        | ProviderKind::FalPika
        | ProviderKind::Luma
        | ProviderKind::Seedance
        | ProviderKind::Hailuo
        | ProviderKind::Bfl
        | ProviderKind::Replicate
        | ProviderKind::Assembler
        | ProviderKind::Shotstack => false,
    }
}

/// How long the shell waits for a submit's answer: a control call's [`CALL_TIMEOUT`], or, where
/// the answer is the result, as long as the attempt may take. Cutting a generating call short
/// would leave a task made and paid for that the job cannot see.
pub fn submit_call_timeout(spec: Option<&ModelSpec>) -> Millis {
    match spec {
        Some(s) if answers_with_result(s.provider) => attempt_timeout(Some(s)).max(CALL_TIMEOUT),
        Some(_) | None => CALL_TIMEOUT,
    }
}

/// When a submit the shell has not reported on is issued again (or reconciled): past the call's
/// own timeout, so a call still under way is never sent a second time beside itself
pub fn submit_ack_timeout(spec: Option<&ModelSpec>) -> Millis {
    SUBMIT_ACK_TIMEOUT.max(Millis(submit_call_timeout(spec).0.saturating_add(30_000)))
}

/// How long one attempt may take once accepted: the model's p95 with half again as margin,
/// plus 30 s for queueing and the callback's trip
pub fn attempt_timeout(spec: Option<&ModelSpec>) -> Millis {
    spec.map_or(FALLBACK_ATTEMPT_TIMEOUT, |s| {
        Millis((s.latency_p95_ms.saturating_mul(3) / 2).saturating_add(30_000))
    })
}

/// Time between polls: about a tenth of the median for polled providers (2..10 s), half the p95
/// for the safety net of callback providers (30..120 s)
pub fn poll_interval(spec: Option<&ModelSpec>) -> Millis {
    match spec {
        None => Millis::from_secs(60),
        Some(s) => match delivery(s.provider) {
            Delivery::Polled => Millis((s.latency_p50_ms / 10).clamp(2_000, 10_000)),
            Delivery::Callback => Millis((s.latency_p95_ms / 2).clamp(30_000, 120_000)),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_submit_answered_with_the_result_is_given_the_generations_time() {
        let registry = crate::routing::Registry::builtin();
        let spec = |id: &str| registry.get(&crate::ids::ModelId(id.into()));
        // MiniMax music answers with the score: p95 60 s, so the call may take 120 s, and the
        // job issues it again only past that.
        let music = spec("minimax-music-1.5");
        assert_eq!(submit_call_timeout(music), Millis::from_secs(120));
        assert_eq!(submit_ack_timeout(music), Millis::from_secs(150));
        // Veo acknowledges at once: a control call.
        let veo = spec("veo-3");
        assert_eq!(submit_call_timeout(veo), CALL_TIMEOUT);
        assert_eq!(submit_ack_timeout(veo), SUBMIT_ACK_TIMEOUT);
        for m in &registry.models {
            let call = submit_call_timeout(Some(m));
            assert!(submit_ack_timeout(Some(m)) > call, "{}", m.id);
            if answers_with_result(m.provider) {
                assert!(call >= attempt_timeout(Some(m)), "{}", m.id);
            }
        }
    }

    #[test]
    fn the_table_moves_drops_and_reports_due_deadlines() {
        let mut t = DeadlineTable::default();
        t.set(DeadlineKey::Stage(3), Some(Timestamp(30)));
        t.set(DeadlineKey::Memory, Some(Timestamp(10)));
        t.set(DeadlineKey::Stage(1), Some(Timestamp(20)));
        assert_eq!(t.next(), Some(Timestamp(10)));
        t.set(DeadlineKey::Memory, None);
        t.set(DeadlineKey::Stage(1), Some(Timestamp(40)));
        assert_eq!(t.next(), Some(Timestamp(30)));
        assert_eq!(t.due(Timestamp(35)), vec![DeadlineKey::Stage(3)]);
        assert_eq!(t.due(Timestamp(5)), vec![]);
        t.set(DeadlineKey::Notify(7), Some(Timestamp(25)));
        assert_eq!(
            t.due(Timestamp(35)),
            vec![DeadlineKey::Notify(7), DeadlineKey::Stage(3)]
        );
        t.set(DeadlineKey::Notify(7), None);
        t.set(DeadlineKey::Stage(3), None);
        t.set(DeadlineKey::Stage(1), None);
        assert_eq!(t.next(), None);
        assert_eq!(t, DeadlineTable::default());
    }
}
