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
                });
            }
        }
        let cue = |stage: &Option<StageId>| -> Result<Option<Cue>, StageId> {
            stage
                .as_ref()
                .map(|s| {
                    Ok(Cue {
                        stage: s.clone(),
                        key: key(s)?,
                        start_s: 0.0,
                    })
                })
                .transpose()
        };
        Ok(Self {
            master: spec.master,
            variants: spec.variants.clone(),
            badge: spec.badge,
            duration_s: spec.duration_s,
            clips,
            dialogue,
            voiceover: cue(&spec.voiceover)?,
            score: cue(&spec.score)?,
        })
    }
}
