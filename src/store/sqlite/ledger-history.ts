import type { LedgerEntry } from '../../core/types.ts';
import { parseEntry } from '../../ledger/ledger-entry.ts';
import type { LedgerHistory } from '../../oversight/ledger-history.ts';
import type { SqliteMetadataStore } from './metadata-store.ts';
import { on } from './transactions.ts';
import type { Tx } from '../../core/transactions.ts';

export class SqliteLedgerHistory implements LedgerHistory {
  readonly #meta: SqliteMetadataStore;

  constructor(meta: SqliteMetadataStore) {
    this.#meta = meta;
  }

  async entryAt(tx: Tx, index: number): Promise<LedgerEntry | null> {
    const row = on(tx).prepare('SELECT leaf FROM ledger WHERE idx = ?').get(index) as { leaf: Uint8Array } | undefined;
    return row ? parseEntry(row.leaf) : null;
  }

  // A statement of its own (not the cached one), so that two walks may be under way at once.
  async *entriesBetween(tx: Tx, from: number, until: number): AsyncGenerator<LedgerEntry> {
    const rows = on(tx).prepareOnce('SELECT leaf FROM ledger WHERE time >= ? AND time < ? ORDER BY idx').iterate(Number.isFinite(from) ? from : -8.64e15, until) as Iterable<{ leaf: Uint8Array }>;
    for (const r of on(tx).rows(rows)) yield parseEntry(r.leaf);
  }

  async entriesAfter(tx: Tx, index: number, limit: number): Promise<LedgerEntry[]> {
    return (on(tx).prepare('SELECT leaf FROM ledger WHERE idx > ? ORDER BY idx LIMIT ?').all(index, limit) as { leaf: Uint8Array }[]).map((r) => parseEntry(r.leaf));
  }

  async entriesOfGrant(tx: Tx, grantId: string): Promise<LedgerEntry[]> {
    return (on(tx).prepare('SELECT l.leaf FROM ledger_grant g JOIN ledger l ON l.idx = g.idx WHERE g.grant_id = ? ORDER BY l.idx').all(grantId) as { leaf: Uint8Array }[])
      .map((r) => parseEntry(r.leaf));
  }
}
