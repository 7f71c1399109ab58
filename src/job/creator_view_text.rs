//! The creator's view as JSON text with its ETag, kept in parts between polls.
//!
//! An app polls a job far more often than any one stage changes, and under fleet load building
//! and encoding every stage's view on every poll was most of a poll's cost. Each stage's part
//! (its JSON and the digest of it) is kept until its row changes: the shell forgets the stages a
//! committed step changed ([`Changes::stages`]), and everything else is encoded afresh on each
//! call. The text is exactly what `serde_json` makes of [`Job::creator_view`], so nothing a
//! client reads depends on the parts.
//!
//! A stage's part reads only its row and the support actions taken (a reroute's words), so the
//! parts are kept while those actions are the ones they were encoded with.

use sha2::{Digest, Sha256};

use super::state::ActionRecord;
use super::{Changes, Job};
use crate::ids::StageId;

/// Where the stages go in the view's text with no stages: the field and the one after it, so
/// the match is the view's own field (a string's quotes are escaped in JSON, and no other type
/// in the view has a `stages` field followed by `paused_from`)
const STAGES_SLOT: &str = "\"stages\":[],\"paused_from\":";

/// The most bytes of stage parts kept for one job; past it the parts are encoded on each call
/// instead (a job of thousands of stages does not pin megabytes in the isolate)
pub const MAX_KEPT_PARTS: usize = 1024 * 1024;

/// The creator's view encoded
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViewText {
    /// `serde_json` of [`Job::creator_view`]
    pub json: String,
    /// A strong validator: a quoted digest of the text (of its parts' digests, which is the
    /// same in what it tells apart); it changes only when the text does
    pub etag: String,
}

/// One stage's encoded part
#[derive(Debug)]
struct StagePart {
    stage: StageId,
    json: String,
    digest: [u8; 32],
}

/// The stage parts kept between calls; see the module doc
#[derive(Debug, Default)]
pub struct CreatorViewText {
    /// By the stage's place in plan order (a part names its stage, so a part at a place that
    /// now holds another stage is never used)
    stages: Vec<Option<StagePart>>,
    /// The support actions the parts were encoded with
    actions: Vec<ActionRecord>,
    /// Bytes of the kept parts' JSON
    bytes: usize,
}

impl CreatorViewText {
    /// Forgets the parts of the stages `changes` names; a new spec forgets every part
    pub fn forget(&mut self, changes: &Changes) {
        if changes.spec {
            self.clear();
            return;
        }
        // A step changes a stage or a few: a scan of the places is cheaper than keeping an index.
        for slot in &mut self.stages {
            if slot
                .as_ref()
                .is_some_and(|p| changes.stages.contains(&p.stage))
                && let Some(part) = slot.take()
            {
                self.bytes = self.bytes.saturating_sub(part.json.len());
            }
        }
    }

    /// Forgets every part (the job was replaced: created, or loaded again)
    pub fn clear(&mut self) {
        self.stages.clear();
        self.actions.clear();
        self.bytes = 0;
    }

    /// The view's text and ETag, encoding only the stages whose parts were forgotten
    pub fn encode(&mut self, job: &Job) -> serde_json::Result<ViewText> {
        if self.actions != job.header.actions {
            self.clear();
            self.actions = job.header.actions.clone();
        }
        let head = serde_json::to_string(&job.creator_view_without_stages())?;
        let Some(slot) = head.find(STAGES_SLOT) else {
            // Only if the view's fields were reordered, which the tests would catch first.
            return Err(serde::ser::Error::custom(
                "the creator's view has no `stages` before `paused_from`",
            ));
        };
        let (before, after) = head.split_at(slot);
        let after = after.get("\"stages\":[]".len()..).unwrap_or_default();
        let mut json = String::with_capacity(head.len() + self.bytes + 64);
        json.push_str(before);
        json.push_str("\"stages\":[");
        // Every piece hashed is a fixed 32 bytes, so no two views hash the same bytes.
        let mut digest = Sha256::new();
        digest.update(Sha256::digest(head.as_bytes()));
        let rows = job.rows_in_order();
        self.stages.resize_with(rows.len(), || None);
        for (i, (row, slot)) in rows.into_iter().zip(self.stages.iter_mut()).enumerate() {
            if i > 0 {
                json.push(',');
            }
            match slot {
                Some(part) if part.stage == row.spec.id => {
                    json.push_str(&part.json);
                    digest.update(part.digest);
                }
                _ => {
                    let part_json = serde_json::to_string(&job.creator_stage_view(row))?;
                    let part_digest: [u8; 32] = Sha256::digest(part_json.as_bytes()).into();
                    json.push_str(&part_json);
                    digest.update(part_digest);
                    let old = slot.take().map_or(0, |p| p.json.len());
                    self.bytes = self.bytes.saturating_sub(old);
                    if self.bytes + part_json.len() <= MAX_KEPT_PARTS {
                        self.bytes += part_json.len();
                        *slot = Some(StagePart {
                            stage: row.spec.id.clone(),
                            json: part_json,
                            digest: part_digest,
                        });
                    }
                }
            }
        }
        json.push(']');
        json.push_str(after);
        Ok(ViewText {
            json,
            etag: etag_of(digest.finalize().into()),
        })
    }
}

/// `"<24 hex digits>"`: the first 12 bytes of a digest, quoted as an ETag is
fn etag_of(digest: [u8; 32]) -> String {
    format!("\"{}\"", hex::encode(digest.get(..12).unwrap_or_default()))
}
