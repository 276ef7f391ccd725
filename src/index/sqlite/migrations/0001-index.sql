-- The search index (index.db): a separate SQLite file, written only by the indexer and
-- rebuildable from the archive. Queries are compiled by fts5-compiler.ts.

CREATE TABLE IF NOT EXISTS doc (
  id INTEGER PRIMARY KEY,            -- = messages.id in the main database
  sha256 TEXT NOT NULL UNIQUE,       -- lowercase hex of sha256(raw)
  message_id TEXT,                   -- Message-ID without <>, as in the header
  message_id_lc TEXT,                -- lowercased, for lookup
  date INTEGER,                      -- ms since epoch: header Date, else first receipt time
  from_text TEXT,                    -- display form of From, for result lists
  subject TEXT,
  has_attachment INTEGER NOT NULL DEFAULT 0,
  parse_error TEXT
);
CREATE INDEX IF NOT EXISTS doc_message_id ON doc(message_id_lc);
CREATE INDEX IF NOT EXISTS doc_date ON doc(date);

-- rowid = doc.id. The addresses column must hold every participant's addr-spec AND display
-- name: from:/to:/cc:/bcc: narrow display-name matches through it before checking
-- participation.name, so a name missing here is a name that cannot be found.
CREATE VIRTUAL TABLE IF NOT EXISTS doc_fts USING fts5(subject, addresses, body, filenames, content='', contentless_delete=1, tokenize='unicode61 remove_diacritics 2');

CREATE TABLE IF NOT EXISTS participation (
  doc_id INTEGER NOT NULL, role TEXT NOT NULL,   -- from | sender | to | cc | bcc  (bcc = only in the SMTP envelope)
  address TEXT NOT NULL,                          -- lowercased addr-spec
  domain TEXT NOT NULL,                           -- lowercased part after the last @
  name TEXT,                                      -- lowercased display name, if any
  PRIMARY KEY (doc_id, role, address)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS participation_address ON participation(address, role, doc_id);
CREATE INDEX IF NOT EXISTS participation_domain ON participation(domain, role, doc_id);

CREATE TABLE IF NOT EXISTS attachment (doc_id INTEGER NOT NULL, filename TEXT, filename_lc TEXT, content_type TEXT, size INTEGER, sha256 TEXT);
CREATE INDEX IF NOT EXISTS attachment_doc ON attachment(doc_id);

-- The indexer's own state: its queue cursor (the last capture row covered), committed with the rows.
CREATE TABLE IF NOT EXISTS index_state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
-- Authentication verdicts (SPF, DKIM, ARC, DMARC) as verified at receipt, one per capture.
CREATE TABLE IF NOT EXISTS capture_auth (capture_row INTEGER PRIMARY KEY, verdicts TEXT NOT NULL);
-- Captures that could not be indexed (an unreadable blob, a fault on one message): each is
-- recorded on its own while the rest of its batch is indexed, and retried now and then.
CREATE TABLE IF NOT EXISTS index_failure (
  capture_row INTEGER PRIMARY KEY,
  sha256 TEXT NOT NULL,
  error TEXT NOT NULL,
  first_failed_at INTEGER NOT NULL,
  last_failed_at INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 1
);
