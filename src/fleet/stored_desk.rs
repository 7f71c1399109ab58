//! How a gate object stores its desk: one small head row (limits, rate bucket, 429 throttle,
//! retirements, each creator's place in the fair queue), one health row (the models' windows of
//! outcomes and breakers), one row per waiting request and one row per lease.
//!
//! Why not one row: the desk used to be stored as a single JSON document, rewritten after every
//! call. With 1,200 stages waiting at one gate that document is 357 KB and takes 1.5 ms to
//! serialise natively (several times that in the Worker's wasm), and each waiting stage asks
//! again every 20 s: 60 rewrites a second of the whole line, in the same isolate as every job
//! object. A re-ask changes one request's drop time, so it now writes one row of about 300
//! bytes and the head (`benches/gate_line.rs` measures both layouts). Leases alike: an account
//! whose limit lets a fleet hold a thousand slots at once (51 renders' keyframes at one image
//! provider) rewrote every lease with every acquire and release, so the calls grew with the
//! slots held and queued behind each other in the one gate object. The health book too: after a
//! load run it is most of the head (12 KB for 16 models with 10 outcomes each), serialised after
//! every call though an acquire rarely changes it. It is its own row, serialised only when the
//! book says it changed in a way a load cannot replay (an outcome recorded, a probe slot taken):
//! what time alone does to it (outcomes leaving the window, cool-downs ending) the first call
//! after a load does again.
//!
//! ```text
//! call -> Desk (in memory) -> take_changes() -> head row (if changed) + health row (if changed)
//!                                               + waiter rows put / gone + lease rows put / gone
//! load: head row + health row + every waiter row + every lease row -> Desk::from_rows
//! ```

use serde::Serialize;
use serde_json::Value;
use thiserror::Error;

use super::desk::Desk;
use super::gate::{GateHead, RequesterKey};
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
    /// Neither the head row carries the health book (as before it had a row) nor is there a
    /// health row: the two are written in one step, so a row is missing
    #[error("the desk has no health row and its head row no health")]
    NoHealth,
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
    /// The health row, when the health book changed since the last changes were taken
    pub health: Option<String>,
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
    /// The health row
    pub health: String,
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
    /// Leases inside the head row (before they had rows; the health book was inside too):
    /// write every row once
    LeasesInHead,
    /// The health book inside the head row (before it had a row): write every row once
    HealthInHead,
}

