-- Retention: the rules that say how long mail is kept, the changes to them that wait for someone
-- else's approval (any that could shorten what mail is given), and each capture's retain-until,
-- fixed when it was committed (and in its ledger entry) so that a later rule change cannot
-- quietly shorten what was promised.
CREATE TABLE IF NOT EXISTS retention_rule (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  mailboxes TEXT NOT NULL,              -- JSON array of mailbox names; [] = any
  sensitivities TEXT NOT NULL,          -- JSON array of mailbox.sensitivity values; [] = any
  domains TEXT NOT NULL,                -- JSON array of correspondent domains; [] = any
  directions TEXT NOT NULL,             -- JSON array: inbound outbound internal; [] = any
  days INTEGER,                         -- NULL = kept for ever
  updated_at INTEGER NOT NULL
);

-- A rule change filed by one person that someone else decides on (src/retention/retention-rules.ts).
CREATE TABLE IF NOT EXISTS retention_change (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,                   -- set | remove
  rule_id TEXT NOT NULL,
  rule_before TEXT,                     -- JSON: the rule as it was when filed (NULL: a new rule)
  rule_after TEXT,                      -- JSON: the rule asked for (NULL: removal)
  why TEXT NOT NULL,                    -- why it needs approval
  note TEXT,                            -- the filer's reason
  filed_by INTEGER REFERENCES user(id),
  filed_by_label TEXT NOT NULL,         -- user:NAME or os:NAME (the command line)
  filed_at INTEGER NOT NULL,
  decided_by INTEGER REFERENCES user(id),
  decision TEXT,                        -- approve | deny
  decision_reason TEXT,
  decided_at INTEGER
);

ALTER TABLE capture ADD COLUMN retain_until INTEGER;      -- ms epoch; NULL = kept for ever
ALTER TABLE capture ADD COLUMN retention_rule TEXT;       -- the rule that gave it (NULL: the default)
