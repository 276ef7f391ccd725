-- Legal holds: a case (name, matter reference) preserves its custodians' mail within a date
-- window, and matching a query if it has one, whatever retention says. Placing one applies at
-- once; releasing one is filed by one person and decided by another. Each custodian mailbox's
-- owner is told, and their acknowledgement kept. Holds are never deleted.
CREATE TABLE IF NOT EXISTS hold (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  matter TEXT NOT NULL,                 -- the matter or ticket reference
  custodians TEXT NOT NULL,             -- JSON [{id, name}]: the mailboxes it preserves
  date_from INTEGER,                    -- ms epoch, inclusive; NULL: from the beginning
  date_to INTEGER,                      -- exclusive; NULL: no end
  query TEXT,                           -- the saved query (proof of the hold's scope); NULL: all their mail
  placed_by INTEGER REFERENCES user(id),
  placed_by_label TEXT NOT NULL,        -- user:NAME or os:NAME
  placed_at INTEGER NOT NULL,
  released_at INTEGER,                  -- set when a release is approved
  released_by_release TEXT              -- the approved hold_release
);

CREATE TABLE IF NOT EXISTS hold_release (
  id TEXT PRIMARY KEY,
  hold_id TEXT NOT NULL REFERENCES hold(id),
  reason TEXT NOT NULL,
  filed_by INTEGER REFERENCES user(id),
  filed_by_label TEXT NOT NULL,
  filed_at INTEGER NOT NULL,
  decided_by INTEGER REFERENCES user(id),
  decision TEXT,                        -- approve | deny
  decision_reason TEXT,
  decided_at INTEGER
);

CREATE TABLE IF NOT EXISTS hold_notice (
  hold_id TEXT NOT NULL REFERENCES hold(id),
  mailbox_id INTEGER NOT NULL,
  owner TEXT NOT NULL,                  -- the user name told
  notified_at INTEGER NOT NULL,
  acknowledged_at INTEGER,
  PRIMARY KEY (hold_id, mailbox_id)
);
