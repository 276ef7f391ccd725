-- Conversations. A message's thread is keyed by the lowercased Message-ID at its root: the
-- thread of the first message it refers to (References, then In-Reply-To) that is indexed,
-- else the first of those ids, else its own Message-ID; a message with none of them is a
-- thread of its own ("sha256:" and its identity). When a message arrives that earlier replies
-- were keyed by, they join its thread (SqliteIndexStore.addDocument).
-- NULL: indexed before this column existed; the indexer fills it in from the archive when idle
-- (Indexer.backfillThreads), and until then such a message is a thread of its own.
ALTER TABLE doc ADD COLUMN thread_key TEXT;
CREATE INDEX doc_thread ON doc(thread_key, date);
