import type { OwnershipChangeRecord, OwnershipChangeStore } from '../../access/ownership-change-store.ts';
import type { Tx } from '../../core/transactions.ts';
import { on } from './transactions.ts';

export class PostgresOwnershipChangeStore implements OwnershipChangeStore {
  async add(tx: Tx, c: Omit<OwnershipChangeRecord, 'decidedBy' | 'decision' | 'decisionReason' | 'decidedAt'>): Promise<void> {
    await on(tx).query('INSERT INTO ownership_change (id, mailbox, row, owner_before, owner_after, gains, staged_by, staged_by_label, staged_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)',
      [c.id, c.mailbox, JSON.stringify({ ...c.row, why: c.why }), c.ownerBefore, c.ownerAfter, JSON.stringify(c.gains), c.stagedBy, c.stagedByLabel, c.stagedAt]);
  }

  async decide(tx: Tx, id: string, d: { by: number; decision: 'approve' | 'deny'; reason: string; at: number }): Promise<void> {
    await on(tx).query('UPDATE ownership_change SET decided_by = $1, decision = $2, decision_reason = $3, decided_at = $4 WHERE id = $5', [d.by, d.decision, d.reason, d.at, id]);
  }

  async get(tx: Tx, id: string): Promise<OwnershipChangeRecord | null> {
    const row = await on(tx).one('SELECT * FROM ownership_change WHERE id = $1', [id]);
    return row ? toChange(row) : null;
  }

  async list(tx: Tx): Promise<OwnershipChangeRecord[]> {
    return (await on(tx).query('SELECT * FROM ownership_change ORDER BY staged_at DESC, id DESC LIMIT 500')).map(toChange);
  }

  async notApprovedFor(tx: Tx, mailbox: string): Promise<OwnershipChangeRecord[]> {
    return (await on(tx).query("SELECT * FROM ownership_change WHERE mailbox = $1 AND (decision IS NULL OR decision <> 'approve') ORDER BY staged_at DESC, id DESC", [mailbox])).map(toChange);
  }
}

function toChange(r: Record<string, any>): OwnershipChangeRecord {
  const { why, ...row } = JSON.parse(r.row);
  return {
    id: r.id, mailbox: r.mailbox, row, why, ownerBefore: r.owner_before ?? null, ownerAfter: r.owner_after, gains: JSON.parse(r.gains),
    stagedBy: r.staged_by, stagedByLabel: r.staged_by_label, stagedAt: r.staged_at, decidedBy: r.decided_by, decision: r.decision ?? null,
    decisionReason: r.decision_reason ?? null, decidedAt: r.decided_at,
  };
}
