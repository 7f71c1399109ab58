//! How a gate object stores its desk: one small head row (limits, rate bucket, 429 throttle,
//! health, retirements, each creator's place in the fair queue), one row per waiting request and
//! one row per lease.
//!
//! Why not one row: the desk used to be stored as a single JSON document, rewritten after every
//! call. With 1,200 stages waiting at one gate that document is 357 KB and takes 1.5 ms to
//! serialise natively (several times that in the Worker's wasm), and each waiting stage asks
//! again every 20 s: 60 rewrites a second of the whole line, in the same isolate as every job
//! object. A re-ask changes one request's drop time, so it now writes one row of about 300
//! bytes and the head (`benches/gate_line.rs` measures both layouts). Leases alike: an account
//! whose limit lets a fleet hold a thousand slots at once (51 renders' keyframes at one image
//! provider) rewrote every lease with every acquire and release, so the calls grew with the
//! slots held and queued behind each other in the one gate object.
//!
//! ```text
//! call -> Desk (in memory) -> take_changes() -> head row (if changed)
//!                                               + waiter rows put / gone + lease rows put / gone
//! load: head row + every waiter row + every lease row -> Desk::from_rows
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

/// One lease's row: its id (the row's primary key) and its JSON
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseRow {
    /// The lease's number
    pub id: u64,
    /// The row's JSON; `None` when the lease is gone (delete the row)
    pub json: Option<String>,
}

/// What to write after a call
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeskChanges {
    /// The head row: always given (it is small); the shell skips it when unchanged
    pub head: String,
    /// Waiting requests put in line, refreshed or gone since the last changes were taken
    pub waiters: Vec<WaiterRow>,
    /// Leases granted, renewed or gone since the last changes were taken
    pub leases: Vec<LeaseRow>,
}

/// Every row of a desk, for a first write
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllRows {
    /// The head row
    pub head: String,
    /// Every waiting request's row
    pub waiters: Vec<WaiterRow>,
    /// Every lease's row
    pub leases: Vec<LeaseRow>,
}

