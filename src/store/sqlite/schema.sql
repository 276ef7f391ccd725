-- Sealbox metadata: captures, messages, mailboxes and the ledger, in one SQLite database (WAL).
-- The search index lives in its own file (src/index/schema.sql), written only by the indexer.

CREATE TABLE IF NOT EXISTS message (
  id INTEGER PRIMARY KEY,
  sha256 TEXT NOT NULL UNIQUE,          -- identity: sha256 of the raw bytes
  size INTEGER NOT NULL,                -- raw bytes
  blob_file TEXT NOT NULL,
  blob_offset INTEGER NOT NULL,
  blob_length INTEGER NOT NULL,
  compression TEXT NOT NULL,
  nonce BLOB NOT NULL,
  tag BLOB NOT NULL,
  wrapped_key BLOB,                     -- NULL once crypto-shredded
  key_id TEXT NOT NULL,
  first_seen INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS capture (
  id INTEGER PRIMARY KEY,               -- order of receipt: the indexer's queue cursor
  capture_id TEXT NOT NULL UNIQUE,
  message INTEGER NOT NULL REFERENCES message(id),
  source TEXT NOT NULL,
  received_at INTEGER NOT NULL,
  envelope TEXT,                        -- JSON, NULL when the source had no envelope
  provenance TEXT,                      -- JSON
  ledger_index INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS capture_message ON capture(message);

CREATE TABLE IF NOT EXISTS mailbox (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  display_name TEXT,
  owner TEXT,                           -- user name of the owner
  sensitivity TEXT,
  auto INTEGER NOT NULL DEFAULT 0       -- created for an address in an internal domain
);

CREATE TABLE IF NOT EXISTS mailbox_address (
  address TEXT PRIMARY KEY,             -- lowercased
  mailbox_id INTEGER NOT NULL REFERENCES mailbox(id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS mailbox_address_mailbox ON mailbox_address(mailbox_id);

-- The append-only Merkle log. leaf is exactly the bytes hashed into the tree.
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

CREATE TABLE IF NOT EXISTS setting (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
