import type { RoleChangeRecord, RoleChangeStore } from '../../access/role-change-store.ts';
import { on } from './transactions.ts';
import type { Tx } from '../../core/transactions.ts';

export class SqliteRoleChangeStore implements RoleChangeStore {
  async add(tx: Tx, c: Pick<RoleChangeRecord, 'id' | 'userId' | 'role' | 'why' | 'filedBy' | 'filedByLabel' | 'filedAt'>): Promise<void> {
    on(tx).prepare('INSERT INTO role_change (id, user_id, role, why, filed_by, filed_by_label, filed_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(c.id, c.userId, c.role, c.why, c.filedBy, c.filedByLabel, c.filedAt);
  }

  async decide(tx: Tx, id: string, d: { by: number | null; decision: 'approve' | 'deny' | 'cancel'; reason: string; at: number }): Promise<void> {
    on(tx).prepare('UPDATE role_change SET decided_by = ?, decision = ?, decision_reason = ?, decided_at = ? WHERE id = ?').run(d.by, d.decision, d.reason, d.at, id);
  }

  async get(tx: Tx, id: string): Promise<RoleChangeRecord | null> {
    const row = on(tx).prepare('SELECT * FROM role_change WHERE id = ?').get(id) as Record<string, any> | undefined;
    return row ? toChange(row) : null;
  }

  async forUser(tx: Tx, userId: number): Promise<RoleChangeRecord[]> {
    return (on(tx).prepare('SELECT * FROM role_change WHERE user_id = ? ORDER BY filed_at, id').all(userId) as Record<string, any>[]).map(toChange);
  }

  async list(tx: Tx): Promise<RoleChangeRecord[]> {
    return (on(tx).prepare('SELECT * FROM role_change ORDER BY filed_at DESC, id DESC LIMIT 500').all() as Record<string, any>[]).map(toChange);
  }
}

function toChange(r: Record<string, any>): RoleChangeRecord {
  const n = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  return {
    id: r.id, userId: Number(r.user_id), role: r.role, why: r.why, filedBy: n(r.filed_by), filedByLabel: r.filed_by_label, filedAt: Number(r.filed_at),
    decidedBy: n(r.decided_by), decision: r.decision ?? null, decisionReason: r.decision_reason ?? null, decidedAt: n(r.decided_at),
  };
}
