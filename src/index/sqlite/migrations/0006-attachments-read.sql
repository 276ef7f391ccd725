-- Which documents' attachments have been read for their text, and by which version of the
-- extractor (EXTRACTOR_VERSION: raised when it learns to read more kinds of file), so that
-- `sealbox reindex --attachments` queues exactly the mail whose attachments no extractor has
-- read, or an older one that could read less: mail archived while extraction was off or before
-- it existed. NULL: not read. The indexer sets it for a document with nothing to read, the
-- extractor when it stores a document's attachments' text.
ALTER TABLE doc ADD COLUMN attachments_read INTEGER;
-- Documents read since migration 5 (one of their attachments has an outcome) count as read by
-- the first version; the others are read when the command is run.
UPDATE doc SET attachments_read = 1 WHERE id IN (SELECT doc_id FROM attachment WHERE extraction IS NOT NULL);
