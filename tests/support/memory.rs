//! Shared fixtures of the memory tests (included with `#[path]`; not a test itself).
#![allow(dead_code)]

use studio::brief::{OutcomeTarget, ShotKind};
use studio::ids::{JobId, ModelId, ShotId};
use studio::memory::{FinishedRender, FinishedShot};
use studio::time::Timestamp;

/// A finished render of `shots` (id, kind, model, prompt)
pub fn render(job: &str, shots: &[(&str, ShotKind, &str, &str)]) -> FinishedRender {
    FinishedRender {
        job: JobId(job.into()),
        format: "short_doc".into(),
        outcome_target: OutcomeTarget::WatchTime,
        cost_usd: 12.5,
        finished_at: Timestamp(1_700_000_000_000),
        shots: shots
            .iter()
            .map(|(id, kind, model, prompt)| FinishedShot {
                shot: ShotId((*id).into()),
                kind: *kind,
                model: ModelId((*model).into()),
                prompt: (*prompt).into(),
                duration_s: 5.0,
                hero: false,
                cast: vec![],
            })
            .collect(),
    }
}
