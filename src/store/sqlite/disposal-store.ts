import type { Tx } from '../../core/transactions.ts';
import type { DisposalStore, ExpiredMessage, QueuedErasure } from '../../retention/disposal-store.ts';
import type { ReceiptMinimum } from '../../retention/kept-by-rule.ts';
import type { SqliteMetadataStore } from './metadata-store.ts';
import { on } from './transactions.ts';

export class SqliteDisposalStore implements DisposalStore {
  readonly #meta: SqliteMetadataStore;

  constructor(meta: SqliteMetadataStore) {
    this.#meta = meta;
  }

  // The metadata store's log cut, so the destroyed keys' old pages are not left in it.
  purgeRemoved(): Promise<boolean> {
    return this.#meta.truncateLog();
  }

  async markDisposed(tx: Tx, sha256s: readonly string[], d: { at: number; ledgerIndex: number; policy: string; expiredBy?: number; receivedThrough?: number }): Promise<string[]> {
    const sql = on(tx);
    const disposed: string[] = [];
    for (const sha256 of sha256s) {
      const row = sql.prepare('SELECT id, blob_file, blob_offset, blob_length FROM message WHERE sha256 = ? AND disposed_at IS NULL').get(sha256) as
        { id: number; blob_file: string; blob_offset: number; blob_length: number } | undefined;
      if (!row) continue;
      if (d.expiredBy !== undefined && sql.prepare('SELECT 1 FROM capture WHERE message = ? AND (retain_until IS NULL OR retain_until > ?) LIMIT 1').get(row.id, d.expiredBy) !== undefined) continue;
      if (d.receivedThrough !== undefined && sql.prepare('SELECT 1 FROM capture WHERE message = ? AND id > ? LIMIT 1').get(row.id, d.receivedThrough) !== undefined) continue;
      sql.prepare('UPDATE message SET wrapped_key = NULL, disposed_at = ?, disposed_by = ?, disposed_policy = ? WHERE id = ?').run(d.at, d.ledgerIndex, d.policy, row.id);
      sql.prepare('INSERT INTO erasure_queue (message_id, blob_file, blob_offset, blob_length, queued_at) VALUES (?, ?, ?, ?, ?)').run(row.id, row.blob_file, row.blob_offset, row.blob_length, d.at);
      disposed.push(sha256);
    }
    return disposed;
  }

  async expired(tx: Tx, now: number, limit: number, after: ExpiredMessage | null = null): Promise<ExpiredMessage[]> {
    // Candidates from the live receipts' retain-until index (a receipt of a message not disposed,
    // past it, and from where the last page ended: a message's latest receipt is at or past it);
    // kept only if no receipt of the same message is kept for ever or longer.
    const [until, id] = after ? [after.retainedUntil, after.messageRowId] : [-8.64e15, 0];
    const rows = on(tx).prepare(`SELECT m.id, m.sha256, MAX(c.retain_until) AS until, json_group_array(c.retention_rule) AS rules
      FROM message m JOIN capture c ON c.message = m.id
      WHERE m.id IN (SELECT message FROM capture WHERE retain_until IS NOT NULL AND message_disposed = 0 AND retain_until <= ? AND retain_until >= ?) AND m.disposed_at IS NULL
      GROUP BY m.id HAVING SUM(c.retain_until IS NULL) = 0 AND MAX(c.retain_until) <= ? AND (MAX(c.retain_until) > ? OR (MAX(c.retain_until) = ? AND m.id > ?))
      ORDER BY until, m.id LIMIT ?`).all(now, until, now, until, until, id, limit) as Record<string, any>[];
    return rows.map((r) => ({ messageRowId: Number(r.id), sha256: r.sha256, retainedUntil: Number(r.until), rules: [...new Set(JSON.parse(r.rules) as (string | null)[])] }));
  }

  async minimaOf(tx: Tx, sha256s: readonly string[]): Promise<{ sha256: string; lastCaptureRowId: number; receipts: ReceiptMinimum[] }[]> {
    const rows = on(tx).prepare(`SELECT m.sha256, MAX(c.id) AS last, json_group_array(json_object('until', c.keep_until, 'rule', c.keep_rule)) AS receipts
      FROM message m JOIN capture c ON c.message = m.id WHERE m.sha256 IN (SELECT value FROM json_each(?)) AND m.disposed_at IS NULL GROUP BY m.id`)
      .all(JSON.stringify(sha256s)) as { sha256: string; last: number; receipts: string }[];
    return rows.map((r) => ({
      sha256: r.sha256, lastCaptureRowId: Number(r.last),
      receipts: (JSON.parse(r.receipts) as { until: number | null; rule: string | null }[]).map((k) => ({ keepUntil: k.until === null ? null : Number(k.until), keepRule: k.rule })),
    }));
  }

  async capturesOf(tx: Tx, sha256s: readonly string[]): Promise<{ captureRowId: number; ledgerIndex: number }[]> {
    return (on(tx).prepare(`SELECT c.id, c.ledger_index FROM capture c JOIN message m ON m.id = c.message WHERE m.sha256 IN (SELECT value FROM json_each(?)) ORDER BY c.id`)
      .all(JSON.stringify(sha256s)) as { id: number; ledger_index: number }[]).map((r) => ({ captureRowId: Number(r.id), ledgerIndex: Number(r.ledger_index) }));
  }

  async clearCaptureDetails(tx: Tx, captureRowIds: readonly number[]): Promise<void> {
    const clear = on(tx).prepare('UPDATE capture SET envelope = NULL, provenance = NULL WHERE id = ?');
    for (const id of captureRowIds) clear.run(id);
  }

  async activeHoldIds(tx: Tx): Promise<string[]> {
    return (on(tx).prepare('SELECT id FROM hold WHERE released_at IS NULL ORDER BY id').all() as { id: string }[]).map((r) => r.id);
  }

  async queuedErasures(tx: Tx, limit: number): Promise<QueuedErasure[]> {
    const rows = on(tx).prepare(`SELECT q.id, q.message_id, q.blob_file, q.blob_offset, q.blob_length, m.disposed_at,
      (SELECT json_group_array(c.id) FROM capture c WHERE c.message = q.message_id) AS captures
      FROM erasure_queue q JOIN message m ON m.id = q.message_id ORDER BY q.id LIMIT ?`).all(limit) as Record<string, any>[];
    return rows.map((r) => ({
      id: Number(r.id), messageRowId: Number(r.message_id), blobRef: { file: r.blob_file, offset: Number(r.blob_offset), length: Number(r.blob_length) },
      captureRowIds: (JSON.parse(r.captures) as number[]).map(Number), stillDisposed: r.disposed_at !== null,
    }));
  }

  async erasureDone(tx: Tx, id: number): Promise<void> {
    on(tx).prepare('DELETE FROM erasure_queue WHERE id = ?').run(id);
  }
}
