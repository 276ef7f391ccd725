-- Single sign-on through OpenID Connect providers (src/access/sso-sign-in.ts).

-- Who a provider's subject is here: bound to one person at their first sign-in, for good. A
-- person made at the console is never bound by a token that merely bears their name.
CREATE TABLE IF NOT EXISTS sso_identity (
  provider TEXT NOT NULL,               -- sso.providers[].id
  subject TEXT NOT NULL,                -- the ID token's sub
  user_id INTEGER NOT NULL REFERENCES user(id),
  created_at INTEGER NOT NULL,
  last_sign_in INTEGER,
  PRIMARY KEY (provider, subject)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS sso_identity_user ON sso_identity(user_id);

-- A sign-in on its way through a provider, bound to the browser that started it by a short-lived
-- HttpOnly cookie (only its hash is kept): the state, nonce and PKCE verifier sent, then what the
-- provider said, then the Sealbox session made from it. Each step happens once.
CREATE TABLE IF NOT EXISTS sso_login (
  id_hash TEXT PRIMARY KEY,             -- sha256 of the cookie
  provider TEXT NOT NULL,
  state TEXT NOT NULL,                  -- started | checking | failed | authenticated | done
  oauth_state TEXT NOT NULL,
  nonce TEXT NOT NULL,
  code_verifier TEXT NOT NULL,
  redirect_uri TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  message TEXT,                         -- failed: why, in words for the person
  user_id INTEGER REFERENCES user(id),  -- authenticated: who
  provider_mfa TEXT,                    -- the amr/acr value that counted as multi-factor, if any
  id_token TEXT,                        -- kept for RP-initiated logout (id_token_hint)
  totp_wrapped BLOB                     -- an authenticator key being set up, wrapped by the master key
) WITHOUT ROWID;

-- Sessions made through a provider: which one, and the ID token to name at its logout.
ALTER TABLE session ADD COLUMN sso_provider TEXT;
ALTER TABLE session ADD COLUMN id_token TEXT;

-- Roles a provider's groups would give, waiting for an approver who is neither the person nor
-- linked to them; roles that read nothing by themselves (owner, requester) never wait.
CREATE TABLE IF NOT EXISTS role_change (
  id TEXT PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES user(id),
  role TEXT NOT NULL,
  why TEXT NOT NULL,
  filed_by INTEGER REFERENCES user(id), -- NULL: filed by a sign-in through a provider
  filed_by_label TEXT NOT NULL,         -- sso:<provider> or user:NAME
  filed_at INTEGER NOT NULL,
  decided_by INTEGER REFERENCES user(id),
  decision TEXT,                        -- approve | deny | cancel (the group was left first)
  decision_reason TEXT,
  decided_at INTEGER
);
CREATE INDEX IF NOT EXISTS role_change_user ON role_change(user_id);
