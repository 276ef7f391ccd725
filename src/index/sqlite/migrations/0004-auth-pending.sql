-- Captures whose authentication verdicts are still to be checked. A document is searchable as
-- soon as it is indexed; its verdicts follow when their DNS lookups answer (a resolver that
-- lets lookups hang must not hold the index back). The row is written in the transaction that
-- indexes the capture and removed in the one that stores its verdicts, so a crash in between
-- leaves it here and the check is made again.
CREATE TABLE IF NOT EXISTS auth_pending (capture_row INTEGER PRIMARY KEY);
