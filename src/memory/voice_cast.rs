//! A voice for every speaker, kept: Ra casts a voice from the provider's library for each
//! speaker of a brief the graph has none for, and the graph keeps it for the next render.
//!
//! Who speaks: every dialogue `character` and the voiceover's `voice`, each by its voice name
//! (a cast id, or a narration voice name). A speaker whose name has a row in `voices` speaks with
//! it (set by the creator, cloned, or cast earlier). For the others Ra reads what the brief says
//! of the character (the cast member's description, else the locked look's, else the name) and
//! picks the library voice whose labels fit it best (`fit`): gender, age, accent, tone words
//! and use (narration for a narrator, characters for dialogue).
//!
//! Rules:
//!
//! - **Two characters never share a voice**: a cast voice is one no other name of the graph
//!   holds, nor any speaker cast in the same answer. The brief says when two speakers share one:
//!   a voiceover whose `voice` names a cast member speaks with that member's voice (one name,
//!   one voice). A creator may also give two names the same voice id by hand (`PUT /v1/memory`).
//! - **Kept**: the choice is a `voices` row, written in the same synchronous step that made it
//!   ([`cast_voices`] returns the rows to persist), so a second render of the character, or a
//!   re-issued request for the same render, finds it and casts nothing.
//! - **No free voice, or no library**: the speaker is left uncast ([`Casting::NotCast`]); the
//!   render speaks the line in the house voice and Ra says so.
//!
//! Only a render job's context casts (the memory graph object fetches the library for it); the
//! app's `POST /v1/memory/context` preview only reads.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::brief::Brief;
use crate::memory::edit::{MAX_VOICES, RowChange, RowKey};
use crate::memory::error::MemoryError;
use crate::memory::graph::{MemoryGraph, Voice};
use crate::providers::ProviderKind;
use crate::providers::elevenlabs_voices::LibraryVoice;

/// A speaker without a voice in the graph
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Speaker {
    /// The voice name the graph keys it by (cast id, or the voiceover's voice name)
    pub name: String,
    /// How the Director knows it (the cast member's name, else the voice name)
    pub display: String,
    /// What the brief (or the locked look) says of the character
    pub description: String,
    /// Whether it narrates (the voiceover) rather than speaks lines
    pub narrator: bool,
}

/// Why a speaker has no voice after casting
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotCastReason {
    /// The library could not be read
    LibraryUnavailable,
    /// Every library voice is another character's
    NoFreeVoice,
    /// The graph holds as many voices as it may
    GraphFull,
}

/// What casting did for one speaker, for the job's notes
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum Casting {
    /// A voice was chosen and recorded under the speaker's name
    Cast {
        /// The speaker
        speaker: Speaker,
        /// The provider's voice id, now in the graph
        voice_id: String,
        /// The voice's display name in the library (`George`)
        voice_name: String,
        /// The traits of the voice that fit the description (`old`, `male`, `british`)
        fits: Vec<String>,
    },
    /// No voice was cast; the line is spoken in the house voice this time
    NotCast {
        /// The speaker
        speaker: Speaker,
        /// Why
        reason: NotCastReason,
    },
}

impl Casting {
    /// The speaker's voice name
    pub fn name(&self) -> &str {
        match self {
            Self::Cast { speaker, .. } | Self::NotCast { speaker, .. } => &speaker.name,
        }
    }

    /// The voice id cast, if one was
    pub fn voice_id(&self) -> Option<&str> {
        match self {
            Self::Cast { voice_id, .. } => Some(voice_id),
            Self::NotCast { .. } => None,
        }
    }
}

/// The brief's speakers that have no voice row in the graph, in the order they first speak
/// (dialogue in shot order, then the voiceover); each voice name once
pub fn speakers_to_cast(graph: &MemoryGraph, brief: &Brief) -> Vec<Speaker> {
    let has_voice = |name: &str| graph.voices.iter().any(|v| v.name == name);
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    let lines = brief
        .shots
        .iter()
        .filter_map(|s| s.dialogue.as_ref())
        .map(|d| (d.character.as_str(), false));
    let narration = brief.voiceover.iter().map(|v| (v.voice.as_str(), true));
    for (name, narrator) in lines.chain(narration) {
        if !seen.insert(name) || has_voice(name) {
            continue;
        }
        let member = brief.cast.iter().find(|m| m.id == name);
        let look = graph.looks.iter().find(|l| l.cast_id == name);
        let display = member
            .map(|m| m.name.trim())
            .filter(|n| !n.is_empty())
            .unwrap_or(name)
            .to_owned();
        let description = member
            .map(|m| m.description.trim())
            .filter(|d| !d.is_empty())
            .or_else(|| look.map(|l| l.description.trim()).filter(|d| !d.is_empty()))
            .unwrap_or(name)
            .to_owned();
        // A voiceover naming a cast member is that member speaking: a character, not a
        // narrator's voice of its own.
        let narrator = narrator && member.is_none();
        out.push(Speaker {
            name: name.to_owned(),
            display,
            description,
            narrator,
        });
    }
    out
}

