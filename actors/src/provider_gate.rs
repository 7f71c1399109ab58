//! `ProviderGate`: one Durable Object per provider account (named by the provider), the shell of
//! `studio::fleet::desk::Desk`. Every job asks it for a slot before it submits and gives the
//! slot back, with how the attempt went, when it ends.
//!
//! Each call loads the desk (kept in memory while the object lives), applies the call, writes
//! what it changed (a head row, the health row when the health book changed, and the waiting
//! requests' and leases' own rows) in the same synchronous step, arms the alarm at its next
//! wake, answers, and then pushes the slots the call handed to waiting jobs (`POST /slot` on
//! each job object). A push that is lost costs at most the job's ask-again interval: asking
//! again finds the lease.
//!
//! Routes (internal, reached only through the Worker's own bindings):
//! `POST /acquire`, `POST /release`, `POST /health`, `POST /retired`, `GET /view`.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;

use serde::Deserialize;
use studio::fleet::desk::{AcquireCall, Desk, ReleaseCall, SlotNotice};
use studio::fleet::gate::ProviderLimits;
use studio::fleet::health::Latency;
use studio::fleet::stored_desk::RowsLayout;
use studio::ids::ModelId;
use studio::providers::ProviderKind;
use studio::time::{Millis, Timestamp};
use worker::{
    DurableObject, Env, Method, Request, Response, Result, SqlStorage, SqlStorageValue, State,
    durable_object,
};

use crate::{clock, config, object_sql};

/// The desk's storage (`studio::fleet::stored_desk`): a head row, a health row, one row per
/// waiting request and one per lease. Step 1's one-document table is read once, when an older
/// object starts, then emptied; a head row written before step 3 carries its leases, moved to
/// rows the same way, and one written before the health row its health book.
const SCHEMA: &[&str] = &[
    "CREATE TABLE desk (id INTEGER PRIMARY KEY CHECK (id = 1), json TEXT NOT NULL)",
    "CREATE TABLE desk_head (id INTEGER PRIMARY KEY CHECK (id = 1), json TEXT NOT NULL)",
    "CREATE TABLE desk_waiter (key TEXT PRIMARY KEY, json TEXT NOT NULL)",
    "CREATE TABLE desk_lease (id INTEGER PRIMARY KEY, json TEXT NOT NULL)",
    "CREATE TABLE desk_health (id INTEGER PRIMARY KEY CHECK (id = 1), json TEXT NOT NULL)",
];

/// Where the desk in memory came from, so the first write after a load knows what to write
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    /// Loaded from rows (or written since): write what changed
    Rows,
    /// Made fresh: write every row
    Fresh,
    /// Loaded from an older layout (one document, or leases inside the head row): write every
    /// row, empty the old table
    Older,
}

/// `POST /acquire`
#[derive(Deserialize)]
struct AcquireBody {
    call: AcquireCall,
    /// How long a half-open breaker's probe may take (the attempt's timeout)
    probe_lease_ms: u64,
}

/// `POST /health`: the models routing asks about, each with its registry prior
#[derive(Deserialize)]
struct HealthBody {
    models: Vec<(ModelId, Latency)>,
}

/// A provider account's gate object
#[durable_object]
pub struct ProviderGate {
    state: State,
    env: Env,
    desk: RefCell<Option<Desk>>,
    /// The head row as last written, so a call that changed nothing (a view, a health ask)
    /// writes nothing
    written: RefCell<Option<String>>,
    /// `PROVIDER_LIMITS` for this provider, parsed on first use
    limits: RefCell<Option<ProviderLimits>>,
    /// The wake the alarm was last set to by this object (`None` before the first): a call that
    /// leaves the desk's next wake where it was arms nothing, which most acquires and releases do
    armed: Rc<Cell<Option<Option<u64>>>>,
}

