-- A new document's row goes in once, its words with it (src/index/postgres/index-store.ts,
-- addFullText): an INSERT and then an UPDATE wrote every row twice, and each UPDATE left a dead
-- row version, new entries in each of doc's indexes and its WAL. Its scope lexemes (migration
-- 0004) are therefore computed before the row exists, from the has_attachment and date it is
-- about to hold; its participants are in participation by then. The same lexemes as 0004's
-- definition, which now reads those two from the row and calls this one, so that there is still
-- one definition: for documents already written (words written again, attachments read later).
CREATE FUNCTION scope_words(doc bigint, has_attachment bigint, date bigint) RETURNS tsvector LANGUAGE sql STABLE AS $$
  SELECT COALESCE(array_to_tsvector(array_agg(DISTINCT w)), ''::tsvector) FROM (
    SELECT '@a=' || p.address AS w FROM participation p WHERE p.doc_id = scope_words.doc
    UNION ALL SELECT '@f=' || p.address FROM participation p WHERE p.doc_id = scope_words.doc AND p.role = 'from'
    UNION ALL SELECT '@g=' || p.domain FROM participation p WHERE p.doc_id = scope_words.doc AND p.role = 'from'
    UNION ALL SELECT '@h' WHERE scope_words.has_attachment <> 0
    UNION ALL SELECT '@d=' || to_char(to_timestamp(scope_words.date / 1000.0) AT TIME ZONE 'UTC', 'YYYYMM') WHERE scope_words.date IS NOT NULL) t
$$;

-- A document not (or no longer) in doc: its participants' lexemes alone, as before.
CREATE OR REPLACE FUNCTION scope_words(doc bigint) RETURNS tsvector LANGUAGE sql STABLE AS $$
  SELECT scope_words(scope_words.doc, d.has_attachment, d.date) FROM (SELECT) AS one LEFT JOIN doc d ON d.id = scope_words.doc
$$;
