//! What the audience signal decides: the order of the outputs, and the language of speech.
//!
//! The audience never adds or drops an output: the brief's platforms decide which frame shapes
//! are cut. Where most of the audience watches (`primary_platform`) decides which of those
//! shapes is the master, unless the brief fixes it (`master_aspect`), and then which variant
//! comes first. Every image and video stage is generated in the master's shape, so the audience
//! also decides how each shot is framed.

use crate::brief::{AspectRatio, Brief};
use crate::memory::graph::AudienceSignal;

/// The outputs of a render: the master's shape, the variants' in order, and whether the audience
/// signal changed that order from the brief's own
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outputs {
    /// The master's frame shape
    pub master: AspectRatio,
    /// One variant per further shape, in output order
    pub variants: Vec<AspectRatio>,
    /// Whether the audience's primary platform changed the master or the variants' order
    pub by_audience: bool,
}

/// The master and variants of `brief` for this audience.
///
/// Without an audience the brief's order stands: the master is `master_aspect`, else the first
/// platform's shape; variants follow in platform order. With a primary platform whose shape the
/// brief publishes, that shape is the master (unless the brief fixed one), or else the first
/// variant.
pub fn outputs(brief: &Brief, audience: Option<&AudienceSignal>) -> Outputs {
    let mut shapes: Vec<AspectRatio> = Vec::new();
    for p in &brief.platforms {
        if !shapes.contains(&p.aspect()) {
            shapes.push(p.aspect());
        }
    }
    let own = order(&shapes, brief.master_aspect, None);
    let preferred = audience
        .and_then(|a| a.primary_platform)
        .map(|p| p.aspect())
        .filter(|a| shapes.contains(a));
    let shaped = order(&shapes, brief.master_aspect, preferred);
    let by_audience = shaped != own;
    Outputs {
        master: shaped.0,
        variants: shaped.1,
        by_audience,
    }
}

/// `(master, variants)`: the fixed master, else the preferred shape, else the first; the
/// preferred shape leads the variants when it is not the master
fn order(
    shapes: &[AspectRatio],
    fixed: Option<AspectRatio>,
    preferred: Option<AspectRatio>,
) -> (AspectRatio, Vec<AspectRatio>) {
    let master = fixed
        .or(preferred)
        .or_else(|| shapes.first().copied())
        .unwrap_or(AspectRatio::Landscape);
    let mut variants: Vec<AspectRatio> = Vec::new();
    if let Some(p) = preferred.filter(|p| *p != master && shapes.contains(p)) {
        variants.push(p);
    }
    for s in shapes {
        if *s != master && !variants.contains(s) {
            variants.push(*s);
        }
    }
    (master, variants)
}

/// The audience's language for speech (ISO 639-1), when its regions agree on one.
///
/// Regions are as the creator names them (`DE`, `Germany`, `LATAM`): each is read as an ISO
/// 3166 alpha-2 code or an English country name; regions we cannot read are skipped. Regions
/// that speak different languages (`DE` and `US`) give none: a language enforced on the wrong
/// script mispronounces it, while none lets the speech model read the words as they are.
pub fn speech_language(audience: Option<&AudienceSignal>) -> Option<&'static str> {
    let mut found: Option<&'static str> = None;
    for region in audience.map(|a| a.regions.as_slice()).unwrap_or_default() {
        let Some(lang) = region_language(region) else {
            continue;
        };
        match found {
            None => found = Some(lang),
            Some(l) if l == lang => {}
            Some(_) => return None,
        }
    }
    found
}

/// The main language of a region, limited to the languages speech models take a code for
/// (ElevenLabs' multilingual list: <https://elevenlabs.io/docs/overview/models>)
fn region_language(region: &str) -> Option<&'static str> {
    let r = region.trim().to_ascii_lowercase();
    let lang = match r.as_str() {
        "us" | "gb" | "uk" | "ie" | "au" | "nz" | "ca" | "usa" | "united states"
        | "united kingdom" | "ireland" | "australia" | "new zealand" | "canada" => "en",
        "de" | "at" | "ch" | "germany" | "austria" | "switzerland" => "de",
        "fr" | "be" | "france" | "belgium" => "fr",
        "es" | "mx" | "ar" | "co" | "cl" | "pe" | "spain" | "mexico" | "argentina" | "colombia"
        | "chile" | "peru" | "latam" => "es",
        "pt" | "br" | "portugal" | "brazil" => "pt",
        "it" | "italy" => "it",
        "nl" | "netherlands" => "nl",
        "pl" | "poland" => "pl",
        "se" | "sweden" => "sv",
        "dk" | "denmark" => "da",
        "fi" | "finland" => "fi",
        "no" | "norway" => "no",
        "cz" | "czechia" | "czech republic" => "cs",
        "sk" | "slovakia" => "sk",
        "hu" | "hungary" => "hu",
        "ro" | "romania" => "ro",
        "bg" | "bulgaria" => "bg",
        "hr" | "croatia" => "hr",
        "gr" | "greece" => "el",
        "tr" | "turkey" | "türkiye" => "tr",
        "ua" | "ukraine" => "uk",
        "ru" | "russia" => "ru",
        "jp" | "japan" => "ja",
        "kr" | "south korea" | "korea" => "ko",
        "cn" | "tw" | "china" | "taiwan" => "zh",
        "in" | "india" => "hi",
        "id" | "indonesia" => "id",
        "my" | "malaysia" => "ms",
        "ph" | "philippines" => "fil",
        "vn" | "vietnam" => "vi",
        "sa" | "ae" | "eg" | "saudi arabia" | "egypt" | "uae" => "ar",
        _ => return None,
    };
    Some(lang)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn audience(regions: &[&str]) -> AudienceSignal {
        AudienceSignal {
            primary_platform: None,
            regions: regions.iter().map(|r| (*r).to_owned()).collect(),
            interests: Vec::new(),
        }
    }

    #[test]
    fn regions_that_agree_give_their_language() {
        assert_eq!(speech_language(Some(&audience(&["DE", "at"]))), Some("de"));
        assert_eq!(
            speech_language(Some(&audience(&["Brazil", "somewhere"]))),
            Some("pt")
        );
        assert_eq!(speech_language(Some(&audience(&["DE", "US"]))), None);
        assert_eq!(speech_language(Some(&audience(&[]))), None);
        assert_eq!(speech_language(None), None);
    }
}
