//! Provider configuration, read from Worker vars and secrets through a lookup closure so this
//! stays pure.
//!
//! Keys (with `P` = [`ProviderKind::as_str`] upper-cased: `VEO`, `SORA`, `KLING`, `RUNWAY`, `FAL`,
//! `LUMA`, `SEEDANCE`, `HAILUO`, `BFL`, `ELEVENLABS`, `MINIMAX_MUSIC`, `REPLICATE`, `ASSEMBLER`,
//! `SHOTSTACK`):
//!
//! | key | meaning |
//! |---|---|
//! | `ENVIRONMENT` | `dev` routes providers without credentials to the simulator; anything else is production |
//! | `SIM_BASE_URL` | the provider simulator (dev only) |
//! | `PUBLIC_BASE_URL` | where providers reach this Worker; callback URLs are built from it |
//! | `CALLBACK_SECRET` | HMAC key of our callback URL tokens |
//! | `P_API_KEY` | the credential (Kling: the access key) |
//! | `P_BASE_URL` | overrides the provider's public host |
//! | `P_SECRET_KEY` | Kling's secret key, which signs the JWT |
//! | `P_WEBHOOK_SECRET` | Sora and Replicate `whsec_...`, the secret we hand BFL, ElevenLabs' HMAC secret |
//!
//! In production a provider without its credential is [`ConfigError::Unavailable`]: it is never
//! silently pointed at the simulator. In dev a provider without `P_API_KEY` gets
//! `{SIM_BASE_URL}/{provider}` and the dev credentials of `docs/local-providers.md`.

use std::fmt;

use super::ProviderKind;

/// A credential; `Debug` never prints it, so configs can be logged
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself, for signing or a header
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(..)")
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Self::new(s)
    }
}

/// Which rules [`ProviderConfig::from_lookup`] applies
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    /// Local development: providers without credentials use the simulator
    Dev,
    /// Everything else: providers without credentials are unavailable
    Production,
}

impl Environment {
    /// `ENVIRONMENT=dev` is dev; anything else, including unset, is production (fail closed)
    pub fn from_lookup(lookup: &impl Fn(&str) -> Option<String>) -> Self {
        match lookup("ENVIRONMENT").as_deref().map(str::trim) {
            Some("dev") => Self::Dev,
            _ => Self::Production,
        }
    }
}

/// Why a provider cannot be configured
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// Production lacks a credential of this provider: route around it
    #[error("provider {provider} is unavailable: {key} is not set")]
    Unavailable {
        /// The provider
        provider: ProviderKind,
        /// The missing key
        key: String,
    },
    /// A setting without a default is missing (`SIM_BASE_URL` in dev, `ASSEMBLER_BASE_URL`,
    /// `PUBLIC_BASE_URL` and `CALLBACK_SECRET` in production)
    #[error("{key} is not set")]
    Missing {
        /// The missing key
        key: String,
    },
    /// A URL setting is not an absolute http(s) URL
    #[error("{key} is not an http(s) url: {value}")]
    InvalidUrl {
        /// The key
        key: String,
        /// Its value
        value: String,
    },
}

/// How to reach and authenticate with one provider
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderConfig {
    /// Scheme, host and optional path prefix, without trailing slash; the adapter appends the
    /// provider's real path
    pub base_url: String,
    /// The API key (Kling: the access key, the JWT's `iss`)
    pub api_key: Secret,
    /// Kling's secret key, which signs the JWT
    pub secret_key: Option<Secret>,
    /// The webhook secret: Standard Webhooks `whsec_...` (Sora, Replicate), the `webhook_secret`
    /// we send BFL, or ElevenLabs' HMAC secret
    pub webhook_secret: Option<Secret>,
}

/// The config key `{PROVIDER}_{suffix}`, e.g. `MINIMAX_MUSIC_API_KEY`
pub fn config_key(kind: ProviderKind, suffix: &str) -> String {
    format!("{}_{suffix}", kind.as_str().to_ascii_uppercase())
}

