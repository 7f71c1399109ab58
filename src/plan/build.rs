//! Building the DAG from a brief and the creator's memory context.

use serde::{Deserialize, Serialize};

use super::graph_row::GraphRow;
use super::stage::{
    AssemblySpec, Segment, ShotSlot, SpokenLine, StageKind, StageSpec, StageWork, part_stage_id,
};
use super::{audience, style};
use crate::brief::limits::{
    MAX_KEYFRAME_PROMPT_CHARS, MAX_PLAN_TEXT_CHARS, MAX_PROMPT_CHARS, MIN_SPLIT_CLIP_S,
};
use crate::brief::text_size::{cast_note_chars, keyframe_prompt_chars, plan_text_chars};
use crate::brief::validate::screen_time::speaking_time_s;
use crate::brief::{AspectRatio, Brief, Shot};
use crate::ids::StageId;
use crate::memory::MemoryContext;

/// Job facts that shape the plan but are not in the brief
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct PlanOptions {
    /// Burn in the "Made with CreatorStudio" badge (set for paid tiers)
    pub badge: bool,
    /// The longest clip one video call makes (the registry's longest); a longer shot is split
    /// into equal parts that continue each other. `None`: never split
    #[serde(default)]
    pub max_clip_s: Option<f64>,
    /// The longest music one call makes; a longer score is split into segments joined by
    /// crossfades. `None`: never split
    #[serde(default)]
    pub max_music_s: Option<f64>,
}

/// How long the joins of a split score crossfade, seconds (at most a quarter of a segment)
pub const SCORE_CROSSFADE_S: f64 = 3.0;

/// How many equal parts of at most `max_s` make `duration_s` (1 without a usable limit)
pub fn parts_of(duration_s: f64, max_s: Option<f64>) -> u32 {
    match max_s.filter(|m| m.is_finite() && *m > 0.0) {
        // `as` saturates; a brief's durations are bounded far below that anyway.
        Some(max) if duration_s > max => (duration_s / max).ceil().max(1.0) as u32,
        Some(_) | None => 1,
    }
}

/// A score's segments: `(start_s, duration_s)` each, in order, and the crossfade of the joins.
///
/// `k` segments start at `i x total / k`; each but the last runs the crossfade longer, into the
/// next one, so the joins overlap by exactly the crossfade and the whole lasts `total`. `k` is
/// the fewest segments that each fit in `max_s`.
pub fn score_segments(total_s: f64, max_s: Option<f64>) -> (Vec<(f64, f64)>, f64) {
    let mut k = parts_of(total_s, max_s);
    if k <= 1 {
        return (vec![(0.0, total_s)], 0.0);
    }
    let max = max_s.unwrap_or(total_s);
    let crossfade = |k: u32| SCORE_CROSSFADE_S.min(total_s / f64::from(k) / 4.0);
    while total_s / f64::from(k) + crossfade(k) > max && k < u32::MAX {
        k += 1;
    }
    let x = crossfade(k);
    let each = total_s / f64::from(k);
    let segments = (0..k)
        .map(|i| {
            let start = each * f64::from(i);
            let len = if i + 1 == k {
                total_s - start
            } else {
                each + x
            };
            (start, len)
        })
        .collect();
    (segments, x)
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

/// What the creator's Memory Graph adds to every image and video prompt of one plan
struct Shaping {
    /// The fingerprint as a prompt clause
    look: Option<String>,
    /// The fingerprint's negative prompt
    negative: Option<String>,
    /// The format's hook, for the first shot
    hook: Option<String>,
    /// The format DNA's row, when the brief's format has one
    format: Option<GraphRow>,
    /// Whether the audience chose the master's shape
    by_audience: bool,
    /// The audience's language for speech
    language: Option<&'static str>,
    /// What the plan's text may still grow by ([`MAX_PLAN_TEXT_CHARS`] less what the brief
    /// and the looks already take)
    room: usize,
}

impl Shaping {
    fn new(brief: &Brief, memory: &MemoryContext, by_audience: bool) -> Self {
        let fingerprint = memory.fingerprint.as_ref();
        let dna = memory.format_dna.as_ref();
        Self {
            look: fingerprint.and_then(style::look_clause),
            negative: fingerprint.and_then(style::negative_prompt),
            hook: dna.and_then(|f| style::hook_clause(f.hook_style.as_deref())),
            format: dna.map(|f| GraphRow::FormatDna(f.format.clone())),
            by_audience,
            language: audience::speech_language(memory.audience.as_ref()),
            room: MAX_PLAN_TEXT_CHARS.saturating_sub(plan_text_chars(brief)),
        }
    }

    /// Finishes an image or video prompt: the hook (when `opening`), then the look, each while
    /// it fits the stage's `stage_room` and the plan's room; returns the negative prompt (while
    /// it fits) and records what was used in `rows`
    fn finish(
        &mut self,
        prompt: &mut String,
        opening: bool,
        mut stage_room: usize,
        rows: &mut Vec<GraphRow>,
    ) -> Option<String> {
        if opening
            && let Some(hook) = &self.hook
            && append(prompt, hook, &mut stage_room, &mut self.room)
            && let Some(row) = &self.format
        {
            rows.push(row.clone());
        }
        let mut negative = None;
        if let Some(look) = &self.look
            && append(prompt, look, &mut stage_room, &mut self.room)
        {
            rows.push(GraphRow::Fingerprint);
            negative = self.negative.clone().filter(|n| {
                let n = n.chars().count();
                let fits = n <= self.room;
                if fits {
                    self.room -= n;
                }
                fits
            });
        }
        if self.by_audience {
            rows.push(GraphRow::Audience);
        }
        negative
    }
}

/// Appends `clause` as a sentence of `prompt` when it fits both rooms, which it then uses up
fn append(
    prompt: &mut String,
    clause: &str,
    stage_room: &mut usize,
    plan_room: &mut usize,
) -> bool {
    let sep = if prompt.is_empty() {
        ""
    } else if prompt.ends_with(['.', '!', '?']) {
        " "
    } else {
        ". "
    };
    let extra = sep.len() + clause.chars().count();
    if extra > *stage_room || extra > *plan_room {
        return false;
    }
    prompt.push_str(sep);
    prompt.push_str(clause);
    *stage_room -= extra;
    *plan_room -= extra;
    true
}

/// The keyframe prompt: the shot's prompt, then who is in it as the memory graph locked them,
/// then (see [`Shaping::finish`]) the format's hook on the first shot and the creator's look.
///
/// Validation bounds the prompt built from the brief's own descriptions (per shot by
/// [`MAX_KEYFRAME_PROMPT_CHARS`], per plan by [`MAX_PLAN_TEXT_CHARS`]); a locked look may be
/// longer than the description it replaces, and the hook and the look add to it, so each is
/// used only while both stay within their limits, which the plan's room and the shot's own slack
/// track. Otherwise the brief's description stands in for a locked look, and the hook or the
/// look is left out (and not recorded as shaping the stage).
fn keyframe_work(
    brief: &Brief,
    memory: &MemoryContext,
    shot: &Shot,
    opening: bool,
    shaping: &mut Shaping,
) -> (StageWork, Vec<GraphRow>) {
    let mut prompt = shot.prompt.trim().to_owned();
    let mut reference_images = Vec::new();
    let mut rows = Vec::new();
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
                let fits = extra <= shot_slack && extra <= shaping.room;
                if fits {
                    shot_slack -= extra;
                    shaping.room -= extra;
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
            if locked.is_some() || !l.reference_images.is_empty() {
                rows.push(GraphRow::Look(id.clone()));
            }
        }
    }
    let negative_prompt = shaping.finish(&mut prompt, opening, shot_slack, &mut rows);
    let work = StageWork::Keyframe {
        prompt,
        negative_prompt,
        reference_images,
    };
    (work, rows)
}

