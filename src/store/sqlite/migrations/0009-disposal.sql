-- Disposal: a message past its retention and under no hold is destroyed by policy. Its data
-- key is destroyed in the transaction that writes the dispose entry (crypto-shredding:
-- wrapped_key NULL) and its bytes and index rows are queued for removal, which the same run
-- does next (a crash in between is finished by the next run). The row stays: its sha256, size,
-- and when and under which policy it went are the answer to anyone who asks for it later.
-- The same bytes received again later are a message again (a new key, a new blob).
ALTER TABLE message ADD COLUMN disposed_at INTEGER;
ALTER TABLE message ADD COLUMN disposed_by INTEGER;     -- the dispose entry's ledger index
ALTER TABLE message ADD COLUMN disposed_policy TEXT;

CREATE TABLE IF NOT EXISTS erasure_queue (
  id INTEGER PRIMARY KEY,
  message_id INTEGER NOT NULL,
  blob_file TEXT NOT NULL,
  blob_offset INTEGER NOT NULL,
  blob_length INTEGER NOT NULL,
  queued_at INTEGER NOT NULL
);

-- The disposal run finds its candidates by retain-until, not by reading every receipt.
CREATE INDEX IF NOT EXISTS capture_retain_until ON capture(retain_until) WHERE retain_until IS NOT NULL;
