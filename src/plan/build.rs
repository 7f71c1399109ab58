//! Building the DAG from a brief and the creator's memory context.

use serde::{Deserialize, Serialize};

use super::stage::{
    AssemblySpec, ShotSlot, SpokenLine, StageKind, StageSpec, StageWork, shot_stage_id,
};
use crate::brief::limits::{
    MAX_KEYFRAME_PROMPT_CHARS, MAX_PLAN_TEXT_CHARS, cast_note_chars, keyframe_prompt_chars,
    plan_text_chars,
};
use crate::brief::validate::pacing::speaking_time_s;
use crate::brief::{AspectRatio, Brief, Shot};
use crate::ids::StageId;
use crate::memory::MemoryContext;

/// Job facts that shape the plan but are not in the brief
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PlanOptions {
    /// Burn in the "Made with CreatorStudio" badge (set for paid tiers)
    pub badge: bool,
}

/// The stages of one render, in dispatch (and topological) order
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// Every stage; dependencies precede dependents
    pub stages: Vec<StageSpec>,
}

/// The stage id of the voiceover
pub const VOICEOVER: &str = "voiceover";
/// The stage id of the score
pub const SCORE: &str = "score";
/// The stage id of the assembly
pub const ASSEMBLY: &str = "assembly";

fn master_and_variants(brief: &Brief) -> (AspectRatio, Vec<AspectRatio>) {
    let mut aspects: Vec<AspectRatio> = Vec::new();
    for p in &brief.platforms {
        if !aspects.contains(&p.aspect()) {
            aspects.push(p.aspect());
        }
    }
    let mut it = aspects.into_iter();
    let master = it.next().unwrap_or(AspectRatio::Landscape);
    (master, it.collect())
}

/// The keyframe prompt: the shot's prompt, then who is in it as the memory graph locked them.
///
/// Validation bounds the prompt built from the brief's own descriptions (per shot by
/// [`MAX_KEYFRAME_PROMPT_CHARS`], per plan by [`MAX_PLAN_TEXT_CHARS`]); a locked look may be
/// longer than the description it replaces, so it is used only while both stay within their
/// limits, which `look_slack` (what the plan may still grow by) and the shot's own slack track.
/// Otherwise the brief's description stands in for it.
fn keyframe_work(
    brief: &Brief,
    memory: &MemoryContext,
    shot: &Shot,
    look_slack: &mut usize,
) -> StageWork {
    let mut prompt = shot.prompt.trim().to_owned();
    let mut reference_images = Vec::new();
    let mut shot_slack =
        MAX_KEYFRAME_PROMPT_CHARS.saturating_sub(keyframe_prompt_chars(brief, shot));
    for id in &shot.cast {
        let member = brief.cast.iter().find(|m| &m.id == id);
        let look = memory.looks.get(id);
        let name = member.map_or(id.as_str(), |m| m.name.as_str());
        let from_brief = member.map(|m| m.description.as_str());
        let brief_chars = from_brief.map_or(0, |d| cast_note_chars(name, d));
        let locked = look
            .map(|l| l.description.as_str())
            .filter(|d| !d.trim().is_empty())
            .filter(|d| {
                let extra = cast_note_chars(name, d).saturating_sub(brief_chars);
                let fits = extra <= shot_slack && extra <= *look_slack;
                if fits {
                    shot_slack -= extra;
                    *look_slack -= extra;
                }
                fits
            });
        let description = locked.or(from_brief);
        if let Some(d) = description {
            prompt.push_str(&format!(". {name}: {}", d.trim()));
        }
        if let Some(l) = look {
            for key in &l.reference_images {
                if !reference_images.contains(key) {
                    reference_images.push(key.clone());
                }
            }
        }
    }
    StageWork::Keyframe {
        prompt,
        reference_images,
    }
}

struct Builder {
    stages: Vec<StageSpec>,
    master: AspectRatio,
}

impl Builder {
    fn push(&mut self, spec: StageSpec) -> StageId {
        let id = spec.id.clone();
        self.stages.push(spec);
        id
    }

    fn order(&self) -> u32 {
        u32::try_from(self.stages.len()).unwrap_or(u32::MAX)
    }

