import type { Tx } from '../core/transactions.ts';
import type { ReviewKind, ReviewState } from './review-queue.ts';

// A review item as kept: people by user id (the queue names them).
export interface StoredReviewItem {
  id: string;
  kind: ReviewKind;
  requestId: string | null;
  subjectUserId: number | null;
  reason: string | null;
  ledgerIndex: number | null;
  state: ReviewState;
  claimedBy: number | null;
  createdAt: number;
  updatedAt: number | null;
  closedBy: number | null;
  note: string | null;
}

// One step's change. A field left out keeps what the item has: the change is applied to the
// item as it stands when the step commits, not to the copy the step was decided on.
export interface ReviewChange {
  state: ReviewState;
  at: number;
  note: string | null;         // null keeps the latest note
  claimedBy?: number | null;
  closedBy?: number | null;
  closedAt?: number | null;
}

export interface NewReviewItem {
  id: string;
  kind: ReviewKind;
  requestId: string | null;
  subjectUserId: number | null;
  reason: string;
  ledgerIndex: number | null;
}

// Where the review queue keeps its items.
export interface ReviewStore {
  // False when an item with this id is already queued.
  add(tx: Tx, item: NewReviewItem, at: number): Promise<boolean>;
  // Newest first.
  list(tx: Tx, filter: { state?: string; kind?: string }): Promise<StoredReviewItem[]>;
  get(tx: Tx, id: string): Promise<StoredReviewItem | null>;
  update(tx: Tx, id: string, change: ReviewChange): Promise<void>;
  stateOf(tx: Tx, requestId: string, kind: ReviewKind): Promise<ReviewState | null>;
}
