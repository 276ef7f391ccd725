-- Version-2 ledger entries: the personal part of each entry (client address, mailboxes,
-- parameters), stored beside its leaf, which commits to it with the salt. Erasing a person
-- (GDPR Art. 17) sets payload and salt to NULL and names the erasure entry; the leaf, and
-- every proof, stays as it was.
CREATE TABLE IF NOT EXISTS ledger_payload (
  idx INTEGER PRIMARY KEY,
  salt BLOB,
  payload TEXT,
  erased_by INTEGER
);
