//! `ModelRegistry`: the one Durable Object (named `registry`) that keeps the model registry as
//! data, with its versions. The newest built-in registry seeds it; an admin publishes new
//! versions through `POST /v1/admin/registry` (validated whole by the core's `registry_doc`, so
//! a bad version changes nothing). New jobs pin the latest version; a retirement is also pushed
//! to the retired model's provider gate, which refuses it to running jobs from then on.
//!
//! A build that ships a newer built-in version than the stored latest adds it as the next
//! stored version on first use (its record says so); otherwise stored versions win, so a
//! deploy never undoes what an operator published.
//!
//! Routes (internal): `GET /latest`, `GET /versions`, `POST /publish`.

use std::cell::RefCell;
use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::json;
use studio::ids::ModelId;
use studio::providers::ProviderKind;
use studio::routing::Registry;
use studio::routing::registry_doc::{self, Publication, RegistryVersionRecord};
use studio::time::Timestamp;
use worker::{DurableObject, Env, Method, Request, Response, Result, State, durable_object};

use crate::{clock, fleet_client, object_sql};

const SCHEMA: &[&str] = &[
    "CREATE TABLE versions (version INTEGER PRIMARY KEY, registry TEXT NOT NULL, record TEXT NOT NULL)",
];

/// `POST /publish`
#[derive(Deserialize)]
struct PublishBody {
    publication: Publication,
    by: String,
}

#[derive(Deserialize)]
struct VersionRow {
    registry: String,
    record: String,
}

/// The registry object
#[durable_object]
pub struct ModelRegistry {
    state: State,
    env: Env,
    latest: RefCell<Option<Registry>>,
}

/// The models a registry has retired, and from when
pub(crate) fn retirements(
    registry: &Registry,
) -> BTreeMap<ProviderKind, BTreeMap<ModelId, Timestamp>> {
    let mut out: BTreeMap<ProviderKind, BTreeMap<ModelId, Timestamp>> = BTreeMap::new();
    for m in &registry.models {
        // Every provider gets its (possibly empty) map, so an unretired model is forgotten too.
        let entry = out.entry(m.provider).or_default();
        if let Some(at) = m.retired_from {
            entry.insert(m.id.clone(), at);
        }
    }
    out
}

impl ModelRegistry {
    fn sql(&self) -> worker::SqlStorage {
        self.state.storage().sql()
    }

    fn insert(&self, registry: &Registry, record: &RegistryVersionRecord) -> Result<()> {
        self.sql().exec(
            "INSERT INTO versions (version, registry, record) VALUES (?1, ?2, ?3)",
            Some(vec![
                i64::from(registry.version).into(),
                serde_json::to_string(registry)?.into(),
                serde_json::to_string(record)?.into(),
            ]),
        )?;
        Ok(())
    }

    /// The latest version, seeding the built-in one where storage has none or an older one
    fn latest(&self, now: Timestamp) -> Result<Registry> {
        if let Some(r) = self.latest.borrow().as_ref() {
            return Ok(r.clone());
        }
        object_sql::migrate(&self.sql(), SCHEMA).map_err(worker::Error::RustError)?;
        let rows: Vec<VersionRow> = self
            .sql()
            .exec(
                "SELECT registry, record FROM versions ORDER BY version DESC LIMIT 1",
                None,
            )?
            .to_array()?;
        let stored = rows
            .first()
            .map(|r| serde_json::from_str::<Registry>(&r.registry))
            .transpose()?;
        let builtin = Registry::builtin();
        let latest = match stored {
            Some(s) if s.version >= builtin.version => s,
            _ => {
                let record = RegistryVersionRecord::seed(&builtin, now);
                self.insert(&builtin, &record)?;
                // Its retirements (sora-2 in version 6) reach the gates at once.
                self.push_retirements(&builtin);
                builtin
            }
        };
        *self.latest.borrow_mut() = Some(latest.clone());
        Ok(latest)
    }

    fn versions(&self) -> Result<Vec<RegistryVersionRecord>> {
        let rows: Vec<VersionRow> = self
            .sql()
            .exec(
                "SELECT registry, record FROM versions ORDER BY version DESC LIMIT 100",
                None,
            )?
            .to_array()?;
        rows.iter()
            .map(|r| serde_json::from_str(&r.record).map_err(worker::Error::from))
            .collect()
    }

    /// Pushes every provider's retired models to its gate (after answering; a gate that misses
    /// it learns at the next publication, and until then the job's own pinned version still
    /// marks the model retired if it was retired there)
    fn push_retirements(&self, registry: &Registry) {
        let env = self.env.clone();
        let table = retirements(registry);
        self.state.wait_until(async move {
            for (provider, retired) in table {
                if let Err(e) = fleet_client::set_retired(&env, provider, &retired).await {
                    worker::console_error!("registry: telling the {provider} gate: {e}");
                }
            }
        });
    }
}

impl DurableObject for ModelRegistry {
    fn new(state: State, env: Env) -> Self {
        Self {
            state,
            env,
            latest: RefCell::new(None),
        }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let now = clock::now();
        let latest = self.latest(now)?;
        let path = req.path();
        match (req.method(), path.as_str()) {
            (Method::Get, "/latest") => Response::from_json(&latest),
            (Method::Get, "/versions") => Response::from_json(&self.versions()?),
            (Method::Post, "/publish") => {
                let body: PublishBody = object_sql::read_json(&mut req).await?;
                match registry_doc::publish(&latest, &body.publication, now, &body.by) {
                    Ok(published) => {
                        self.insert(&published.registry, &published.record)?;
                        *self.latest.borrow_mut() = Some(published.registry.clone());
                        self.push_retirements(&published.registry);
                        Response::from_json(&published.record).map(|r| r.with_status(201))
                    }
                    Err(e) => Response::from_json(&json!({
                        "code": e.code(),
                        "field": e.field(),
                        "message": e.to_string(),
                    }))
                    .map(|r| r.with_status(400)),
                }
            }
            _ => Response::error("unknown registry route", 404),
        }
    }
}
