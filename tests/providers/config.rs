//! Configuration from Worker vars and secrets (`docs/local-providers.md`).

use std::collections::HashMap;

use studio::providers::ProviderKind;
use studio::providers::config::{
    CallbackConfig, ConfigError, DEV_CALLBACK_SECRET, Environment, ProviderConfig, config_key,
};

fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).into(), (*v).into()))
        .collect();
    move |k: &str| map.get(k).cloned()
}

const DEV: [(&str, &str); 2] = [
    ("ENVIRONMENT", "dev"),
    ("SIM_BASE_URL", "http://127.0.0.1:8788/"),
];

#[test]
fn config_keys_are_upper_cased_provider_names() {
    assert_eq!(
        config_key(ProviderKind::MinimaxMusic, "API_KEY"),
        "MINIMAX_MUSIC_API_KEY"
    );
    assert_eq!(
        config_key(ProviderKind::FalPika, "WEBHOOK_SECRET"),
        "FAL_WEBHOOK_SECRET"
    );
    assert_eq!(
        config_key(ProviderKind::ElevenLabs, "BASE_URL"),
        "ELEVENLABS_BASE_URL"
    );
}

#[test]
fn dev_without_credentials_uses_the_simulator_and_dev_credentials() {
    let lookup = env(&DEV);
    for kind in ProviderKind::ALL {
        let cfg = ProviderConfig::from_lookup(kind, &lookup).unwrap();
        assert_eq!(
            cfg.base_url,
            format!("http://127.0.0.1:8788/{}", kind.as_str())
        );
        assert!(cfg.api_key.expose().starts_with("sim-"), "{kind}");
    }
    let kling = ProviderConfig::from_lookup(ProviderKind::Kling, &lookup).unwrap();
    assert_eq!(kling.api_key.expose(), "sim-kling-ak");
    assert_eq!(kling.secret_key.unwrap().expose(), "sim-kling-sk");
    let sora = ProviderConfig::from_lookup(ProviderKind::Sora, &lookup).unwrap();
    assert_eq!(
        sora.webhook_secret.unwrap().expose(),
        "whsec_c2ltLXNvcmEtd2ViaG9vay1zZWNyZXQtMDAwMDAwMDA="
    );
    let hailuo = ProviderConfig::from_lookup(ProviderKind::Hailuo, &lookup).unwrap();
    assert_eq!(hailuo.api_key.expose(), "sim-minimax-key");
}

#[test]
fn dev_needs_the_simulator_url() {
    let lookup = env(&[("ENVIRONMENT", "dev")]);
    assert_eq!(
        ProviderConfig::from_lookup(ProviderKind::Veo, &lookup),
        Err(ConfigError::Missing {
            key: "SIM_BASE_URL".into()
        })
    );
}

#[test]
fn dev_with_a_real_key_uses_the_real_provider() {
    let lookup = env(&[DEV[0], DEV[1], ("RUNWAY_API_KEY", "key_real")]);
    let cfg = ProviderConfig::from_lookup(ProviderKind::Runway, &lookup).unwrap();
    assert_eq!(cfg.base_url, "https://api.dev.runwayml.com");
    assert_eq!(cfg.api_key.expose(), "key_real");
}

#[test]
fn production_without_credentials_is_unavailable_never_the_simulator() {
    let lookup = env(&[
        ("ENVIRONMENT", "production"),
        ("SIM_BASE_URL", "http://127.0.0.1:8788"),
    ]);
    for kind in ProviderKind::ALL {
        let err = ProviderConfig::from_lookup(kind, &lookup).unwrap_err();
        assert_eq!(
            err,
            ConfigError::Unavailable {
                provider: kind,
                key: config_key(kind, "API_KEY")
            }
        );
    }
    let msg = ProviderConfig::from_lookup(ProviderKind::Sora, &lookup)
        .unwrap_err()
        .to_string();
    assert_eq!(msg, "provider sora is unavailable: SORA_API_KEY is not set");
    // Unset ENVIRONMENT is production too: fail closed.
    assert_eq!(Environment::from_lookup(&env(&[])), Environment::Production);
    assert!(ProviderConfig::from_lookup(ProviderKind::Luma, &env(&[])).is_err());
}

#[test]
fn production_reads_keys_base_overrides_and_secrets() {
    let lookup = env(&[
        ("SORA_API_KEY", "sk-real"),
        ("SORA_WEBHOOK_SECRET", "whsec_abc"),
        ("BFL_API_KEY", "bfl-real"),
        ("BFL_BASE_URL", "https://api.eu.bfl.ai/"),
        ("KLING_API_KEY", "ak"),
        ("ASSEMBLER_API_KEY", "asm"),
    ]);
    let sora = ProviderConfig::from_lookup(ProviderKind::Sora, &lookup).unwrap();
    assert_eq!(sora.base_url, "https://api.openai.com");
    assert_eq!(sora.webhook_secret.unwrap().expose(), "whsec_abc");
    assert_eq!(
        ProviderConfig::from_lookup(ProviderKind::Bfl, &lookup)
            .unwrap()
            .base_url,
        "https://api.eu.bfl.ai"
    );
    // Kling needs its secret key too, and the assembler has no public default host.
    assert_eq!(
        ProviderConfig::from_lookup(ProviderKind::Kling, &lookup),
        Err(ConfigError::Unavailable {
            provider: ProviderKind::Kling,
            key: "KLING_SECRET_KEY".into()
        })
    );
    assert_eq!(
        ProviderConfig::from_lookup(ProviderKind::Assembler, &lookup),
        Err(ConfigError::Missing {
            key: "ASSEMBLER_BASE_URL".into()
        })
    );
}

#[test]
fn bad_urls_and_blank_values() {
    let lookup = env(&[
        ("VEO_API_KEY", "k"),
        ("VEO_BASE_URL", "generativelanguage.googleapis.com"),
    ]);
    assert!(matches!(
        ProviderConfig::from_lookup(ProviderKind::Veo, &lookup),
        Err(ConfigError::InvalidUrl { .. })
    ));
    let blank = env(&[("ENVIRONMENT", "production"), ("LUMA_API_KEY", "  ")]);
    assert!(matches!(
        ProviderConfig::from_lookup(ProviderKind::Luma, &blank),
        Err(ConfigError::Unavailable { .. })
    ));
}

#[test]
fn secrets_never_print() {
    let cfg = ProviderConfig::from_lookup(
        ProviderKind::Veo,
        &env(&[("VEO_API_KEY", "AIza-very-secret")]),
    )
    .unwrap();
    assert!(!format!("{cfg:?}").contains("very-secret"));
}

#[test]
fn callback_config_dev_default_and_production_requirements() {
    let dev = CallbackConfig::from_lookup(&env(&[
        ("ENVIRONMENT", "dev"),
        ("PUBLIC_BASE_URL", "http://127.0.0.1:8787"),
    ]))
    .unwrap();
    assert_eq!(dev.public_base, "http://127.0.0.1:8787");
    assert_eq!(dev.secret.expose(), DEV_CALLBACK_SECRET);
    let prod = env(&[("PUBLIC_BASE_URL", "https://render.example.test")]);
    assert_eq!(
        CallbackConfig::from_lookup(&prod),
        Err(ConfigError::Missing {
            key: "CALLBACK_SECRET".into()
        })
    );
    assert_eq!(
        CallbackConfig::from_lookup(&env(&[])),
        Err(ConfigError::Missing {
            key: "PUBLIC_BASE_URL".into()
        })
    );
}
