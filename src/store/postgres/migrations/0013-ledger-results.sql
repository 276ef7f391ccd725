-- The auditor's other questions of the ledger — what was refused, what was done under this grant —
-- read the entries that answer them, newest first, instead of every entry until a page is found
-- (a refusal is rare: 1 s at 300,000 entries, minutes at a year's). A capture is always a success
-- under no grant (the archive writer is the one writer of capture entries), so these leave the
-- captures out as 0012 does, and the store's query says so (PostgresMetadataStore.entries).
CREATE INDEX ledger_actions_by_result ON ledger ((ledger_leaf_json(leaf) ->> 'result'), idx) WHERE type <> 'capture';
CREATE INDEX ledger_actions_by_grant ON ledger ((ledger_leaf_json(leaf) ->> 'grantId'), idx) WHERE type <> 'capture';
