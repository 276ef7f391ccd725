import type { NoticeText } from '../../access/archiving-notice.ts';
import type { NoticeStore } from '../../access/notice-store.ts';
import type { Tx } from '../../core/transactions.ts';
import type { PostgresMetadataStore } from './metadata-store.ts';
import { on } from './transactions.ts';

const KEY = 'notice.archiving';

// The text in force is a setting; the acknowledgements are rows.
export class PostgresNoticeStore implements NoticeStore {
  readonly #meta: PostgresMetadataStore;

  constructor(meta: PostgresMetadataStore) {
    this.#meta = meta;
  }

  async current(tx: Tx): Promise<NoticeText | null> {
    const stored = await this.#meta.getSetting(tx, KEY);
    return stored ? (JSON.parse(stored) as NoticeText) : null;
  }

  async save(tx: Tx, notice: NoticeText): Promise<void> {
    await this.#meta.setSetting(tx, KEY, JSON.stringify(notice));
  }

  async acknowledgedAt(tx: Tx, userId: number, version: number): Promise<number | null> {
    return (await on(tx).one<{ at: number }>('SELECT at FROM notice_ack WHERE user_id = $1 AND version = $2', [userId, version]))?.at ?? null;
  }

  async acknowledge(tx: Tx, userId: number, version: number, at: number): Promise<void> {
    await on(tx).query('INSERT INTO notice_ack (user_id, version, at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [userId, version, at]);
  }

  async acknowledgements(tx: Tx, version: number): Promise<number> {
    return (await on(tx).one<{ n: number }>('SELECT COUNT(*) AS n FROM notice_ack WHERE version = $1', [version]))!.n;
  }
}
