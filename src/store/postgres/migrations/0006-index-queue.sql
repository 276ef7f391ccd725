-- Several nodes index one archive (issue 17): the captures not yet indexed are rows of
-- index_queue, which each node's indexer claims a batch of at a time (SELECT … FOR UPDATE SKIP
-- LOCKED, src/index/postgres/index-store.ts) and deletes in the transaction that writes their
-- documents, so each capture is indexed once; a node that dies mid-batch lets go of its rows with
-- its connection, and another claims them. index_state's cursor stays what it was: every capture
-- up to it is indexed.
CREATE TABLE index_queue (capture_row bigint PRIMARY KEY);

-- Queued in the transaction that inserts the capture, whichever path inserts it (receipt, import,
-- migrate), at no round trip of its own.
CREATE FUNCTION queue_for_index() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  INSERT INTO index_queue (capture_row) SELECT id FROM added;
  RETURN NULL;
END
$$;
CREATE TRIGGER capture_queued_for_index AFTER INSERT ON capture REFERENCING NEW TABLE AS added
  FOR EACH STATEMENT EXECUTE FUNCTION queue_for_index();

-- The captures past the cursor of the single indexer before it.
INSERT INTO index_queue (capture_row)
  SELECT id FROM capture WHERE id > COALESCE((SELECT value::bigint FROM index_state WHERE key = 'cursor'), 0);
