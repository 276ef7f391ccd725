import type { LedgerEntry } from '../../core/types.ts';
import { parseEntry } from '../../ledger/ledger-entry.ts';
import type { LedgerHistory } from '../../oversight/ledger-history.ts';
import type { SqliteMetadataStore } from './metadata-store.ts';

export class SqliteLedgerHistory implements LedgerHistory {
  readonly #meta: SqliteMetadataStore;

  constructor(meta: SqliteMetadataStore) {
    this.#meta = meta;
  }

  entryAt(index: number): LedgerEntry | null {
    const row = this.#meta.prepare('SELECT leaf FROM ledger WHERE idx = ?').get(index) as { leaf: Uint8Array } | undefined;
    return row ? parseEntry(row.leaf) : null;
  }

  // A statement of its own (not the cached one), so that two walks may be under way at once.
  *entriesBetween(from: number, until: number): Generator<LedgerEntry> {
    const rows = this.#meta.db.prepare('SELECT leaf FROM ledger WHERE time >= ? AND time < ? ORDER BY idx').iterate(Number.isFinite(from) ? from : -8.64e15, until) as Iterable<{ leaf: Uint8Array }>;
    for (const r of rows) yield parseEntry(r.leaf);
  }

  entriesAfter(index: number, limit: number): LedgerEntry[] {
    return (this.#meta.prepare('SELECT leaf FROM ledger WHERE idx > ? ORDER BY idx LIMIT ?').all(index, limit) as { leaf: Uint8Array }[]).map((r) => parseEntry(r.leaf));
  }

  entriesOfGrant(grantId: string): LedgerEntry[] {
    return (this.#meta.prepare('SELECT l.leaf FROM ledger_grant g JOIN ledger l ON l.idx = g.idx WHERE g.grant_id = ? ORDER BY l.idx').all(grantId) as { leaf: Uint8Array }[])
      .map((r) => parseEntry(r.leaf));
  }
}
