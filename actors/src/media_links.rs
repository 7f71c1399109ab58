//! Signed download links for artifact keys inside JSON (views for the app, timelines for the
//! assembler), so R2 never has to be public. Without an acceptable key (empty, or outside dev a
//! dev one) nothing is signed: the caller fails as "not configured".

use serde_json::Value;
use studio::api::media::{self, MediaKey};
use studio::api::secrets::SecretError;
use studio::time::{Millis, Timestamp};
use worker::Env;

use crate::config;

/// Adds a signed `url` next to every `key` (and `master_key`, `poster_key`, `captions_key`) that
/// names an artifact
pub(crate) fn sign_keys(
    env: &Env,
    value: &mut Value,
    now: Timestamp,
    lifetime: Millis,
) -> Result<(), SecretError> {
    let base = config::public_base(env);
    let secret = config::media_key(env)?;
    sign(&base, &secret, value, now.plus(lifetime));
    Ok(())
}

fn sign(base: &str, secret: &MediaKey, value: &mut Value, expires: Timestamp) {
    match value {
        Value::Object(map) => {
            for (field, url_field) in [
                ("key", "url"),
                ("master_key", "master_url"),
                ("poster_key", "poster_url"),
                ("captions_key", "captions_url"),
            ] {
                if let Some(Value::String(key)) = map.get(field).cloned()
                    && media::servable_key(&key)
                {
                    map.insert(
                        url_field.into(),
                        Value::String(media::signed_url(base, secret, &key, expires)),
                    );
                }
            }
            for v in map.values_mut() {
                sign(base, secret, v, expires);
            }
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|v| sign(base, secret, v, expires)),
        _ => {}
    }
}
