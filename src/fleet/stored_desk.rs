//! How a gate object stores its desk: one small head row (limits, leases, rate bucket, 429
//! throttle, health, retirements, each creator's place in the fair queue) and one row per
//! waiting request.
//!
//! Why not one row: the desk used to be stored as a single JSON document, rewritten after every
//! call. With 1,200 stages waiting at one gate that document is 357 KB and takes 1.5 ms to
//! serialise natively (several times that in the Worker's wasm), and each waiting stage asks
//! again every 20 s: 60 rewrites a second of the whole line, in the same isolate as every job
//! object. A re-ask changes one request's drop time, so it now writes one row of about 300
//! bytes and the head (`benches/gate_line.rs` measures both layouts).
//!
//! ```text
//! call -> Desk (in memory) -> take_changes() -> head row (if changed) + waiter rows put / gone
//! load: head row + every waiter row -> Desk::from_rows
//! ```

use serde::Serialize;
use serde_json::Value;
use thiserror::Error;

use super::desk::Desk;
use super::gate::{GateHead, RequesterKey};
use super::health::HealthBook;
use crate::ids::ModelId;
use crate::providers::ProviderKind;
use crate::time::Timestamp;
use std::collections::BTreeMap;

/// A stored desk that cannot be read back
#[derive(Debug, Error)]
pub enum StoredDeskError {
    /// A row is not the JSON this layout writes
    #[error("a stored desk row does not parse: {0}")]
    Json(#[from] serde_json::Error),
    /// A waiting request's row names a creator, but the head has no flow for it (a write was
    /// lost between the two)
    #[error("a waiting request of creator {0} has no flow in the desk's head row")]
    NoFlow(String),
    /// The head row is not shaped like a desk
    #[error("the desk's head row has no {0}")]
    Shape(&'static str),
}

/// One waiting request's row: its key (the row's primary key) and its JSON
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaiterRow {
    /// The request's key, stable across calls: the JSON of its [`RequesterKey`]
    pub key: String,
    /// The row's JSON; `None` when the request no longer waits (delete the row)
    pub json: Option<String>,
}

/// What to write after a call
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeskChanges {
    /// The head row: always given (it is small); the shell skips it when unchanged
    pub head: String,
    /// Waiting requests put in line, refreshed or gone since the last changes were taken
    pub waiters: Vec<WaiterRow>,
}

/// The head row: the desk's own serde form with each flow's requests left out
#[derive(Serialize)]
struct DeskHead<'a> {
    provider: ProviderKind,
    gate: GateHead<'a>,
    health: &'a HealthBook,
    retired: &'a BTreeMap<ModelId, Timestamp>,
}

/// Rows keyed by the JSON of their [`RequesterKey`], stable across calls
fn waiter_rows(
    rows: impl IntoIterator<Item = (RequesterKey, Option<String>)>,
) -> serde_json::Result<Vec<WaiterRow>> {
    rows.into_iter()
        .map(|(key, json)| {
            Ok(WaiterRow {
                key: serde_json::to_string(&key)?,
                json,
            })
        })
        .collect()
}

impl Desk {
    fn head_json(&self) -> serde_json::Result<String> {
        let (provider, gate, health, retired) = self.parts();
        serde_json::to_string(&DeskHead {
            provider,
            gate: gate.head(),
            health,
            retired,
        })
    }

    /// Every row of the desk, for a first write (or a rewrite after a failed one). Clears the
    /// record of changes, which these rows include.
    pub fn all_rows(&mut self) -> serde_json::Result<(String, Vec<WaiterRow>)> {
        self.gate_mut().take_changed_waiters()?;
        let head = self.head_json()?;
        let all = self.gate().waiter_rows()?;
        let waiters = waiter_rows(all.into_iter().map(|(key, json)| (key, Some(json))))?;
        Ok((head, waiters))
    }

    /// The rows to write since the last changes (or rows) were taken
    pub fn take_changes(&mut self) -> serde_json::Result<DeskChanges> {
        let waiters = waiter_rows(self.gate_mut().take_changed_waiters()?)?;
        Ok(DeskChanges {
            head: self.head_json()?,
            waiters,
        })
    }