impl ProviderGate {
    /// The provider this object serves: the name it was created under, as the first request
    /// carries it (`x-provider`)
    fn provider(req: &Request) -> Option<ProviderKind> {
        req.headers()
            .get(crate::fleet_client::PROVIDER_HEADER)
            .ok()
            .flatten()
            .and_then(|p| ProviderKind::parse(&p))
    }

    /// The provider's limits from configuration, read once per object start (a deploy that
    /// changes them starts new objects)
    fn limits(&self, provider: ProviderKind) -> ProviderLimits {
        *self
            .limits
            .borrow_mut()
            .get_or_insert_with(|| config::provider_limits(&self.env, provider))
    }

    /// The desk from storage: the head row, the health row, the waiting requests' and the
    /// leases' rows, or the one-document layout of before (`desk`), or nothing. `None` also when
    /// the rows do not read back (logged): the gate then starts afresh and the jobs in line take
    /// their places again when they ask.
    fn load(sql: &SqlStorage, provider: ProviderKind) -> Result<Option<(Desk, Layout)>> {
        #[derive(Deserialize)]
        struct Row {
            json: String,
        }
        let head: Vec<Row> = sql
            .exec("SELECT json FROM desk_head WHERE id = 1", None)?
            .to_array()?;
        if let Some(head) = head.first() {
            let health: Vec<Row> = sql
                .exec("SELECT json FROM desk_health WHERE id = 1", None)?
                .to_array()?;
            let waiters: Vec<Row> = sql.exec("SELECT json FROM desk_waiter", None)?.to_array()?;
            let leases: Vec<Row> = sql.exec("SELECT json FROM desk_lease", None)?.to_array()?;
            let rows = Desk::from_rows(
                &head.json,
                health.first().map(|r| r.json.as_str()),
                waiters.iter().map(|r| r.json.as_str()),
                leases.iter().map(|r| r.json.as_str()),
            );
            return match rows {
                Ok((desk, layout)) if desk.provider() == provider => Ok(Some((
                    desk,
                    match layout {
                        RowsLayout::Current => Layout::Rows,
                        RowsLayout::LeasesInHead | RowsLayout::HealthInHead => Layout::Older,
                    },
                ))),
                Ok(_) => Ok(None),
                Err(e) => {
                    worker::console_error!(
                        "provider gate {provider}: stored desk unreadable ({e}); starting afresh"
                    );
                    Ok(None)
                }
            };
        }
        let old: Vec<Row> = sql
            .exec("SELECT json FROM desk WHERE id = 1", None)?
            .to_array()?;
        Ok(old
            .first()
            .and_then(|r| serde_json::from_str::<Desk>(&r.json).ok())
            .filter(|d| d.provider() == provider)
            .map(|d| (d, Layout::Older)))
    }

