-- Sessions of the support page (studio::api::support_session, actors/src/support_sessions.rs).
-- Only the SHA-256 of the cookie's token is stored; a session belongs to the support key that
-- opened it and dies with it (lookups join api_keys and refuse a revoked key).
CREATE TABLE support_sessions (
  token_hash TEXT PRIMARY KEY,
  key_hash   TEXT NOT NULL REFERENCES api_keys(key_hash),
  csrf_token TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE INDEX support_sessions_by_expiry ON support_sessions (expires_at);
