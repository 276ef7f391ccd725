import type { ReviewKind, ReviewState } from '../../oversight/review-queue.ts';
import type { NewReviewItem, ReviewChange, ReviewStore, StoredReviewItem } from '../../oversight/review-store.ts';
import type { Tx } from '../../core/transactions.ts';
import { on } from './transactions.ts';

export class PostgresReviewStore implements ReviewStore {
  async add(tx: Tx, item: NewReviewItem, at: number): Promise<boolean> {
    return (await on(tx).run(`INSERT INTO review_item (id, kind, request_id, subject_user_id, created_at, state, reason, ledger_index, updated_at)
      VALUES ($1, $2, $3, $4, $5, 'open', $6, $7, $5) ON CONFLICT DO NOTHING`, [item.id, item.kind, item.requestId, item.subjectUserId, at, item.reason, item.ledgerIndex])) > 0;
  }

  async list(tx: Tx, filter: { state?: string; kind?: string }): Promise<StoredReviewItem[]> {
    return (await on(tx).query('SELECT * FROM review_item WHERE ($1::text IS NULL OR state = $1) AND ($2::text IS NULL OR kind = $2) ORDER BY created_at DESC, id',
      [filter.state ?? null, filter.kind ?? null])).map(toItem);
  }

  async get(tx: Tx, id: string): Promise<StoredReviewItem | null> {
    const row = await on(tx).one('SELECT * FROM review_item WHERE id = $1', [id]);
    return row ? toItem(row) : null;
  }

  async update(tx: Tx, id: string, c: ReviewChange): Promise<void> {
    await on(tx).query(`UPDATE review_item SET state = $1, updated_at = $2, note = COALESCE($3, note),
      claimed_by = CASE WHEN $4 THEN $5 ELSE claimed_by END,
      closed_by = CASE WHEN $6 THEN $7 ELSE closed_by END,
      closed_at = CASE WHEN $8 THEN $9 ELSE closed_at END WHERE id = $10`,
    [c.state, c.at, c.note, c.claimedBy !== undefined, c.claimedBy ?? null, c.closedBy !== undefined, c.closedBy ?? null, c.closedAt !== undefined, c.closedAt ?? null, id]);
  }

  async stateOf(tx: Tx, requestId: string, kind: ReviewKind): Promise<ReviewState | null> {
    return (await on(tx).one<{ state: ReviewState }>('SELECT state FROM review_item WHERE request_id = $1 AND kind = $2 ORDER BY created_at, id LIMIT 1', [requestId, kind]))?.state ?? null;
  }
}

function toItem(r: Record<string, any>): StoredReviewItem {
  return {
    id: r.id, kind: r.kind, requestId: r.request_id ?? null, subjectUserId: r.subject_user_id, reason: r.reason ?? null,
    ledgerIndex: r.ledger_index, state: r.state, claimedBy: r.claimed_by, createdAt: r.created_at,
    updatedAt: r.updated_at, closedBy: r.closed_by, note: r.note ?? null,
  };
}
