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
  manager TEXT,                         -- user name of the owner's manager (directory attribute)
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

-- Governance: people, sign-in, access requests and grants. Secrets are stored only as hashes
-- (passwords, tokens, enrolment codes) or wrapped by the master key (TOTP seeds).

CREATE TABLE IF NOT EXISTS user (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  display_name TEXT,
  email TEXT,
  roles TEXT NOT NULL,                  -- JSON array: owner requester approver auditor admin breakglass
  password_hash TEXT,                   -- scrypt; NULL until enrolled
  totp_wrapped BLOB,                    -- TOTP seed wrapped by the master key
  totp_last_step INTEGER NOT NULL DEFAULT 0, -- no code is accepted twice
  enrolment_hash TEXT,                  -- sha256 of the one-time enrolment code
  enrolment_expires INTEGER,
  failed_logins INTEGER NOT NULL DEFAULT 0,
  locked_until INTEGER NOT NULL DEFAULT 0,
  disabled INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS session (
  id_hash TEXT PRIMARY KEY,             -- sha256 of the cookie value
  user_id INTEGER NOT NULL REFERENCES user(id),
  csrf_hash TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  client_ip TEXT,
  user_agent TEXT
);

CREATE TABLE IF NOT EXISTS api_token (
  id TEXT PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES user(id),
  token_hash TEXT NOT NULL UNIQUE,
  name TEXT,
  scopes TEXT NOT NULL,                 -- JSON array
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  revoked_at INTEGER
);

CREATE TABLE IF NOT EXISTS access_request (
  id TEXT PRIMARY KEY,
  requester_id INTEGER NOT NULL REFERENCES user(id),
  purpose TEXT NOT NULL,
  justification TEXT NOT NULL,
  ticket TEXT,
  mailboxes TEXT NOT NULL,              -- JSON array of mailbox ids
  date_from INTEGER,                    -- ms epoch, inclusive; NULL = unbounded
  date_to INTEGER,                      -- ms epoch, exclusive
  fixed_query TEXT,                     -- ANDed with every search under the grant
  permissions TEXT NOT NULL,            -- JSON array: search read export
  duration_seconds INTEGER NOT NULL,
  approvals_needed INTEGER NOT NULL,
  breakglass INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  lapses_at INTEGER NOT NULL,
  denied_at INTEGER,
  approved_at INTEGER,                  -- when the last needed approval arrived
  starts_at INTEGER,
  ends_at INTEGER,
  revoked_at INTEGER,
  revoked_by INTEGER,
  extends TEXT                          -- the request this one extends (a follow-up for the same scope)
);

CREATE TABLE IF NOT EXISTS approval (
  request_id TEXT NOT NULL REFERENCES access_request(id),
  approver_id INTEGER NOT NULL REFERENCES user(id),
  decision TEXT NOT NULL,               -- approve | deny
  reason TEXT NOT NULL,
  at INTEGER NOT NULL,
  PRIMARY KEY (request_id, approver_id)
);

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

CREATE INDEX IF NOT EXISTS ledger_time ON ledger(time);

CREATE TABLE IF NOT EXISTS notification (
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL,
  recipient TEXT NOT NULL,              -- email address or webhook URL
  subject TEXT NOT NULL,
  body TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  not_before INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  sent_at INTEGER,
  last_error TEXT
);

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

-- Per-mailbox notification policy (owner told before access, within N days after, or not at all
-- with the legal basis recorded) and who else is told (e.g. the security adviser and HR).
CREATE TABLE IF NOT EXISTS mailbox_policy (
  mailbox_id INTEGER PRIMARY KEY REFERENCES mailbox(id),
  notify_mode TEXT NOT NULL,            -- before | after | none
  notify_after_days INTEGER,
  legal_basis TEXT,
  notify_also TEXT NOT NULL DEFAULT '[]' -- JSON array of addresses
);

-- Recovery codes: each signs its holder in once instead of a TOTP code; only hashes are kept.
CREATE TABLE IF NOT EXISTS recovery_code (
  user_id INTEGER NOT NULL REFERENCES user(id),
  code_hash TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  used_at INTEGER,
  PRIMARY KEY (user_id, code_hash)
) WITHOUT ROWID;

-- Who acknowledged which version of the archiving notice (the text is a setting).
CREATE TABLE IF NOT EXISTS notice_ack (
  user_id INTEGER NOT NULL REFERENCES user(id),
  version INTEGER NOT NULL,
  at INTEGER NOT NULL,
  PRIMARY KEY (user_id, version)
) WITHOUT ROWID;

-- Who did what to whom among people (created them, changed their roles, approved their account
-- recovery): four eyes must be two people, so an approver linked to a requester is refused for a
-- while, and oversight lists approvals between linked people whenever they happen.
CREATE TABLE IF NOT EXISTS person_link (
  actor_id INTEGER NOT NULL REFERENCES user(id),
  subject_id INTEGER NOT NULL REFERENCES user(id),
  kind TEXT NOT NULL,                   -- created | roles | recovery
  at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS person_link_subject ON person_link(subject_id);
CREATE INDEX IF NOT EXISTS person_link_actor ON person_link(actor_id);

-- Account recovery: a new enrolment for someone already enrolled, asked for by one person,
-- approved by another; the code is mailed to the person and only its hash is kept.
CREATE TABLE IF NOT EXISTS account_recovery (
  id TEXT PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES user(id),
  requested_by INTEGER NOT NULL REFERENCES user(id),
  reason TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  lapses_at INTEGER NOT NULL,
  decided_by INTEGER REFERENCES user(id),
  decision TEXT,                        -- approve | deny | cancel
  decision_reason TEXT,
  decided_at INTEGER,
  code_hash TEXT,
  code_expires INTEGER,
  used_at INTEGER
);
CREATE INDEX IF NOT EXISTS account_recovery_user ON account_recovery(user_id);

-- Directory rows that would let someone read mail they could not read before, waiting for
-- someone else's approval; applied as they were staged, or refused if the mailbox changed since.
CREATE TABLE IF NOT EXISTS ownership_change (
  id TEXT PRIMARY KEY,
  mailbox TEXT NOT NULL,                -- mailbox name (may not exist yet)
  row TEXT NOT NULL,                    -- JSON: the directory row to apply
  owner_before TEXT,
  owner_after TEXT NOT NULL,
  gains TEXT NOT NULL,                  -- JSON: [{address, from}] what the new owner would gain
  staged_by INTEGER REFERENCES user(id),
  staged_by_label TEXT NOT NULL,        -- user:NAME or os:NAME (the command line)
  staged_at INTEGER NOT NULL,
  decided_by INTEGER REFERENCES user(id),
  decision TEXT,                        -- approve | deny
  decision_reason TEXT,
  decided_at INTEGER
);
