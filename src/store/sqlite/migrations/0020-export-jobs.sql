-- Export jobs (src/export/export-jobs.ts): an evidence package made in the background by the
-- server under a grant that carries export, resumable after a restart. What the package will
-- hold is fixed when the job starts (the messages found, the checkpoint its proofs lead to, the
-- time it is dated), so a job that is resumed makes the very package an uninterrupted one would.
CREATE TABLE IF NOT EXISTS export_job (
  id TEXT PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES user(id),
  grant_id TEXT NOT NULL,
  query TEXT NOT NULL,
  options TEXT NOT NULL,                -- JSON: limit, note, volumeBytes
  actor TEXT NOT NULL,                  -- JSON: the session, address and agent that started it
  state TEXT NOT NULL,                  -- queued | running | done | failed | cancelled
  created_at INTEGER NOT NULL,
  started_entry INTEGER NOT NULL,       -- the ledger entry that started it (export.job)
  canonical_query TEXT NOT NULL,
  total INTEGER NOT NULL,               -- found in the grant's scope
  sha256s TEXT NOT NULL,                -- JSON array: the messages it exports, in order
  checkpoint_size INTEGER,              -- the signed checkpoint the proofs lead to
  messages_done INTEGER NOT NULL DEFAULT 0,
  bytes_done INTEGER NOT NULL DEFAULT 0,
  bytes_total INTEGER NOT NULL DEFAULT 0,
  phase TEXT NOT NULL DEFAULT 'messages', -- messages | package | zip
  resumed INTEGER NOT NULL DEFAULT 0,   -- how many times it was picked up again after a stop
  error TEXT,
  finished_at INTEGER,
  ledger_index INTEGER,                 -- its export entry, once made
  manifest_sha256 TEXT,
  files TEXT                            -- JSON: the files to download (name, size, sha256, messages)
);
CREATE INDEX IF NOT EXISTS export_job_user ON export_job (user_id, created_at);
CREATE INDEX IF NOT EXISTS export_job_state ON export_job (state, created_at);

-- What a job made of each message, kept as it goes: a resumed job takes these as made and
-- writes only the rest.
CREATE TABLE IF NOT EXISTS export_job_item (
  job_id TEXT NOT NULL REFERENCES export_job(id) ON DELETE CASCADE,
  position INTEGER NOT NULL,
  made TEXT NOT NULL,                   -- JSON: its files as the manifest lists them, its load-file row
  PRIMARY KEY (job_id, position)
);
