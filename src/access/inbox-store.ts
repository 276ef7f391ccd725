import type { Tx } from '../core/transactions.ts';
export interface InboxNotice {
  id: number;
  kind: string;
  subject: string;
  body: string;
  arrivedAt: number;           // when it reached the inbox (a delayed notice: when its delay ended)
  readAt: number | null;
}

// Each person's notices in the app (src/access/notifier.ts puts them, in the same transaction as
// the outbox's mail). Every read names the person: there is no way to list someone else's.
export interface InboxStore {
  put(tx: Tx, n: { kind: string; userIds: number[]; subject: string; body: string; createdAt: number; visibleFrom: number }): Promise<void>;
  // The person's notices visible by now, newest first.
  list(tx: Tx, userId: number, now: number, limit: number): Promise<InboxNotice[]>;
  unread(tx: Tx, userId: number, now: number): Promise<number>;
  // Marks the person's notices read; the ids that are not theirs, or not visible yet, come back
  // and nothing is marked.
  markRead(tx: Tx, userId: number, ids: number[], now: number): Promise<{ notTheirs: number[] }>;
}
