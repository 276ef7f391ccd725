import type { AccountRecoveryStore, RecoveryRecord } from '../../access/account-recovery-store.ts';
import type { Tx } from '../../core/transactions.ts';
import { on } from './transactions.ts';

export class PostgresAccountRecoveryStore implements AccountRecoveryStore {
  async add(tx: Tx, r: { id: string; userId: number; requestedBy: number; reason: string; createdAt: number; lapsesAt: number }): Promise<void> {
    await on(tx).query('INSERT INTO account_recovery (id, user_id, requested_by, reason, created_at, lapses_at) VALUES ($1, $2, $3, $4, $5, $6)',
      [r.id, r.userId, r.requestedBy, r.reason, r.createdAt, r.lapsesAt]);
  }

  async decide(tx: Tx, id: string, d: { by: number | null; decision: 'approve' | 'deny' | 'cancel'; reason: string; at: number; codeHash?: string; codeExpires?: number }): Promise<void> {
    await on(tx).query('UPDATE account_recovery SET decided_by = $1, decision = $2, decision_reason = $3, decided_at = $4, code_hash = $5, code_expires = $6 WHERE id = $7',
      [d.by, d.decision, d.reason, d.at, d.codeHash ?? null, d.codeExpires ?? null, id]);
  }

  async cancelOpen(tx: Tx, userId: number, at: number, reason: string): Promise<void> {
    await on(tx).query("UPDATE account_recovery SET decision = 'cancel', decision_reason = $1, decided_at = $2 WHERE user_id = $3 AND decision IS NULL", [reason, at, userId]);
    await on(tx).query("UPDATE account_recovery SET code_hash = NULL WHERE user_id = $1 AND decision = 'approve' AND used_at IS NULL", [userId]);
  }

  async use(tx: Tx, userId: number, codeHash: string, now: number): Promise<string | null> {
    const row = await on(tx).one<{ id: string }>("SELECT id FROM account_recovery WHERE user_id = $1 AND decision = 'approve' AND code_hash = $2 AND used_at IS NULL AND code_expires > $3 ORDER BY created_at, id LIMIT 1", [userId, codeHash, now]);
    if (!row) return null;
    await on(tx).query('UPDATE account_recovery SET used_at = $1 WHERE id = $2', [now, row.id]);
    return row.id;
  }

  async get(tx: Tx, id: string): Promise<RecoveryRecord | null> {
    const row = await on(tx).one('SELECT * FROM account_recovery WHERE id = $1', [id]);
    return row ? toRecovery(row) : null;
  }

  async list(tx: Tx): Promise<RecoveryRecord[]> {
    return (await on(tx).query('SELECT * FROM account_recovery ORDER BY created_at DESC, id DESC LIMIT 500')).map(toRecovery);
  }
}

function toRecovery(r: Record<string, any>): RecoveryRecord {
  return {
    id: r.id, userId: r.user_id, requestedBy: r.requested_by, reason: r.reason, createdAt: r.created_at, lapsesAt: r.lapses_at,
    decidedBy: r.decided_by, decision: r.decision ?? null, decisionReason: r.decision_reason ?? null, decidedAt: r.decided_at,
    codeHash: r.code_hash ?? null, codeExpires: r.code_expires, usedAt: r.used_at,
  };
}
