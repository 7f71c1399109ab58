//! The waiting line: weighted fair queuing between creators, a fixed order within one.
//!
//! Each creator with requests waiting is a flow with a virtual finish tag: the virtual time at
//! which its next request is served. Serving a request moves the gate's virtual time to that
//! tag and moves the flow's tag on by `SCALE / weight`, so under contention a creator of weight
//! 6 is served six times for each time a creator of weight 1 is. A flow that starts waiting
//! joins at the current virtual time plus one step, so idle creators bank no credit and busy
//! ones owe no debt; every flow's tag is finite, so nobody starves. Equal tags go to the flow
//! that started waiting first. Within a flow: hero shots, then the nearest job deadline, then
//! arrival order.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::lease::{RequesterKey, SlotRequest};
use crate::fleet::touched::Touched;
use crate::ids::CreatorId;
use crate::time::Timestamp;

/// Virtual time per grant at weight 1. It divides by every weight up to 16, so the steps of the
/// usual weights are exact and `ahead` counts agree with the order `pop` follows.
const SCALE: u64 = 720_720;

/// The order of one creator's requests: derived `Ord` compares the fields top to bottom
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
struct WaitOrder {
    /// `false` for a hero shot, which sorts first
    not_hero: bool,
    /// The job's deadline in ms, `u64::MAX` for none
    deadline: u64,
    /// Arrival order, unique within the gate
    arrival: u64,
}

/// A request in line
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Waiter {
    /// What was asked
    pub(super) request: SlotRequest,
    /// When it first asked
    pub(super) since: Timestamp,
    /// It is dropped at this moment unless asked again
    pub(super) refresh_by: Timestamp,
    order: WaitOrder,
}

/// One creator's waiting requests
#[derive(Debug, Clone, PartialEq, Eq)]
struct Flow {
    /// Virtual finish tag of the flow's next request
    tag: u64,
    /// When the flow started waiting (the gate's sequence); breaks ties between equal tags
    rank: u64,
    /// The fair-share weight of the creator's latest request, at least 1
    weight: u32,
    waiters: BTreeMap<WaitOrder, Waiter>,
}

impl Flow {
    fn step(&self) -> u64 {
        SCALE / u64::from(self.weight.max(1))
    }
}

/// All waiting requests of a gate
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "QueueRecord", into = "QueueRecord")]
pub(super) struct FairQueue {
    /// The tag of the last request served
    virtual_time: u64,
    /// Source of arrival numbers and flow ranks
    next_seq: u64,
    flows: BTreeMap<CreatorId, Flow>,
    // Indexes derived from `flows`, rebuilt on load rather than persisted.
    by_key: BTreeMap<RequesterKey, (CreatorId, WaitOrder)>,
    schedule: BTreeSet<(u64, u64, CreatorId)>,
    expiry: BTreeSet<(Timestamp, RequesterKey)>,
    /// Requests put in line, refreshed or taken out since the last [`FairQueue::take_touched`]
    touched: Touched<RequesterKey>,
}

/// A waiting request as its own stored row: the creator names the flow it belongs to
#[derive(Serialize)]
struct WaiterRow<'a> {
    creator: &'a CreatorId,
    waiter: &'a Waiter,
}

/// The persisted form without the requests: each flow's tag, rank and weight, and an empty
/// `waiters` list the requests' own rows fill on load (see `fleet::stored_desk`)
#[derive(Serialize)]
pub(super) struct QueueHead<'a> {
    virtual_time: u64,
    next_seq: u64,
    flows: Vec<FlowHead<'a>>,
}

#[derive(Serialize)]
struct FlowHead<'a> {
    creator: &'a CreatorId,
    tag: u64,
    rank: u64,
    weight: u32,
    waiters: [(); 0],
}

impl Default for FairQueue {
    fn default() -> Self {
        Self::from(QueueRecord {
            virtual_time: 0,
            next_seq: 0,
            flows: Vec::new(),
        })
    }
}

impl FairQueue {
    /// Requests waiting
    pub(super) fn len(&self) -> usize {
        self.by_key.len()
    }

