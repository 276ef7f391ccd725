import type { Tx } from '../../core/transactions.ts';
import type { DisposalStore, ExpiredMessage, QueuedErasure } from '../../retention/disposal-store.ts';
import type { ReceiptMinimum } from '../../retention/kept-by-rule.ts';
import type { PostgresMetadataStore } from './metadata-store.ts';
import { on } from './transactions.ts';

export class PostgresDisposalStore implements DisposalStore {
  readonly #meta: PostgresMetadataStore;

  constructor(meta: PostgresMetadataStore) {
    this.#meta = meta;
  }

  // The old versions of the rows a disposal changed (the destroyed keys) made free space
  // (VACUUM), outside any transaction. Unlike SQLite's secure_delete, PostgreSQL does not
  // overwrite the bytes at once: they stay in the table's free space, and in WAL segments and
  // base backups, until reused (README, "PostgreSQL: what is left").
  purgeRemoved(): Promise<boolean> {
    return this.#meta.vacuum(['message', 'capture', 'erasure_queue']);
  }

  async markDisposed(tx: Tx, sha256s: readonly string[], d: { at: number; ledgerIndex: number; policy: string; expiredBy?: number; receivedThrough?: number }): Promise<string[]> {
    const sql = on(tx);
    const disposed: string[] = [];
    for (const sha256 of sha256s) {
      const row = await sql.one<{ id: number; blob_file: string; blob_offset: number; blob_length: number }>('SELECT id, blob_file, blob_offset, blob_length FROM message WHERE sha256 = $1 AND disposed_at IS NULL', [sha256]);
      if (!row) continue;
      if (d.expiredBy !== undefined && (await sql.one('SELECT 1 FROM capture WHERE message = $1 AND (retain_until IS NULL OR retain_until > $2) LIMIT 1', [row.id, d.expiredBy])) !== undefined) continue;
      if (d.receivedThrough !== undefined && (await sql.one('SELECT 1 FROM capture WHERE message = $1 AND id > $2 LIMIT 1', [row.id, d.receivedThrough])) !== undefined) continue;
      await sql.query('UPDATE message SET wrapped_key = NULL, disposed_at = $1, disposed_by = $2, disposed_policy = $3 WHERE id = $4', [d.at, d.ledgerIndex, d.policy, row.id]);
      await sql.query('INSERT INTO erasure_queue (message_id, blob_file, blob_offset, blob_length, queued_at) VALUES ($1, $2, $3, $4, $5)', [row.id, row.blob_file, row.blob_offset, row.blob_length, d.at]);
      disposed.push(sha256);
    }
    return disposed;
  }

  async expired(tx: Tx, now: number, limit: number, after: ExpiredMessage | null = null): Promise<ExpiredMessage[]> {
    // Candidates from the live receipts' retain-until index (a receipt of a message not disposed,
    // past it, and from where the last page ended: a message's latest receipt is at or past it);
    // kept only if no receipt of the same message is kept for ever or longer.
    const [until, id] = after ? [after.retainedUntil, after.messageRowId] : [Number.MIN_SAFE_INTEGER, 0];
    const rows = await on(tx).query(`SELECT m.id, m.sha256, MAX(c.retain_until) AS until, array_agg(c.retention_rule ORDER BY c.id) AS rules
      FROM message m JOIN capture c ON c.message = m.id
      WHERE m.id IN (SELECT message FROM capture WHERE retain_until IS NOT NULL AND message_disposed = 0 AND retain_until <= $1 AND retain_until >= $3) AND m.disposed_at IS NULL
      GROUP BY m.id HAVING COUNT(*) FILTER (WHERE c.retain_until IS NULL) = 0 AND MAX(c.retain_until) <= $1 AND (MAX(c.retain_until), m.id) > ($3::bigint, $4::bigint)
      ORDER BY until, m.id LIMIT $2`, [now, limit, until, id]);
    return rows.map((r) => ({ messageRowId: r.id, sha256: r.sha256, retainedUntil: r.until, rules: [...new Set(r.rules as (string | null)[])] }));
  }

  async minimaOf(tx: Tx, sha256s: readonly string[]): Promise<{ sha256: string; lastCaptureRowId: number; receipts: ReceiptMinimum[] }[]> {
    const rows = await on(tx).query<{ sha256: string; last: number; receipts: { until: number | null; rule: string | null }[] }>(`SELECT m.sha256, MAX(c.id) AS last,
        json_agg(json_build_object('until', c.keep_until, 'rule', c.keep_rule) ORDER BY c.id) AS receipts
      FROM message m JOIN capture c ON c.message = m.id WHERE m.sha256 = ANY($1::text[]) AND m.disposed_at IS NULL GROUP BY m.id`, [sha256s]);
    return rows.map((r) => ({
      sha256: r.sha256, lastCaptureRowId: r.last,
      receipts: r.receipts.map((k) => ({ keepUntil: k.until === null ? null : Number(k.until), keepRule: k.rule })),
    }));
  }

  async capturesOf(tx: Tx, sha256s: readonly string[]): Promise<{ captureRowId: number; ledgerIndex: number }[]> {
    return (await on(tx).query('SELECT c.id, c.ledger_index FROM capture c JOIN message m ON m.id = c.message WHERE m.sha256 = ANY($1::text[]) ORDER BY c.id', [sha256s]))
      .map((r) => ({ captureRowId: r.id, ledgerIndex: r.ledger_index }));
  }

  async clearCaptureDetails(tx: Tx, captureRowIds: readonly number[]): Promise<void> {
    if (captureRowIds.length > 0) await on(tx).query('UPDATE capture SET envelope = NULL, provenance = NULL WHERE id = ANY($1::bigint[])', [captureRowIds]);
  }

  async activeHoldIds(tx: Tx): Promise<string[]> {
    return (await on(tx).query<{ id: string }>('SELECT id FROM hold WHERE released_at IS NULL ORDER BY id')).map((r) => r.id);
  }

  async queuedErasures(tx: Tx, limit: number): Promise<QueuedErasure[]> {
    const rows = await on(tx).query(`SELECT q.id, q.message_id, q.blob_file, q.blob_offset, q.blob_length, m.disposed_at,
      (SELECT array_agg(c.id ORDER BY c.id) FROM capture c WHERE c.message = q.message_id) AS captures
      FROM erasure_queue q JOIN message m ON m.id = q.message_id ORDER BY q.id LIMIT $1`, [limit]);
    return rows.map((r) => ({
      id: r.id, messageRowId: r.message_id, blobRef: { file: r.blob_file, offset: r.blob_offset, length: r.blob_length },
      captureRowIds: ((r.captures ?? []) as (string | number)[]).map(Number), stillDisposed: r.disposed_at !== null,
    }));
  }

  async erasureDone(tx: Tx, id: number): Promise<void> {
    await on(tx).query('DELETE FROM erasure_queue WHERE id = $1', [id]);
  }
}
