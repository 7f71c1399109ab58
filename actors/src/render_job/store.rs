//! The job object's SQLite: one row for the spec, one for the header, one per stage, and the
//! append-only journal.
//!
//! A step writes the journal entry and exactly the rows the step changed in one `transactionSync`
//! (all or nothing: a failed write leaves storage as it was before the step), and a callback on
//! a 500-stage job writes as little as one on a 12-stage job. A step that changed nothing is not
//! journaled: it is counted by kind in `skipped` (`studio::journal::Record`), so duplicate
//! callbacks and idle alarms never grow the journal.

use serde::Deserialize;
use serde::de::DeserializeOwned;
use studio::job::{Changes, Input, Job, JobError};
use studio::journal::{Actor, JournalEntry, Record, Skipped};
use studio::time::Timestamp;
use worker::{SqlStorage, SqlStorageValue, Storage};

use crate::object_sql;

/// Schema steps, applied once each in order (see `object_sql::migrate`)
pub(crate) const SCHEMA: &[&str] = &[
    "CREATE TABLE job_spec (id INTEGER PRIMARY KEY CHECK (id = 1), json TEXT NOT NULL)",
    "CREATE TABLE job_header (id INTEGER PRIMARY KEY CHECK (id = 1), json TEXT NOT NULL)",
    "CREATE TABLE job_stage (stage_id TEXT PRIMARY KEY, json TEXT NOT NULL)",
    "CREATE TABLE journal (seq INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, \
     actor TEXT NOT NULL, kind TEXT NOT NULL, input TEXT NOT NULL)",
    // Creation parameters that are the shell's, not the job's: the idempotency fingerprint.
    "CREATE TABLE creation (id INTEGER PRIMARY KEY CHECK (id = 1), body_hash TEXT NOT NULL, \
     idempotency_key TEXT)",
    // Steps that changed nothing, counted by kind instead of journaled.
    "CREATE TABLE skipped (kind TEXT PRIMARY KEY, n INTEGER NOT NULL)",
];

