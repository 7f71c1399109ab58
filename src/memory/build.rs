//! The [`MemoryContext`] for a brief: locks, format DNA, outcome statistics, similar past shots.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::brief::{Brief, OutcomeTarget, ShotKind};
use crate::ids::{JobId, ModelId, ShotId};
use crate::memory::context::{CastLook, MemoryContext, OutcomeStat, SimilarShot, SimilarShots};
use crate::memory::embed::{Embedder, top_k};
use crate::memory::graph::{MemoryGraph, RenderOutcome, ShotOutcome, ShotRow};
use crate::memory::metric::observe;
use crate::memory::row_text::brief_text;
use crate::memory::signals::Signals;

/// How many similar past shots the context carries per brief shot by default
pub const DEFAULT_SIMILAR: usize = 5;

/// Builds the context for `brief`: voice locks for its cast, narrator and speakers, look locks
/// for its cast, the fingerprint, the format DNA of its format, the audience signal, outcome
/// statistics for its target, and the `similar_k` most similar past shots for each of its shots
pub fn build_context(
    graph: &MemoryGraph,
    brief: &Brief,
    embedder: &dyn Embedder,
    similar_k: usize,
) -> MemoryContext {
    let mut names: BTreeSet<&str> = brief.cast.iter().map(|c| c.id.as_str()).collect();
    names.extend(brief.voiceover.as_ref().map(|v| v.voice.as_str()));
    names.extend(
        brief
            .shots
            .iter()
            .filter_map(|s| s.dialogue.as_ref())
            .map(|d| d.character.as_str()),
    );
    let voices = graph
        .voices
        .iter()
        .filter(|v| names.contains(v.name.as_str()))
        .map(|v| (v.name.clone(), v.voice_id.clone()))
        .collect();
    let cast: BTreeSet<&str> = brief.cast.iter().map(|c| c.id.as_str()).collect();
    let looks: BTreeMap<String, CastLook> = graph
        .looks
        .iter()
        .filter(|l| cast.contains(l.cast_id.as_str()))
        .map(|l| {
            let look = CastLook {
                description: l.description.clone(),
                reference_images: l.reference_images.clone(),
            };
            (l.cast_id.clone(), look)
        })
        .collect();

    let shot_references = shot_references(brief, &looks);
    let observations = Observations::new(graph, brief.outcome_target);
    let signals = Signals::new(graph, brief, embedder);
    MemoryContext {
        voices,
        looks,
        fingerprint: graph.fingerprint.clone(),
        format_dna: graph
            .formats
            .iter()
            .find(|f| f.format == brief.format)
            .cloned(),
        audience: graph.audience.clone(),
        outcomes: outcome_stats(graph, &observations, brief.outcome_target),
        similar: similar_shots(graph, brief, embedder, similar_k, &observations, &signals),
        shot_references,
        casting: Vec::new(),
        ..signals.context(graph, brief)
    }
}

/// Per shot, the distinct reference images of its cast's locked looks (as the plan gathers
/// them for the keyframe); shots without any are left out
fn shot_references(brief: &Brief, looks: &BTreeMap<String, CastLook>) -> BTreeMap<ShotId, usize> {
    brief
        .shots
        .iter()
        .filter_map(|shot| {
            let keys: BTreeSet<&str> = shot
                .cast
                .iter()
                .filter_map(|id| looks.get(id))
                .flat_map(|l| l.reference_images.iter().map(String::as_str))
                .collect();
            (!keys.is_empty()).then(|| (shot.id.clone(), keys.len()))
        })
        .collect()
}

/// The texts [`build_context`] will embed for `brief` (see [`crate::memory::Precomputed`]):
/// its shot prompts and its own text (compared with the Graph rows' vectors)
pub fn brief_prompts(brief: &Brief) -> Vec<String> {
    let mut texts: Vec<String> = brief.shots.iter().map(|s| s.prompt.clone()).collect();
    texts.push(brief_text(brief));
    texts
}

/// Each past shot's observation for the target, from the outcome rows
struct Observations<'a> {
    target: OutcomeTarget,
    renders: HashMap<&'a JobId, &'a RenderOutcome>,
    shots: HashMap<(&'a JobId, &'a ShotId), &'a ShotOutcome>,
}

