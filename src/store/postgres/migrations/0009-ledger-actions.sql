-- The entries oversight reads by time (reports, owners' digests, past inventories: LedgerHistory
-- actionsBetween) without the captures, which are most of a ledger: a report of a month reads
-- what people and the system did that month, not every message archived in it.
CREATE INDEX ledger_actions ON ledger (time) WHERE type <> 'capture';
