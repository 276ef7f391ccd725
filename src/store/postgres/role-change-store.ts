import type { RoleChangeRecord, RoleChangeStore } from '../../access/role-change-store.ts';
import type { Tx } from '../../core/transactions.ts';
import { on } from './transactions.ts';

export class PostgresRoleChangeStore implements RoleChangeStore {
  async add(tx: Tx, c: Pick<RoleChangeRecord, 'id' | 'userId' | 'role' | 'why' | 'filedBy' | 'filedByLabel' | 'filedAt'>): Promise<void> {
    await on(tx).query('INSERT INTO role_change (id, user_id, role, why, filed_by, filed_by_label, filed_at) VALUES ($1, $2, $3, $4, $5, $6, $7)',
      [c.id, c.userId, c.role, c.why, c.filedBy, c.filedByLabel, c.filedAt]);
  }

  async decide(tx: Tx, id: string, d: { by: number | null; decision: 'approve' | 'deny' | 'cancel'; reason: string; at: number }): Promise<void> {
    await on(tx).query('UPDATE role_change SET decided_by = $1, decision = $2, decision_reason = $3, decided_at = $4 WHERE id = $5', [d.by, d.decision, d.reason, d.at, id]);
  }

  async get(tx: Tx, id: string): Promise<RoleChangeRecord | null> {
    const row = await on(tx).one('SELECT * FROM role_change WHERE id = $1', [id]);
    return row ? toChange(row) : null;
  }

  async forUser(tx: Tx, userId: number): Promise<RoleChangeRecord[]> {
    return (await on(tx).query('SELECT * FROM role_change WHERE user_id = $1 ORDER BY filed_at, id', [userId])).map(toChange);
  }

  async list(tx: Tx): Promise<RoleChangeRecord[]> {
    return (await on(tx).query('SELECT * FROM role_change ORDER BY filed_at DESC, id DESC LIMIT 500')).map(toChange);
  }
}

function toChange(r: Record<string, any>): RoleChangeRecord {
  return {
    id: r.id, userId: r.user_id, role: r.role, why: r.why, filedBy: r.filed_by, filedByLabel: r.filed_by_label, filedAt: r.filed_at,
    decidedBy: r.decided_by, decision: r.decision ?? null, decisionReason: r.decision_reason ?? null, decidedAt: r.decided_at,
  };
}
