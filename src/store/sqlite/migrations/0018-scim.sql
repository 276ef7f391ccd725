-- SCIM 2.0 (RFC 7643/7644): the users and groups an identity provider pushes, kept as it sent
-- them; the directory sync reads them as its snapshot (src/directory/scim-directory.ts).
CREATE TABLE IF NOT EXISTS scim_user (
  id TEXT PRIMARY KEY,
  user_name TEXT NOT NULL UNIQUE COLLATE NOCASE,
  external_id TEXT,
  resource TEXT NOT NULL,               -- JSON: the user as last written
  created_at INTEGER NOT NULL,
  modified_at INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS scim_group (
  id TEXT PRIMARY KEY,
  display_name TEXT NOT NULL UNIQUE COLLATE NOCASE,
  external_id TEXT,
  members TEXT NOT NULL,                -- JSON: scim_user ids
  created_at INTEGER NOT NULL,
  modified_at INTEGER NOT NULL
);
