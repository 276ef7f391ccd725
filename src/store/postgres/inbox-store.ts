import type { InboxNotice, InboxStore } from '../../access/inbox-store.ts';
import type { Tx } from '../../core/transactions.ts';
import { on } from './transactions.ts';

export class PostgresInboxStore implements InboxStore {
  async put(tx: Tx, n: { kind: string; userIds: number[]; subject: string; body: string; createdAt: number; visibleFrom: number }): Promise<void> {
    for (const id of new Set(n.userIds)) {
      await on(tx).query('INSERT INTO inbox_notice (user_id, kind, subject, body, created_at, visible_from) VALUES ($1, $2, $3, $4, $5, $6)', [id, n.kind, n.subject, n.body, n.createdAt, n.visibleFrom]);
    }
  }

  async list(tx: Tx, userId: number, now: number, limit: number): Promise<InboxNotice[]> {
    return (await on(tx).query('SELECT * FROM inbox_notice WHERE user_id = $1 AND visible_from <= $2 ORDER BY visible_from DESC, id DESC LIMIT $3', [userId, now, limit]))
      .map((r) => ({ id: r.id, kind: r.kind, subject: r.subject, body: r.body, arrivedAt: Math.max(r.created_at, r.visible_from), readAt: r.read_at }));
  }

  async unread(tx: Tx, userId: number, now: number): Promise<number> {
    return (await on(tx).one<{ n: number }>('SELECT COUNT(*) AS n FROM inbox_notice WHERE user_id = $1 AND visible_from <= $2 AND read_at IS NULL', [userId, now]))!.n;
  }

  async markRead(tx: Tx, userId: number, ids: number[], now: number): Promise<{ notTheirs: number[] }> {
    const theirs = new Set((await on(tx).query<{ id: number }>('SELECT id FROM inbox_notice WHERE id = ANY($1::bigint[]) AND user_id = $2 AND visible_from <= $3', [ids, userId, now])).map((r) => r.id));
    const notTheirs = ids.filter((id) => !theirs.has(id));
    if (notTheirs.length > 0) return { notTheirs };
    await on(tx).query('UPDATE inbox_notice SET read_at = $1 WHERE id = ANY($2::bigint[]) AND user_id = $3 AND read_at IS NULL', [now, ids, userId]);
    return { notTheirs };
  }
}
