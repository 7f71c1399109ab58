-- The app and support surfaces: idempotency keys with their lifetime, and list/search indexes.

-- Idempotency-Key -> job, per creator. The key is kept as sha256 hex (it may be long or odd);
-- `created_at` is when the key was first used: within IDEMPOTENCY_TTL_S (24 h by default) every
-- request with it reaches the same job, after that the row is replaced and the key starts anew.
CREATE TABLE idempotency_keys (
  creator_id TEXT NOT NULL,
  key_hash   TEXT NOT NULL,
  job_id     TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (creator_id, key_hash)
);

-- Pages of a creator's renders ordered by (created_at, job_id), so equal timestamps page stably.
CREATE INDEX renders_by_creator_page ON renders (creator_id, created_at DESC, job_id DESC);
-- Support search across creators.
CREATE INDEX renders_by_created ON renders (created_at DESC, job_id DESC);
-- Support search by provider.
CREATE INDEX provider_tasks_by_job ON provider_tasks (job_id, provider);
CREATE INDEX cost_by_job ON cost_ledger (job_id, provider);
