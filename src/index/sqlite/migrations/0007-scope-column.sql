-- The full-text table gains a sixth column, `scope` (scope-tokens.ts): a token per address and
-- domain taking part in the message (every role, envelope Bcc and sender included), one more per
-- address and domain of its From ('f', 'g'), its month
-- ('d' YYYYMM, UTC; dnone/dearly/dlate outside years 0000–9999) and 'hattachment'. A search
-- within mailboxes becomes one MATCH of its words and the mailboxes' address tokens, and a page
-- newest first reads a month at a time (search-index.ts). As in migration 5 the table keeps no
-- text, so it is built anew from the words its index holds (fts5vocab 'instance', in position
-- order) and the scope from participation and doc. Every document gets a row, even one without a
-- word: its scope tokens are what finds it within a mailbox. Minutes at a million messages, once.
CREATE VIRTUAL TABLE doc_fts_7 USING fts5(subject, addresses, body, filenames, attachments, scope, content='', contentless_delete=1, tokenize='unicode61 remove_diacritics 2');
CREATE VIRTUAL TABLE temp.doc_fts_words USING fts5vocab(main, doc_fts, instance);
CREATE TEMP TABLE doc_fts_text AS
  SELECT doc,
    coalesce(max(CASE col WHEN 'subject' THEN words END), '') AS subject, coalesce(max(CASE col WHEN 'addresses' THEN words END), '') AS addresses,
    coalesce(max(CASE col WHEN 'body' THEN words END), '') AS body, coalesce(max(CASE col WHEN 'filenames' THEN words END), '') AS filenames,
    coalesce(max(CASE col WHEN 'attachments' THEN words END), '') AS attachments
  FROM (SELECT doc, col, group_concat(term, ' ' ORDER BY "offset") AS words FROM temp.doc_fts_words GROUP BY doc, col)
  GROUP BY doc;
CREATE UNIQUE INDEX temp.doc_fts_text_doc ON doc_fts_text(doc);
INSERT INTO doc_fts_7 (rowid, subject, addresses, body, filenames, attachments, scope)
  SELECT d.id, coalesce(t.subject, ''), coalesce(t.addresses, ''), coalesce(t.body, ''), coalesce(t.filenames, ''), coalesce(t.attachments, ''),
    coalesce((SELECT group_concat(token, ' ') FROM (
      SELECT 'a' || lower(hex(p.address)) AS token FROM participation p WHERE p.doc_id = d.id
      UNION SELECT 'm' || lower(hex(p.domain)) FROM participation p WHERE p.doc_id = d.id
      UNION SELECT 'f' || lower(hex(p.address)) FROM participation p WHERE p.doc_id = d.id AND p.role = 'from'
      UNION SELECT 'g' || lower(hex(p.domain)) FROM participation p WHERE p.doc_id = d.id AND p.role = 'from')) || ' ', '')
    || CASE WHEN d.date IS NULL THEN 'dnone' WHEN d.date < -62167219200000 THEN 'dearly' WHEN d.date >= 253402300800000 THEN 'dlate'
            ELSE 'd' || strftime('%Y%m', d.date / 1000.0, 'unixepoch') END
    || CASE WHEN d.has_attachment <> 0 THEN ' hattachment' ELSE '' END
  FROM doc d LEFT JOIN temp.doc_fts_text t ON t.doc = d.id
  ORDER BY d.id;
DROP TABLE temp.doc_fts_text;
DROP TABLE temp.doc_fts_words;
DROP TABLE doc_fts;
ALTER TABLE doc_fts_7 RENAME TO doc_fts;
-- As migrations 3 and 5 made it: a disposed message's words leave the index's segments at once.
INSERT INTO doc_fts (doc_fts, rank) VALUES ('secure-delete', 1);
