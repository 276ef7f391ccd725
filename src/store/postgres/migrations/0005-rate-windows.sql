-- Rate-limit windows shared by the nodes of one archive (src/api/rate-limit.ts): requests per
-- client key (kind and address) in a one-minute window. UNLOGGED: a crash of the database only
-- resets the windows, as a restart of an embedded server does; old windows are deleted as new
-- ones begin.
CREATE UNLOGGED TABLE rate_window (
  key text COLLATE "C" NOT NULL,
  win bigint NOT NULL,
  n integer NOT NULL,
  PRIMARY KEY (key, win)
);
