import type { Tx } from '../core/transactions.ts';
export interface RecoveryRecord {
  id: string;
  userId: number;
  requestedBy: number;
  reason: string;
  createdAt: number;
  lapsesAt: number;
  decidedBy: number | null;
  decision: 'approve' | 'deny' | 'cancel' | null;
  decisionReason: string | null;
  decidedAt: number | null;
  codeHash: string | null;
  codeExpires: number | null;
  usedAt: number | null;
}

// Account recoveries (src/access/account-recovery.ts holds the rules).
export interface AccountRecoveryStore {
  add(tx: Tx, r: { id: string; userId: number; requestedBy: number; reason: string; createdAt: number; lapsesAt: number }): Promise<void>;
  decide(tx: Tx, id: string, d: { by: number | null; decision: 'approve' | 'deny' | 'cancel'; reason: string; at: number; codeHash?: string; codeExpires?: number }): Promise<void>;
  // Ends every recovery of a person still waiting or not yet used (disabled, or enrolled again).
  cancelOpen(tx: Tx, userId: number, at: number, reason: string): Promise<void>;
  // Uses up the approved recovery this code belongs to; its id when valid.
  use(tx: Tx, userId: number, codeHash: string, now: number): Promise<string | null>;
  get(tx: Tx, id: string): Promise<RecoveryRecord | null>;
  list(tx: Tx): Promise<RecoveryRecord[]>;   // the latest 500, newest first
}
