//! SQLite helpers shared by both Durable Object classes.

use serde::Deserialize;
use worker::{SqlStorage, SqlStorageValue};

/// Applies the numbered schema steps this object has not seen yet.
///
/// Runs in the object's constructor with no `await`, so no request can observe a half-applied
/// schema; a failure is kept and reported by every request instead of panicking the isolate.
pub(crate) fn migrate(sql: &SqlStorage, steps: &[&str]) -> Result<(), String> {
    sql.exec(
        "CREATE TABLE IF NOT EXISTS _schema (version INTEGER NOT NULL)",
        None,
    )
    .map_err(|e| format!("creating _schema: {e}"))?;
    #[derive(Deserialize)]
    struct Version {
        version: i64,
    }
    let current = sql
        .exec(
            "SELECT COALESCE(MAX(version), 0) AS version FROM _schema",
            None,
        )
        .and_then(|c| c.one::<Version>())
        .map_err(|e| format!("reading schema version: {e}"))?
        .version;
    for (index, step) in steps.iter().enumerate() {
        let version = i64::try_from(index).unwrap_or(i64::MAX).saturating_add(1);
        if version <= current {
            continue;
        }
        sql.exec(step, None)
            .map_err(|e| format!("schema step {version}: {e}"))?;
        sql.exec(
            "INSERT INTO _schema (version) VALUES (?)",
            vec![SqlStorageValue::Integer(version)],
        )
        .map_err(|e| format!("recording schema step {version}: {e}"))?;
    }
    Ok(())
}

/// Counts a health probe in the object's own SQLite, proving storage answers and persists
pub(crate) fn health_ping(sql: &SqlStorage) -> worker::Result<i64> {
    #[derive(Deserialize)]
    struct Pings {
        value: i64,
    }
    sql.exec(
        "CREATE TABLE IF NOT EXISTS _health (id INTEGER PRIMARY KEY CHECK (id = 1), value INTEGER NOT NULL)",
        None,
    )?;
    let row: Pings = sql
        .exec(
            "INSERT INTO _health (id, value) VALUES (1, 1) \
             ON CONFLICT (id) DO UPDATE SET value = value + 1 RETURNING value",
            None,
        )?
        .one()?;
    Ok(row.value)
}

/// Parses a JSON body with serde_json directly: the runtime's `json()` goes through JavaScript
/// numbers, which silently round integers above 2^53 (seeds, byte counts)
pub(crate) async fn read_json<T: serde::de::DeserializeOwned>(
    req: &mut worker::Request,
) -> worker::Result<T> {
    let text = req.text().await?;
    serde_json::from_str(&text).map_err(|e| worker::Error::RustError(format!("request body: {e}")))
}

/// As [`read_json`], for a response
pub(crate) async fn read_json_response<T: serde::de::DeserializeOwned>(
    resp: &mut worker::Response,
) -> worker::Result<T> {
    let text = resp.text().await?;
    serde_json::from_str(&text).map_err(|e| worker::Error::RustError(format!("response body: {e}")))
}
