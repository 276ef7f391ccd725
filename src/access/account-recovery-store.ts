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
  add(r: { id: string; userId: number; requestedBy: number; reason: string; createdAt: number; lapsesAt: number }): void;
  decide(id: string, d: { by: number | null; decision: 'approve' | 'deny' | 'cancel'; reason: string; at: number; codeHash?: string; codeExpires?: number }): void;
  // Ends every recovery of a person still waiting or not yet used (disabled, or enrolled again).
  cancelOpen(userId: number, at: number, reason: string): void;
  // Uses up the approved recovery this code belongs to; its id when valid.
  use(userId: number, codeHash: string, now: number): string | null;
  get(id: string): RecoveryRecord | null;
  list(): RecoveryRecord[];   // the latest 500, newest first
}
