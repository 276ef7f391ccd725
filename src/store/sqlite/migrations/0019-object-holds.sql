-- Objects in object storage (blobs.kind "s3") that Sealbox has given an S3 legal hold because a
-- legal hold in force covers a message they hold (src/retention/object-holds.ts): what it takes
-- off again when no hold covers them any more.
CREATE TABLE IF NOT EXISTS object_hold (
  file TEXT PRIMARY KEY,               -- the blob file (object name) as message.blob_file has it
  placed_at INTEGER NOT NULL
) WITHOUT ROWID;
