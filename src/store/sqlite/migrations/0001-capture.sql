-- Capture: the archived messages (their sealed bytes are in the blob store, referenced here),
-- each receipt with its envelope, the mailboxes addresses belong to, and small settings.

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
  manager TEXT,                         -- user name of the owner's manager (directory attribute)
  auto INTEGER NOT NULL DEFAULT 0       -- created for an address in an internal domain
);

CREATE TABLE IF NOT EXISTS mailbox_address (
  address TEXT PRIMARY KEY,             -- lowercased
  mailbox_id INTEGER NOT NULL REFERENCES mailbox(id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS mailbox_address_mailbox ON mailbox_address(mailbox_id);

CREATE TABLE IF NOT EXISTS setting (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
