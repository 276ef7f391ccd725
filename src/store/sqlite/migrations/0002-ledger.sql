-- The ledger: an append-only Merkle log (RFC 9162) whose leaf is exactly the bytes hashed into
-- the tree, its signed checkpoints, and the links from entries to mailboxes and grants.

CREATE TABLE IF NOT EXISTS ledger (
  idx INTEGER PRIMARY KEY,
  type TEXT NOT NULL,
  time INTEGER NOT NULL,
  leaf BLOB NOT NULL,
  leaf_hash BLOB NOT NULL
);

CREATE TABLE IF NOT EXISTS checkpoint (
  size INTEGER PRIMARY KEY,
  root BLOB NOT NULL,
  note TEXT NOT NULL,                   -- the signed C2SP checkpoint
  frontier TEXT NOT NULL,               -- compact range, to resume appending without rehashing
  created_at INTEGER NOT NULL
);

CREATE INDEX IF NOT EXISTS ledger_time ON ledger(time);

-- Which ledger entries touched which mailbox: the owner's transparency page and per-mailbox
-- audit reports read this instead of scanning the whole ledger.
CREATE TABLE IF NOT EXISTS ledger_mailbox (
  mailbox_id INTEGER NOT NULL,
  idx INTEGER NOT NULL,
  PRIMARY KEY (mailbox_id, idx)
) WITHOUT ROWID;

-- Which ledger entries were made under which grant: a reviewer's view of a grant's activity.
CREATE TABLE IF NOT EXISTS ledger_grant (
  grant_id TEXT NOT NULL,
  idx INTEGER NOT NULL,
  PRIMARY KEY (grant_id, idx)
) WITHOUT ROWID;
