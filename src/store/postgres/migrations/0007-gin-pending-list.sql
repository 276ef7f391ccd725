-- New documents' words wait in the GIN index's pending list (fastupdate) until it is merged into
-- the index, and every search reads the whole list meanwhile. PostgreSQL lets it grow to 4 MB
-- (500 pages) by default; at 1 MB searches during ingest read a quarter of that, and inserts
-- keep most of what the list gains them over none (README, Scale-out: measured).
ALTER INDEX doc_words SET (gin_pending_list_limit = 1024);