    fn job_stage(
        &mut self,
        id: &str,
        kind: StageKind,
        duration_s: f64,
        work: StageWork,
    ) -> StageId {
        let spec = StageSpec {
            id: StageId(id.to_owned()),
            kind,
            order: self.order(),
            shot: None,
            shot_kind: None,
            hero: false,
            deps: Vec::new(),
            duration_s,
            aspect: self.master,
            needs_continuity: false,
            work,
        };
        self.push(spec)
    }
}

/// Plans a render: a DAG of stages from a (validated) brief and the creator's memory context
pub fn build(brief: &Brief, memory: &MemoryContext, options: PlanOptions) -> Plan {
    let (master, variants) = master_and_variants(brief);
    let mut look_slack = MAX_PLAN_TEXT_CHARS.saturating_sub(plan_text_chars(brief));
    let mut b = Builder {
        stages: Vec::new(),
        master,
    };
    let mut slots = Vec::with_capacity(brief.shots.len());
    let mut start_s = 0.0;
    for shot in &brief.shots {
        let shot_spec =
            |b: &Builder, kind: StageKind, deps, duration_s, continuity, work| StageSpec {
                id: shot_stage_id(&shot.id, kind),
                kind,
                order: b.order(),
                shot: Some(shot.id.clone()),
                shot_kind: Some(shot.kind),
                hero: shot.hero,
                deps,
                duration_s,
                aspect: master,
                needs_continuity: continuity,
                work,
            };
        let has_cast = !shot.cast.is_empty();
        let work = keyframe_work(brief, memory, shot, &mut look_slack);
        let keyframe = b.push(shot_spec(
            &b,
            StageKind::Keyframe,
            vec![],
            0.0,
            has_cast,
            work,
        ));
        let work = StageWork::Motion {
            prompt: shot.prompt.trim().to_owned(),
            keyframe: keyframe.clone(),
        };
        let motion = b.push(shot_spec(
            &b,
            StageKind::Motion,
            vec![keyframe],
            shot.duration_s,
            has_cast,
            work,
        ));
        let dialogue = shot.dialogue.as_ref().map(|d| {
            let work = StageWork::Speech {
                text: d.line.trim().to_owned(),
                voice: d.character.clone(),
                voice_id: memory.voices.get(&d.character).cloned(),
            };
            let duration = speaking_time_s(&d.line);
            b.push(shot_spec(
                &b,
                StageKind::Dialogue,
                vec![],
                duration,
                true,
                work,
            ))
        });
        let line = shot.dialogue.as_ref().map(|d| SpokenLine {
            text: d.line.trim().to_owned(),
            speaker: brief
                .cast
                .iter()
                .find(|c| c.id == d.character)
                .map_or_else(|| d.character.clone(), |c| c.name.clone()),
        });
        slots.push(ShotSlot {
            shot: shot.id.clone(),
            motion,
            dialogue,
            line,
            start_s,
            duration_s: shot.duration_s,
        });
        start_s += shot.duration_s;
    }
    let voiceover = brief.voiceover.as_ref().map(|vo| {
        let work = StageWork::Speech {
            text: vo.text.trim().to_owned(),
            voice: vo.voice.clone(),
            voice_id: memory.voices.get(&vo.voice).cloned(),
        };
        b.job_stage(
            VOICEOVER,
            StageKind::Voiceover,
            speaking_time_s(&vo.text),
            work,
        )
    });
    let score = brief.score.as_ref().map(|s| {
        let work = StageWork::Score {
            mood: s.mood.trim().to_owned(),
        };
        b.job_stage(SCORE, StageKind::Score, s.duration_s, work)
    });
    let deps: Vec<StageId> = b.stages.iter().map(|s| s.id.clone()).collect();
    let assembly = AssemblySpec {
        master,
        variants,
        badge: options.badge,
        shots: slots,
        voiceover,
        score,
        duration_s: start_s,
        voiceover_text: brief.voiceover.as_ref().map(|vo| vo.text.trim().to_owned()),
        burn_captions: brief.captions.burn,
        score_duration_s: brief.score.as_ref().map(|s| s.duration_s),
    };
    let id = b.job_stage(
        ASSEMBLY,
        StageKind::Assembly,
        start_s,
        StageWork::Assembly(assembly),
    );
    if let Some(last) = b.stages.last_mut().filter(|s| s.id == id) {
        last.deps = deps;
    }
    Plan { stages: b.stages }
}
