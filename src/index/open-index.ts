import { createRequire } from 'node:module';
import type { MessageDates } from '../oversight/message-dates.ts';
import type { Stores } from '../store/open-stores.ts';
import type { PostgresMetadataStore } from '../store/postgres/metadata-store.ts';
import type { IndexStore } from './index-store.ts';
import type { MailboxIndexes } from './postgres/mailbox-indexes.ts';
import { openIndexDb } from './sqlite/index-db.ts';
import { SqliteIndexStore } from './sqlite/index-store.ts';
import { SqliteMessageDates } from './sqlite/message-dates.ts';
import { SqliteSearchIndex } from './sqlite/search-index.ts';
import type { SearchIndex } from './search-index.ts';

// The search index of the archive's backend, on a connection of its own: the indexer's writes,
// the searches and the messages' dates share it. The embedded default keeps it in index.db beside
// sealbox.db (attached read-only, for the scope and mailbox: joins); PostgreSQL keeps it in the
// archive's own schema, beside the metadata. Close it when done (the PostgreSQL one rides on the
// metadata store's pool, which the stores close).
export interface OpenIndex {
  readonly store: IndexStore;
  readonly search: SearchIndex;
  readonly dates: MessageDates;
  // PostgreSQL: the biggest mailboxes' own words indexes, kept by the duty holder's index thread.
  readonly mailboxIndexes: MailboxIndexes | null;
  close(): void;
}

// `deferRebuilds` (SQLite): the long migrations are the indexer's to apply (index-db.ts).
export function openIndex(stores: Stores, options: { deferRebuilds?: boolean } = {}): OpenIndex {
  if (stores.kind === 'postgres') {
    // Loaded only for PostgreSQL, as its store is (store/open-stores.ts).
    const load = createRequire(import.meta.url);
    const { indexTransactions, PostgresIndexStore } = load('./postgres/index-store.ts') as typeof import('./postgres/index-store.ts');
    const { PostgresMessageDates } = load('./postgres/message-dates.ts') as typeof import('./postgres/message-dates.ts');
    const { PostgresSearchIndex } = load('./postgres/search-index.ts') as typeof import('./postgres/search-index.ts');
    const { MailboxIndexes } = load('./postgres/mailbox-indexes.ts') as typeof import('./postgres/mailbox-indexes.ts');
    const meta = stores.meta as PostgresMetadataStore;
    const tx = indexTransactions(meta);
    return { store: new PostgresIndexStore(meta, tx), search: new PostgresSearchIndex(meta, tx), dates: new PostgresMessageDates(meta, tx), mailboxIndexes: new MailboxIndexes(meta), close: () => {} };
  }
  const db = openIndexDb(stores.paths.index, stores.paths.meta, { deferRebuilds: options.deferRebuilds ?? false });
  let open = true;
  const close = () => {
    if (open) db.close();
    open = false;
  };
  return { store: new SqliteIndexStore(db), search: new SqliteSearchIndex(db), dates: new SqliteMessageDates(db), mailboxIndexes: null, close };
}
