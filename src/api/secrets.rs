//! Which secrets the Worker may sign and verify with.
//!
//! The dev environment runs on public values: the simulator's provider credentials
//! ([`dev_credentials`]) and the callback-token key [`DEV_CALLBACK_SECRET`] are in this
//! repository for anyone to read. A media URL signed with a public key is a public URL, and a
//! callback verified with one can be forged, so outside dev (`ENVIRONMENT` other than `dev`,
//! including unset) a request that needs such a secret fails as "not configured" (the Worker
//! answers 503) rather than signing or verifying with it. An empty key is refused everywhere:
//! an HMAC over an empty key is a signature anyone can compute.
//!
//! The rules are pure; the Worker applies them where it reads its configuration
//! (`actors/src/config.rs`, `actors/src/webhook_secret.rs`).

use base64::Engine as _;

use crate::api::ApiError;
use crate::providers::config::{DEV_CALLBACK_SECRET, config_key, dev_credentials};
use crate::providers::{Environment, ProviderConfig, ProviderKind};

/// The shortest key we sign with ourselves in production (callback tokens, media URLs), bytes:
/// HMAC-SHA256's own output size, which `openssl rand -base64 32` (44 characters) exceeds
pub const MIN_SIGNING_KEY_BYTES: usize = 32;

/// The fewest random bytes a Standard Webhooks secret may decode to (the specification's
/// lower bound; ours are minted with 32)
pub const MIN_WEBHOOK_SECRET_BYTES: usize = 24;

/// Why a secret may not be used: the request that needs it is "not configured"
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    /// Empty or blank
    #[error("{key} is not configured: it is empty")]
    Empty {
        /// The setting
        key: String,
    },
    /// One of the public dev values, outside dev
    #[error(
        "{key} is not configured: it holds a public dev value, which only ENVIRONMENT=dev accepts"
    )]
    DevValue {
        /// The setting
        key: String,
    },
    /// Shorter than a signing key must be in production
    #[error(
        "{key} is not configured: it has {len} bytes, production needs at least {min} (e.g. `openssl rand -base64 32`)"
    )]
    TooShort {
        /// The setting
        key: String,
        /// Its length in bytes
        len: usize,
        /// The least allowed
        min: usize,
    },
    /// Not in the format its use requires
    #[error("{key} is not configured: {reason}")]
    Malformed {
        /// The setting
        key: String,
        /// What is wrong
        reason: &'static str,
    },
}

impl From<SecretError> for ApiError {
    /// A request that needs a secret the environment refuses is "not configured": 503, never a
    /// signature made with a key anyone can read
    fn from(e: SecretError) -> Self {
        ApiError::Unavailable(e.to_string())
    }
}

/// Whether a value is one of the public dev secrets or credentials of this repository
pub fn is_dev_value(value: &str) -> bool {
    let value = value.trim();
    value == DEV_CALLBACK_SECRET
        || ProviderKind::ALL.into_iter().any(|kind| {
            let (api_key, secret_key, webhook_secret) = dev_credentials(kind);
            api_key == value || secret_key == Some(value) || webhook_secret == Some(value)
        })
}

/// A key we sign and verify with ourselves (`CALLBACK_SECRET`, `MEDIA_URL_SECRET`): never
/// empty; outside dev never a dev value and at least [`MIN_SIGNING_KEY_BYTES`] long
pub fn check_signing_key(env: Environment, key: &str, value: &str) -> Result<(), SecretError> {
    if value.trim().is_empty() {
        return Err(SecretError::Empty { key: key.into() });
    }
    match env {
        Environment::Dev => Ok(()),
        Environment::Production if is_dev_value(value) => {
            Err(SecretError::DevValue { key: key.into() })
        }
        Environment::Production if value.len() < MIN_SIGNING_KEY_BYTES => {
            Err(SecretError::TooShort {
                key: key.into(),
                len: value.len(),
                min: MIN_SIGNING_KEY_BYTES,
            })
        }
        Environment::Production => Ok(()),
    }
}

/// A provider's credentials: outside dev none of them (key, Kling's secret key, webhook
/// secret) may be a dev value. Their length is the provider's business.
pub fn check_provider(
    env: Environment,
    kind: ProviderKind,
    config: &ProviderConfig,
) -> Result<(), SecretError> {
    if env == Environment::Dev {
        return Ok(());
    }
    let values = [
        ("API_KEY", Some(&config.api_key)),
        ("SECRET_KEY", config.secret_key.as_ref()),
        ("WEBHOOK_SECRET", config.webhook_secret.as_ref()),
    ];
    for (suffix, value) in values {
        if value.is_some_and(|v| is_dev_value(v.expose())) {
            return Err(SecretError::DevValue {
                key: config_key(kind, suffix),
            });
        }
    }
    Ok(())
}

/// The setting name creators' webhook secrets are reported under
pub const WEBHOOK_SECRET_KEY: &str = "creators.webhook_secret";