/// The motion prompt of one part of a shot: the shot's prompt, the hook on the first part of
/// the first shot, the creator's look, each while the prompt stays within [`MAX_PROMPT_CHARS`]
fn motion_work(
    shot: &Shot,
    keyframe: StageId,
    opening: bool,
    shaping: &mut Shaping,
) -> (StageWork, Vec<GraphRow>) {
    let mut prompt = shot.prompt.trim().to_owned();
    let mut rows = Vec::new();
    // Within the brief's own prompt limit: video models cap their prompts (Hailuo at 2,000
    // characters, Kling at 2,500), and a shot the brief could send must stay one they take.
    let room = MAX_PROMPT_CHARS.saturating_sub(prompt.chars().count());
    let negative_prompt = shaping.finish(&mut prompt, opening, room, &mut rows);
    let work = StageWork::Motion {
        prompt,
        negative_prompt,
        keyframe,
    };
    (work, rows)
}

/// A speech stage: the words, the voice the Graph locked, the audience's language
fn speech_work(
    text: &str,
    voice: &str,
    memory: &MemoryContext,
    shaping: &Shaping,
) -> (StageWork, Vec<GraphRow>) {
    let voice_id = memory.voices.get(voice).cloned();
    let mut rows = Vec::new();
    if voice_id.is_some() {
        rows.push(GraphRow::Voice(voice.to_owned()));
    }
    if shaping.language.is_some() {
        rows.push(GraphRow::Audience);
    }
    let work = StageWork::Speech {
        text: text.trim().to_owned(),
        voice: voice.to_owned(),
        voice_id,
        language: shaping.language.map(str::to_owned),
    };
    (work, rows)
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
        (work, shaped_by): (StageWork, Vec<GraphRow>),
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
            shaped_by,
        };
        self.push(spec)
    }
}

