-- Relational data of the render tier. Per-job state lives in each RenderJob Durable Object;
-- D1 holds what must be queried across jobs: keys, the render index, the cost ledger.

CREATE TABLE creators (
  id             TEXT PRIMARY KEY,
  name           TEXT NOT NULL,
  -- 'free' or a paid tier ('pro', 'studio'); paid renders carry the badge flag
  tier           TEXT NOT NULL DEFAULT 'free',
  -- Standard Webhooks signing secret (whsec_...) for outgoing webhooks; minted on first use
  webhook_secret TEXT,
  created_at     INTEGER NOT NULL
);

CREATE TABLE api_keys (
  -- sha256 hex of the key: the key itself is never stored
  key_hash   TEXT PRIMARY KEY,
  key_prefix TEXT NOT NULL,
  role       TEXT NOT NULL CHECK (role IN ('app', 'support', 'support_admin')),
  creator_id TEXT REFERENCES creators(id),
  label      TEXT,
  created_at INTEGER NOT NULL,
  revoked_at INTEGER,
  -- app keys belong to exactly one creator; support keys to none
  CHECK ((role = 'app') = (creator_id IS NOT NULL))
);

CREATE TABLE projects (
  creator_id TEXT NOT NULL REFERENCES creators(id),
  id         TEXT NOT NULL,
  name       TEXT,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (creator_id, id)
);

-- The index of jobs per creator and project; the job object is the source of truth.
CREATE TABLE renders (
  job_id     TEXT PRIMARY KEY,
  creator_id TEXT NOT NULL REFERENCES creators(id),
  project_id TEXT NOT NULL,
  status     TEXT NOT NULL,
  total_usd  REAL NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX renders_by_creator ON renders (creator_id, created_at DESC);
CREATE INDEX renders_by_project ON renders (creator_id, project_id, created_at DESC);
CREATE INDEX renders_by_status ON renders (status, updated_at DESC);

-- One row per paid stage attempt; the primary key makes a replayed write harmless.
CREATE TABLE cost_ledger (
  job_id      TEXT NOT NULL,
  stage_id    TEXT NOT NULL,
  attempt     INTEGER NOT NULL,
  creator_id  TEXT NOT NULL,
  model       TEXT NOT NULL,
  provider    TEXT NOT NULL,
  usd         REAL NOT NULL,
  recorded_at INTEGER NOT NULL,
  PRIMARY KEY (job_id, stage_id, attempt)
);
CREATE INDEX cost_by_creator ON cost_ledger (creator_id, recorded_at);

-- Routes callbacks that carry only the provider's id (Sora's project webhook) to their job.
CREATE TABLE provider_tasks (
  provider     TEXT NOT NULL,
  provider_ref TEXT NOT NULL,
  job_id       TEXT NOT NULL,
  stage_id     TEXT NOT NULL,
  attempt      INTEGER NOT NULL,
  created_at   INTEGER NOT NULL,
  PRIMARY KEY (provider, provider_ref)
);
