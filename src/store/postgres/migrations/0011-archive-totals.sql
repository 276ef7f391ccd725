-- The archive's totals — captures, messages, their raw and stored bytes — kept by triggers as
-- rows are written, whichever path writes them (receipt, import, migrate), so that
-- /api/v1/health (open, polled by monitoring), the admin's health page and `sealbox stats` read
-- one row instead of counting every message. Messages and captures are never deleted; a disposed
-- message archived again is sealed anew (new blob bytes).
CREATE TABLE archive_totals (
  one boolean PRIMARY KEY DEFAULT true CHECK (one),
  captures bigint NOT NULL,
  messages bigint NOT NULL,
  raw_bytes bigint NOT NULL,
  blob_bytes bigint NOT NULL
);
INSERT INTO archive_totals (captures, messages, raw_bytes, blob_bytes)
  SELECT (SELECT count(*) FROM capture), count(*), COALESCE(sum(size), 0), COALESCE(sum(blob_length), 0) FROM message;

-- One update of the row per statement, never one per row: the row's old versions stay until the
-- transaction ends, and each update reads past them (a migrate copies a million messages in one
-- transaction, a thousand rows a statement).
CREATE FUNCTION message_totals_added() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  UPDATE archive_totals SET messages = messages + a.n, raw_bytes = raw_bytes + a.raw, blob_bytes = blob_bytes + a.blob
    FROM (SELECT count(*) AS n, COALESCE(sum(size), 0) AS raw, COALESCE(sum(blob_length), 0) AS blob FROM added) a;
  RETURN NULL;
END
$$;
CREATE TRIGGER message_totals_added AFTER INSERT ON message REFERENCING NEW TABLE AS added
  FOR EACH STATEMENT EXECUTE FUNCTION message_totals_added();

-- A disposed message archived again is sealed anew; other updates (a disposal) change no total
-- and write nothing.
CREATE FUNCTION message_totals_resealed() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  raw bigint := (SELECT COALESCE(sum(size), 0) FROM new_rows) - (SELECT COALESCE(sum(size), 0) FROM old_rows);
  blob bigint := (SELECT COALESCE(sum(blob_length), 0) FROM new_rows) - (SELECT COALESCE(sum(blob_length), 0) FROM old_rows);
BEGIN
  IF raw <> 0 OR blob <> 0 THEN
    UPDATE archive_totals SET raw_bytes = raw_bytes + raw, blob_bytes = blob_bytes + blob;
  END IF;
  RETURN NULL;
END
$$;
CREATE TRIGGER message_totals_resealed AFTER UPDATE ON message REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION message_totals_resealed();

-- A group of captures is one statement: one update for all of them.
CREATE FUNCTION capture_totals() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  UPDATE archive_totals SET captures = captures + (SELECT count(*) FROM added);
  RETURN NULL;
END
$$;
CREATE TRIGGER capture_totals AFTER INSERT ON capture REFERENCING NEW TABLE AS added
  FOR EACH STATEMENT EXECUTE FUNCTION capture_totals();
