import type { LedgerEntry } from '../../core/types.ts';
import type { LedgerHistory } from '../../oversight/ledger-history.ts';
import { LEAF, toStoredEntry } from './metadata-store.ts';
import type { LeafRow, SqliteMetadataStore } from './metadata-store.ts';
import { on } from './transactions.ts';
import type { Tx } from '../../core/transactions.ts';

// Entries read back with their payloads (a version-2 entry's personal part is beside its leaf).
const FROM = 'FROM ledger l LEFT JOIN ledger_payload p ON p.idx = l.idx';
const entryOf = (r: LeafRow): LedgerEntry => toStoredEntry(r).entry;

export class SqliteLedgerHistory implements LedgerHistory {
  readonly #meta: SqliteMetadataStore;

  constructor(meta: SqliteMetadataStore) {
    this.#meta = meta;
  }

  async entryAt(tx: Tx, index: number): Promise<LedgerEntry | null> {
    const row = on(tx).prepare(`SELECT ${LEAF} ${FROM} WHERE l.idx = ?`).get(index) as LeafRow | undefined;
    return row ? entryOf(row) : null;
  }

  // A statement of its own (not the cached one), so that two walks may be under way at once.
  // `type <> 'capture'` as the partial index ledger_actions says it (migration 0022).
  async *actionsBetween(tx: Tx, from: number, until: number): AsyncGenerator<LedgerEntry> {
    const rows = on(tx).prepareOnce(`SELECT ${LEAF} ${FROM} WHERE l.time >= ? AND l.time < ? AND l.type <> 'capture' ORDER BY l.idx`).iterate(Number.isFinite(from) ? from : -8.64e15, until) as Iterable<LeafRow>;
    for (const r of on(tx).rows(rows)) yield entryOf(r);
  }

  // By the partial index ledger_actions_by_operation (migration 0025), its expression and its
  // `type <> 'capture'` as it says them: one look-up an operation, then the few found sorted.
  // Named (INDEXED BY), as statistics would mislead: once ANALYZE has run, SQLite knows only the
  // average entries an operation (the searches' many spread over all) and walks the whole ledger
  // in order instead, 3 ms become 180 ms at 200,000 searches.
  async *actionsOf(tx: Tx, operations: readonly string[], until: number): AsyncGenerator<LedgerEntry> {
    if (operations.length === 0) return;
    const rows = on(tx).prepareOnce(`SELECT ${LEAF} FROM ledger l INDEXED BY ledger_actions_by_operation LEFT JOIN ledger_payload p ON p.idx = l.idx
      WHERE l.type <> 'capture' AND json_extract(CAST(l.leaf AS TEXT), '$.operation') IN (${operations.map(() => '?').join(', ')}) AND l.time < ?
      ORDER BY l.idx`).iterate(...operations, until) as Iterable<LeafRow>;
    for (const r of on(tx).rows(rows)) yield entryOf(r);
  }

  async entriesAfter(tx: Tx, index: number, limit: number): Promise<LedgerEntry[]> {
    return (on(tx).prepare(`SELECT ${LEAF} ${FROM} WHERE l.idx > ? ORDER BY l.idx LIMIT ?`).all(index, limit) as LeafRow[]).map(entryOf);
  }

  async entriesOfGrant(tx: Tx, grantId: string): Promise<LedgerEntry[]> {
    return (on(tx).prepare(`SELECT ${LEAF} FROM ledger_grant g JOIN ledger l ON l.idx = g.idx LEFT JOIN ledger_payload p ON p.idx = l.idx WHERE g.grant_id = ? ORDER BY l.idx`).all(grantId) as LeafRow[])
      .map(entryOf);
  }
}
