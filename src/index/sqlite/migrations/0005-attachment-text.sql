-- The text inside attachments (issue 19) becomes a fifth full-text column, `attachments`, so that
-- a plain word finds it like the body and `attachment:` searches it alone, and every query stays
-- one MATCH on one table (a table of its own would turn each word into a union of two lookups).
-- FTS5 cannot add a column to a table, and this one keeps no text (content=''), so it is built
-- anew from the words its index holds: the fts5vocab 'instance' table lists every word of every
-- row and column at its position, and each column's words, joined in position order, tokenize to
-- exactly the same words at the same positions (they are already folded). Phrases, prefixes and
-- BM25 ranks come out as before. It reads every word once: minutes for an index of a million
-- messages, once. Existing messages get no attachment text (their attachments were not read).
CREATE VIRTUAL TABLE doc_fts_5 USING fts5(subject, addresses, body, filenames, attachments, content='', contentless_delete=1, tokenize='unicode61 remove_diacritics 2');
CREATE VIRTUAL TABLE temp.doc_fts_words USING fts5vocab(main, doc_fts, instance);
INSERT INTO doc_fts_5 (rowid, subject, addresses, body, filenames, attachments)
  SELECT doc,
    coalesce(max(CASE col WHEN 'subject' THEN words END), ''), coalesce(max(CASE col WHEN 'addresses' THEN words END), ''),
    coalesce(max(CASE col WHEN 'body' THEN words END), ''), coalesce(max(CASE col WHEN 'filenames' THEN words END), ''), ''
  FROM (SELECT doc, col, group_concat(term, ' ' ORDER BY "offset") AS words FROM temp.doc_fts_words GROUP BY doc, col)
  GROUP BY doc;
DROP TABLE temp.doc_fts_words;
DROP TABLE doc_fts;
ALTER TABLE doc_fts_5 RENAME TO doc_fts;
-- As migration 3 made it: a disposed message's words leave the index's segments at once.
INSERT INTO doc_fts (doc_fts, rank) VALUES ('secure-delete', 1);

-- What became of reading each attachment's text: ok | truncated: reason | encrypted |
-- failed: reason; NULL: not a kind of file whose text is read (or not read yet).
ALTER TABLE attachment ADD COLUMN extraction TEXT;

-- Documents whose attachments' text is still to be read. A document is searchable by its own
-- text as soon as it is indexed; its attachments' text follows (reading a PDF takes longer than
-- indexing a hundred messages). The row is written in the transaction that indexes the document
-- and removed in the one that stores the text, so a crash in between leaves it here and the
-- attachments are read again.
CREATE TABLE extraction_pending (doc_id INTEGER PRIMARY KEY);
