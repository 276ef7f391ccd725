-- A row deleted from the full-text index (a disposed message) is removed from its segments at
-- once, not left behind a tombstone until the next merge: no word of it stays in the file.
INSERT INTO doc_fts (doc_fts, rank) VALUES ('secure-delete', 1);