    /// Writes what the call changed: the head row when it differs from the last one written,
    /// the health row when the book changed, the waiting requests' rows put in line, refreshed
    /// or gone, and the leases' rows granted, renewed or gone. All in one synchronous step,
    /// which the object's storage commits as one.
    fn save(&self, sql: &SqlStorage, desk: &mut Desk, layout: Layout) -> Result<()> {
        let (head, health, waiters, leases) = match layout {
            Layout::Rows => {
                let changes = desk.take_changes()?;
                (
                    changes.head,
                    changes.health,
                    changes.waiters,
                    changes.leases,
                )
            }
            // A first write: every row, replacing whatever was there.
            Layout::Fresh | Layout::Older => {
                sql.exec("DELETE FROM desk_waiter", None)?;
                sql.exec("DELETE FROM desk_lease", None)?;
                sql.exec("DELETE FROM desk", None)?;
                let all = desk.all_rows()?;
                (all.head, Some(all.health), all.waiters, all.leases)
            }
        };
        if let Some(json) = health {
            sql.exec(
                "INSERT INTO desk_health (id, json) VALUES (1, ?1) ON CONFLICT (id) DO UPDATE SET json = excluded.json",
                Some(vec![json.into()]),
            )?;
        }
        for row in leases {
            let id = SqlStorageValue::Integer(i64::try_from(row.id).unwrap_or(i64::MAX));
            match row.json {
                Some(json) => sql.exec(
                    "INSERT INTO desk_lease (id, json) VALUES (?1, ?2) ON CONFLICT (id) DO UPDATE SET json = excluded.json",
                    Some(vec![id, json.into()]),
                )?,
                None => sql.exec(
                    "DELETE FROM desk_lease WHERE id = ?1",
                    Some(vec![id]),
                )?,
            };
        }
        for row in waiters {
            match row.json {
                Some(json) => sql.exec(
                    "INSERT INTO desk_waiter (key, json) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET json = excluded.json",
                    Some(vec![row.key.into(), json.into()]),
                )?,
                None => sql.exec(
                    "DELETE FROM desk_waiter WHERE key = ?1",
                    Some(vec![row.key.into()]),
                )?,
            };
        }
        if self.written.borrow().as_deref() != Some(head.as_str()) {
            sql.exec(
                "INSERT INTO desk_head (id, json) VALUES (1, ?1) ON CONFLICT (id) DO UPDATE SET json = excluded.json",
                Some(vec![head.clone().into()]),
            )?;
            *self.written.borrow_mut() = Some(head);
        }
        Ok(())
    }

    /// The provider a stored desk names (head row, or the one-document layout of before)
    fn stored_provider(sql: &SqlStorage) -> Result<Option<ProviderKind>> {
        #[derive(Deserialize)]
        struct Row {
            json: String,
        }
        #[derive(Deserialize)]
        struct Named {
            provider: ProviderKind,
        }
        let rows: Vec<Row> = sql
            .exec(
                "SELECT json FROM desk_head WHERE id = 1 UNION ALL SELECT json FROM desk WHERE id = 1",
                None,
            )?
            .to_array()?;
        Ok(rows
            .iter()
            .find_map(|r| serde_json::from_str::<Named>(&r.json).ok())
            .map(|n| n.provider))
    }

    /// Applies one call to the desk (loaded once per object start, or made fresh, with the
    /// configured limits) and stores what it changed before answering
    fn with_desk<T>(
        &self,
        provider: ProviderKind,
        now: Timestamp,
        work: impl FnOnce(&mut Desk) -> T,
    ) -> Result<(T, Vec<SlotNotice>)> {
        let sql = self.state.storage().sql();
        let mut slot = self.desk.borrow_mut();
        let mut layout = Layout::Rows;
        if slot.is_none() {
            object_sql::migrate(&sql, SCHEMA).map_err(worker::Error::RustError)?;
            *self.written.borrow_mut() = None;
            let (desk, stored) = match Self::load(&sql, provider)? {
                Some(found) => found,
                None => (
                    Desk::new(provider, self.limits(provider), now),
                    Layout::Fresh,
                ),
            };
            *slot = Some(desk);
            layout = stored;
        }
        let Some(desk) = slot.as_mut() else {
            return Err(worker::Error::RustError("desk not loaded".into()));
        };
        let mut notices = desk.set_limits(now, self.limits(provider));
        let out = work(desk);
        notices.extend(desk.tick(now));
        if let Err(e) = self.save(&sql, desk, layout) {
            // Not all written: forget the in-memory desk so the next call starts from storage.
            *slot = None;
            return Err(e);
        }
        Ok((out, notices))
    }

