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

/// Whether this object's storage has been set up (its `_schema` table exists). Reading the
/// catalogue writes nothing, so asking leaves a never-created object without storage
pub(crate) fn has_schema(sql: &SqlStorage) -> Result<bool, String> {
    #[derive(Deserialize)]
    struct Count {
        n: i64,
    }
    sql.exec(
        "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = '_schema'",
        None,
    )
    .and_then(|c| c.one::<Count>())
    .map(|c| c.n > 0)
    .map_err(|e| format!("reading the schema catalogue: {e}"))
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
    let text = crate::object_fetch::response_text(resp).await?;
    serde_json::from_str(&text).map_err(|e| worker::Error::RustError(format!("response body: {e}")))
}

/// Runs `work` inside the storage's `transactionSync`: every SQL write it makes commits, or (when
/// it fails, or the commit does) none does.
///
/// The pinned `worker` crate exposes only the asynchronous `transaction`, whose `await`s would
/// let other events interleave; `transactionSync` takes a synchronous callback, so it is called
/// through its JavaScript name. `work` must own what it uses (the callback is `'static`); an `Err`
/// from it is thrown inside the callback, which is what rolls the transaction back.
pub(crate) fn transaction_sync<T: 'static>(
    storage: &worker::Storage,
    work: impl FnOnce() -> worker::Result<T> + 'static,
) -> worker::Result<T> {
    use std::cell::RefCell;
    use std::rc::Rc;
    use wasm_bindgen::JsCast;
    use wasm_bindgen::JsValue;
    use wasm_bindgen::closure::Closure;

    let out: Rc<RefCell<Option<worker::Result<T>>>> = Rc::new(RefCell::new(None));
    let slot = out.clone();
    let callback = Closure::once(move || -> Result<JsValue, JsValue> {
        let result = work();
        let thrown = result
            .as_ref()
            .err()
            .map(|e| JsValue::from_str(&e.to_string()));
        *slot.borrow_mut() = Some(result);
        match thrown {
            Some(e) => Err(e),
            None => Ok(JsValue::UNDEFINED),
        }
    });
    let raw: &JsValue = storage.as_raw().as_ref();
    let called = worker::js_sys::Reflect::get(raw, &JsValue::from_str("transactionSync"))
        .and_then(|f| f.dyn_into::<worker::js_sys::Function>())
        .and_then(|f| f.call1(raw, callback.as_ref()));
    drop(callback);
    let result = out.borrow_mut().take();
    match (result, called) {
        // The callback's own error, rolled back.
        (Some(Err(e)), _) => Err(e),
        (Some(Ok(value)), Ok(_)) => Ok(value),
        // The callback succeeded but the commit threw: nothing was written.
        (Some(Ok(_)), Err(e)) => Err(worker::Error::from(e)),
        (None, Err(e)) => Err(worker::Error::from(e)),
        (None, Ok(_)) => Err(worker::Error::RustError(
            "transactionSync did not run its callback".into(),
        )),
    }
}
