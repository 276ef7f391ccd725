-- The archive's totals — captures, messages, their raw and stored bytes — kept by triggers as
-- rows are written, so that /api/v1/health (open, polled by monitoring), the admin's health page
-- and `sealbox stats` read one row instead of counting every message: 160 ms at 1 M messages,
-- on the thread that serves everything. Messages and captures are never deleted; a disposed
-- message archived again is sealed anew (new blob bytes).
CREATE TABLE IF NOT EXISTS archive_totals (
  one INTEGER PRIMARY KEY CHECK (one = 1),
  captures INTEGER NOT NULL,
  messages INTEGER NOT NULL,
  raw_bytes INTEGER NOT NULL,
  blob_bytes INTEGER NOT NULL
);
INSERT OR IGNORE INTO archive_totals (one, captures, messages, raw_bytes, blob_bytes)
  SELECT 1, (SELECT count(*) FROM capture), count(*), COALESCE(sum(size), 0), COALESCE(sum(blob_length), 0) FROM message;

CREATE TRIGGER IF NOT EXISTS message_totals_added AFTER INSERT ON message BEGIN
  UPDATE archive_totals SET messages = messages + 1, raw_bytes = raw_bytes + NEW.size, blob_bytes = blob_bytes + NEW.blob_length;
END;
CREATE TRIGGER IF NOT EXISTS message_totals_resealed AFTER UPDATE OF size, blob_length ON message BEGIN
  UPDATE archive_totals SET raw_bytes = raw_bytes + NEW.size - OLD.size, blob_bytes = blob_bytes + NEW.blob_length - OLD.blob_length;
END;
CREATE TRIGGER IF NOT EXISTS capture_totals_added AFTER INSERT ON capture BEGIN
  UPDATE archive_totals SET captures = captures + 1;
END;
