-- Per-tier caps on renders in flight (studio::api::tier_limits, actors/src/tier_caps.rs).

-- A render admitted under its creator's in-flight cap, from the moment it is admitted until its
-- render index row exists (the create handler writes that row next). Admission is one
-- INSERT ... SELECT that counts the creator's renders in flight plus the admissions not yet
-- indexed, so concurrent creates cannot all pass under the cap. Rows older than the orphan
-- window (ORPHANED_QUEUED_AFTER, 10 minutes) are deleted by the next admission.
CREATE TABLE render_admissions (
  job_id      TEXT PRIMARY KEY,
  creator_id  TEXT NOT NULL,
  admitted_at INTEGER NOT NULL
);
CREATE INDEX render_admissions_by_creator ON render_admissions (creator_id, admitted_at);

-- Only the renders in flight, so counting them reads those rows and not a creator's history.
-- The WHERE clause must stay word for word the one of the count in actors/src/tier_caps.rs, or
-- SQLite will not use this index.
CREATE INDEX renders_in_flight ON renders (creator_id, status, updated_at)
  WHERE status NOT IN ('succeeded', 'failed', 'cancelled');
