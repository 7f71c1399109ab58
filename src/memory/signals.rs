//! The outcome signals of a context beyond the target's statistics: click-through of past
//! call-to-action shots, watch evidence for pacing, and the Graph rows near the brief.
//!
//! [`Signals`] reads what they need from the graph once per context; [`Signals::context`] gives
//! the part of the [`MemoryContext`] they fill (`cta_shot`, `click_through`, `pacing_evidence`,
//! `related_rows`), and each similar past shot takes its click-through and its render's
//! similarity from it.

use std::collections::{BTreeMap, HashMap};

use crate::brief::{Brief, ShotKind};
use crate::ids::{JobId, ModelId, ShotId};
use crate::memory::context::{ClickThroughStat, MemoryContext};
use crate::memory::cta::{cta_shot, past_ctas};
use crate::memory::embed::Embedder;
use crate::memory::graph::{MemoryGraph, ShotRow};
use crate::memory::metric::click_through;
use crate::memory::pacing_evidence::pacing_evidence;
use crate::memory::row_embed::{DEFAULT_RELATED, nearest_rows, render_similarities};
use crate::memory::row_text::brief_text;

/// What the signals of one context are computed from
pub(crate) struct Signals<'a> {
    /// The brief's text embedding, when the embedder has one
    brief_vector: Option<Vec<f32>>,
    embedder_id: String,
    /// Each past render's outcome-row similarity to the brief
    render_similarity: BTreeMap<&'a JobId, f64>,
    /// Each past call-to-action shot (by job and shot) with its render's click-through
    cta: HashMap<(&'a JobId, &'a ShotId), (&'a ShotRow, f64)>,
}

impl<'a> Signals<'a> {
    pub(crate) fn new(graph: &'a MemoryGraph, brief: &Brief, embedder: &dyn Embedder) -> Self {
        let embedder_id = embedder.id().to_owned();
        let brief_vector = embedder.embed(&brief_text(brief));
        let render_similarity = brief_vector
            .as_deref()
            .map(|v| render_similarities(graph, v, &embedder_id))
            .unwrap_or_default();
        let outcomes: HashMap<&JobId, _> = graph.outcomes.iter().map(|o| (&o.job, o)).collect();
        let cta = past_ctas(graph)
            .into_iter()
            .filter_map(|(job, row)| {
                let ctr = click_through(outcomes.get(job)?)?;
                Some(((job, &row.shot), (row, ctr)))
            })
            .collect();
        Self {
            brief_vector,
            embedder_id,
            render_similarity,
            cta,
        }
    }

    /// A past shot's render's click-through, when it was that render's call-to-action shot
    pub(crate) fn click_through_of(&self, row: &ShotRow) -> Option<f64> {
        self.cta.get(&(&row.job, &row.shot)).map(|(_, ctr)| *ctr)
    }

    /// How close a past render's outcome row is to the brief
    pub(crate) fn render_similarity_of(&self, job: &JobId) -> Option<f64> {
        self.render_similarity.get(job).copied()
    }

    /// The context's fields these signals fill; every other field is left at its default
    pub(crate) fn context(&self, graph: &MemoryGraph, brief: &Brief) -> MemoryContext {
        MemoryContext {
            cta_shot: cta_shot(brief).cloned(),
            click_through: self.click_through_stats(),
            pacing_evidence: pacing_evidence(graph, &brief.format),
            related_rows: self
                .brief_vector
                .as_deref()
                .map(|v| nearest_rows(graph, v, &self.embedder_id, DEFAULT_RELATED))
                .unwrap_or_default(),
            ..MemoryContext::default()
        }
    }

    /// Per (model, shot kind): the mean click-through over renders (one call-to-action shot each)
    fn click_through_stats(&self) -> Vec<ClickThroughStat> {
        let mut groups: BTreeMap<(&ModelId, ShotKind), (u32, f64)> = BTreeMap::new();
        for (row, ctr) in self.cta.values() {
            let g = groups.entry((&row.model, row.kind)).or_insert((0, 0.0));
            g.0 += 1;
            g.1 += ctr;
        }
        groups
            .into_iter()
            .map(|((model, shot_kind), (renders, sum))| ClickThroughStat {
                model: model.clone(),
                shot_kind,
                renders,
                mean: sum / f64::from(renders.max(1)),
            })
            .collect()
    }
}
