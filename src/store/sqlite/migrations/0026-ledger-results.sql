-- The auditor's other questions of the ledger — what was refused, what was done under this grant —
-- read the entries that answer them, newest first, instead of every entry until a page is found
-- (a refusal is rare: 0.2 s at 300,000 entries, minutes at a year's). A capture is always a
-- success under no grant (the archive writer is the one writer of capture entries), so these
-- leave the captures out as 0025 does, and the store's query says so (SqliteMetadataStore.entries).
CREATE INDEX IF NOT EXISTS ledger_actions_by_result ON ledger(json_extract(CAST(leaf AS TEXT), '$.result'), idx) WHERE type <> 'capture';
CREATE INDEX IF NOT EXISTS ledger_actions_by_grant ON ledger(json_extract(CAST(leaf AS TEXT), '$.grantId'), idx) WHERE type <> 'capture';
