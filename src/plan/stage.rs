//! Stage kinds, what a model must be able to do to run them, and the planned stage itself.

use serde::{Deserialize, Serialize};

pub use super::graph_row::GraphRow;
use crate::brief::{AspectRatio, ShotKind};
use crate::ids::{ShotId, StageId};
use crate::routing::StageRequest;

/// What a stage produces
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[derive(schemars::JsonSchema)]
pub enum StageKind {
    /// A still keyframe for one shot (image model)
    Keyframe,
    /// The moving shot, from its keyframe (video model)
    Motion,
    /// The last frame of one part of a long shot, the first frame of the next part (our
    /// assembler cuts it out of the part's clip)
    Frame,
    /// A spoken dialogue line (speech model)
    Dialogue,
    /// The narration (speech model)
    Voiceover,
    /// The music bed (music model)
    Score,
    /// The master and its per-platform variants (assembler)
    Assembly,
}

/// A model capability; each stage kind needs exactly one
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Capability {
    /// Text (and reference) to image
    Image,
    /// Image or text to video
    Video,
    /// Text to speech
    Speech,
    /// Text to music
    Music,
    /// Timeline to master and variants
    Assembly,
    /// A clip's last frame as a still (continuity between the parts of a long shot)
    Frame,
}

impl StageKind {
    /// The capability a model needs to run this stage
    pub fn capability(self) -> Capability {
        match self {
            Self::Keyframe => Capability::Image,
            Self::Motion => Capability::Video,
            Self::Frame => Capability::Frame,
            Self::Dialogue | Self::Voiceover => Capability::Speech,
            Self::Score => Capability::Music,
            Self::Assembly => Capability::Assembly,
        }
    }

    /// Name used in stage ids and on the wire
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Keyframe => "keyframe",
            Self::Motion => "motion",
            Self::Frame => "frame",
            Self::Dialogue => "dialogue",
            Self::Voiceover => "voiceover",
            Self::Score => "score",
            Self::Assembly => "assembly",
        }
    }
}

/// One stage of the plan: what it makes, from what, and what it waits for.
///
/// Immutable once planned; the job machine keeps the mutable part (attempts, state) next to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageSpec {
    /// `s04.keyframe`, `s04.motion`, `s04.dialogue`, `voiceover`, `score`, `assembly`
    pub id: StageId,
    /// What it produces
    pub kind: StageKind,
    /// Position in the plan (shot order, then job-level stages): the order in which ready stages
    /// take free concurrency slots
    pub order: u32,
    /// The shot it belongs to, for shot stages
    pub shot: Option<ShotId>,
    /// The shot's kind, for shot stages
    pub shot_kind: Option<ShotKind>,
    /// Whether the shot is a hero shot
    pub hero: bool,
    /// Stages whose artifacts this one needs
    pub deps: Vec<StageId>,
    /// Output length in seconds (0 for images)
    pub duration_s: f64,
    /// Frame shape of the output (the master's for audio, where it does not matter)
    pub aspect: AspectRatio,
    /// Whether a cast member's look or voice must match across stages
    pub needs_continuity: bool,
    /// Kind-specific inputs known at planning time
    pub work: StageWork,
    /// The creator's Memory Graph rows that shaped what is sent for this stage (its prompt,
    /// negative prompt, frame shape, voice or language), for support
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shaped_by: Vec<GraphRow>,
}

/// The inputs of a stage that are known when the plan is made
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum StageWork {
    /// A still image from a prompt and the cast's reference images
    Keyframe {
        /// The final prompt: the shot's, the cast's locked looks, the format's hook (first
        /// shot), the creator's visual fingerprint
        prompt: String,
        /// What the look must not drift to, for models with a negative prompt
        #[serde(default, skip_serializing_if = "Option::is_none")]
        negative_prompt: Option<String>,
        /// R2 keys of the cast's reference images (continuity)
        reference_images: Vec<String>,
    },
    /// A moving shot from its keyframe
    Motion {
        /// The final prompt: the shot's, the format's hook (first part of the first shot), the
        /// creator's visual fingerprint
        prompt: String,
        /// What the look must not drift to, for models with a negative prompt
        #[serde(default, skip_serializing_if = "Option::is_none")]
        negative_prompt: Option<String>,
        /// The keyframe stage whose artifact is the first frame
        keyframe: StageId,
    },
    /// Speech: a dialogue line or the narration
    Speech {
        /// The words
        text: String,
        /// Cast id (dialogue) or voice name (voiceover)
        voice: String,
        /// The provider voice id locked in the memory graph, when there is one
        voice_id: Option<String>,
        /// The audience's language (ISO 639-1), for models that take one
        #[serde(default, skip_serializing_if = "Option::is_none")]
        language: Option<String>,
    },
    /// The music bed (or one segment of it)
    Score {
        /// Mood prompt
        mood: String,
    },
    /// The last frame of a motion stage's clip, as a still: the keyframe of the next part of
    /// a shot too long for one call
    Frame {
        /// The motion stage whose clip ends on the frame
        clip: StageId,
    },
    /// Master and per-platform variants from every other stage's artifacts
    Assembly(AssemblySpec),
}

