import type { LedgerEntry } from '../../core/types.ts';
import type { Tx } from '../../core/transactions.ts';
import type { LedgerHistory } from '../../oversight/ledger-history.ts';
import { toStoredEntry } from '../sqlite/metadata-store.ts';
import type { LeafRow } from '../sqlite/metadata-store.ts';
import { on } from './transactions.ts';

// Entries read back with their payloads (a version-2 entry's personal part is beside its leaf).
const LEAF = 'l.idx, l.leaf, l.leaf_hash, p.salt, p.payload';
const FROM = 'FROM ledger l LEFT JOIN ledger_payload p ON p.idx = l.idx';
const entryOf = (r: LeafRow): LedgerEntry => toStoredEntry(r).entry;
// A walk reads a page at a time, by index, in the transaction's one view.
const PAGE = 500;

export class PostgresLedgerHistory implements LedgerHistory {
  async entryAt(tx: Tx, index: number): Promise<LedgerEntry | null> {
    const row = await on(tx).one<LeafRow>(`SELECT ${LEAF} ${FROM} WHERE l.idx = $1`, [index]);
    return row ? entryOf(row) : null;
  }

  async *actionsBetween(tx: Tx, from: number, until: number): AsyncGenerator<LedgerEntry> {
    const since = Number.isFinite(from) ? from : Number.MIN_SAFE_INTEGER;
    const before = Number.isFinite(until) ? until : Number.MAX_SAFE_INTEGER;
    for (let after = -1; ;) {
      const rows = await on(tx).query<LeafRow & { idx: number }>(`SELECT ${LEAF} ${FROM} WHERE l.time >= $1 AND l.time < $2 AND l.type <> 'capture' AND l.idx > $3 ORDER BY l.idx LIMIT $4`, [since, before, after, PAGE]);
      for (const r of rows) yield entryOf(r);
      if (rows.length < PAGE) return;
      after = rows.at(-1)!.idx;
    }
  }

  async entriesAfter(tx: Tx, index: number, limit: number): Promise<LedgerEntry[]> {
    return (await on(tx).query<LeafRow>(`SELECT ${LEAF} ${FROM} WHERE l.idx > $1 ORDER BY l.idx LIMIT $2`, [index, limit])).map(entryOf);
  }

  async entriesOfGrant(tx: Tx, grantId: string): Promise<LedgerEntry[]> {
    return (await on(tx).query<LeafRow>(`SELECT ${LEAF} FROM ledger_grant g JOIN ledger l ON l.idx = g.idx LEFT JOIN ledger_payload p ON p.idx = l.idx WHERE g.grant_id = $1 ORDER BY l.idx`, [grantId]))
      .map(entryOf);
  }
}