/// The provider's public host; `None` for our assembler, which has no default
pub fn default_base_url(kind: ProviderKind) -> Option<&'static str> {
    Some(match kind {
        ProviderKind::Veo => "https://generativelanguage.googleapis.com",
        ProviderKind::Sora => "https://api.openai.com",
        ProviderKind::Kling => "https://api-singapore.klingai.com",
        ProviderKind::Runway => "https://api.dev.runwayml.com",
        ProviderKind::FalPika => "https://queue.fal.run",
        ProviderKind::Luma => "https://api.lumalabs.ai",
        ProviderKind::Seedance => "https://ark.ap-southeast.bytepluses.com",
        ProviderKind::Hailuo | ProviderKind::MinimaxMusic => "https://api.minimax.io",
        ProviderKind::Bfl => "https://api.bfl.ai",
        ProviderKind::ElevenLabs => "https://api.elevenlabs.io",
        ProviderKind::Replicate => "https://api.replicate.com",
        // The Edit API's production stage; `SHOTSTACK_BASE_URL=https://api.shotstack.io/edit/stage`
        // selects the watermarked sandbox (the adapter's paths follow the version)
        ProviderKind::Shotstack => "https://api.shotstack.io/edit/v1",
        ProviderKind::Assembler => return None,
    })
}

/// The simulator's credentials for a provider (`docs/local-providers.md`): api key, Kling's
/// secret key, webhook secret
pub fn dev_credentials(
    kind: ProviderKind,
) -> (&'static str, Option<&'static str>, Option<&'static str>) {
    match kind {
        ProviderKind::Veo => ("sim-veo-key", None, None),
        ProviderKind::Sora => (
            "sim-sora-key",
            None,
            Some("whsec_c2ltLXNvcmEtd2ViaG9vay1zZWNyZXQtMDAwMDAwMDA="),
        ),
        ProviderKind::Kling => ("sim-kling-ak", Some("sim-kling-sk"), None),
        ProviderKind::Runway => ("sim-runway-key", None, None),
        ProviderKind::FalPika => ("sim-fal-key", None, None),
        ProviderKind::Luma => ("sim-luma-key", None, None),
        ProviderKind::Seedance => ("sim-seedance-key", None, None),
        ProviderKind::Hailuo | ProviderKind::MinimaxMusic => ("sim-minimax-key", None, None),
        ProviderKind::Bfl => ("sim-bfl-key", None, Some("sim-bfl-webhook-secret")),
        ProviderKind::ElevenLabs => (
            "sim-elevenlabs-key",
            None,
            Some("sim-elevenlabs-webhook-secret"),
        ),
        ProviderKind::Replicate => (
            "sim-replicate-key",
            None,
            Some("whsec_c2ltLXJlcGxpY2F0ZS13ZWJob29rLXNlY3JldC0wMDA="),
        ),
        ProviderKind::Assembler => ("sim-assembler-key", None, None),
        ProviderKind::Shotstack => ("sim-shotstack-key", None, None),
    }
}

