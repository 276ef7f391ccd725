import { DatabaseSync } from 'node:sqlite';
import { migrate, migrationsIn } from '../../store/sqlite/migrate.ts';
import { SqliteTransactions } from '../../store/sqlite/transactions.ts';

// The index's own numbered migrations (its database is apart from the archive's metadata).
const MIGRATIONS = migrationsIn(new URL('./migrations/', import.meta.url));
// From this one on, migrations rebuild the full-text table: 40 minutes and more on an index of a
// million messages. So only the indexer's connection applies them (in the index thread, once
// the server listens: mail is received meanwhile and indexed after); the server's and the
// console's connections open an index holding documents at the version before, and search with
// the plan that needs none of them (search-index.ts) until they have committed.
const REBUILDS_FROM = 7;

// One connection to the index database and its transactions, one at a time (the index store
// and the search index on the same connection share them). The composition root hands it on
// without looking inside.
export class IndexDatabase {
  readonly db: DatabaseSync;
  readonly transactions: SqliteTransactions;

  constructor(db: DatabaseSync) {
    this.db = db;
    this.transactions = new SqliteTransactions(db);
  }

  close(): void {
    this.db.close();
  }
}

// The index database, with the main database attached read-only as "meta" (the scope and
// mailbox: conditions join its mailbox tables). `deferRebuilds`: leave the migrations from
// REBUILDS_FROM on to the indexer's connection when the index holds documents.
export function openIndexDb(path: string, metaPath: string, options: { readOnly?: boolean; deferRebuilds?: boolean } = {}): IndexDatabase {
  const db = new DatabaseSync(path, { readOnly: options.readOnly ?? false });
  // How long to wait for another connection's lock; for a transaction's, on timers that leave
  // the event loop turning (SqliteTransactions).
  db.exec('PRAGMA busy_timeout = 10000');
  if (!options.readOnly) {
    db.exec('PRAGMA journal_mode = WAL');
    // The index is rebuildable from the archive and its cursor commits with its rows.
    db.exec('PRAGMA synchronous = NORMAL');
    // A disposed message's rows are overwritten when deleted, not left in free pages.
    db.exec('PRAGMA secure_delete = ON');
    migrate(db, MIGRATIONS, { baseline: 1, upTo: REBUILDS_FROM - 1 });
    // An index without documents takes the rebuilds at once: they cost nothing there.
    if (!options.deferRebuilds || db.prepare('SELECT 1 FROM doc LIMIT 1').get() === undefined) migrate(db, MIGRATIONS, { baseline: 1 });
  }
  db.prepare('ATTACH DATABASE ? AS meta').run(`file:${metaPath}?mode=ro`);
  return new IndexDatabase(db);
}
