-- An auditor's questions of the ledger — what did this person do, who did this operation — read
-- the entries that answer them, newest first, instead of every entry until a page is found (the
-- whole ledger for someone who did little: 0.8 s a million entries, on the thread that serves
-- everything). Captures, most of a ledger, are left out: their actor is `capture:…` and their
-- operation `capture`, which the store's query says (SqliteMetadataStore.entries).
CREATE INDEX IF NOT EXISTS ledger_actions_by_actor ON ledger(json_extract(CAST(leaf AS TEXT), '$.actor'), idx) WHERE type <> 'capture';
CREATE INDEX IF NOT EXISTS ledger_actions_by_operation ON ledger(json_extract(CAST(leaf AS TEXT), '$.operation'), idx) WHERE type <> 'capture';
