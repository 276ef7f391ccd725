import type { CaptureQueue, QueuedCapture } from '../../index/capture-queue.ts';
import { toCaptureRow } from './metadata-store.ts';
import type { SqliteMetadataStore } from './metadata-store.ts';

export class SqliteCaptureQueue implements CaptureQueue {
  readonly #meta: SqliteMetadataStore;

  constructor(meta: SqliteMetadataStore) {
    this.#meta = meta;
  }

  capturesAfter(cursor: number, limit: number): QueuedCapture[] {
    return (this.#meta.prepare(`SELECT c.*, m.sha256 AS sha256 FROM capture c JOIN message m ON m.id = c.message WHERE c.id > ? ORDER BY c.id LIMIT ?`)
      .all(cursor, limit) as Record<string, any>[]).map((row) => ({ ...toCaptureRow(row), sha256: row.sha256 as string }));
  }

  capturesByRowIds(rowIds: readonly number[]): QueuedCapture[] {
    if (rowIds.length === 0) return [];
    return (this.#meta.db.prepare(`SELECT c.*, m.sha256 AS sha256 FROM capture c JOIN message m ON m.id = c.message WHERE c.id IN (${rowIds.map(() => '?').join(', ')}) ORDER BY c.id`)
      .all(...rowIds) as Record<string, any>[]).map((row) => ({ ...toCaptureRow(row), sha256: row.sha256 as string }));
  }

  addAutoMailboxes(addresses: readonly string[]): void {
    const meta = this.#meta;
    meta.transaction(() => {
      for (const address of addresses) {
        if (meta.mailboxForAddress(address)) continue;
        meta.setMailboxAddress(address, meta.upsertMailbox({ name: address, auto: true }));
      }
    });
  }
}
