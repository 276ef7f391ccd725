import type { Tx } from '../../core/transactions.ts';
import type { SubjectRequest, SubjectStore } from '../../retention/subject-store.ts';
import { on } from './transactions.ts';

export class PostgresSubjectStore implements SubjectStore {
  async add(tx: Tx, r: Omit<SubjectRequest, 'decidedBy' | 'decision' | 'decisionReason' | 'decidedAt' | 'executedAt' | 'outcome'>): Promise<void> {
    await on(tx).query('INSERT INTO subject_request (id, kind, addresses, reference, reason, filed_by, filed_by_label, filed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
      [r.id, r.kind, JSON.stringify(r.addresses), r.reference, r.reason, r.filedBy, r.filedByLabel, r.filedAt]);
  }

  async get(tx: Tx, id: string): Promise<SubjectRequest | null> {
    const row = await on(tx).one('SELECT * FROM subject_request WHERE id = $1', [id]);
    return row ? toRequest(row) : null;
  }

  async list(tx: Tx): Promise<SubjectRequest[]> {
    return (await on(tx).query('SELECT * FROM subject_request ORDER BY filed_at DESC, id DESC LIMIT 500')).map(toRequest);
  }

  async decide(tx: Tx, id: string, d: { by: number; decision: 'approve' | 'deny'; reason: string; at: number }): Promise<void> {
    await on(tx).query('UPDATE subject_request SET decided_by = $1, decision = $2, decision_reason = $3, decided_at = $4 WHERE id = $5 AND decision IS NULL', [d.by, d.decision, d.reason, d.at, id]);
  }

  async executed(tx: Tx, id: string, d: { at: number; addresses: string[]; outcome: unknown }): Promise<void> {
    await on(tx).query('UPDATE subject_request SET executed_at = $1, addresses = $2, outcome = $3 WHERE id = $4', [d.at, JSON.stringify(d.addresses), JSON.stringify(d.outcome), id]);
  }
}

function toRequest(r: Record<string, any>): SubjectRequest {
  return {
    id: r.id, kind: r.kind, addresses: JSON.parse(r.addresses), reference: r.reference, reason: r.reason, filedBy: r.filed_by, filedByLabel: r.filed_by_label,
    filedAt: r.filed_at, decidedBy: r.decided_by, decision: r.decision, decisionReason: r.decision_reason, decidedAt: r.decided_at,
    executedAt: r.executed_at, outcome: r.outcome ? JSON.parse(r.outcome) : null,
  };
}
