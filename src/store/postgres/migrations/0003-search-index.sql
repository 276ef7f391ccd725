-- The search index on PostgreSQL (src/index/postgres/): the same tables as index.db's
-- (src/index/sqlite/migrations/), in the archive's own schema beside the metadata, so that the
-- scope and mailbox: conditions join mailbox_address directly. Full text is a tsvector per
-- document (and one per attachment), built by the indexer from the words FTS5's unicode61
-- tokenizer would cut (src/index/postgres/words.ts), never by a text search configuration: see
-- the design note in src/index/postgres/search-index.ts.

CREATE TABLE doc (
  id bigint PRIMARY KEY,                            -- = message.id
  sha256 text COLLATE "C" NOT NULL UNIQUE,
  message_id text COLLATE "C",
  message_id_lc text COLLATE "C",
  date bigint,                                      -- ms since epoch: header Date, else first receipt
  from_text text,
  subject text,
  has_attachment bigint NOT NULL DEFAULT 0,
  parse_error text,
  thread_key text COLLATE "C",
  attachments_read bigint,
  -- subject A, filenames B, text read from attachments C, addresses and body D
  words tsvector NOT NULL DEFAULT ''::tsvector);
CREATE INDEX doc_message_id ON doc(message_id_lc);
CREATE INDEX doc_date ON doc(date, id);
CREATE INDEX doc_thread ON doc(thread_key, date);
CREATE INDEX doc_words ON doc USING gin (words);

CREATE TABLE participation (
  doc_id bigint NOT NULL,
  role text COLLATE "C" NOT NULL,                   -- from | sender | to | cc | bcc (bcc: envelope only)
  address text COLLATE "C" NOT NULL,                -- lowercased addr-spec
  domain text COLLATE "C" NOT NULL,
  name text,                                        -- lowercased display name
  PRIMARY KEY (doc_id, role, address));
CREATE INDEX participation_address ON participation(address, role, doc_id);
CREATE INDEX participation_domain ON participation(domain, role, doc_id);

CREATE TABLE attachment (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,   -- its order among its document's
  doc_id bigint NOT NULL,
  filename text, filename_lc text, content_type text, size bigint, sha256 text COLLATE "C",
  extraction text,
  words tsvector);                                  -- the text read from it alone
CREATE INDEX attachment_doc ON attachment(doc_id);

CREATE TABLE index_state (key text COLLATE "C" PRIMARY KEY, value text NOT NULL);
CREATE TABLE capture_auth (capture_row bigint PRIMARY KEY, verdicts text NOT NULL);
CREATE TABLE auth_pending (capture_row bigint PRIMARY KEY);
CREATE TABLE extraction_pending (doc_id bigint PRIMARY KEY);
CREATE TABLE index_failure (
  capture_row bigint PRIMARY KEY,
  sha256 text COLLATE "C" NOT NULL,
  error text NOT NULL,
  first_failed_at bigint NOT NULL,
  last_failed_at bigint NOT NULL,
  attempts bigint NOT NULL DEFAULT 1);
