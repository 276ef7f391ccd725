-- Directory sync from LDAP / Active Directory and SCIM (src/directory/).

-- The people a directory source has named, by their Sealbox user name: which mailbox is theirs,
-- whether the directory still has them enabled, and the day it first said they were gone (the
-- leaving date filed for approval then; a later sync files none again).
CREATE TABLE IF NOT EXISTS directory_person (
  source TEXT NOT NULL,                 -- ldap | scim
  user_name TEXT NOT NULL,
  mailbox TEXT NOT NULL,
  state TEXT NOT NULL,                  -- active | disabled | removed
  left_on TEXT,                         -- YYYY-MM-DD, set when the directory first said disabled or removed
  seen_at INTEGER NOT NULL,
  PRIMARY KEY (source, user_name)
) WITHOUT ROWID;

-- Each sync: who ran it, whether it was a dry run, what it changed (or would have), and a sync
-- stopped by the mass-removal guard with the plan it did not apply.
CREATE TABLE IF NOT EXISTS directory_sync (
  id TEXT PRIMARY KEY,
  source TEXT NOT NULL,
  actor TEXT NOT NULL,                  -- user:NAME, os:NAME or system:directory
  started_at INTEGER NOT NULL,
  dry_run INTEGER NOT NULL,
  state TEXT NOT NULL,                  -- applied | dry-run | stopped
  summary TEXT NOT NULL,                -- JSON: counts
  changes TEXT NOT NULL,                -- JSON: the plan, each change with what came of it
  skipped TEXT NOT NULL                 -- JSON: entries left out and accounts left for an admin, with why
);
CREATE INDEX IF NOT EXISTS directory_sync_started ON directory_sync(started_at);
