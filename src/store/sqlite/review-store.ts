import type { ReviewKind, ReviewState } from '../../oversight/review-queue.ts';
import type { NewReviewItem, ReviewChange, ReviewStore, StoredReviewItem } from '../../oversight/review-store.ts';
import type { SqliteMetadataStore } from './metadata-store.ts';
import { on } from './transactions.ts';
import type { Tx } from '../../core/transactions.ts';

export class SqliteReviewStore implements ReviewStore {
  readonly #meta: SqliteMetadataStore;

  constructor(meta: SqliteMetadataStore) {
    this.#meta = meta;
  }

  async add(tx: Tx, item: NewReviewItem, at: number): Promise<boolean> {
    const r = on(tx).prepare(`INSERT OR IGNORE INTO review_item (id, kind, request_id, subject_user_id, created_at, state, reason, ledger_index, updated_at)
      VALUES (?, ?, ?, ?, ?, 'open', ?, ?, ?)`).run(item.id, item.kind, item.requestId, item.subjectUserId, at, item.reason, item.ledgerIndex, at);
    return Number(r.changes) > 0;
  }

  async list(tx: Tx, filter: { state?: string; kind?: string }): Promise<StoredReviewItem[]> {
    const rows = on(tx).prepare(`SELECT * FROM review_item WHERE (?1 IS NULL OR state = ?1) AND (?2 IS NULL OR kind = ?2) ORDER BY created_at DESC, id`)
      .all(filter.state ?? null, filter.kind ?? null) as Record<string, any>[];
    return rows.map(toItem);
  }

  async get(tx: Tx, id: string): Promise<StoredReviewItem | null> {
    const row = on(tx).prepare('SELECT * FROM review_item WHERE id = ?').get(id) as Record<string, any> | undefined;
    return row ? toItem(row) : null;
  }

  async update(tx: Tx, id: string, c: ReviewChange): Promise<void> {
    on(tx).prepare(`UPDATE review_item SET state = ?, updated_at = ?, note = COALESCE(?, note),
      claimed_by = CASE WHEN ? THEN ? ELSE claimed_by END,
      closed_by = CASE WHEN ? THEN ? ELSE closed_by END,
      closed_at = CASE WHEN ? THEN ? ELSE closed_at END WHERE id = ?`)
      .run(c.state, c.at, c.note, set(c.claimedBy), c.claimedBy ?? null, set(c.closedBy), c.closedBy ?? null, set(c.closedAt), c.closedAt ?? null, id);
  }

  async stateOf(tx: Tx, requestId: string, kind: ReviewKind): Promise<ReviewState | null> {
    return (on(tx).prepare('SELECT state FROM review_item WHERE request_id = ? AND kind = ?').get(requestId, kind) as { state: ReviewState } | undefined)?.state ?? null;
  }
}

function set(v: unknown): number {
  return v === undefined ? 0 : 1;
}

function toItem(r: Record<string, any>): StoredReviewItem {
  const id = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  return {
    id: r.id, kind: r.kind, requestId: r.request_id ?? null, subjectUserId: id(r.subject_user_id), reason: r.reason ?? null,
    ledgerIndex: id(r.ledger_index), state: r.state, claimedBy: id(r.claimed_by), createdAt: Number(r.created_at),
    updatedAt: r.updated_at === null ? null : Number(r.updated_at), closedBy: id(r.closed_by), note: r.note ?? null,
  };
}
