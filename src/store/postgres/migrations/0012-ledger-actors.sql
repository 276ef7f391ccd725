-- JSON text to look into, its escapes \u0000 read as U+FFFD. PostgreSQL's json and jsonb refuse a
-- whole document holding one (SQLite's JSON functions do not), and the ledger keeps what was
-- given: a search refused for a NUL in its query records that query, and every filtered read of
-- the ledger would fail from then on. Only an escape counts (a backslash after an even run of
-- them); the entries handed out are the stored bytes, untouched. (Inlined where it is called.)
CREATE FUNCTION sealbox_json(t text) RETURNS jsonb LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT (CASE WHEN strpos(t, '\u0000') > 0 THEN regexp_replace(t, '(?<!\\)((?:\\\\)*)\\u0000', '\1\\ufffd', 'g') ELSE t END)::jsonb
$$;

-- A ledger leaf's JSON, for the indexes below: the leaf is UTF-8 in a UTF-8 database, so the
-- conversion is as immutable as the bytes (convert_from itself is only stable).
CREATE FUNCTION ledger_leaf_json(leaf bytea) RETURNS jsonb LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT sealbox_json(convert_from(leaf, 'UTF8'))
$$;

-- An auditor's questions of the ledger — what did this person do, who did this operation — read
-- the entries that answer them, newest first, instead of every entry until a page is found.
-- Captures, most of a ledger, are left out: their actor is capture:… and their operation
-- `capture`, which the store's query says (PostgresMetadataStore.entries).
CREATE INDEX ledger_actions_by_actor ON ledger ((ledger_leaf_json(leaf) ->> 'actor'), idx) WHERE type <> 'capture';
CREATE INDEX ledger_actions_by_operation ON ledger ((ledger_leaf_json(leaf) ->> 'operation'), idx) WHERE type <> 'capture';
