import type { FiledDecision } from '../access/four-eyes.ts';
import type { Tx } from '../core/transactions.ts';

// A data subject's request (GDPR Art. 17 erasure), filed by one person and decided by another.
// Once carried out, its addresses are kept only as SHA-256 hashes (`sha256:…`): the request
// must not keep what it erased.
export interface SubjectRequest extends FiledDecision {
  kind: 'erasure';
  addresses: string[];
  reference: string;
  reason: string;
  executedAt: number | null;
  outcome: unknown;
}

export interface SubjectStore {
  add(tx: Tx, r: Omit<SubjectRequest, 'decidedBy' | 'decision' | 'decisionReason' | 'decidedAt' | 'executedAt' | 'outcome'>): Promise<void>;
  get(tx: Tx, id: string): Promise<SubjectRequest | null>;
  list(tx: Tx): Promise<SubjectRequest[]>;                  // newest first
  decide(tx: Tx, id: string, d: { by: number; decision: 'approve' | 'deny'; reason: string; at: number }): Promise<void>;
  executed(tx: Tx, id: string, d: { at: number; addresses: string[]; outcome: unknown }): Promise<void>;
}
