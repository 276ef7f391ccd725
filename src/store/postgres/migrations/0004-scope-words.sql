-- Search within mailboxes in the GIN index itself (src/index/postgres/search-index.ts): each
-- document's vector also holds a lexeme per address taking part in it, in any role (Bcc and
-- envelope sender included): '@a=' and the address. A query's words can never be such a lexeme
-- (words.ts cuts words at '@' and '='), so a mailbox's scope is one more key of the same GIN
-- scan as the query's words: `words @@ ('@a=x' | '@a=y')`. The lexemes carry no position and no
-- weight, so phrases, columns and ranking never see them.
--
-- scope_words(doc) is the one definition of them on the server side; the indexer appends it
-- whenever it writes a document's words (index-store.ts), after that document's participants.
CREATE FUNCTION scope_words(doc bigint) RETURNS tsvector LANGUAGE sql STABLE AS $$
  SELECT COALESCE(array_to_tsvector(array_agg(DISTINCT '@a=' || p.address)), ''::tsvector)
  FROM participation p WHERE p.doc_id = doc
$$;

-- Rows indexed before this migration gain theirs (one pass; the GIN index follows row by row).
UPDATE doc SET words = words || scope_words(id) WHERE id IN (SELECT DISTINCT doc_id FROM participation);

-- In the order results are shown (newest first, documents without a date last; read backwards:
-- oldest first, undated first), and for the first and last date: a page of a long list reads a
-- window of dates (search-index.ts), never every match.
DROP INDEX doc_date;
CREATE INDEX doc_date ON doc (date DESC NULLS LAST, id DESC);
