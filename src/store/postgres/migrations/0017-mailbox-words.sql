-- The mailboxes whose documents have a words index of their own (src/index/postgres/
-- mailbox-indexes.ts): a partial GIN index of doc.words WHERE words @@ predicate, the predicate
-- the mailbox's scope lexemes ORed. A search within the mailbox states the predicate as a clause
-- of its own, and PostgreSQL reads that index instead of intersecting the whole index's posting
-- lists with the mailbox's lexeme (a fifth of every document in the busiest mailbox). The indexes
-- themselves are built by the node holding the duties (CREATE INDEX CONCURRENTLY), not here.
CREATE TABLE mailbox_words (
  mailbox_id bigint PRIMARY KEY,
  index_name text NOT NULL UNIQUE,
  addresses text[] NOT NULL,     -- the mailbox's addresses when its index was built
  predicate text NOT NULL,       -- the index's predicate, a tsquery: their scope lexemes ORed
  documents bigint NOT NULL,     -- documents expected in it when it was built
  built_at bigint NOT NULL
);