/// A creator's Standard Webhooks signing secret as stored: `whsec_` + base64 of at least
/// [`MIN_WEBHOOK_SECRET_BYTES`] bytes everywhere (minted ones always are), and outside dev not
/// one of the simulator's public secrets
pub fn check_webhook_secret(env: Environment, value: &str) -> Result<(), SecretError> {
    let key = || WEBHOOK_SECRET_KEY.to_owned();
    if value.trim().is_empty() {
        return Err(SecretError::Empty { key: key() });
    }
    let Some(encoded) = value.strip_prefix("whsec_") else {
        return Err(SecretError::Malformed {
            key: key(),
            reason: "it does not start with whsec_",
        });
    };
    let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(encoded) else {
        return Err(SecretError::Malformed {
            key: key(),
            reason: "what follows whsec_ is not base64",
        });
    };
    if bytes.len() < MIN_WEBHOOK_SECRET_BYTES {
        return Err(SecretError::TooShort {
            key: key(),
            len: bytes.len(),
            min: MIN_WEBHOOK_SECRET_BYTES,
        });
    }
    match env {
        Environment::Production if is_dev_value(value) => Err(SecretError::DevValue { key: key() }),
        Environment::Dev | Environment::Production => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REAL: &str = "k3Jd8s0P2mQx7ZcVb4NfR1tYw6HgLa9E";

    #[test]
    fn every_dev_value_is_known() {
        assert!(is_dev_value(DEV_CALLBACK_SECRET));
        for kind in ProviderKind::ALL {
            let (api_key, secret_key, webhook_secret) = dev_credentials(kind);
            assert!(is_dev_value(api_key), "{kind:?}");
            assert!(secret_key.is_none_or(is_dev_value));
            assert!(webhook_secret.is_none_or(is_dev_value));
        }
        assert!(!is_dev_value(REAL));
    }

    #[test]
    fn signing_keys_follow_the_environment() {
        let prod = Environment::Production;
        assert_eq!(
            check_signing_key(prod, "CALLBACK_SECRET", ""),
            Err(SecretError::Empty {
                key: "CALLBACK_SECRET".into()
            })
        );
        assert_eq!(
            check_signing_key(Environment::Dev, "MEDIA_URL_SECRET", "  "),
            Err(SecretError::Empty {
                key: "MEDIA_URL_SECRET".into()
            })
        );
        assert_eq!(
            check_signing_key(prod, "CALLBACK_SECRET", DEV_CALLBACK_SECRET),
            Err(SecretError::DevValue {
                key: "CALLBACK_SECRET".into()
            })
        );
        assert!(matches!(
            check_signing_key(prod, "MEDIA_URL_SECRET", "short-but-not-dev"),
            Err(SecretError::TooShort {
                len: 17,
                min: 32,
                ..
            })
        ));
        assert_eq!(check_signing_key(prod, "MEDIA_URL_SECRET", REAL), Ok(()));
        assert_eq!(
            check_signing_key(Environment::Dev, "CALLBACK_SECRET", DEV_CALLBACK_SECRET),
            Ok(())
        );
    }

    #[test]
    fn the_message_says_not_configured_and_never_the_value() {
        let err = check_signing_key(
            Environment::Production,
            "CALLBACK_SECRET",
            DEV_CALLBACK_SECRET,
        )
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(
            err.starts_with("CALLBACK_SECRET is not configured"),
            "{err}"
        );
        assert!(!err.contains(DEV_CALLBACK_SECRET), "{err}");
        let api = ApiError::from(SecretError::Empty {
            key: "MEDIA_URL_SECRET".into(),
        });
        assert_eq!((api.status(), api.code()), (503, "unavailable"));
    }

    #[test]
    fn provider_credentials_may_not_be_dev_values_in_production() {
        let (sora_key, _, sora_whsec) = dev_credentials(ProviderKind::Sora);
        let mut dev_key = ProviderConfig::new("https://api.openai.com", sora_key);
        assert_eq!(
            check_provider(Environment::Production, ProviderKind::Sora, &dev_key),
            Err(SecretError::DevValue {
                key: "SORA_API_KEY".into()
            })
        );
        assert_eq!(
            check_provider(Environment::Dev, ProviderKind::Sora, &dev_key),
            Ok(())
        );
        dev_key.api_key = crate::providers::Secret::new("sk-live-real");
        dev_key.webhook_secret = sora_whsec.map(crate::providers::Secret::from);
        assert_eq!(
            check_provider(Environment::Production, ProviderKind::Sora, &dev_key),
            Err(SecretError::DevValue {
                key: "SORA_WEBHOOK_SECRET".into()
            })
        );
        let (_, kling_sk, _) = dev_credentials(ProviderKind::Kling);
        let mut kling = ProviderConfig::new("https://api-singapore.klingai.com", "ak-real");
        kling.secret_key = kling_sk.map(crate::providers::Secret::from);
        assert_eq!(
            check_provider(Environment::Production, ProviderKind::Kling, &kling),
            Err(SecretError::DevValue {
                key: "KLING_SECRET_KEY".into()
            })
        );
        kling.secret_key = Some(crate::providers::Secret::new("sk-real"));
        assert_eq!(
            check_provider(Environment::Production, ProviderKind::Kling, &kling),
            Ok(())
        );
    }

    #[test]
    fn webhook_secrets_must_be_well_formed_and_not_dev_outside_dev() {
        let minted = format!(
            "whsec_{}",
            base64::engine::general_purpose::STANDARD.encode([7u8; 32])
        );
        for env in [Environment::Dev, Environment::Production] {
            assert_eq!(check_webhook_secret(env, &minted), Ok(()));
            assert!(matches!(
                check_webhook_secret(env, ""),
                Err(SecretError::Empty { .. })
            ));
            assert!(matches!(
                check_webhook_secret(env, "secret"),
                Err(SecretError::Malformed { .. })
            ));
            assert!(matches!(
                check_webhook_secret(env, "whsec_!!!"),
                Err(SecretError::Malformed { .. })
            ));
            assert!(matches!(
                check_webhook_secret(env, "whsec_c2hvcnQ="),
                Err(SecretError::TooShort { len: 5, .. })
            ));
        }
        let (_, _, sim) = dev_credentials(ProviderKind::Replicate);
        let sim = sim.unwrap_or_default();
        assert_eq!(check_webhook_secret(Environment::Dev, sim), Ok(()));
        assert!(matches!(
            check_webhook_secret(Environment::Production, sim),
            Err(SecretError::DevValue { .. })
        ));
    }
}
