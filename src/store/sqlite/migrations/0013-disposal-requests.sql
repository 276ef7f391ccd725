-- Early disposal: messages destroyed before their retention ends, which only a request filed by
-- one person and approved by another can do (what a legal hold covers stays even then).
CREATE TABLE IF NOT EXISTS disposal_request (
  id TEXT PRIMARY KEY,
  sha256s TEXT NOT NULL,                -- JSON array
  reason TEXT NOT NULL,
  filed_by INTEGER REFERENCES user(id),
  filed_by_label TEXT NOT NULL,
  filed_at INTEGER NOT NULL,
  decided_by INTEGER REFERENCES user(id),
  decision TEXT,                        -- approve | deny
  decision_reason TEXT,
  decided_at INTEGER,
  executed_at INTEGER,
  outcome TEXT                          -- JSON: what was disposed of, what a hold kept
);
