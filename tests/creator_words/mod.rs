//! What the creator must never read, and how Ra's notes must read: shared by `ra_voice` and
//! `creator_view_hides_models`.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use studio::brief::ra::{DIRECTOR, RA, RaNote};
use studio::providers::ProviderKind;
use studio::routing::Registry;

/// The providers' own names as people write them (the registry spells them as path segments)
const PROVIDER_BRANDS: &[&str] = &[
    "Veo",
    "Gemini",
    "Sora",
    "OpenAI",
    "Kling",
    "Runway",
    "Pika",
    "fal.ai",
    "Luma",
    "Dream Machine",
    "Seedance",
    "BytePlus",
    "Hailuo",
    "MiniMax",
    "FLUX",
    "Black Forest",
    "ElevenLabs",
    "Replicate",
    "Shotstack",
];

/// Every model id, provider model name and feature flag name of every built-in registry
/// version, and every provider's name (its wire name, its Rust name, its brand)
pub fn forbidden() -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    for version in 1..=Registry::LATEST_VERSION {
        let registry = Registry::builtin_version(version).expect("every version up to the latest");
        for m in &registry.models {
            words.push(m.id.to_string());
            words.push(m.provider_model.clone());
            if let Some(flag) = &m.flag {
                words.push(flag.name.clone());
            }
        }
    }
    for p in ProviderKind::ALL {
        words.push(p.as_str().to_owned());
        words.push(format!("{p:?}"));
    }
    words.extend(PROVIDER_BRANDS.iter().map(|b| (*b).to_owned()));
    let mut lower: Vec<String> = words.into_iter().map(|w| w.to_lowercase()).collect();
    lower.sort();
    lower.dedup();
    lower
}

/// The forbidden words in `text` (case-insensitive substrings)
pub fn leaks(text: &str) -> Vec<String> {
    let text = text.to_lowercase();
    forbidden()
        .into_iter()
        .filter(|w| text.contains(w.as_str()))
        .collect()
}

/// Panics unless `text` names no model, provider or flag
pub fn assert_clean(what: &str, text: &str) {
    let found = leaks(text);
    assert!(found.is_empty(), "{what} names {found:?}: {text}");
}

/// Panics unless the note is from Ra, addresses the Director first, and names nothing forbidden
pub fn assert_ra(note: &RaNote) {
    assert_eq!(note.from, RA, "{note:?}");
    assert_said(&note.text);
}

/// Panics unless `text` opens by addressing the Director and names nothing forbidden
pub fn assert_said(text: &str) {
    assert!(
        text.starts_with(&format!("{DIRECTOR}, ")),
        "not addressed to the Director: {text}"
    );
    assert_clean("a note", text);
}
