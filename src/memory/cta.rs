//! Which shot of a video is its call to action.
//!
//! The brief has no marker for it, and we chose not to add one: a video made for conversions or
//! sign-ups asks for the click at its end ("link in bio", "sign up free"), so **the call-to-action
//! shot is the last shot of a brief (or recorded render) whose target is `conversions` or
//! `signups`**; videos made for watch time or impressions have none. The same rule reads past
//! renders (their shots are stored in edit order, and their target with the render row), so the
//! click-through of a past render is evidence about the model that made its last shot, and it
//! steers the choice of model for the last shot of the next conversion brief. Clicks are
//! reported per render, never per shot, which is why one shot per render carries them.

use std::collections::{HashMap, HashSet};

use crate::brief::{Brief, OutcomeTarget};
use crate::ids::{JobId, ShotId};
use crate::memory::graph::{MemoryGraph, ShotRow};

/// Whether videos made for `target` end on a call to action
pub fn has_cta(target: OutcomeTarget) -> bool {
    match target {
        OutcomeTarget::Conversions | OutcomeTarget::Signups => true,
        OutcomeTarget::WatchTime | OutcomeTarget::Impressions => false,
    }
}

/// The brief's call-to-action shot: its last shot, for a conversions or sign-ups brief
pub fn cta_shot(brief: &Brief) -> Option<&ShotId> {
    if !has_cta(brief.outcome_target) {
        return None;
    }
    brief.shots.last().map(|s| &s.id)
}

/// The call-to-action shot row of every recorded conversions or sign-ups render, by job: its
/// last shot (one pass over the shots)
pub fn past_ctas(graph: &MemoryGraph) -> HashMap<&JobId, &ShotRow> {
    let with_cta: HashSet<&JobId> = graph
        .renders
        .iter()
        .filter(|r| has_cta(r.outcome_target))
        .map(|r| &r.job)
        .collect();
    let mut last = HashMap::new();
    for row in graph.shots.iter().filter(|s| with_cta.contains(&s.job)) {
        // Shots are stored in edit order, so the last one seen is the render's last shot.
        last.insert(&row.job, row);
    }
    last
}