/// A lookup that treats empty and blank values as unset
fn get(lookup: &impl Fn(&str) -> Option<String>, key: &str) -> Option<String> {
    lookup(key)
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// A URL setting, checked and without trailing slash
fn url_setting(
    lookup: &impl Fn(&str) -> Option<String>,
    key: &str,
) -> Result<Option<String>, ConfigError> {
    let Some(value) = get(lookup, key) else {
        return Ok(None);
    };
    if value.starts_with("https://") || value.starts_with("http://") {
        Ok(Some(value.trim_end_matches('/').to_owned()))
    } else {
        Err(ConfigError::InvalidUrl {
            key: key.to_owned(),
            value,
        })
    }
}

impl ProviderConfig {
    /// A config from parts, for tests and callers that already hold the values
    pub fn new(base_url: impl Into<String>, api_key: impl Into<String>) -> Self {
        let base_url: String = base_url.into();
        Self {
            base_url: base_url.trim_end_matches('/').to_owned(),
            api_key: Secret::new(api_key),
            secret_key: None,
            webhook_secret: None,
        }
    }

    /// Reads one provider's configuration (see the module docs for keys and rules)
    pub fn from_lookup(
        kind: ProviderKind,
        lookup: &impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let key_name = config_key(kind, "API_KEY");
        let base_name = config_key(kind, "BASE_URL");
        let secret_name = config_key(kind, "SECRET_KEY");
        let webhook_secret = get(lookup, &config_key(kind, "WEBHOOK_SECRET")).map(Secret::new);
        let base_override = url_setting(lookup, &base_name)?;

        if let Some(api_key) = get(lookup, &key_name) {
            // Real credentials: the real host unless overridden, and every companion secret
            // must be real too (a dev Kling secret would only produce 401s).
            let base_url = match (base_override, default_base_url(kind)) {
                (Some(url), _) => url,
                (None, Some(default)) => default.to_owned(),
                (None, None) => return Err(ConfigError::Missing { key: base_name }),
            };
            let secret_key = get(lookup, &secret_name).map(Secret::new);
            if kind == ProviderKind::Kling && secret_key.is_none() {
                return Err(ConfigError::Unavailable {
                    provider: kind,
                    key: secret_name,
                });
            }
            return Ok(Self {
                base_url,
                api_key: Secret::new(api_key),
                secret_key,
                webhook_secret,
            });
        }

        match Environment::from_lookup(lookup) {
            Environment::Production => Err(ConfigError::Unavailable {
                provider: kind,
                key: key_name,
            }),
            Environment::Dev => {
                let base_url = match base_override {
                    Some(url) => url,
                    None => {
                        let sim = url_setting(lookup, "SIM_BASE_URL")?.ok_or_else(|| {
                            ConfigError::Missing {
                                key: "SIM_BASE_URL".into(),
                            }
                        })?;
                        format!("{sim}/{}", kind.as_str())
                    }
                };
                let (api_key, secret_key, dev_webhook_secret) = dev_credentials(kind);
                Ok(Self {
                    base_url,
                    api_key: Secret::new(api_key),
                    secret_key: get(lookup, &secret_name)
                        .map(Secret::new)
                        .or(secret_key.map(Secret::from)),
                    webhook_secret: webhook_secret.or(dev_webhook_secret.map(Secret::from)),
                })
            }
        }
    }
}

/// The dev default of `CALLBACK_SECRET` (never used in production)
pub const DEV_CALLBACK_SECRET: &str = "sim-callback-secret";

/// Where providers call us back, and the key of the tokens in those URLs
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallbackConfig {
    /// `PUBLIC_BASE_URL`, without trailing slash
    pub public_base: String,
    /// `CALLBACK_SECRET`
    pub secret: Secret,
}

impl CallbackConfig {
    /// Reads `PUBLIC_BASE_URL` and `CALLBACK_SECRET`; dev defaults the secret to
    /// [`DEV_CALLBACK_SECRET`], production requires both
    pub fn from_lookup(lookup: &impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let public_base =
            url_setting(lookup, "PUBLIC_BASE_URL")?.ok_or_else(|| ConfigError::Missing {
                key: "PUBLIC_BASE_URL".into(),
            })?;
        let secret = match (
            get(lookup, "CALLBACK_SECRET"),
            Environment::from_lookup(lookup),
        ) {
            (Some(s), _) => Secret::new(s),
            (None, Environment::Dev) => Secret::new(DEV_CALLBACK_SECRET),
            (None, Environment::Production) => {
                return Err(ConfigError::Missing {
                    key: "CALLBACK_SECRET".into(),
                });
            }
        };
        Ok(Self {
            public_base,
            secret,
        })
    }
}