/// What the assembler is asked to cut, by stage; artifact keys are filled in at submit time
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssemblySpec {
    /// The master's frame shape (the brief's `master_aspect`, else the audience's primary
    /// platform's, else the first platform's: see [`super::audience`])
    pub master: AspectRatio,
    /// Further frame shapes, one variant each, in output order
    pub variants: Vec<AspectRatio>,
    /// Whether the "Made with CreatorStudio" badge is burnt in
    pub badge: bool,
    /// The shots in edit order
    pub shots: Vec<ShotSlot>,
    /// The narration stage, when the brief has one
    pub voiceover: Option<StageId>,
    /// The music stage, when the brief has one
    pub score: Option<StageId>,
    /// Length of the cut, seconds
    pub duration_s: f64,
    /// The narration's words, for captions
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voiceover_text: Option<String>,
    /// Burn the captions into the video outputs (the brief asked for it)
    #[serde(default)]
    pub burn_captions: bool,
    /// How long the score plays (the brief's; its first segment's when it is split), when the
    /// brief has one
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score_duration_s: Option<f64>,
    /// The score's further segments when the brief's score is longer than one music call
    /// makes, each crossfaded into the one before it
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub score_segments: Vec<Segment>,
    /// How long each join of the score's segments crossfades, seconds
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score_crossfade_s: Option<f64>,
}

/// A further segment of a long audio track: another stage's file, played from `start_s` for
/// `duration_s`, whose first `crossfade_s` overlap the end of the segment before it
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Segment {
    /// The stage that makes it
    pub stage: StageId,
    /// Where it starts in the cut, seconds
    pub start_s: f64,
    /// How long it plays, seconds
    pub duration_s: f64,
}

/// A line of dialogue as captions show it
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpokenLine {
    /// The words
    pub text: String,
    /// The speaker's display name
    pub speaker: String,
}

/// One shot's place in the edit
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShotSlot {
    /// The shot
    pub shot: ShotId,
    /// Its motion stage
    pub motion: StageId,
    /// Its dialogue stage, when it has a line
    pub dialogue: Option<StageId>,
    /// The line's words and who speaks them, for captions
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<SpokenLine>,
    /// Where it starts in the cut, seconds
    pub start_s: f64,
    /// How long it runs, seconds
    pub duration_s: f64,
}

/// The stage id of one kind of stage of a shot: `s04.keyframe`
pub fn shot_stage_id(shot: &ShotId, kind: StageKind) -> StageId {
    StageId(format!("{shot}.{}", kind.as_str()))
}

/// The stage id of one kind of stage of part `part` (from 1) of a shot split into parts: the
/// first part keeps the shot's own ids (`s04.motion`), later ones are `s04.p2.frame`,
/// `s04.p2.motion`
pub fn part_stage_id(shot: &ShotId, part: u32, kind: StageKind) -> StageId {
    if part <= 1 {
        shot_stage_id(shot, kind)
    } else {
        StageId(format!("{shot}.p{part}.{}", kind.as_str()))
    }
}

impl StageSpec {
    /// Characters of input text (what speech is priced by); 0 for other stages
    pub fn chars(&self) -> usize {
        match &self.work {
            StageWork::Speech { text, .. } => text.chars().count(),
            StageWork::Keyframe { .. }
            | StageWork::Motion { .. }
            | StageWork::Score { .. }
            | StageWork::Frame { .. }
            | StageWork::Assembly(_) => 0,
        }
    }

    /// What the Memory Graph made of this stage: the final prompt and negative prompt sent
    /// (or the words spoken, in which language), and the rows that shaped them
    pub fn shaping(&self) -> StageShaping {
        let voice_id = match &self.work {
            StageWork::Speech { voice_id, .. } => voice_id.clone(),
            StageWork::Keyframe { .. }
            | StageWork::Motion { .. }
            | StageWork::Score { .. }
            | StageWork::Frame { .. }
            | StageWork::Assembly(_) => None,
        };
        let (prompt, negative_prompt, language) = match &self.work {
            StageWork::Keyframe {
                prompt,
                negative_prompt,
                ..
            }
            | StageWork::Motion {
                prompt,
                negative_prompt,
                ..
            } => (Some(prompt.clone()), negative_prompt.clone(), None),
            StageWork::Speech { text, language, .. } => {
                (Some(text.clone()), None, language.clone())
            }
            StageWork::Score { mood } => (Some(mood.clone()), None, None),
            StageWork::Frame { .. } | StageWork::Assembly(_) => (None, None, None),
        };
        StageShaping {
            prompt,
            negative_prompt,
            language,
            voice_id,
            aspect: self.aspect,
            shaped_by: self.shaped_by.clone(),
        }
    }

    /// What the router needs to rank models for this stage
    pub fn routing_request(&self) -> StageRequest {
        StageRequest {
            stage: self.id.clone(),
            kind: self.kind,
            shot_kind: self.shot_kind,
            hero: self.hero,
            duration_s: self.duration_s,
            aspect: self.aspect,
            needs_continuity: self.needs_continuity,
            shot: self.shot.clone(),
            chars: self.chars(),
        }
    }
}

/// What support sees of how the Memory Graph shaped one stage (`shaping` on each stage of the
/// support view)
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct StageShaping {
    /// The final prompt sent (image and video stages), the words spoken (speech) or the mood
    /// (music); none for frames and the assembly
    pub prompt: Option<String>,
    /// The negative prompt, sent to models whose API takes one
    pub negative_prompt: Option<String>,
    /// The language of speech (ISO 639-1), sent to models that take one
    pub language: Option<String>,
    /// The voice speech is made with, from the creator's Graph (none: the house voice)
    pub voice_id: Option<String>,
    /// The frame shape generated (the master's)
    pub aspect: AspectRatio,
    /// The Memory Graph rows that shaped it: `fingerprint`, `format_dna:{format}`, `audience`,
    /// `look:{cast id}`, `voice:{name}`
    pub shaped_by: Vec<GraphRow>,
}
