-- Leavers (Norway's FOR-2018-07-02-1108: a departed employee's mail is deleted within a reasonable
-- time, which Datatilsynet reads as at most 6 months). A mailbox marked as belonging to someone
-- who left has its mail disposed from `dispose_from` on, except what a longer rule or a hold
-- keeps; the date and any exemption are set only by a change filed by one person and approved by
-- another, since marking someone as left shortens what their mail is kept.
CREATE TABLE IF NOT EXISTS leaver (
  mailbox_id INTEGER PRIMARY KEY REFERENCES mailbox(id),
  left_on INTEGER NOT NULL,             -- ms epoch: the day they left (UTC midnight)
  dispose_from INTEGER NOT NULL,        -- left_on + retention.leaverMonths as it was when filed
  change_id TEXT NOT NULL,              -- the approved leaver_change that set it
  exemption_change TEXT,                -- the approved exemption in force (NULL: none)
  exempt_until INTEGER                  -- with an exemption: until when (NULL: until decided otherwise)
);

CREATE TABLE IF NOT EXISTS leaver_change (
  id TEXT PRIMARY KEY,
  mailbox_id INTEGER NOT NULL REFERENCES mailbox(id),
  mailbox TEXT NOT NULL,                -- its name when filed
  kind TEXT NOT NULL,                   -- leave | return | exempt
  left_on INTEGER,                      -- leave: the day they left
  dispose_from INTEGER,                 -- leave: from when their mail is disposed
  exempt_until INTEGER,                 -- exempt: until when (NULL: until decided otherwise)
  before TEXT,                          -- JSON: the mailbox's leaver state when filed (NULL: none); approval needs it unchanged
  reason TEXT NOT NULL,
  source TEXT NOT NULL,                 -- api | directory | console
  filed_by INTEGER REFERENCES user(id),
  filed_by_label TEXT NOT NULL,         -- user:NAME or os:NAME
  filed_at INTEGER NOT NULL,
  decided_by INTEGER REFERENCES user(id),
  decision TEXT,                        -- approve | deny
  decision_reason TEXT,
  decided_at INTEGER
);
CREATE INDEX IF NOT EXISTS leaver_change_mailbox ON leaver_change(mailbox_id, decision);