    /// Whether nobody waits
    pub(super) fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }

    /// Puts a new request in line with the given fair-share weight
    pub(super) fn push(
        &mut self,
        request: SlotRequest,
        weight: u32,
        now: Timestamp,
        refresh_by: Timestamp,
    ) {
        let seq = self.take_seq();
        let order = WaitOrder {
            not_hero: !request.hero,
            deadline: request.deadline.map_or(u64::MAX, |d| d.0),
            arrival: seq,
        };
        let creator = request.creator.clone();
        let key = request.key.clone();
        let virtual_time = self.virtual_time;
        let flow = self.flows.entry(creator.clone()).or_insert_with(|| {
            let mut flow = Flow {
                tag: 0,
                rank: seq,
                weight,
                waiters: BTreeMap::new(),
            };
            flow.tag = virtual_time.saturating_add(flow.step());
            flow
        });
        flow.weight = weight.max(1);
        if flow.waiters.is_empty() {
            self.schedule.insert((flow.tag, flow.rank, creator.clone()));
        }
        flow.waiters.insert(
            order,
            Waiter {
                request,
                since: now,
                refresh_by,
                order,
            },
        );
        self.expiry.insert((refresh_by, key.clone()));
        self.touched.insert(key.clone());
        self.by_key.insert(key, (creator, order));
    }

    /// Moves a waiting request's drop time; false when it does not wait
    pub(super) fn refresh(&mut self, key: &RequesterKey, refresh_by: Timestamp) -> bool {
        let Some((creator, order)) = self.by_key.get(key) else {
            return false;
        };
        let Some(waiter) = self
            .flows
            .get_mut(creator)
            .and_then(|f| f.waiters.get_mut(order))
        else {
            return false;
        };
        self.expiry.remove(&(waiter.refresh_by, key.clone()));
        waiter.refresh_by = refresh_by;
        self.expiry.insert((refresh_by, key.clone()));
        self.touched.insert(key.clone());
        true
    }

    /// Takes the request to serve next and advances virtual time to its tag
    pub(super) fn pop(&mut self) -> Option<Waiter> {
        let (tag, rank, creator) = self.schedule.pop_first()?;
        let flow = self.flows.get_mut(&creator)?;
        let (_, waiter) = flow.waiters.pop_first()?;
        self.virtual_time = self.virtual_time.max(tag);
        if flow.waiters.is_empty() {
            self.flows.remove(&creator);
        } else {
            flow.tag = tag.saturating_add(flow.step());
            self.schedule.insert((flow.tag, rank, creator));
        }
        self.forget(&waiter);
        Some(waiter)
    }

    /// Takes `key` out of line
    pub(super) fn remove(&mut self, key: &RequesterKey) -> Option<Waiter> {
        let (creator, order) = self.by_key.get(key)?.clone();
        let flow = self.flows.get_mut(&creator)?;
        let waiter = flow.waiters.remove(&order)?;
        if flow.waiters.is_empty() {
            self.schedule
                .remove(&(flow.tag, flow.rank, creator.clone()));
            self.flows.remove(&creator);
        }
        self.forget(&waiter);
        Some(waiter)
    }

    /// Drops the requests not asked again in time; returns how many
    pub(super) fn expire(&mut self, now: Timestamp) -> usize {
        let mut dropped = 0;
        while let Some((at, key)) = self.expiry.first().cloned() {
            if now < at {
                break;
            }
            self.expiry.remove(&(at, key.clone()));
            if self.remove(&key).is_some() {
                dropped += 1;
            }
        }
        dropped
    }

    /// The earliest drop time of a waiting request
    pub(super) fn next_expiry(&self) -> Option<Timestamp> {
        self.expiry.first().map(|(at, _)| *at)
    }

    /// How many waiting requests would be served before `key` if no other request arrived.
    ///
    /// Exact for the current line: `pop` serves flows by `(tag, rank)` and each flow's tags
    /// step evenly, so the count per flow is a division. A later hero shot or nearer deadline
    /// of the same creator, or a new flow with a smaller tag, can still move ahead of it.
    pub(super) fn ahead(&self, key: &RequesterKey) -> Option<usize> {
        let (creator, order) = self.by_key.get(key)?;
        let own = self.flows.get(creator)?;
        let in_flow = own.waiters.range(..*order).count();
        let in_flow_u64 = u64::try_from(in_flow).unwrap_or(u64::MAX);
        let target = own
            .tag
            .saturating_add(in_flow_u64.saturating_mul(own.step()));
        let others: u64 = self
            .flows
            .iter()
            .filter(|(c, _)| *c != creator)
            .map(|(_, flow)| served_before(flow, target, own.rank))
            .sum();
        Some(in_flow.saturating_add(usize::try_from(others).unwrap_or(usize::MAX)))
    }

    /// Requests waiting per creator
    pub(super) fn by_creator(&self) -> Vec<(CreatorId, usize)> {
        self.flows
            .iter()
            .map(|(c, f)| (c.clone(), f.waiters.len()))
            .collect()
    }

    /// The stored form of the line without its requests
    pub(super) fn head(&self) -> QueueHead<'_> {
        QueueHead {
            virtual_time: self.virtual_time,
            next_seq: self.next_seq,
            flows: self
                .flows
                .iter()
                .map(|(creator, f)| FlowHead {
                    creator,
                    tag: f.tag,
                    rank: f.rank,
                    weight: f.weight,
                    waiters: [],
                })
                .collect(),
        }
    }

    /// Every waiting request's row (key, JSON), for a first write of the whole line
    pub(super) fn rows(&self) -> serde_json::Result<Vec<(RequesterKey, String)>> {
        self.flows
            .iter()
            .flat_map(|(creator, f)| f.waiters.values().map(move |w| (creator, w)))
            .map(|(creator, waiter)| {
                let row = serde_json::to_string(&WaiterRow { creator, waiter })?;
                Ok((waiter.request.key.clone(), row))
            })
            .collect()
    }

    /// The rows changed since the last call: each touched key with its row now, or `None` when
    /// it no longer waits. Clears the record of changes.
    pub(super) fn take_touched(
        &mut self,
    ) -> serde_json::Result<Vec<(RequesterKey, Option<String>)>> {
        let touched = self.touched.take();
        touched
            .into_iter()
            .map(|key| {
                let row = self
                    .by_key
                    .get(&key)
                    .and_then(|(creator, order)| {
                        let waiter = self.flows.get(creator)?.waiters.get(order)?;
                        Some(WaiterRow { creator, waiter })
                    })
                    .map(|row| serde_json::to_string(&row))
                    .transpose()?;
                Ok((key, row))
            })
            .collect()
    }

    fn take_seq(&mut self) -> u64 {
        let seq = self.next_seq;
        self.next_seq = self.next_seq.saturating_add(1);
        seq
    }

    fn forget(&mut self, waiter: &Waiter) {
        self.touched.insert(waiter.request.key.clone());
        self.by_key.remove(&waiter.request.key);
        self.expiry
            .remove(&(waiter.refresh_by, waiter.request.key.clone()));
    }
}

