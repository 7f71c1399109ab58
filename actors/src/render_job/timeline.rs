//! `GET /timeline` on the job object: the job's history on one time axis, for the support page.
//!
//! The core's `TimelineRecorder` replays the journal through the job machine; this reads the
//! journal from SQLite a page at a time, so a long journal is never held whole in memory.

use studio::job::{Input, TimelineRecorder};
use worker::{Response, Result};

use super::Inner;
use super::store;
use crate::clock;

/// Journal rows read per query
const PAGE: i64 = 500;

pub(super) fn timeline(inner: &Inner) -> Result<Response> {
    if inner.with_job(|_| ()).is_none() {
        return Response::error("no such job", 404);
    }
    let sql = inner.state.storage().sql();
    let mut recorder: Option<TimelineRecorder> = None;
    let mut after = 0;
    loop {
        let rows = store::journal_page(&sql, after, PAGE)?;
        for row in &rows {
            after = row.seq;
            let entry = match row.entry() {
                Ok(entry) => entry,
                Err(e) => return Response::error(format!("journal entry {after}: {e}"), 500),
            };
            let step = match (&mut recorder, entry.input) {
                (None, Input::Created(created)) => {
                    TimelineRecorder::start(entry.at, created).map(|r| recorder = Some(r))
                }
                (None, other) => {
                    let kind = other.name();
                    return Response::error(
                        format!("journal starts with {kind}, not created"),
                        500,
                    );
                }
                (Some(r), input) => r.record(entry.at, input),
            };
            if let Err(e) = step {
                return Response::error(format!("replaying journal entry {after}: {e}"), 500);
            }
        }
        if i64::try_from(rows.len()).unwrap_or(i64::MAX) < PAGE {
            break;
        }
    }
    match recorder {
        Some(r) => Response::from_json(&r.finish(clock::now())),
        None => Response::error("no such job", 404),
    }
}
