-- The render index's status is written by the job object as a retried, idempotent effect: a
-- write carries the job's status sequence (the length of its status history), and an older
-- write (a late re-issue) never overwrites a newer status: `... WHERE status_seq < ?`.
-- Rows written before this column existed start at 0, below every job's first status.
ALTER TABLE renders ADD COLUMN status_seq INTEGER NOT NULL DEFAULT 0;