/// Casts a voice for each speaker still without one and records it; returns what happened per
/// speaker and the rows to persist. Synchronous with the write, so two renders casting at once
/// cannot give one character two voices: the second finds the first's row and casts nothing.
///
/// # Errors
///
/// None today; the `Result` keeps the memory operations' shape.
pub fn cast_voices(
    graph: &mut MemoryGraph,
    speakers: &[Speaker],
    library: &[LibraryVoice],
) -> Result<(Vec<Casting>, Vec<RowChange>), MemoryError> {
    let mut taken: BTreeSet<String> = graph.voices.iter().map(|v| v.voice_id.clone()).collect();
    let mut castings = Vec::new();
    let mut changes = Vec::new();
    for speaker in speakers {
        if graph.voices.iter().any(|v| v.name == speaker.name) {
            continue;
        }
        if graph.voices.len() >= MAX_VOICES {
            castings.push(Casting::NotCast {
                speaker: speaker.clone(),
                reason: NotCastReason::GraphFull,
            });
            continue;
        }
        let wanted = Wanted::read(&speaker.description, speaker.narrator);
        let best = library
            .iter()
            .filter(|v| !taken.contains(&v.voice_id))
            .map(|v| (fit(&wanted, v), v))
            // Best fit first; ties go to the name, then the id, so the choice is stable.
            .min_by(|(a, va), (b, vb)| {
                b.score
                    .cmp(&a.score)
                    .then_with(|| va.name.cmp(&vb.name))
                    .then_with(|| va.voice_id.cmp(&vb.voice_id))
            });
        let Some((fit, voice)) = best else {
            castings.push(Casting::NotCast {
                speaker: speaker.clone(),
                reason: NotCastReason::NoFreeVoice,
            });
            continue;
        };
        taken.insert(voice.voice_id.clone());
        graph.voices.push(Voice {
            name: speaker.name.clone(),
            voice_id: voice.voice_id.clone(),
        });
        changes.push(RowChange::Upsert(RowKey::Voice(speaker.name.clone())));
        castings.push(Casting::Cast {
            speaker: speaker.clone(),
            voice_id: voice.voice_id.clone(),
            voice_name: voice.name.clone(),
            fits: fit.traits,
        });
    }
    Ok((castings, changes))
}

/// Every speaker left uncast because the library could not be read
pub fn library_unavailable(speakers: &[Speaker]) -> Vec<Casting> {
    speakers
        .iter()
        .map(|s| Casting::NotCast {
            speaker: s.clone(),
            reason: NotCastReason::LibraryUnavailable,
        })
        .collect()
}

/// What Ra tells the Director about one casting, as the note's body (after "Director, "):
/// never a provider's or model's name, so a voice named like one is not named
pub fn note_body(casting: &Casting) -> String {
    match casting {
        Casting::Cast {
            speaker,
            voice_name,
            fits,
            ..
        } => {
            let who = if speaker.display == speaker.name {
                format!("the {}", speaker.display)
            } else {
                format!("{} ({})", speaker.display, speaker.name)
            };
            let voice = if speakable(voice_name) {
                voice_name.trim().to_owned()
            } else {
                "a voice".to_owned()
            };
            let why = if fits.is_empty() {
                "the closest voice I had".to_owned()
            } else {
                fits.join(", ")
            };
            format!(
                "I cast {voice} for {who}: {why}, to fit \"{}\". They keep this voice from \
                 now on; change it in your voices whenever you like.",
                clip(&speaker.description, 80)
            )
        }
        Casting::NotCast { speaker, reason } => {
            let who = &speaker.display;
            match reason {
                NotCastReason::LibraryUnavailable => format!(
                    "I couldn't reach the voice library to cast {who}, so {who} speaks in the \
                     house voice this time; I'll cast a voice on the next render."
                ),
                NotCastReason::NoFreeVoice => format!(
                    "every voice I have already belongs to another character, so {who} speaks \
                     in the house voice. Clone a voice for {who} and I'll use it."
                ),
                NotCastReason::GraphFull => format!(
                    "your memory holds all the voices it can, so {who} speaks in the house \
                     voice. Free one up and I'll cast {who} next time."
                ),
            }
        }
    }
}