/// How many of `flow`'s requests come before a request with tag `target` of a flow of `rank`
fn served_before(flow: &Flow, target: u64, rank: u64) -> u64 {
    let Some(diff) = target.checked_sub(flow.tag) else {
        return 0;
    };
    let step = flow.step().max(1);
    // Tags flow.tag + j * step below the target, plus the one equal to it if this flow wins ties.
    let below = diff.div_ceil(step);
    let tie = u64::from(diff % step == 0 && flow.rank < rank);
    let waiting = u64::try_from(flow.waiters.len()).unwrap_or(u64::MAX);
    below.saturating_add(tie).min(waiting)
}

/// The persisted form: the flows and their requests, without the derived indexes
#[derive(Debug, Clone, Serialize, Deserialize)]
struct QueueRecord {
    virtual_time: u64,
    next_seq: u64,
    flows: Vec<FlowRecord>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct FlowRecord {
    creator: CreatorId,
    tag: u64,
    rank: u64,
    weight: u32,
    waiters: Vec<Waiter>,
}

impl From<QueueRecord> for FairQueue {
    fn from(record: QueueRecord) -> Self {
        let mut queue = Self {
            virtual_time: record.virtual_time,
            next_seq: record.next_seq,
            flows: BTreeMap::new(),
            by_key: BTreeMap::new(),
            schedule: BTreeSet::new(),
            expiry: BTreeSet::new(),
            touched: Touched::default(),
        };
        for f in record.flows.into_iter().filter(|f| !f.waiters.is_empty()) {
            for w in &f.waiters {
                queue
                    .by_key
                    .insert(w.request.key.clone(), (f.creator.clone(), w.order));
                queue.expiry.insert((w.refresh_by, w.request.key.clone()));
            }
            queue.schedule.insert((f.tag, f.rank, f.creator.clone()));
            let waiters = f.waiters.into_iter().map(|w| (w.order, w)).collect();
            queue.flows.insert(
                f.creator,
                Flow {
                    tag: f.tag,
                    rank: f.rank,
                    weight: f.weight,
                    waiters,
                },
            );
        }
        queue
    }
}

impl From<FairQueue> for QueueRecord {
    fn from(queue: FairQueue) -> Self {
        Self {
            virtual_time: queue.virtual_time,
            next_seq: queue.next_seq,
            flows: queue
                .flows
                .into_iter()
                .map(|(creator, f)| FlowRecord {
                    creator,
                    tag: f.tag,
                    rank: f.rank,
                    weight: f.weight,
                    waiters: f.waiters.into_values().collect(),
                })
                .collect(),
        }
    }
}
