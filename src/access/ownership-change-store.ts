import type { Tx } from '../core/transactions.ts';
import type { DirectoryRow } from './directory-csv.ts';

export interface OwnershipChangeRecord {
  id: string;
  mailbox: string;
  row: DirectoryRow;
  ownerBefore: string | null;
  ownerAfter: string;
  gains: { address: string; from: string | null }[];
  why: string;
  stagedBy: number | null;
  stagedByLabel: string;
  stagedAt: number;
  decidedBy: number | null;
  decision: 'approve' | 'deny' | null;
  decisionReason: string | null;
  decidedAt: number | null;
}

// Ownership changes waiting for approval, and past decisions (src/access/mailbox-ownership.ts).
export interface OwnershipChangeStore {
  add(tx: Tx, c: Omit<OwnershipChangeRecord, 'decidedBy' | 'decision' | 'decisionReason' | 'decidedAt'>): Promise<void>;
  decide(tx: Tx, id: string, d: { by: number; decision: 'approve' | 'deny'; reason: string; at: number }): Promise<void>;
  get(tx: Tx, id: string): Promise<OwnershipChangeRecord | null>;
  list(tx: Tx): Promise<OwnershipChangeRecord[]>;   // the latest 500, newest first
  // Every change for this mailbox that waits or was refused, however old, newest first.
  notApprovedFor(tx: Tx, mailbox: string): Promise<OwnershipChangeRecord[]>;
}