/// A voice name that names no provider (the creator's view never names one)
fn speakable(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    !name.trim().is_empty()
        && !ProviderKind::ALL
            .iter()
            .any(|p| lower.contains(p.as_str()) || lower.contains("eleven"))
}

fn clip(s: &str, max: usize) -> String {
    let s = s.trim();
    match s.char_indices().nth(max) {
        Some((at, _)) => format!("{}...", &s[..at]),
        None => s.to_owned(),
    }
}

/// A voice's gender
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Gender {
    Female,
    Male,
}

/// A voice's age band, ordered
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Age {
    Young,
    Middle,
    Old,
}

/// What a description asks of a voice
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Wanted {
    gender: Option<Gender>,
    age: Option<Age>,
    accents: Vec<&'static str>,
    tones: Vec<&'static str>,
    narrator: bool,
}

const FEMALE: [&str; 24] = [
    "woman",
    "women",
    "female",
    "girl",
    "lady",
    "she",
    "her",
    "hers",
    "mother",
    "mom",
    "mum",
    "grandmother",
    "grandma",
    "wife",
    "sister",
    "daughter",
    "queen",
    "aunt",
    "actress",
    "heroine",
    "widow",
    "nun",
    "princess",
    "waitress",
];
const MALE: [&str; 24] = [
    "man",
    "men",
    "male",
    "boy",
    "guy",
    "he",
    "his",
    "him",
    "father",
    "dad",
    "grandfather",
    "grandpa",
    "husband",
    "brother",
    "son",
    "king",
    "uncle",
    "gentleman",
    "sir",
    "monk",
    "prince",
    "lord",
    "fisherman",
    "actor",
];
const YOUNG: [&str; 11] = [
    "young",
    "child",
    "kid",
    "boy",
    "girl",
    "teen",
    "teenage",
    "teenager",
    "youthful",
    "student",
    "youngster",
];
const OLD: [&str; 14] = [
    "old",
    "elderly",
    "aged",
    "grandfather",
    "grandmother",
    "grandma",
    "grandpa",
    "weathered",
    "grey",
    "gray",
    "veteran",
    "ancient",
    "retired",
    "senior",
];
const MIDDLE: [&str; 3] = ["middle", "adult", "midlife"];
const ACCENTS: [&str; 16] = [
    "american",
    "british",
    "english",
    "scottish",
    "irish",
    "welsh",
    "australian",
    "canadian",
    "indian",
    "african",
    "southern",
    "german",
    "french",
    "italian",
    "spanish",
    "swedish",
];
const TONES: [&str; 26] = [
    "deep",
    "gravelly",
    "raspy",
    "husky",
    "hoarse",
    "warm",
    "calm",
    "soft",
    "gentle",
    "bright",
    "energetic",
    "authoritative",
    "confident",
    "crisp",
    "smooth",
    "friendly",
    "serious",
    "whispery",
    "strong",
    "cheerful",
    "playful",
    "wise",
    "raw",
    "booming",
    "quiet",
    "gruff",
];

