import type { InboxNotice, InboxStore } from '../../access/inbox-store.ts';
import type { SqliteMetadataStore } from './metadata-store.ts';
import { on } from './transactions.ts';
import type { Tx } from '../../core/transactions.ts';

export class SqliteInboxStore implements InboxStore {
  readonly #meta: SqliteMetadataStore;

  constructor(meta: SqliteMetadataStore) {
    this.#meta = meta;
  }

  async put(tx: Tx, n: { kind: string; userIds: number[]; subject: string; body: string; createdAt: number; visibleFrom: number }): Promise<void> {
    const insert = on(tx).prepare('INSERT INTO inbox_notice (user_id, kind, subject, body, created_at, visible_from) VALUES (?, ?, ?, ?, ?, ?)');
    for (const id of new Set(n.userIds)) insert.run(id, n.kind, n.subject, n.body, n.createdAt, n.visibleFrom);
  }

  async list(tx: Tx, userId: number, now: number, limit: number): Promise<InboxNotice[]> {
    return (on(tx).prepare('SELECT * FROM inbox_notice WHERE user_id = ? AND visible_from <= ? ORDER BY visible_from DESC, id DESC LIMIT ?').all(userId, now, limit) as Record<string, any>[])
      .map((r) => ({ id: Number(r.id), kind: r.kind, subject: r.subject, body: r.body, arrivedAt: Math.max(Number(r.created_at), Number(r.visible_from)), readAt: r.read_at === null ? null : Number(r.read_at) }));
  }

  async unread(tx: Tx, userId: number, now: number): Promise<number> {
    return Number((on(tx).prepare('SELECT COUNT(*) AS n FROM inbox_notice WHERE user_id = ? AND visible_from <= ? AND read_at IS NULL').get(userId, now) as { n: number }).n);
  }

  async markRead(tx: Tx, userId: number, ids: number[], now: number): Promise<{ notTheirs: number[] }> {
    const theirs = on(tx).prepare('SELECT 1 FROM inbox_notice WHERE id = ? AND user_id = ? AND visible_from <= ?');
    const notTheirs = ids.filter((id) => theirs.get(id, userId, now) === undefined);
    if (notTheirs.length > 0) return { notTheirs };
    const mark = on(tx).prepare('UPDATE inbox_notice SET read_at = ? WHERE id = ? AND user_id = ? AND read_at IS NULL');
    for (const id of ids) mark.run(now, id, userId);
    return { notTheirs };
  }
}
