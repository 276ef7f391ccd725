import type { NoticeText } from '../../access/archiving-notice.ts';
import type { NoticeStore } from '../../access/notice-store.ts';
import type { SqliteMetadataStore } from './metadata-store.ts';
import { on } from './transactions.ts';
import type { Tx } from '../../core/transactions.ts';

const KEY = 'notice.archiving';

// The text in force is a setting; the acknowledgements are rows.
export class SqliteNoticeStore implements NoticeStore {
  readonly #meta: SqliteMetadataStore;

  constructor(meta: SqliteMetadataStore) {
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
    const row = on(tx).prepare('SELECT at FROM notice_ack WHERE user_id = ? AND version = ?').get(userId, version) as { at: number } | undefined;
    return row ? Number(row.at) : null;
  }

  async acknowledge(tx: Tx, userId: number, version: number, at: number): Promise<void> {
    on(tx).prepare('INSERT OR IGNORE INTO notice_ack (user_id, version, at) VALUES (?, ?, ?)').run(userId, version, at);
  }

  async acknowledgements(tx: Tx, version: number): Promise<number> {
    return Number((on(tx).prepare('SELECT COUNT(*) AS n FROM notice_ack WHERE version = ?').get(version) as { n: number }).n);
  }
}