    /// Arms the alarm at the desk's next wake (when it moved), then pushes the notices to their
    /// jobs
    fn after(&self, notices: Vec<SlotNotice>) {
        let next = self
            .desk
            .borrow()
            .as_ref()
            .and_then(Desk::next_wake)
            .map(|t| t.0);
        let arm = self.armed.get() != Some(next);
        if !arm && notices.is_empty() {
            return;
        }
        let storage = self.state.storage();
        let env = self.env.clone();
        let armed_at = self.armed.clone();
        self.state.wait_until(async move {
            if arm {
                let armed = match next {
                    Some(at) => {
                        let date =
                            worker::js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(at as f64));
                        storage.set_alarm(worker::ScheduledTime::new(date)).await
                    }
                    None => storage.delete_alarm().await,
                };
                match armed {
                    Ok(()) => armed_at.set(Some(next)),
                    Err(e) => {
                        armed_at.set(None);
                        worker::console_error!("provider gate: arming alarm: {e}");
                    }
                }
            }
            for notice in notices {
                crate::fleet_client::push_grant(&env, &notice).await;
            }
        });
    }

    async fn route(&self, mut req: Request) -> Result<Response> {
        let Some(provider) = Self::provider(&req) else {
            return Response::error("no provider named", 400);
        };
        let now = clock::now();
        let path = req.path();
        match (req.method(), path.as_str()) {
            (Method::Post, "/acquire") => {
                let body: AcquireBody = object_sql::read_json(&mut req).await?;
                let probe = Millis(body.probe_lease_ms);
                let ((answer, mut granted), notices) =
                    self.with_desk(provider, now, |d| d.acquire(now, body.call, probe))?;
                granted.extend(notices);
                self.after(granted);
                Response::from_json(&answer)
            }
            (Method::Post, "/release") => {
                let call: ReleaseCall = object_sql::read_json(&mut req).await?;
                let (mut granted, notices) =
                    self.with_desk(provider, now, |d| d.release(now, &call))?;
                granted.extend(notices);
                self.after(granted);
                Response::from_json(&serde_json::json!({ "released": true }))
            }
            (Method::Post, "/health") => {
                let body: HealthBody = object_sql::read_json(&mut req).await?;
                let (health, notices) =
                    self.with_desk(provider, now, |d| d.health_of(now, &body.models))?;
                self.after(notices);
                Response::from_json(&health)
            }
            (Method::Post, "/retired") => {
                let retired: BTreeMap<ModelId, Timestamp> = object_sql::read_json(&mut req).await?;
                let ((), notices) = self.with_desk(provider, now, |d| d.set_retired(retired))?;
                self.after(notices);
                Response::from_json(&serde_json::json!({ "retired": true }))
            }
            (Method::Get, "/view") => {
                let (view, notices) = self.with_desk(provider, now, |d| d.view(now))?;
                self.after(notices);
                Response::from_json(&view)
            }
            _ => Response::error("unknown gate route", 404),
        }
    }
}

impl DurableObject for ProviderGate {
    fn new(state: State, env: Env) -> Self {
        Self {
            state,
            env,
            desk: RefCell::new(None),
            written: RefCell::new(None),
            limits: RefCell::new(None),
            armed: Rc::new(Cell::new(None)),
        }
    }

    async fn fetch(&self, req: Request) -> Result<Response> {
        self.route(req).await
    }

    async fn alarm(&self) -> Result<Response> {
        // Only a stored desk has anything to wake for; it names its own provider.
        let provider = {
            let sql = self.state.storage().sql();
            if self.desk.borrow().is_none() && !object_sql::has_schema(&sql).unwrap_or(false) {
                return Response::ok("no desk");
            }
            let stored: Option<ProviderKind> = match self.desk.borrow().as_ref() {
                Some(d) => Some(d.provider()),
                None => {
                    object_sql::migrate(&sql, SCHEMA).map_err(worker::Error::RustError)?;
                    Self::stored_provider(&sql)?
                }
            };
            match stored {
                Some(p) => p,
                None => return Response::ok("no desk"),
            }
        };
        let now = clock::now();
        // The alarm that fired is spent: whatever the next wake is, it is armed afresh.
        self.armed.set(None);
        let ((), notices) = self.with_desk(provider, now, |_| ())?;
        self.after(notices);
        Response::ok("ticked")
    }
}
