import type { LedgerEntry } from '../core/types.ts';
import { parseEntry } from '../ledger/ledger-entry.ts';
import type { SqliteMetadataStore } from '../store/sqlite/metadata-store.ts';

// Reads the ledger back for oversight: entries by time (reports, past inventories) or after an
// index (the sweep). The ledger is the record; oversight only ever reads it.
export function* entriesUntil(meta: SqliteMetadataStore, until: number, from = -Infinity): Generator<LedgerEntry> {
  const rows = meta.db.prepare('SELECT leaf FROM ledger WHERE time >= ? AND time < ? ORDER BY idx').iterate(Number.isFinite(from) ? from : -8.64e15, until) as Iterable<{ leaf: Uint8Array }>;
  for (const r of rows) yield parseEntry(r.leaf);
}

export function entriesAfter(meta: SqliteMetadataStore, index: number, limit: number): LedgerEntry[] {
  return (meta.prepare('SELECT leaf FROM ledger WHERE idx > ? ORDER BY idx LIMIT ?').all(index, limit) as { leaf: Uint8Array }[]).map((r) => parseEntry(r.leaf));
}

export function userOf(actor: string): string | null {
  return actor.startsWith('user:') ? actor.slice(5) : null;
}
