-- Each person's notices in the app: the same notices the outbox mails, kept per person so that
-- they are told even where mail is not delivered. Only that person reads them.

CREATE TABLE IF NOT EXISTS inbox_notice (
  id INTEGER PRIMARY KEY,
  user_id INTEGER NOT NULL,
  kind TEXT NOT NULL,
  subject TEXT NOT NULL,
  body TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  visible_from INTEGER NOT NULL,        -- a notice delayed by the mailbox's policy stays hidden until then
  read_at INTEGER
);
CREATE INDEX IF NOT EXISTS inbox_notice_user ON inbox_notice (user_id, visible_from);
