import type { Tx } from '../../core/transactions.ts';
import type { DisposalRequest, DisposalRequestStore } from '../../retention/disposal-request-store.ts';
import { on } from './transactions.ts';

export class SqliteDisposalRequestStore implements DisposalRequestStore {
  async add(tx: Tx, r: Pick<DisposalRequest, 'id' | 'sha256s' | 'reason' | 'filedBy' | 'filedByLabel' | 'filedAt'>): Promise<void> {
    on(tx).prepare('INSERT INTO disposal_request (id, sha256s, reason, filed_by, filed_by_label, filed_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(r.id, JSON.stringify(r.sha256s), r.reason, r.filedBy, r.filedByLabel, r.filedAt);
  }

  async get(tx: Tx, id: string): Promise<DisposalRequest | null> {
    const row = on(tx).prepare('SELECT * FROM disposal_request WHERE id = ?').get(id) as Record<string, any> | undefined;
    return row ? toRequest(row) : null;
  }

  async list(tx: Tx): Promise<DisposalRequest[]> {
    return (on(tx).prepare('SELECT * FROM disposal_request ORDER BY filed_at DESC, id DESC LIMIT 500').all() as Record<string, any>[]).map(toRequest);
  }

  async decide(tx: Tx, id: string, d: { by: number; decision: 'approve' | 'deny'; reason: string; at: number }): Promise<void> {
    on(tx).prepare('UPDATE disposal_request SET decided_by = ?, decision = ?, decision_reason = ?, decided_at = ? WHERE id = ? AND decision IS NULL').run(d.by, d.decision, d.reason, d.at, id);
  }

  async executed(tx: Tx, id: string, d: { at: number; outcome: unknown }): Promise<void> {
    on(tx).prepare('UPDATE disposal_request SET executed_at = ?, outcome = ? WHERE id = ?').run(d.at, JSON.stringify(d.outcome), id);
  }
}

function toRequest(r: Record<string, any>): DisposalRequest {
  const n = (v: unknown) => (v === null ? null : Number(v));
  return {
    id: r.id, sha256s: JSON.parse(r.sha256s), reason: r.reason, filedBy: n(r.filed_by), filedByLabel: r.filed_by_label, filedAt: Number(r.filed_at),
    decidedBy: n(r.decided_by), decision: r.decision, decisionReason: r.decision_reason, decidedAt: n(r.decided_at),
    executedAt: n(r.executed_at), outcome: r.outcome ? JSON.parse(r.outcome) : null,
  };
}
