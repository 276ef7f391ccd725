-- Linking an existing account to a provider (src/access/sso-sign-in.ts): the person, signed in
-- with their Sealbox password, makes a round trip to the provider, and its subject is bound to
-- their own account. The round trip is a sign-in on its way like any other, bound to the browser
-- by its cookie and to the session that started it.
ALTER TABLE sso_login ADD COLUMN purpose TEXT NOT NULL DEFAULT 'sign-in';  -- sign-in | link
ALTER TABLE sso_login ADD COLUMN session_id TEXT;     -- link: the session that started it
ALTER TABLE sso_login ADD COLUMN subject TEXT;        -- link: the provider's subject, once checked
ALTER TABLE sso_login ADD COLUMN claimed_name TEXT;   -- link: its user-name claim, lowercased
