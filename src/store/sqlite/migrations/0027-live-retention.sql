-- Disposal's candidates are the receipts whose retain-until has passed; a disposed message keeps
-- its receipts (verify compares their retain-until with the ledger), so after years of disposal
-- that range is most of the archive, read on every run (250 ms at 1 M messages, minutes at a
-- year's). Each receipt now says whether its message is disposed, kept by a trigger when a
-- message is disposed or archived again (never while mail is received), and the candidates come
-- from the receipts of live messages only. The flag only chooses what is read: a disposal still
-- checks every receipt of each message in its own transaction (markDisposed), so a flag set
-- wrong can keep mail longer, never make it go early.
ALTER TABLE capture ADD COLUMN message_disposed INTEGER NOT NULL DEFAULT 0;
UPDATE capture SET message_disposed = 1 WHERE message IN (SELECT id FROM message WHERE disposed_at IS NOT NULL);
DROP INDEX IF EXISTS capture_retain_until;
CREATE INDEX IF NOT EXISTS capture_live_retain_until ON capture(retain_until) WHERE retain_until IS NOT NULL AND message_disposed = 0;
CREATE TRIGGER IF NOT EXISTS message_disposed_receipts AFTER UPDATE OF disposed_at ON message
  WHEN (OLD.disposed_at IS NULL) <> (NEW.disposed_at IS NULL) BEGIN
  UPDATE capture SET message_disposed = (NEW.disposed_at IS NOT NULL) WHERE message = NEW.id;
END;
