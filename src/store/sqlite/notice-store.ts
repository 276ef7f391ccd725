import type { NoticeText } from '../../access/archiving-notice.ts';
import type { NoticeStore } from '../../access/notice-store.ts';
import type { SqliteMetadataStore } from './metadata-store.ts';

const KEY = 'notice.archiving';

// The text in force is a setting; the acknowledgements are rows.
export class SqliteNoticeStore implements NoticeStore {
  readonly #meta: SqliteMetadataStore;

  constructor(meta: SqliteMetadataStore) {
    this.#meta = meta;
  }

  current(): NoticeText | null {
    const stored = this.#meta.getSetting(KEY);
    return stored ? (JSON.parse(stored) as NoticeText) : null;
  }

  save(notice: NoticeText): void {
    this.#meta.setSetting(KEY, JSON.stringify(notice));
  }

  acknowledgedAt(userId: number, version: number): number | null {
    const row = this.#meta.prepare('SELECT at FROM notice_ack WHERE user_id = ? AND version = ?').get(userId, version) as { at: number } | undefined;
    return row ? Number(row.at) : null;
  }

  acknowledge(userId: number, version: number, at: number): void {
    this.#meta.prepare('INSERT OR IGNORE INTO notice_ack (user_id, version, at) VALUES (?, ?, ?)').run(userId, version, at);
  }

  acknowledgements(version: number): number {
    return Number((this.#meta.prepare('SELECT COUNT(*) AS n FROM notice_ack WHERE version = ?').get(version) as { n: number }).n);
  }
}