/// How the stored rows were laid out, which says what the first write after a load must do
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowsLayout {
    /// Head, waiter and lease rows: write what changes
    Current,
    /// Leases inside the head row (before they had rows): write every row once
    LeasesInHead,
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
    pub fn all_rows(&mut self) -> serde_json::Result<AllRows> {
        self.gate_mut().take_changed_waiters()?;
        let head = self.head_json()?;
        let all = self.gate().waiter_rows()?;
        let waiters = waiter_rows(all.into_iter().map(|(key, json)| (key, Some(json))))?;
        let leases = self
            .gate_mut()
            .lease_rows()?
            .into_iter()
            .map(|(id, json)| LeaseRow {
                id: id.0,
                json: Some(json),
            })
            .collect();
        Ok(AllRows {
            head,
            waiters,
            leases,
        })
    }

    /// The rows to write since the last changes (or rows) were taken
    pub fn take_changes(&mut self) -> serde_json::Result<DeskChanges> {
        let waiters = waiter_rows(self.gate_mut().take_changed_waiters()?)?;
        let leases = self
            .gate_mut()
            .take_changed_leases()?
            .into_iter()
            .map(|(id, json)| LeaseRow { id: id.0, json })
            .collect();
        Ok(DeskChanges {
            head: self.head_json()?,
            waiters,
            leases,
        })
    }

    /// The desk back from its head row, its waiting requests' rows and its leases' rows (each
    /// in any order), and how they were laid out. A head row of before lease rows carries the
    /// leases itself.
    pub fn from_rows<'a, 'b>(
        head: &str,
        waiters: impl IntoIterator<Item = &'a str>,
        leases: impl IntoIterator<Item = &'b str>,
    ) -> Result<(Desk, RowsLayout), StoredDeskError> {
        let mut desk: Value = serde_json::from_str(head)?;
        let gate = desk
            .get_mut("gate")
            .and_then(Value::as_object_mut)
            .ok_or(StoredDeskError::Shape("gate"))?;
        let layout = if gate.contains_key("leases") {
            RowsLayout::LeasesInHead
        } else {
            RowsLayout::Current
        };
        let in_head = gate
            .entry("leases")
            .or_insert_with(|| Value::Array(Vec::new()))
            .as_array_mut()
            .ok_or(StoredDeskError::Shape("gate.leases"))?;
        for row in leases {
            in_head.push(serde_json::from_str(row)?);
        }
        // Grant order, as the live gate keeps them
        in_head.sort_by_key(|l| l.get("id").and_then(Value::as_u64).unwrap_or(0));
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
        Ok((serde_json::from_str(&desk.to_string())?, layout))
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
        leases: BTreeMap<u64, String>,
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
            for row in changes.leases {
                match row.json {
                    Some(json) => self.leases.insert(row.id, json),
                    None => self.leases.remove(&row.id),
                };
            }
        }

        fn load(&self) -> Desk {
            // Lease rows in reverse: the order rows come back in must not matter.
            let (desk, layout) = Desk::from_rows(
                &self.head,
                self.waiters.values().map(String::as_str),
                self.leases.values().rev().map(String::as_str),
            )
            .expect("stored rows load");
            assert_eq!(layout, RowsLayout::Current);
            desk
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
        assert!(changes.leases.is_empty(), "and no lease");
        assert!(!changes.head.contains("rnd_"), "the head names no holder");
        rows.apply(changes);
        assert_eq!(rows.leases.len(), 2, "the two slots held");
        let release = ReleaseCall {
            key: call(0).key,
            model: call(0).model,
            outcome: SlotOutcome::Succeeded { latency_ms: 900 },
        };
        let _ = d.release(Timestamp(t + 5), &release);
        let changes = d.take_changes().unwrap();
        assert_eq!(
            changes.leases.len(),
            2,
            "the released lease goes, the next waiter's is put"
        );
        rows.apply(changes);
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
        let all = d.all_rows().unwrap();
        assert_eq!(
            (all.waiters.len(), all.leases.len()),
            (7, 2),
            "2 granted, 7 waiting"
        );
        let loaded = Desk::from_rows(
            &all.head,
            all.waiters.iter().filter_map(|w| w.json.as_deref()),
            all.leases.iter().filter_map(|l| l.json.as_deref()),
        );
        assert_eq!(loaded.unwrap(), (d.clone(), RowsLayout::Current));
        let left = d.take_changes().unwrap();
        assert!(
            left.waiters.is_empty() && left.leases.is_empty(),
            "nothing left to write"
        );
    }

    #[test]
    fn a_head_row_of_before_with_its_leases_inside_loads_and_asks_for_every_row() {
        let mut d = desk();
        for i in 0..5 {
            let _ = d.acquire(Timestamp(1), call(i), Millis(60_000));
        }
        let all = d.all_rows().unwrap();
        // The head as it was written before leases had rows of their own
        let mut old: Value = serde_json::from_str(&all.head).unwrap();
        let leases: Vec<Value> = all
            .leases
            .iter()
            .filter_map(|l| l.json.as_deref())
            .map(|j| serde_json::from_str(j).unwrap())
            .collect();
        old["gate"]["leases"] = Value::Array(leases);
        let waiters = all.waiters.iter().filter_map(|w| w.json.as_deref());
        let loaded = Desk::from_rows(&old.to_string(), waiters, std::iter::empty()).unwrap();
        assert_eq!(loaded, (d, RowsLayout::LeasesInHead));
    }

    #[test]
    fn a_waiter_row_without_its_flow_is_refused() {
        let mut d = desk();
        for i in 0..4 {
            let _ = d.acquire(Timestamp(1), call(i), Millis(60_000));
        }
        let waiters = d.all_rows().unwrap().waiters;
        let empty_head = desk().all_rows().unwrap().head;
        let rows = waiters.iter().filter_map(|w| w.json.as_deref());
        assert!(matches!(
            Desk::from_rows(&empty_head, rows, std::iter::empty()),
            Err(StoredDeskError::NoFlow(_))
        ));
        assert!(matches!(
            Desk::from_rows("{}", std::iter::empty(), std::iter::empty()),
            Err(StoredDeskError::Shape(_))
        ));
    }
}
