import type { Tx } from '../../core/transactions.ts';
import type { DisposalRequest, DisposalRequestStore } from '../../retention/disposal-request-store.ts';
import { on } from './transactions.ts';

export class PostgresDisposalRequestStore implements DisposalRequestStore {
  async add(tx: Tx, r: Pick<DisposalRequest, 'id' | 'sha256s' | 'reason' | 'filedBy' | 'filedByLabel' | 'filedAt'>): Promise<void> {
    await on(tx).query('INSERT INTO disposal_request (id, sha256s, reason, filed_by, filed_by_label, filed_at) VALUES ($1, $2, $3, $4, $5, $6)',
      [r.id, JSON.stringify(r.sha256s), r.reason, r.filedBy, r.filedByLabel, r.filedAt]);
  }

  async get(tx: Tx, id: string): Promise<DisposalRequest | null> {
    const row = await on(tx).one('SELECT * FROM disposal_request WHERE id = $1', [id]);
    return row ? toRequest(row) : null;
  }

  async list(tx: Tx): Promise<DisposalRequest[]> {
    return (await on(tx).query('SELECT * FROM disposal_request ORDER BY filed_at DESC, id DESC LIMIT 500')).map(toRequest);
  }

  async decide(tx: Tx, id: string, d: { by: number; decision: 'approve' | 'deny'; reason: string; at: number }): Promise<void> {
    await on(tx).query('UPDATE disposal_request SET decided_by = $1, decision = $2, decision_reason = $3, decided_at = $4 WHERE id = $5 AND decision IS NULL', [d.by, d.decision, d.reason, d.at, id]);
  }

  async executed(tx: Tx, id: string, d: { at: number; outcome: unknown }): Promise<void> {
    await on(tx).query('UPDATE disposal_request SET executed_at = $1, outcome = $2 WHERE id = $3', [d.at, JSON.stringify(d.outcome), id]);
  }
}

function toRequest(r: Record<string, any>): DisposalRequest {
  return {
    id: r.id, sha256s: JSON.parse(r.sha256s), reason: r.reason, filedBy: r.filed_by, filedByLabel: r.filed_by_label, filedAt: r.filed_at,
    decidedBy: r.decided_by, decision: r.decision, decisionReason: r.decision_reason, decidedAt: r.decided_at,
    executedAt: r.executed_at, outcome: r.outcome ? JSON.parse(r.outcome) : null,
  };
}