impl<'a> Observations<'a> {
    fn new(graph: &'a MemoryGraph, target: OutcomeTarget) -> Self {
        Self {
            target,
            renders: graph.outcomes.iter().map(|o| (&o.job, o)).collect(),
            shots: graph
                .shot_outcomes
                .iter()
                .map(|o| ((&o.job, &o.shot), o))
                .collect(),
        }
    }

    fn of(&self, row: &ShotRow) -> Option<f64> {
        let shot = self.shots.get(&(&row.job, &row.shot)).copied();
        let empty;
        let render = match self.renders.get(&row.job) {
            Some(r) => *r,
            None if shot.is_some() => {
                empty = RenderOutcome {
                    job: row.job.clone(),
                    views: None,
                    avg_watch_s: None,
                    retention_3s: None,
                    clicks: None,
                    conversions: None,
                };
                &empty
            }
            None => return None,
        };
        observe(self.target, render, shot).filter(|v| v.is_finite())
    }
}

/// Sum and count of observations per render
type PerJob<'a> = BTreeMap<&'a JobId, (f64, u32)>;

/// Per (model, shot kind): the mean over renders of each render's mean observation, folded
/// renders included (their evidence is kept as sums, see `compact`)
fn outcome_stats(
    graph: &MemoryGraph,
    obs: &Observations<'_>,
    target: OutcomeTarget,
) -> Vec<OutcomeStat> {
    // (model, kind) -> job -> (sum, count); BTreeMaps so the output order is fixed.
    let mut acc: BTreeMap<(&ModelId, ShotKind), PerJob<'_>> = BTreeMap::new();
    for row in &graph.shots {
        let Some(value) = obs.of(row) else { continue };
        let per_job = acc
            .entry((&row.model, row.kind))
            .or_default()
            .entry(&row.job)
            .or_insert((0.0, 0));
        per_job.0 += value;
        per_job.1 += 1;
    }
    // (model, kind) -> (renders, sum of per-render means), the full rows' and the folded ones'.
    let mut groups: BTreeMap<(&ModelId, ShotKind), (u32, f64)> = BTreeMap::new();
    for ((model, shot_kind), jobs) in acc {
        let renders = u32::try_from(jobs.len()).unwrap_or(u32::MAX);
        let sum: f64 = jobs.values().map(|(s, n)| s / f64::from((*n).max(1))).sum();
        groups.insert((model, shot_kind), (renders, sum));
    }
    for f in graph.folded.iter().filter(|f| f.target == target) {
        let group = groups.entry((&f.model, f.shot_kind)).or_insert((0, 0.0));
        group.0 = group.0.saturating_add(f.renders);
        group.1 += f.sum_of_means;
    }
    groups
        .into_iter()
        .filter(|(_, (renders, _))| *renders > 0)
        .map(|((model, shot_kind), (renders, sum))| OutcomeStat {
            model: model.clone(),
            shot_kind,
            target,
            renders,
            mean: sum / f64::from(renders.max(1)),
        })
        .collect()
}

fn similar_shots(
    graph: &MemoryGraph,
    brief: &Brief,
    embedder: &dyn Embedder,
    k: usize,
    obs: &Observations<'_>,
    signals: &Signals<'_>,
) -> Vec<SimilarShots> {
    if k == 0 {
        return Vec::new();
    }
    let id = embedder.id();
    let indexed: Vec<(&ShotRow, &[f32])> = graph
        .shots
        .iter()
        .filter_map(|row| {
            let e = row.embedding.as_ref().filter(|e| e.model == id)?;
            Some((row, e.vector.as_slice()))
        })
        .collect();
    if indexed.is_empty() {
        return Vec::new();
    }
    brief
        .shots
        .iter()
        .filter_map(|shot| {
            let query = embedder.embed(&shot.prompt)?;
            let hits = top_k(&query, indexed.iter().map(|(_, v)| *v), k);
            let matches = hits
                .into_iter()
                .filter_map(|(i, similarity)| {
                    let (row, _) = indexed.get(i)?;
                    Some(SimilarShot {
                        job: row.job.clone(),
                        shot: row.shot.clone(),
                        kind: row.kind,
                        model: row.model.clone(),
                        similarity: f64::from(similarity),
                        outcome: obs.of(row),
                        click_through: signals.click_through_of(row),
                        render_similarity: signals.render_similarity_of(&row.job),
                    })
                })
                .collect();
            Some(SimilarShots {
                shot: shot.id.clone(),
                matches,
            })
        })
        .collect()
}
