-- Searches within mailboxes, and the conditions users add most, answered by the GIN index
-- itself (src/index/postgres/search-index.ts): each document's vector also holds lexemes no word
-- can be (words.ts cuts words at '@' and '='): '@a=' and the address of each participant, in
-- any role (Bcc and envelope sender included; a mailbox's scope is these ORed), '@f=' and '@g='
-- and the From address and domain, '@h' when it has an attachment, '@d=' and the month of its
-- date (YYYYMM, UTC; a page of a long list reads a month or so: the GIN index skips to it), and
-- '@s=' and each word of its subject at that word's positions (subject:, without a weight to
-- check on the row). They carry no position (but '@s='), so phrases and ranking never meet them.
--
-- scope_words(doc) is the one definition of all but the subject's on the server side: the indexer
-- appends it whenever it writes a document's words (index-store.ts), after its participants;
-- documentVector (words.ts) writes the subject's.
CREATE FUNCTION scope_words(doc bigint) RETURNS tsvector LANGUAGE sql STABLE AS $$
  SELECT COALESCE(array_to_tsvector(array_agg(DISTINCT w)), ''::tsvector) FROM (
    SELECT '@a=' || p.address AS w FROM participation p WHERE p.doc_id = doc
    UNION ALL SELECT '@f=' || p.address FROM participation p WHERE p.doc_id = doc AND p.role = 'from'
    UNION ALL SELECT '@g=' || p.domain FROM participation p WHERE p.doc_id = doc AND p.role = 'from'
    UNION ALL SELECT '@h' FROM doc d WHERE d.id = doc AND d.has_attachment <> 0
    UNION ALL SELECT '@d=' || to_char(to_timestamp(d.date / 1000.0) AT TIME ZONE 'UTC', 'YYYYMM') FROM doc d WHERE d.id = doc AND d.date IS NOT NULL) t
$$;

-- Rows indexed before this migration gain theirs in one pass (the GIN index follows row by
-- row; at 1 M documents about 6 minutes, and the table wants a VACUUM after it, which
-- autovacuum does). A subject's words are the lexemes weighted A; they are added as text, as
-- `||` would move their positions past the words'.
UPDATE doc SET words = (words::text || ' ' || COALESCE((
  SELECT string_agg(format('''@s=%s'':%s', u.lexeme, (SELECT string_agg(x.p || 'A', ',') FROM unnest(u.positions, u.weights) AS x(p, w) WHERE x.w = 'A')), ' ')
  FROM unnest(words) AS u WHERE 'A' = ANY(u.weights)), ''))::tsvector || scope_words(id);

-- In the order results are shown (newest first, documents without a date last; read backwards:
-- oldest first, undated first), and for the first and last date: a page of a long list reads a
-- window of dates (search-index.ts), never every match.
DROP INDEX doc_date;
CREATE INDEX doc_date ON doc (date DESC NULLS LAST, id DESC);
