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

CREATE FUNCTION message_totals() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    UPDATE archive_totals SET messages = messages + 1, raw_bytes = raw_bytes + NEW.size, blob_bytes = blob_bytes + NEW.blob_length;
  ELSE
    UPDATE archive_totals SET raw_bytes = raw_bytes + NEW.size - OLD.size, blob_bytes = blob_bytes + NEW.blob_length - OLD.blob_length;
  END IF;
  RETURN NULL;
END
$$;
CREATE TRIGGER message_totals AFTER INSERT OR UPDATE OF size, blob_length ON message
  FOR EACH ROW EXECUTE FUNCTION message_totals();

-- A group of captures is one statement: one update for all of them.
CREATE FUNCTION capture_totals() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  UPDATE archive_totals SET captures = captures + (SELECT count(*) FROM added);
  RETURN NULL;
END
$$;
CREATE TRIGGER capture_totals AFTER INSERT ON capture REFERENCING NEW TABLE AS added
  FOR EACH STATEMENT EXECUTE FUNCTION capture_totals();