/// Plans a render: a DAG of stages from a (validated) brief and the creator's memory context
pub fn build(brief: &Brief, memory: &MemoryContext, options: PlanOptions) -> Plan {
    let audience::Outputs {
        master,
        variants,
        by_audience,
    } = audience::outputs(brief, memory.audience.as_ref());
    let mut shaping = Shaping::new(brief, memory, by_audience);
    let mut b = Builder {
        stages: Vec::new(),
        master,
    };
    let mut slots = Vec::with_capacity(brief.shots.len());
    let mut start_s = 0.0;
    for (n, shot) in brief.shots.iter().enumerate() {
        // The format's hook opens the video: the first shot's keyframe and first motion.
        let opening = n == 0;
        let parts = parts_of(
            shot.duration_s,
            options.max_clip_s.map(|m| m.max(MIN_SPLIT_CLIP_S)),
        );
        let part_s = shot.duration_s / f64::from(parts);
        let shot_spec =
            |b: &Builder, id: StageId, kind: StageKind, deps, duration_s, continuity, shaped| {
                let (work, shaped_by): (StageWork, Vec<GraphRow>) = shaped;
                StageSpec {
                    id,
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
                    shaped_by,
                }
            };
        let has_cast = !shot.cast.is_empty();
        let work = keyframe_work(brief, memory, shot, opening, &mut shaping);
        let mut first_frame = b.push(shot_spec(
            &b,
            part_stage_id(&shot.id, 1, StageKind::Keyframe),
            StageKind::Keyframe,
            vec![],
            0.0,
            has_cast,
            work,
        ));
        let mut motions = Vec::with_capacity(parts as usize);
        for part in 1..=parts {
            if part > 1 {
                // The next part starts where the last one ended: its last frame.
                let clip = motions
                    .last()
                    .cloned()
                    .unwrap_or_else(|| first_frame.clone());
                first_frame = b.push(shot_spec(
                    &b,
                    part_stage_id(&shot.id, part, StageKind::Frame),
                    StageKind::Frame,
                    vec![clip.clone()],
                    0.0,
                    false,
                    (StageWork::Frame { clip }, Vec::new()),
                ));
            }
            let work = motion_work(
                shot,
                first_frame.clone(),
                opening && part == 1,
                &mut shaping,
            );
            motions.push(b.push(shot_spec(
                &b,
                part_stage_id(&shot.id, part, StageKind::Motion),
                StageKind::Motion,
                vec![first_frame.clone()],
                part_s,
                has_cast,
                work,
            )));
        }
        let dialogue = shot.dialogue.as_ref().map(|d| {
            let work = speech_work(&d.line, &d.character, memory, &shaping);
            let duration = speaking_time_s(&d.line);
            b.push(shot_spec(
                &b,
                part_stage_id(&shot.id, 1, StageKind::Dialogue),
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
        // One slot per part, back to back; the line is spoken from the shot's start.
        let mut dialogue = dialogue;
        let mut line = line;
        for (n, motion) in motions.into_iter().enumerate() {
            slots.push(ShotSlot {
                shot: shot.id.clone(),
                motion,
                dialogue: dialogue.take(),
                line: line.take(),
                start_s: start_s + part_s * n as f64,
                duration_s: part_s,
            });
        }
        start_s += shot.duration_s;
    }
    let voiceover = brief.voiceover.as_ref().map(|vo| {
        let work = speech_work(&vo.text, &vo.voice, memory, &shaping);
        b.job_stage(
            VOICEOVER,
            StageKind::Voiceover,
            speaking_time_s(&vo.text),
            work,
        )
    });
    let (segments, crossfade_s) = brief.score.as_ref().map_or((Vec::new(), 0.0), |s| {
        score_segments(s.duration_s, options.max_music_s)
    });
    let mut score = None;
    let mut score_segments_planned = Vec::new();
    if let Some(s) = &brief.score {
        for (n, (seg_start, seg_len)) in segments.iter().copied().enumerate() {
            let work = (
                StageWork::Score {
                    mood: s.mood.trim().to_owned(),
                },
                Vec::new(),
            );
            let id = if n == 0 {
                SCORE.to_owned()
            } else {
                format!("{SCORE}.p{}", n + 1)
            };
            let stage = b.job_stage(&id, StageKind::Score, seg_len, work);
            if n == 0 {
                score = Some(stage);
            } else {
                score_segments_planned.push(Segment {
                    stage,
                    start_s: seg_start,
                    duration_s: seg_len,
                });
            }
        }
    }
    let split = !score_segments_planned.is_empty();
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
        score_duration_s: if split {
            segments.first().map(|(_, len)| *len)
        } else {
            brief.score.as_ref().map(|s| s.duration_s)
        },
        score_segments: score_segments_planned,
        score_crossfade_s: split.then_some(crossfade_s),
    };
    let outputs_by = if by_audience {
        vec![GraphRow::Audience]
    } else {
        Vec::new()
    };
    let id = b.job_stage(
        ASSEMBLY,
        StageKind::Assembly,
        start_s,
        (StageWork::Assembly(assembly), outputs_by),
    );
    if let Some(last) = b.stages.last_mut().filter(|s| s.id == id) {
        last.deps = deps;
    }
    Plan { stages: b.stages }
}
