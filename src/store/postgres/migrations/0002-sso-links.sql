-- SQLite migration 0021: linking an existing account to a provider (src/access/sso-links.ts).
-- The round trip is a sign-in on its way, bound to the browser by its cookie and to the session
-- that started it.
ALTER TABLE sso_login ADD COLUMN purpose text COLLATE "C" NOT NULL DEFAULT 'sign-in';  -- sign-in | link
ALTER TABLE sso_login ADD COLUMN session_id text COLLATE "C";     -- link: the session that started it
ALTER TABLE sso_login ADD COLUMN subject text COLLATE "C";        -- link: the provider's subject, once checked
ALTER TABLE sso_login ADD COLUMN claimed_name text COLLATE "C";   -- link: its user-name claim, lowercased