/// Storage failure or corruption
#[derive(Debug, thiserror::Error)]
pub(crate) enum StoreError {
    /// SQLite failed
    #[error("sqlite: {0}")]
    Sql(#[from] worker::Error),
    /// A row did not decode
    #[error("row {what}: {source}")]
    Decode {
        /// Which row
        what: String,
        /// Why
        source: serde_json::Error,
    },
    /// A row did not encode
    #[error("encoding {what}: {source}")]
    Encode {
        /// Which row
        what: &'static str,
        /// Why
        source: serde_json::Error,
    },
    /// The machine refused the stored rows
    #[error("job rows: {0}")]
    Job(#[from] JobError),
}

#[derive(Deserialize)]
struct JsonRow {
    json: String,
}

#[derive(Deserialize)]
struct StageJsonRow {
    stage_id: String,
    json: String,
}

fn decode<T: DeserializeOwned>(what: &str, json: &str) -> Result<T, StoreError> {
    serde_json::from_str(json).map_err(|source| StoreError::Decode {
        what: what.to_owned(),
        source,
    })
}

fn encode<T: serde::Serialize>(what: &'static str, value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|source| StoreError::Encode { what, source })
}

fn text(s: impl Into<String>) -> SqlStorageValue {
    SqlStorageValue::String(s.into())
}

fn int(i: i64) -> SqlStorageValue {
    SqlStorageValue::Integer(i)
}

/// Loads the job, or `None` when this object holds no job yet
pub(crate) fn load(sql: &SqlStorage) -> Result<Option<Job>, StoreError> {
    let spec: Vec<JsonRow> = sql
        .exec("SELECT json FROM job_spec WHERE id = 1", None)?
        .to_array()?;
    let Some(spec) = spec.first() else {
        return Ok(None);
    };
    let header: Vec<JsonRow> = sql
        .exec("SELECT json FROM job_header WHERE id = 1", None)?
        .to_array()?;
    let header = header.first().ok_or_else(|| {
        StoreError::Job(JobError::Corrupt {
            reason: "spec without header".into(),
        })
    })?;
    let rows: Vec<StageJsonRow> = sql
        .exec("SELECT stage_id, json FROM job_stage", None)?
        .to_array()?;
    let mut stages = Vec::with_capacity(rows.len());
    for row in rows {
        stages.push(decode(&row.stage_id, &row.json)?);
    }
    let job = Job::from_parts(
        decode("spec", &spec.json)?,
        decode("header", &header.json)?,
        stages,
    )?;
    Ok(Some(job))
}

/// What one committed step wrote: its journal position and the rows it changed
#[derive(Debug)]
pub(crate) struct Committed {
    /// The journal entry's sequence number (0 when the step changed nothing and was counted)
    pub seq: i64,
    /// The rows the step changed (empty for a stale or duplicate input)
    pub changes: Changes,
}

/// One SQL statement of a step, owned so the transaction's callback can run it
pub(crate) struct Statement {
    query: &'static str,
    args: Vec<SqlStorageValue>,
}

/// The statement that records how the job was created: a fingerprint of the request for
/// idempotency checks (committed with the job's first step)
pub(crate) fn creation_statement(body_hash: &str, idempotency_key: Option<&str>) -> Statement {
    Statement {
        query: "INSERT OR IGNORE INTO creation (id, body_hash, idempotency_key) VALUES (1, ?, ?)",
        args: vec![
            text(body_hash),
            idempotency_key.map_or(SqlStorageValue::Null, text),
        ],
    }
}

/// Journals `input` (or counts it, when the step changed nothing) and writes exactly the rows the
/// step changed, plus `extra`, in one synchronous transaction: all of it commits or none does.
///
/// On `Err` nothing was written, but the job in memory has taken the step (and its changes are
/// taken): the caller must drop it and reload from storage.
pub(crate) fn commit(
    storage: &Storage,
    job: &mut Job,
    now: Timestamp,
    actor: &Actor,
    input: &Input,
    extra: Vec<Statement>,
) -> Result<Committed, StoreError> {
    let changes = job.take_changes();
    // Everything is encoded before the transaction starts: the callback only runs SQL.
    let mut writes = Vec::new();
    let journal = match Record::of(&changes) {
        Record::Append => Some(vec![
            int(now.0 as i64),
            text(encode("actor", actor)?),
            text(input.name()),
            text(encode("input", input)?),
        ]),
        Record::Count(kind) => {
            writes.push(Statement {
                query: "INSERT INTO skipped (kind, n) VALUES (?, 1) \
                        ON CONFLICT (kind) DO UPDATE SET n = n + 1",
                args: vec![text(kind.as_str())],
            });
            None
        }
    };
    if changes.spec {
        writes.push(Statement {
            query: "INSERT INTO job_spec (id, json) VALUES (1, ?) \
                    ON CONFLICT (id) DO UPDATE SET json = excluded.json",
            args: vec![text(encode("spec", job.spec())?)],
        });
    }
    if changes.header {
        writes.push(Statement {
            query: "INSERT INTO job_header (id, json) VALUES (1, ?) \
                    ON CONFLICT (id) DO UPDATE SET json = excluded.json",
            args: vec![text(encode("header", job.header())?)],
        });
    }
    for id in &changes.stages {
        if let Some(row) = job.stage(id) {
            writes.push(Statement {
                query: "INSERT INTO job_stage (stage_id, json) VALUES (?, ?) \
                        ON CONFLICT (stage_id) DO UPDATE SET json = excluded.json",
                args: vec![text(id.as_str()), text(encode("stage", row)?)],
            });
        }
    }
    writes.extend(extra);
    let sql = storage.sql();
    // One statement is atomic on its own: a step that only counts a skip (most duplicate and
    // progress callbacks) needs no transaction, whose callback costs a crossing into JS and back.
    if journal.is_none() && writes.len() <= 1 {
        for w in writes {
            sql.exec(w.query, w.args)?;
        }
        return Ok(Committed { seq: 0, changes });
    }
    let seq = object_sql::transaction_sync(storage, move || {
        #[derive(Deserialize)]
        struct Seq {
            seq: i64,
        }
        let seq = match journal {
            Some(args) => {
                sql.exec(
                    "INSERT INTO journal (at, actor, kind, input) VALUES (?, ?, ?, ?) RETURNING seq",
                    args,
                )?
                .one::<Seq>()?
                .seq
            }
            None => 0,
        };
        for w in writes {
            sql.exec(w.query, w.args)?;
        }
        Ok(seq)
    })?;
    Ok(Committed { seq, changes })
}

/// The steps counted instead of journaled, by kind (every kind, zeros included)
pub(crate) fn skipped_counts(sql: &SqlStorage) -> worker::Result<Vec<(Skipped, i64)>> {
    #[derive(Deserialize)]
    struct Row {
        kind: String,
        n: i64,
    }
    let rows: Vec<Row> = sql.exec("SELECT kind, n FROM skipped", None)?.to_array()?;
    Ok(Skipped::ALL
        .iter()
        .map(|k| {
            let n = rows
                .iter()
                .find(|r| r.kind == k.as_str())
                .map_or(0, |r| r.n);
            (*k, n)
        })
        .collect())
}

/// One journal entry, for support and replay
#[derive(Debug, Deserialize, serde::Serialize)]
pub(crate) struct JournalRow {
    /// Sequence number, from 1
    pub seq: i64,
    /// When, ms since epoch
    pub at: i64,
    /// Who caused it (JSON of `studio::journal::Actor`)
    pub actor: String,
    /// The input's kind
    pub kind: String,
    /// The input, JSON
    pub input: String,
}

impl JournalRow {
    /// The entry as the core's journal type, for replay
    pub(crate) fn entry(&self) -> Result<JournalEntry, StoreError> {
        Ok(JournalEntry {
            seq: u64::try_from(self.seq).unwrap_or(0),
            at: Timestamp(u64::try_from(self.at).unwrap_or(0)),
            actor: decode("journal actor", &self.actor)?,
            input: decode("journal input", &self.input)?,
        })
    }
}

/// Journal entries after `after`, at most `limit`
pub(crate) fn journal_page(
    sql: &SqlStorage,
    after: i64,
    limit: i64,
) -> worker::Result<Vec<JournalRow>> {
    sql.exec(
        "SELECT seq, at, actor, kind, input FROM journal WHERE seq > ? ORDER BY seq LIMIT ?",
        vec![int(after), int(limit)],
    )?
    .to_array()
}

/// The last journal sequence number (0 for an empty journal)
pub(crate) fn last_seq(sql: &SqlStorage) -> worker::Result<i64> {
    #[derive(Deserialize)]
    struct Seq {
        seq: i64,
    }
    Ok(sql
        .exec("SELECT COALESCE(MAX(seq), 0) AS seq FROM journal", None)?
        .one::<Seq>()?
        .seq)
}

/// The fingerprint of the creating request, if the job exists
pub(crate) fn creation_hash(sql: &SqlStorage) -> worker::Result<Option<String>> {
    #[derive(Deserialize)]
    struct Row {
        body_hash: String,
    }
    let rows: Vec<Row> = sql
        .exec("SELECT body_hash FROM creation WHERE id = 1", None)?
        .to_array()?;
    Ok(rows.into_iter().next().map(|r| r.body_hash))
}
