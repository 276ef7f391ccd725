import type { Tx } from '../../core/transactions.ts';
import type { SubjectRequest, SubjectStore } from '../../retention/subject-store.ts';
import { on } from './transactions.ts';

export class SqliteSubjectStore implements SubjectStore {
  async add(tx: Tx, r: Omit<SubjectRequest, 'decidedBy' | 'decision' | 'decisionReason' | 'decidedAt' | 'executedAt' | 'outcome'>): Promise<void> {
    on(tx).prepare('INSERT INTO subject_request (id, kind, addresses, reference, reason, filed_by, filed_by_label, filed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(r.id, r.kind, JSON.stringify(r.addresses), r.reference, r.reason, r.filedBy, r.filedByLabel, r.filedAt);
  }

  async get(tx: Tx, id: string): Promise<SubjectRequest | null> {
    const row = on(tx).prepare('SELECT * FROM subject_request WHERE id = ?').get(id) as Record<string, any> | undefined;
    return row ? toRequest(row) : null;
  }

  async list(tx: Tx): Promise<SubjectRequest[]> {
    return (on(tx).prepare('SELECT * FROM subject_request ORDER BY filed_at DESC, id DESC LIMIT 500').all() as Record<string, any>[]).map(toRequest);
  }

  async decide(tx: Tx, id: string, d: { by: number; decision: 'approve' | 'deny'; reason: string; at: number }): Promise<void> {
    on(tx).prepare('UPDATE subject_request SET decided_by = ?, decision = ?, decision_reason = ?, decided_at = ? WHERE id = ? AND decision IS NULL').run(d.by, d.decision, d.reason, d.at, id);
  }

  async executed(tx: Tx, id: string, d: { at: number; addresses: string[]; outcome: unknown }): Promise<void> {
    on(tx).prepare('UPDATE subject_request SET executed_at = ?, addresses = ?, outcome = ? WHERE id = ?').run(d.at, JSON.stringify(d.addresses), JSON.stringify(d.outcome), id);
  }
}

function toRequest(r: Record<string, any>): SubjectRequest {
  const n = (v: unknown) => (v === null ? null : Number(v));
  return {
    id: r.id, kind: r.kind, addresses: JSON.parse(r.addresses), reference: r.reference, reason: r.reason, filedBy: n(r.filed_by), filedByLabel: r.filed_by_label,
    filedAt: Number(r.filed_at), decidedBy: n(r.decided_by), decision: r.decision, decisionReason: r.decision_reason, decidedAt: n(r.decided_at),
    executedAt: n(r.executed_at), outcome: r.outcome ? JSON.parse(r.outcome) : null,
  };
}
