//! The assembly's input: every artifact placed on one timeline.

use serde::{Deserialize, Serialize};

use super::stage::AssemblySpec;
use crate::brief::AspectRatio;
use crate::ids::{ShotId, StageId};

/// What the assembler cuts: clips in edit order, audio cues, and the outputs wanted
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Timeline {
    /// Frame shape of the master
    pub master: AspectRatio,
    /// One variant per further frame shape, in this order after the master in the outputs
    pub variants: Vec<AspectRatio>,
    /// Burn in the "Made with CreatorStudio" badge
    pub badge: bool,
    /// Output resolution and encoder speed; the deployment chooses it, not the brief
    #[serde(default)]
    pub quality: Quality,
    /// Caption delivery
    #[serde(default)]
    pub captions: CaptionOptions,
    /// Length of the cut, seconds
    pub duration_s: f64,
    /// Video clips in edit order
    pub clips: Vec<Clip>,
    /// Dialogue lines, each at the start of its shot
    pub dialogue: Vec<Cue>,
    /// Narration from the start
    pub voiceover: Option<Cue>,
    /// Music bed from the start
    pub score: Option<Cue>,
    /// Set for a still request: the only output is this frame of the (single) clip, as a JPEG
    /// in the master's place; nothing else is made (see `docs/assembler.md`)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub still: Option<Still>,
}

/// Which frame a still request wants
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Still {
    /// The clip's last frame (the first frame of the next part of a long shot)
    LastFrame,
}

/// How the assembler renders: the same code path either way, at two sizes and speeds
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Quality {
    /// 1080p, what a creator publishes
    #[default]
    Hd,
    /// 360p with a fast preset: tests, demos, previews
    Preview,
}

impl Quality {
    /// Parses the `ASSEMBLY_QUALITY` setting (`hd` or `preview`)
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim() {
            "hd" => Some(Self::Hd),
            "preview" => Some(Self::Preview),
            _ => None,
        }
    }
}

/// Caption delivery options of the cut
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaptionOptions {
    /// Burn captions into the video outputs (a WebVTT file is delivered either way)
    pub burn: bool,
}

/// One shot's video on the timeline
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Clip {
    /// The shot
    pub shot: ShotId,
    /// R2 key of its motion artifact
    pub key: String,
    /// Start in the cut, seconds
    pub start_s: f64,
    /// Length in the cut, seconds
    pub duration_s: f64,
}

/// An audio artifact placed on the timeline
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cue {
    /// The stage that made it
    pub stage: StageId,
    /// R2 key of the audio
    pub key: String,
    /// Start in the cut, seconds
    pub start_s: f64,
    /// The words spoken, for captions
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Who speaks them (display name), for captions
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speaker: Option<String>,
    /// How long it plays (the score: the brief's length; a music model's clip may be shorter
    /// and is looped to fill it); absent plays the file once
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_s: Option<f64>,
    /// Further files that continue this one (a score longer than one music call), in order,
    /// each crossfaded into the one before it over `crossfade_s`
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub segments: Vec<CueSegment>,
    /// How long each join of `segments` crossfades, seconds
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crossfade_s: Option<f64>,
}

/// One further segment of a cue
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CueSegment {
    /// The stage that made it
    pub stage: StageId,
    /// R2 key of the audio
    pub key: String,
    /// Where it starts in the cut, seconds (its first `crossfade_s` overlap the segment before)
    pub start_s: f64,
    /// How long it plays, seconds (looped when the file is shorter)
    pub duration_s: f64,
}

impl Timeline {
    /// Places every artifact of an assembly; `key_of` gives a finished stage's primary R2 key.
    ///
    /// Returns the first stage without an artifact as the error.
    pub fn build(
        spec: &AssemblySpec,
        key_of: impl Fn(&StageId) -> Option<String>,
    ) -> Result<Self, StageId> {
        let key = |stage: &StageId| key_of(stage).ok_or_else(|| stage.clone());
        let mut clips = Vec::with_capacity(spec.shots.len());
        let mut dialogue = Vec::new();
        for slot in &spec.shots {
            clips.push(Clip {
                shot: slot.shot.clone(),
                key: key(&slot.motion)?,
                start_s: slot.start_s,
                duration_s: slot.duration_s,
            });
            if let Some(d) = &slot.dialogue {
                dialogue.push(Cue {
                    stage: d.clone(),
                    key: key(d)?,
                    start_s: slot.start_s,
                    text: slot.line.as_ref().map(|l| l.text.clone()),
                    speaker: slot.line.as_ref().map(|l| l.speaker.clone()),
                    duration_s: None,
                    segments: Vec::new(),
                    crossfade_s: None,
                });
            }
        }
        let cue = |stage: &Option<StageId>,
                   text: Option<&String>,
                   duration_s: Option<f64>|
         -> Result<Option<Cue>, StageId> {
            stage
                .as_ref()
                .map(|s| {
                    Ok(Cue {
                        stage: s.clone(),
                        key: key(s)?,
                        start_s: 0.0,
                        text: text.cloned(),
                        speaker: None,
                        duration_s,
                        segments: Vec::new(),
                        crossfade_s: None,
                    })
                })
                .transpose()
        };
        let mut score = cue(&spec.score, None, spec.score_duration_s)?;
        if let Some(score) = score.as_mut()
            && !spec.score_segments.is_empty()
        {
            for seg in &spec.score_segments {
                score.segments.push(CueSegment {
                    stage: seg.stage.clone(),
                    key: key(&seg.stage)?,
                    start_s: seg.start_s,
                    duration_s: seg.duration_s,
                });
            }
            score.crossfade_s = spec.score_crossfade_s;
        }
        Ok(Self {
            master: spec.master,
            variants: spec.variants.clone(),
            badge: spec.badge,
            quality: Quality::default(),
            captions: CaptionOptions {
                burn: spec.burn_captions,
            },
            duration_s: spec.duration_s,
            clips,
            dialogue,
            voiceover: cue(&spec.voiceover, spec.voiceover_text.as_ref(), None)?,
            score,
            still: None,
        })
    }

    /// A still request: the last frame of one clip (`key`, planned `duration_s` long)
    pub fn last_frame(shot: ShotId, key: String, duration_s: f64, master: AspectRatio) -> Self {
        Self {
            master,
            variants: Vec::new(),
            badge: false,
            quality: Quality::default(),
            captions: CaptionOptions::default(),
            duration_s,
            clips: vec![Clip {
                shot,
                key,
                start_s: 0.0,
                duration_s,
            }],
            dialogue: Vec::new(),
            voiceover: None,
            score: None,
            still: Some(Still::LastFrame),
        }
    }
}