/// The head row: the desk's own serde form with each flow's requests, the leases and the health
/// book left out
#[derive(Serialize)]
struct DeskHead<'a> {
    provider: ProviderKind,
    gate: GateHead<'a>,
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
        let (provider, gate, _, retired) = self.parts();
        serde_json::to_string(&DeskHead {
            provider,
            gate: gate.head(),
            retired,
        })
    }

    fn health_json(&self) -> serde_json::Result<String> {
        serde_json::to_string(self.health())
    }

    /// Every row of the desk, for a first write (or a rewrite after a failed one). Clears the
    /// record of changes, which these rows include.
    pub fn all_rows(&mut self) -> serde_json::Result<AllRows> {
        self.gate_mut().take_changed_waiters()?;
        self.health_mut().take_unwritten();
        let head = self.head_json()?;
        let health = self.health_json()?;
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
            health,
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
        let health = if self.health_mut().take_unwritten() {
            Some(self.health_json()?)
        } else {
            None
        };
        Ok(DeskChanges {
            head: self.head_json()?,
            health,
            waiters,
            leases,
        })
    }

    /// The desk back from its head row, its health row (`None` when there is none), its
    /// waiting requests' rows and its leases' rows (each in any order), and how they were laid
    /// out. A head row of before lease rows carries the leases itself, and one of before the
    /// health row the health book: that one wins over a health row, which can only be older
    /// (written by a newer version, then the head rewritten by an older one).
    ///
    /// The desk's health book is as last written, so it may still hold what time alone has
    /// changed since; every call ticks it first, which makes it the live one again.
    pub fn from_rows<'a, 'b>(
        head: &str,
        health: Option<&str>,
        waiters: impl IntoIterator<Item = &'a str>,
        leases: impl IntoIterator<Item = &'b str>,
    ) -> Result<(Desk, RowsLayout), StoredDeskError> {
        let mut desk: Value = serde_json::from_str(head)?;
        let fields = desk
            .as_object_mut()
            .ok_or(StoredDeskError::Shape("fields"))?;
        let health_in_head = fields.contains_key("health");
        if !health_in_head {
            let row = health.ok_or(StoredDeskError::NoHealth)?;
            fields.insert("health".to_owned(), serde_json::from_str(row)?);
        }
        let gate = fields
            .get_mut("gate")
            .and_then(Value::as_object_mut)
            .ok_or(StoredDeskError::Shape("gate"))?;
        let layout = if gate.contains_key("leases") {
            RowsLayout::LeasesInHead
        } else if health_in_head {
            RowsLayout::HealthInHead
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
    use crate::fleet::desk::{AcquireAnswer, AcquireCall, ReleaseCall};
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

    /// The shell's storage, in memory: head, health plus rows by key
    #[derive(Default)]
    struct Rows {
        head: String,
        health: Option<String>,
        waiters: BTreeMap<String, String>,
        leases: BTreeMap<u64, String>,
    }

    /// `d` as the next call finds it: its health book ticked to `now` (what a stored book may
    /// lag behind, and what every call does first)
    fn settled(mut d: Desk, now: Timestamp) -> Desk {
        d.health_mut().tick(now);
        d
    }

    impl Rows {
        /// What the shell writes first: every row
        fn first(d: &mut Desk) -> Self {
            let all = d.all_rows().unwrap();
            let mut rows = Rows {
                head: all.head,
                health: Some(all.health),
                ..Rows::default()
            };
            rows.apply(DeskChanges {
                head: rows.head.clone(),
                health: None,
                waiters: all.waiters,
                leases: all.leases,
            });
            rows
        }

        fn apply(&mut self, changes: DeskChanges) {
            self.head = changes.head;
            if let Some(health) = changes.health {
                self.health = Some(health);
            }
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
                self.health.as_deref(),
                self.waiters.values().map(String::as_str),
                self.leases.values().rev().map(String::as_str),
            )
            .expect("stored rows load");
            assert_eq!(layout, RowsLayout::Current);
            desk
        }

        /// The stored desk as the next call at `now` finds it
        fn load_at(&self, now: Timestamp) -> Desk {
            settled(self.load(), now)
        }
    }

    #[test]
    fn rows_written_after_each_call_load_back_as_the_same_desk() {
        let mut d = desk();
        let mut rows = Rows::first(&mut d);
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
        assert!(changes.health.is_some(), "the outcome is recorded");
        rows.apply(changes);
        assert_eq!(rows.load(), d);
        assert_eq!(rows.waiters.len(), d.gate().waiting());
        // Time alone drops requests nobody asked for again: their rows go. The outcome leaves
        // the window too, which the stored book need not be told: the next call ticks it.
        let late = Timestamp(10_000_000);
        let _ = d.tick(late);
        let changes = d.take_changes().unwrap();
        assert_eq!(changes.health, None, "time alone writes no health");
        rows.apply(changes);
        assert!(rows.waiters.is_empty());
        assert_ne!(rows.load(), d, "the stored book still has the outcome");
        assert_eq!(rows.load_at(late), d);
    }

    fn release(i: usize, model: &str, outcome: SlotOutcome) -> ReleaseCall {
        ReleaseCall {
            key: call(i).key,
            model: ModelId::from(model),
            outcome,
        }
    }

    #[test]
    fn the_health_row_is_written_when_the_book_changed_and_loads_back() {
        let mut d = desk();
        let mut rows = Rows::first(&mut d);
        let mut t = 1;
        // Outcomes at three models; one fails until its breaker opens.
        for i in 0..30 {
            let model = ["kling-v2.1", "kling-v1.6", "kling-v2.5"][i % 3];
            let outcome = match (model, i % 4) {
                ("kling-v2.5", _) => SlotOutcome::Failed,
                (_, 1) => SlotOutcome::RateLimited {
                    retry_after_ms: None,
                },
                _ => SlotOutcome::Succeeded {
                    latency_ms: 1_000 + i as u64,
                },
            };
            let _ = d.release(Timestamp(t), &release(i, model, outcome));
            let changes = d.take_changes().unwrap();
            assert!(changes.health.is_some(), "outcome {i} is written");
            rows.apply(changes);
            assert_eq!(rows.load_at(Timestamp(t)), settled(d.clone(), Timestamp(t)));
            t += 1_000;
        }
        // Refused by the open breaker: nothing new to say about the model.
        let broken = AcquireCall {
            model: ModelId::from("kling-v2.5"),
            ..call(40)
        };
        let (answer, _) = d.acquire(Timestamp(t), broken.clone(), Millis(60_000));
        assert!(matches!(answer, AcquireAnswer::Refused { .. }));
        assert_eq!(d.take_changes().unwrap().health, None);
        // After the cool-down the breaker is half-open by time alone; the probe slot taken is
        // a change a load must keep (or a second prober would be let through).
        t += 600_000;
        let _ = d.tick(Timestamp(t));
        assert_eq!(d.take_changes().unwrap().health, None, "time alone");
        let (answer, _) = d.acquire(Timestamp(t), broken, Millis(60_000));
        assert_eq!(answer, AcquireAnswer::Granted, "the probe");
        let changes = d.take_changes().unwrap();
        assert!(changes.health.is_some(), "the probe slot is written");
        rows.apply(changes);
        assert_eq!(rows.load_at(Timestamp(t)), settled(d.clone(), Timestamp(t)));
        // And a changed book is written once: the next call that changes nothing writes none.
        let _ = d.acquire(Timestamp(t), call(41), Millis(60_000));
        assert_eq!(d.take_changes().unwrap().health, None);
    }

    #[test]
    fn a_head_row_of_before_with_the_health_inside_loads_and_asks_for_every_row() {
        let mut d = desk();
        for i in 0..5 {
            let _ = d.acquire(Timestamp(1), call(i), Millis(60_000));
        }
        let outcome = SlotOutcome::Succeeded { latency_ms: 900 };
        let _ = d.release(Timestamp(2), &release(0, "kling-v2.1", outcome));
        let all = d.all_rows().unwrap();
        let mut old: Value = serde_json::from_str(&all.head).unwrap();
        old["health"] = serde_json::from_str(&all.health).unwrap();
        let waiters = || all.waiters.iter().filter_map(|w| w.json.as_deref());
        let leases = || all.leases.iter().filter_map(|l| l.json.as_deref());
        let loaded = Desk::from_rows(&old.to_string(), None, waiters(), leases()).unwrap();
        assert_eq!(loaded, (d.clone(), RowsLayout::HealthInHead));
        // The head's book wins over a health row left from a newer version.
        let stale = desk().all_rows().unwrap().health;
        let loaded = Desk::from_rows(&old.to_string(), Some(stale.as_str()), waiters(), leases());
        assert_eq!(loaded.unwrap(), (d, RowsLayout::HealthInHead));
        // Without either, the desk does not load.
        assert!(matches!(
            Desk::from_rows(&all.head, None, waiters(), leases()),
            Err(StoredDeskError::NoHealth)
        ));
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
            Some(&all.health),
            all.waiters.iter().filter_map(|w| w.json.as_deref()),
            all.leases.iter().filter_map(|l| l.json.as_deref()),
        );
        assert_eq!(loaded.unwrap(), (d.clone(), RowsLayout::Current));
        let left = d.take_changes().unwrap();
        assert!(
            left.waiters.is_empty() && left.leases.is_empty() && left.health.is_none(),
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
        old["health"] = serde_json::from_str(&all.health).unwrap();
        let waiters = all.waiters.iter().filter_map(|w| w.json.as_deref());
        let loaded = Desk::from_rows(&old.to_string(), None, waiters, std::iter::empty()).unwrap();
        assert_eq!(loaded, (d, RowsLayout::LeasesInHead));
    }

    #[test]
    fn a_waiter_row_without_its_flow_is_refused() {
        let mut d = desk();
        for i in 0..4 {
            let _ = d.acquire(Timestamp(1), call(i), Millis(60_000));
        }
        let waiters = d.all_rows().unwrap().waiters;
        let empty = desk().all_rows().unwrap();
        let rows = waiters.iter().filter_map(|w| w.json.as_deref());
        assert!(matches!(
            Desk::from_rows(&empty.head, Some(&empty.health), rows, std::iter::empty()),
            Err(StoredDeskError::NoFlow(_))
        ));
        assert!(matches!(
            Desk::from_rows(
                "{}",
                Some(&empty.health),
                std::iter::empty(),
                std::iter::empty()
            ),
            Err(StoredDeskError::Shape(_))
        ));
    }
}
