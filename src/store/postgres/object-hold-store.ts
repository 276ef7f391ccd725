import type { Tx } from '../../core/transactions.ts';
import type { ObjectHoldStore } from '../../retention/object-hold-store.ts';
import { on } from './transactions.ts';

export class PostgresObjectHoldStore implements ObjectHoldStore {
  async held(tx: Tx): Promise<string[]> {
    return (await on(tx).query<{ file: string }>('SELECT file FROM object_hold ORDER BY file')).map((r) => r.file);
  }

  async markHeld(tx: Tx, file: string, at: number): Promise<void> {
    await on(tx).query('INSERT INTO object_hold (file, placed_at) VALUES ($1, $2) ON CONFLICT (file) DO NOTHING', [file, at]);
  }

  async unmarkHeld(tx: Tx, file: string): Promise<void> {
    await on(tx).query('DELETE FROM object_hold WHERE file = $1', [file]);
  }

  async lastMessageId(tx: Tx): Promise<number> {
    return Number((await on(tx).one<{ id: string }>('SELECT COALESCE(MAX(id), 0) AS id FROM message'))!.id);
  }

  async objectsOf(tx: Tx, messageRowIds: readonly number[]): Promise<{ id: number; file: string }[]> {
    return (await on(tx).query('SELECT id, blob_file AS file FROM message WHERE id = ANY($1::bigint[]) AND disposed_at IS NULL ORDER BY id', [messageRowIds]))
      .map((r) => ({ id: Number(r.id), file: r.file }));
  }

  async received(tx: Tx, afterCapture: number, upTo: number, limit: number): Promise<{ capture: number; sha256: string; file: string }[]> {
    return (await on(tx).query(`SELECT c.id AS capture, m.sha256, m.blob_file AS file FROM capture c JOIN message m ON m.id = c.message
      WHERE c.id > $1 AND c.id <= $2 AND m.disposed_at IS NULL ORDER BY c.id LIMIT $3`, [afterCapture, upTo, limit]))
      .map((r) => ({ capture: Number(r.capture), sha256: r.sha256, file: r.file }));
  }
}
