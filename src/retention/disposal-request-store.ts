import type { FiledDecision } from '../access/four-eyes.ts';
import type { Tx } from '../core/transactions.ts';

// Messages asked to be destroyed before their retention ends, and the decision on it.
export interface DisposalRequest extends FiledDecision {
  sha256s: string[];
  reason: string;
  executedAt: number | null;
  outcome: unknown;
}

export interface DisposalRequestStore {
  add(tx: Tx, r: Pick<DisposalRequest, 'id' | 'sha256s' | 'reason' | 'filedBy' | 'filedByLabel' | 'filedAt'>): Promise<void>;
  get(tx: Tx, id: string): Promise<DisposalRequest | null>;
  list(tx: Tx): Promise<DisposalRequest[]>;              // newest first
  decide(tx: Tx, id: string, d: { by: number; decision: 'approve' | 'deny'; reason: string; at: number }): Promise<void>;
  executed(tx: Tx, id: string, d: { at: number; outcome: unknown }): Promise<void>;
}