    /// The desk back from its head row and its waiting requests' rows (in any order)
    pub fn from_rows<'a>(
        head: &str,
        waiters: impl IntoIterator<Item = &'a str>,
    ) -> Result<Desk, StoredDeskError> {
        let mut desk: Value = serde_json::from_str(head)?;
        let flows = desk
            .pointer_mut("/gate/queue/flows")
            .and_then(Value::as_array_mut)
            .ok_or(StoredDeskError::Shape("gate.queue.flows"))?;
        for row in waiters {
            let mut row: Value = serde_json::from_str(row)?;
            let creator = row
                .get("creator")
                .cloned()
                .ok_or(StoredDeskError::Shape("creator in a waiter row"))?;
            let waiter = row
                .get_mut("waiter")
                .map(Value::take)
                .ok_or(StoredDeskError::Shape("waiter in a waiter row"))?;
            let flow = flows
                .iter_mut()
                .find(|f| f.get("creator") == Some(&creator))
                .ok_or_else(|| StoredDeskError::NoFlow(creator.to_string()))?;
            flow.get_mut("waiters")
                .and_then(Value::as_array_mut)
                .ok_or(StoredDeskError::Shape("waiters in a flow"))?
                .push(waiter);
        }
        // Through text rather than `from_value`: the Worker already carries the desk's
        // deserializer for text, and a second one for `Value` costs the bundle kilobytes.
        Ok(serde_json::from_str(&desk.to_string())?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::tier_limits::Tier;
    use crate::fleet::desk::{AcquireCall, ReleaseCall};
    use crate::fleet::gate::ProviderLimits;
    use crate::ids::{Attempt, CreatorId, JobId, StageId};
    use crate::job::{SlotOutcome, SlotPriority};
    use crate::time::Millis;
    use std::collections::BTreeMap;

    fn call(i: usize) -> AcquireCall {
        AcquireCall {
            key: RequesterKey {
                job: JobId::from(format!("rnd_{i:04}").as_str()),
                stage: StageId::from("s01.motion"),
                attempt: Attempt(1),
            },
            model: ModelId::from("kling-v2.1"),
            creator: CreatorId::from(["ana", "ben", "cy"][i % 3]),
            tier: if i.is_multiple_of(3) {
                Tier::Free
            } else {
                Tier::Studio
            },
            priority: SlotPriority {
                hero: i.is_multiple_of(4),
                deadline: Timestamp(1_000_000 + i as u64),
            },
            lease_ms: 60_000,
        }
    }

    fn desk() -> Desk {
        let limits = ProviderLimits {
            max_concurrent: 2,
            requests_per_minute: 600,
            burst: 600,
        };
        Desk::new(ProviderKind::Kling, limits, Timestamp(0))
    }

    /// The shell's storage, in memory: head plus rows by key
    #[derive(Default)]
    struct Rows {
        head: String,
        waiters: BTreeMap<String, String>,
    }

    impl Rows {
        fn apply(&mut self, changes: DeskChanges) {
            self.head = changes.head;
            for row in changes.waiters {
                match row.json {
                    Some(json) => self.waiters.insert(row.key, json),
                    None => self.waiters.remove(&row.key),
                };
            }
        }

        fn load(&self) -> Desk {
            Desk::from_rows(&self.head, self.waiters.values().map(String::as_str))
                .expect("stored rows load")
        }
    }

    #[test]
    fn rows_written_after_each_call_load_back_as_the_same_desk() {
        let mut d = desk();
        let mut rows = Rows::default();
        let mut t = 1;
        for i in 0..12 {
            let _ = d.acquire(Timestamp(t), call(i), Millis(60_000));
            rows.apply(d.take_changes().unwrap());
            assert_eq!(rows.load(), d, "after acquire {i}");
            t += 10;
        }
        // Asking again refreshes one row; releasing hands the slot on (a row goes).
        let _ = d.acquire(Timestamp(t), call(7), Millis(60_000));
        let changes = d.take_changes().unwrap();
        assert_eq!(changes.waiters.len(), 1, "a re-ask writes one row");
        rows.apply(changes);
        let release = ReleaseCall {
            key: call(0).key,
            model: call(0).model,
            outcome: SlotOutcome::Succeeded { latency_ms: 900 },
        };
        let _ = d.release(Timestamp(t + 5), &release);
        rows.apply(d.take_changes().unwrap());
        assert_eq!(rows.load(), d);
        assert_eq!(rows.waiters.len(), d.gate().waiting());
        // Time alone drops requests nobody asked for again: their rows go.
        let _ = d.tick(Timestamp(10_000_000));
        rows.apply(d.take_changes().unwrap());
        assert!(rows.waiters.is_empty());
        assert_eq!(rows.load(), d);
    }

    #[test]
    fn all_rows_are_the_whole_desk() {
        let mut d = desk();
        for i in 0..9 {
            let _ = d.acquire(Timestamp(1), call(i), Millis(60_000));
        }
        let (head, waiters) = d.all_rows().unwrap();
        assert_eq!(waiters.len(), 7, "2 granted, 7 waiting");
        let loaded = Desk::from_rows(&head, waiters.iter().filter_map(|w| w.json.as_deref()));
        assert_eq!(loaded.unwrap(), d);
        assert!(
            d.take_changes().unwrap().waiters.is_empty(),
            "nothing left to write"
        );
    }

    #[test]
    fn a_waiter_row_without_its_flow_is_refused() {
        let mut d = desk();
        for i in 0..4 {
            let _ = d.acquire(Timestamp(1), call(i), Millis(60_000));
        }
        let (_, waiters) = d.all_rows().unwrap();
        let (empty_head, _) = desk().all_rows().unwrap();
        let rows = waiters.iter().filter_map(|w| w.json.as_deref());
        assert!(matches!(
            Desk::from_rows(&empty_head, rows),
            Err(StoredDeskError::NoFlow(_))
        ));
        assert!(matches!(
            Desk::from_rows("{}", std::iter::empty()),
            Err(StoredDeskError::Shape(_))
        ));
    }
}