fn words(text: &str) -> Vec<String> {
    text.to_ascii_lowercase()
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

impl Wanted {
    fn read(description: &str, narrator: bool) -> Self {
        let words = words(description);
        let has = |list: &[&str]| words.iter().any(|w| list.contains(&w.as_str()));
        let gender = match (has(&FEMALE), has(&MALE)) {
            (true, false) => Some(Gender::Female),
            (false, true) => Some(Gender::Male),
            (true, true) | (false, false) => None,
        };
        let age = if has(&OLD) {
            Some(Age::Old)
        } else if has(&YOUNG) {
            Some(Age::Young)
        } else if has(&MIDDLE) {
            Some(Age::Middle)
        } else {
            None
        };
        let pick = |list: &[&'static str]| -> Vec<&'static str> {
            list.iter()
                .copied()
                .filter(|t| words.iter().any(|w| w == t))
                .collect()
        };
        Self {
            gender,
            age,
            accents: pick(&ACCENTS),
            tones: pick(&TONES),
            narrator,
        }
    }
}

/// How well a voice fits, and the traits that fit
#[derive(Debug, Clone, PartialEq, Eq)]
struct Fit {
    score: i32,
    traits: Vec<String>,
}

fn gender_of(v: &LibraryVoice) -> Option<Gender> {
    let g = v.label(&["gender"])?;
    if g.starts_with('f') || g.contains("woman") {
        Some(Gender::Female)
    } else if g.starts_with('m') {
        Some(Gender::Male)
    } else {
        None
    }
}

fn age_of(v: &LibraryVoice) -> Option<Age> {
    let a = v.label(&["age"])?;
    if a.contains("young") {
        Some(Age::Young)
    } else if a.contains("middle") {
        Some(Age::Middle)
    } else if a.contains("old") {
        Some(Age::Old)
    } else {
        None
    }
}

/// How a library voice fits what a description wants: gender weighs most (a mismatch almost
/// never wins), then age (a neighbouring band half), accent, each tone word found in the
/// voice's labels or description, and its use (narration for a narrator, characters for lines)
fn fit(wanted: &Wanted, v: &LibraryVoice) -> Fit {
    let mut score = 0;
    let mut traits = Vec::new();
    match (wanted.gender, gender_of(v)) {
        (Some(w), Some(g)) if w == g => {
            score += 8;
            traits.push(
                match g {
                    Gender::Female => "female",
                    Gender::Male => "male",
                }
                .to_owned(),
            );
        }
        (Some(_), Some(_)) => score -= 12,
        (Some(_) | None, None) | (None, Some(_)) => {}
    }
    match (wanted.age, age_of(v)) {
        (Some(w), Some(a)) if w == a => {
            score += 4;
            traits.push(
                match a {
                    Age::Young => "young",
                    Age::Middle => "middle-aged",
                    Age::Old => "old",
                }
                .to_owned(),
            );
        }
        (Some(w), Some(a)) if (w as i32 - a as i32).abs() == 1 => score += 1,
        (Some(_), Some(_)) => score -= 2,
        (Some(_) | None, None) | (None, Some(_)) => {}
    }
    let accent = v.label(&["accent"]).unwrap_or_default();
    for a in &wanted.accents {
        let same = accent.contains(a)
            || (*a == "english" && accent.contains("british"))
            || (*a == "british" && accent.contains("english"));
        if same {
            score += 3;
            traits.push(format!("{a} accent"));
        }
    }
    let text = format!(
        "{} {} {}",
        v.label(&["description", "descriptive"]).unwrap_or_default(),
        v.description.as_deref().unwrap_or_default(),
        v.name
    )
    .to_ascii_lowercase();
    let voice_words = words(&text);
    for t in &wanted.tones {
        if voice_words.iter().any(|w| w == t) {
            score += 2;
            traits.push((*t).to_owned());
        }
    }
    let use_case = v.label(&["use case", "use_case"]).unwrap_or_default();
    let suits = if wanted.narrator {
        use_case.contains("narrat")
    } else {
        [
            "character",
            "conversational",
            "animation",
            "video game",
            "social",
        ]
        .iter()
        .any(|u| use_case.contains(u))
    };
    if suits {
        score += 2;
        traits.push(
            if wanted.narrator {
                "a narrator's voice"
            } else {
                "made for characters"
            }
            .to_owned(),
        );
    }
    Fit { score, traits }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn voice(id: &str, name: &str, labels: &[(&str, &str)]) -> LibraryVoice {
        LibraryVoice {
            voice_id: id.into(),
            name: name.into(),
            category: Some("premade".into()),
            labels: labels
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            description: None,
        }
    }

    #[test]
    fn the_description_picks_gender_age_accent_and_tone() {
        let library = [
            voice(
                "f1",
                "Alice",
                &[
                    ("gender", "female"),
                    ("age", "young"),
                    ("accent", "british"),
                ],
            ),
            voice(
                "m1",
                "George",
                &[
                    ("gender", "male"),
                    ("age", "old"),
                    ("accent", "british"),
                    ("description", "deep"),
                ],
            ),
            voice(
                "m2",
                "Liam",
                &[("gender", "male"), ("age", "young"), ("accent", "american")],
            ),
        ];
        let want = Wanted::read("a weathered old fisherman with a deep British voice", false);
        let best = library
            .iter()
            .max_by_key(|v| fit(&want, v).score)
            .map(|v| v.voice_id.as_str());
        assert_eq!(best, Some("m1"));
        let f = fit(&want, &library[1]);
        assert!(f.traits.contains(&"old".to_owned()) && f.traits.contains(&"deep".to_owned()));
    }

    #[test]
    fn a_voice_naming_a_provider_is_not_named() {
        assert!(!speakable("Veo Voice"));
        assert!(speakable("George"));
    }
}
