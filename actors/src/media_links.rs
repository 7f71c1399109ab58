//! Signed download links for artifact keys inside JSON (views for the app, timelines for the
//! assembler), so R2 never has to be public. Without an acceptable key (empty, or outside dev a
//! dev one) nothing is signed: the caller fails as "not configured". Links are signed by one
//! [`LinkSigner`] per isolate, which rounds expiries up to a whole window and remembers them: a
//! polled view signs each artifact once per window, not on every poll.

use std::cell::RefCell;

use serde_json::Value;
use studio::api::ApiError;
use studio::api::link_signer::LinkSigner;
use studio::api::link_splice::{LINKED_FIELDS, splice_links};
use studio::api::media;
use studio::api::secrets::SecretError;
use studio::time::{Millis, Timestamp};
use worker::Env;

use crate::config;

thread_local! {
    /// This isolate's signer (vars and secrets cannot change under a running isolate)
    static SIGNER: RefCell<Option<LinkSigner>> = const { RefCell::new(None) };
}

/// Runs `f` with this isolate's signer for the configured base and key
fn with_signer<T>(env: &Env, f: impl FnOnce(&mut LinkSigner) -> T) -> Result<T, SecretError> {
    let base = config::public_base(env);
    let secret = config::media_key(env)?;
    Ok(SIGNER.with(|cell| {
        let mut slot = cell.borrow_mut();
        let signer = match slot.take() {
            Some(signer) if signer.signs_for(&base, &secret) => signer,
            Some(_) | None => LinkSigner::new(base, secret),
        };
        f(slot.insert(signer))
    }))
}

/// Adds a signed `url` next to every `key` (and `master_key`, `poster_key`, `captions_key`) that
/// names an artifact
pub(crate) fn sign_keys(
    env: &Env,
    value: &mut Value,
    now: Timestamp,
    lifetime: Millis,
) -> Result<(), SecretError> {
    with_signer(env, |signer| sign(signer, value, now, lifetime))
}

/// The same links spliced into a JSON text (a polled view), which is never parsed into a tree
pub(crate) fn sign_text(
    env: &Env,
    json: &str,
    now: Timestamp,
    lifetime: Millis,
) -> Result<String, ApiError> {
    with_signer(env, |signer| {
        splice_links(json, |key| {
            media::servable_key(key).then(|| signer.url(key, now, lifetime))
        })
    })?
    .map_err(|e| ApiError::Internal(format!("signing links: {e}")))
}

fn sign(signer: &mut LinkSigner, value: &mut Value, now: Timestamp, lifetime: Millis) {
    match value {
        Value::Object(map) => {
            for (field, url_field) in LINKED_FIELDS {
                if let Some(Value::String(key)) = map.get(field).cloned()
                    && media::servable_key(&key)
                {
                    map.insert(
                        url_field.into(),
                        Value::String(signer.url(&key, now, lifetime)),
                    );
                }
            }
            for v in map.values_mut() {
                sign(signer, v, now, lifetime);
            }
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|v| sign(signer, v, now, lifetime)),
        _ => {}
    }
}
