-- Governance: people, sign-in, access requests and grants, mailbox policies. Secrets are
-- stored only as hashes (passwords, tokens, enrolment codes) or wrapped by the master key.

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
