-- Oversight: the auditors' review queue, alerts, and what the rules count per grant.

CREATE TABLE IF NOT EXISTS review_item (
  id TEXT PRIMARY KEY,                  -- derived from what it reviews, so the same thing is queued once
  kind TEXT NOT NULL,                   -- breakglass | sample | high-impact | alert
  request_id TEXT,
  subject_user_id INTEGER,              -- the person whose actions are reviewed
  created_at INTEGER NOT NULL,
  state TEXT NOT NULL,                  -- open | claimed | reviewed | escalated | closed
  closed_by INTEGER,
  closed_at INTEGER,
  note TEXT,                            -- the latest step's note (every step is in the ledger)
  reason TEXT,                          -- why it is in the queue
  ledger_index INTEGER,                 -- the entry reviewed (high-impact, alert)
  claimed_by INTEGER,
  updated_at INTEGER
);

-- Alerts raised by the oversight rules, once per rule and subject.
CREATE TABLE IF NOT EXISTS alert (
  id TEXT PRIMARY KEY,                  -- rule:subject
  rule TEXT NOT NULL,
  ledger_index INTEGER,
  request_id TEXT,
  created_at INTEGER NOT NULL,
  text TEXT NOT NULL
);

-- Distinct messages read or exported under each grant (the volume alert counts these).
CREATE TABLE IF NOT EXISTS grant_message (
  request_id TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  PRIMARY KEY (request_id, sha256)
) WITHOUT ROWID;

-- Closed grants already put to the random sample (drawn once each).
CREATE TABLE IF NOT EXISTS grant_sample (
  request_id TEXT PRIMARY KEY,
  sampled INTEGER NOT NULL,
  at INTEGER NOT NULL
);
