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
let walks = 0;

export class PostgresLedgerHistory implements LedgerHistory {
  async entryAt(tx: Tx, index: number): Promise<LedgerEntry | null> {
    const row = await on(tx).one<LeafRow>(`SELECT ${LEAF} ${FROM} WHERE l.idx = $1`, [index]);
    return row ? entryOf(row) : null;
  }

  // One query, read a page at a time through a cursor of its own: paged by `idx > after`, each
  // page ran the query again, and a plan by the time index found and sorted the whole window each
  // time (quadratic: 8 s for 66,000 entries on a table without statistics). The planner is told
  // the walk reads every row (cursor_tuple_fraction), so that it takes the window from the time
  // index and sorts it once rather than walking the ledger's key through every capture.
  async *actionsBetween(tx: Tx, from: number, until: number): AsyncGenerator<LedgerEntry> {
    const since = Number.isFinite(from) ? from : Number.MIN_SAFE_INTEGER;
    const before = Number.isFinite(until) ? until : Number.MAX_SAFE_INTEGER;
    const cursor = `actions_${++walks}`;
    const pg = on(tx);
    await pg.run('SET LOCAL cursor_tuple_fraction = 1');
    await pg.run(`DECLARE ${cursor} NO SCROLL CURSOR FOR SELECT ${LEAF} ${FROM} WHERE l.time >= $1 AND l.time < $2 AND l.type <> 'capture' ORDER BY l.idx`, [since, before]);
    try {
      for (;;) {
        const rows = await pg.query<LeafRow>(`FETCH ${PAGE} FROM ${cursor}`);
        for (const r of rows) yield entryOf(r);
        if (rows.length < PAGE) return;
      }
    } finally {
      if (pg.open && !pg.failed) await pg.run(`CLOSE ${cursor}`);
    }
  }

  // By the partial index ledger_actions_by_operation (migration 0012), its expression and its
  // `type <> 'capture'` as it says them; the entries that change access are few, read at once.
  // Their payloads after, by index: joined in the same query, the planner (which can only guess
  // how rare an operation is) hashed or merged the whole payload table, every search's included.
  async *actionsOf(tx: Tx, operations: readonly string[], until: number): AsyncGenerator<LedgerEntry> {
    if (operations.length === 0) return;
    const before = Number.isFinite(until) ? until : Number.MAX_SAFE_INTEGER;
    const leaves = await on(tx).query<Pick<LeafRow, 'leaf' | 'leaf_hash'> & { idx: number }>(`SELECT l.idx, l.leaf, l.leaf_hash FROM ledger l
      WHERE l.type <> 'capture' AND ledger_leaf_json(l.leaf) ->> 'operation' = ANY($1::text[]) AND l.time < $2 ORDER BY l.idx`, [operations, before]);
    if (leaves.length === 0) return;
    const payloads = new Map((await on(tx).query<Pick<LeafRow, 'salt' | 'payload'> & { idx: number }>('SELECT idx, salt, payload FROM ledger_payload WHERE idx = ANY($1::bigint[])', [leaves.map((r) => r.idx)]))
      .map((p) => [p.idx, p]));
    for (const r of leaves) {
      const p = payloads.get(r.idx);
      yield entryOf({ ...r, salt: p?.salt ?? null, payload: p?.payload ?? null });
    }
  }

  async entriesAfter(tx: Tx, index: number, limit: number): Promise<LedgerEntry[]> {
    // The bound said of the payloads too: PostgreSQL carries only equalities across a join, and a
    // merge join read the payloads' index from its first row (the sweep asks every few seconds).
    return (await on(tx).query<LeafRow>(`SELECT ${LEAF} FROM ledger l LEFT JOIN ledger_payload p ON p.idx = l.idx AND p.idx > $1 WHERE l.idx > $1 ORDER BY l.idx LIMIT $2`, [index, limit])).map(entryOf);
  }

  async entriesOfGrant(tx: Tx, grantId: string): Promise<LedgerEntry[]> {
    return (await on(tx).query<LeafRow>(`SELECT ${LEAF} FROM ledger_grant g JOIN ledger l ON l.idx = g.idx LEFT JOIN ledger_payload p ON p.idx = l.idx WHERE g.grant_id = $1 ORDER BY l.idx`, [grantId]))
      .map(entryOf);
  }
}
