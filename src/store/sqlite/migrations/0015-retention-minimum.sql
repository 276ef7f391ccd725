-- A retention rule's minimum (issue 15: rules "with a minimum and a maximum"): what must be kept
-- by law, before which neither the leaver schedule, an erasure nor an early disposal takes mail,
-- while its `days` stays the maximum, when disposal takes it. Each capture's keep-until is fixed
-- when it is committed, like its retain-until, and in its ledger entry.
ALTER TABLE retention_rule ADD COLUMN min_days INTEGER;   -- NULL: as long as days
ALTER TABLE capture ADD COLUMN keep_until INTEGER;        -- ms epoch; NULL = for ever
ALTER TABLE capture ADD COLUMN keep_rule TEXT;            -- the rule that gave it (NULL: the default)
-- A capture made before minimums existed was kept at least as long as its retention, as its
-- ledger entry, which names no keep-until, still says.
UPDATE capture SET keep_until = retain_until, keep_rule = retention_rule WHERE retain_until IS NOT NULL OR retention_rule IS NOT NULL;
