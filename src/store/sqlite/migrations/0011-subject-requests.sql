-- Data-subject requests (GDPR Art. 17 erasure): filed by one person, decided by another; on
-- approval the archive destroys what may go of the mail the person appears in, erases their
-- personal data from the ledger's payloads, and keeps the outcome (what went, what stayed and
-- why) as the request's certificate.
CREATE TABLE IF NOT EXISTS subject_request (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,                   -- erasure
  addresses TEXT NOT NULL,              -- JSON array, lowercased
  reference TEXT NOT NULL,              -- the request's reference (a ticket, a letter)
  reason TEXT NOT NULL,
  filed_by INTEGER REFERENCES user(id),
  filed_by_label TEXT NOT NULL,
  filed_at INTEGER NOT NULL,
  decided_by INTEGER REFERENCES user(id),
  decision TEXT,                        -- approve | deny
  decision_reason TEXT,
  decided_at INTEGER,
  executed_at INTEGER,
  outcome TEXT                          -- JSON: the certificate
);
