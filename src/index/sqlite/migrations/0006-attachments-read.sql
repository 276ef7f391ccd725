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

-- Each attachment's text on its own, so that a search result can say in which attachment its
-- words are (the message's `attachments` column holds them all together, for one MATCH per
-- query). Like doc_fts it keeps no text, only the index of its words; its rowid is the
-- attachment's. Filled by the extractor from now on (and by reindex --attachments).
CREATE VIRTUAL TABLE attachment_fts USING fts5(text, content='', contentless_delete=1, tokenize='unicode61 remove_diacritics 2');
INSERT INTO attachment_fts (attachment_fts, rank) VALUES ('secure-delete', 1);
