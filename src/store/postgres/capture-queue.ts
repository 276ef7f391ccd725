import type { CaptureQueue, QueuedCapture } from '../../index/capture-queue.ts';
import { toCaptureRow } from '../sqlite/metadata-store.ts';
import type { PostgresMetadataStore } from './metadata-store.ts';
import { on } from './transactions.ts';

export class PostgresCaptureQueue implements CaptureQueue {
  readonly #meta: PostgresMetadataStore;

  constructor(meta: PostgresMetadataStore) {
    this.#meta = meta;
  }

  async capturesByRowIds(rowIds: readonly number[]): Promise<QueuedCapture[]> {
    if (rowIds.length === 0) return [];
    return this.#meta.read(async (tx) => (await on(tx).query('SELECT c.*, m.sha256 AS sha256 FROM capture c JOIN message m ON m.id = c.message WHERE c.id = ANY($1::bigint[]) ORDER BY c.id', [rowIds]))
      .map((row) => ({ ...toCaptureRow(row), sha256: row.sha256 as string })));
  }

  liveMessages(after: number, upTo: number): Promise<{ id: number; sha256: string; firstCapture: number }[]> {
    return this.#meta.read(async (tx) => (await on(tx).query<{ id: number; sha256: string; first: number | null }>(`SELECT m.id, m.sha256, (SELECT MIN(c.id) FROM capture c WHERE c.message = m.id) AS first FROM message m
      WHERE m.id > $1 AND m.id <= $2 AND m.disposed_at IS NULL ORDER BY m.id`, [after, upTo]))
      .filter((r) => r.first !== null).map((r) => ({ id: Number(r.id), sha256: r.sha256, firstCapture: Number(r.first) })));
  }

  lastMessageId(): Promise<number> {
    return this.#meta.read(async (tx) => Number((await on(tx).one<{ n: string }>('SELECT COALESCE(MAX(id), 0) AS n FROM message'))!.n));
  }

  async addAutoMailboxes(addresses: readonly string[]): Promise<void> {
    const meta = this.#meta;
    await meta.write(async (tx) => {
      for (const address of addresses) {
        if (await meta.mailboxForAddress(tx, address)) continue;
        await meta.setMailboxAddress(tx, address, await meta.upsertMailbox(tx, { name: address, auto: true }));
      }
    });
  }
}
