import { DatabaseSync } from 'node:sqlite';
import { readFileSync } from 'node:fs';

const SCHEMA = readFileSync(new URL('./schema.sql', import.meta.url), 'utf8');

// The index database as the stores use it; the composition root hands it on without looking inside.
export type IndexDatabase = DatabaseSync;

// The index database, with the main database attached read-only as "meta" (the scope and
// mailbox: conditions join its mailbox tables).
export function openIndexDb(path: string, metaPath: string, options: { readOnly?: boolean } = {}): DatabaseSync {
  const db = new DatabaseSync(path, { readOnly: options.readOnly ?? false });
  db.exec('PRAGMA busy_timeout = 10000');
  if (!options.readOnly) {
    db.exec('PRAGMA journal_mode = WAL');
    // The index is rebuildable from the archive and its cursor commits with its rows.
    db.exec('PRAGMA synchronous = NORMAL');
    db.exec(SCHEMA);
  }
  db.prepare('ATTACH DATABASE ? AS meta').run(`file:${metaPath}?mode=ro`);
  return db;
}
