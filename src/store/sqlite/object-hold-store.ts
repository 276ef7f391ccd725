import type { Tx } from '../../core/transactions.ts';
import type { ObjectHoldStore } from '../../retention/object-hold-store.ts';
import { on } from './transactions.ts';

export class SqliteObjectHoldStore implements ObjectHoldStore {
  async held(tx: Tx): Promise<string[]> {
    return (on(tx).prepare('SELECT file FROM object_hold ORDER BY file').all() as { file: string }[]).map((r) => r.file);
  }

  async markHeld(tx: Tx, file: string, at: number): Promise<void> {
    on(tx).prepare('INSERT INTO object_hold (file, placed_at) VALUES (?, ?) ON CONFLICT(file) DO NOTHING').run(file, at);
  }

  async unmarkHeld(tx: Tx, file: string): Promise<void> {
    on(tx).prepare('DELETE FROM object_hold WHERE file = ?').run(file);
  }

  async lastMessageId(tx: Tx): Promise<number> {
    return Number((on(tx).prepare('SELECT COALESCE(MAX(id), 0) AS id FROM message').get() as { id: number }).id);
  }

  async objectsOf(tx: Tx, messageRowIds: readonly number[]): Promise<{ id: number; file: string }[]> {
    return (on(tx).prepare('SELECT id, blob_file AS file FROM message WHERE id IN (SELECT value FROM json_each(?)) AND disposed_at IS NULL ORDER BY id').all(JSON.stringify(messageRowIds)) as any[])
      .map((r) => ({ id: Number(r.id), file: r.file }));
  }

  async received(tx: Tx, afterCapture: number, upTo: number, limit: number): Promise<{ capture: number; sha256: string; file: string }[]> {
    return (on(tx).prepare(`SELECT c.id AS capture, m.sha256, m.blob_file AS file FROM capture c JOIN message m ON m.id = c.message
      WHERE c.id > ? AND c.id <= ? AND m.disposed_at IS NULL ORDER BY c.id LIMIT ?`).all(afterCapture, upTo, limit) as any[])
      .map((r) => ({ capture: Number(r.capture), sha256: r.sha256, file: r.file }));
  }
}
