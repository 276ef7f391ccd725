import type { AccountRecoveryStore, RecoveryRecord } from '../../access/account-recovery-store.ts';
import type { SqliteMetadataStore } from './metadata-store.ts';
import { on } from './transactions.ts';
import type { Tx } from '../../core/transactions.ts';

export class SqliteAccountRecoveryStore implements AccountRecoveryStore {
  readonly #meta: SqliteMetadataStore;

  constructor(meta: SqliteMetadataStore) {
    this.#meta = meta;
  }

  async add(tx: Tx, r: { id: string; userId: number; requestedBy: number; reason: string; createdAt: number; lapsesAt: number }): Promise<void> {
    on(tx).prepare('INSERT INTO account_recovery (id, user_id, requested_by, reason, created_at, lapses_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(r.id, r.userId, r.requestedBy, r.reason, r.createdAt, r.lapsesAt);
  }

  async decide(tx: Tx, id: string, d: { by: number | null; decision: 'approve' | 'deny' | 'cancel'; reason: string; at: number; codeHash?: string; codeExpires?: number }): Promise<void> {
    on(tx).prepare('UPDATE account_recovery SET decided_by = ?, decision = ?, decision_reason = ?, decided_at = ?, code_hash = ?, code_expires = ? WHERE id = ?')
      .run(d.by, d.decision, d.reason, d.at, d.codeHash ?? null, d.codeExpires ?? null, id);
  }

  async cancelOpen(tx: Tx, userId: number, at: number, reason: string): Promise<void> {
    on(tx).prepare("UPDATE account_recovery SET decision = 'cancel', decision_reason = ?, decided_at = ? WHERE user_id = ? AND decision IS NULL").run(reason, at, userId);
    on(tx).prepare("UPDATE account_recovery SET code_hash = NULL WHERE user_id = ? AND decision = 'approve' AND used_at IS NULL").run(userId);
  }

  async use(tx: Tx, userId: number, codeHash: string, now: number): Promise<string | null> {
    const row = on(tx).prepare("SELECT id FROM account_recovery WHERE user_id = ? AND decision = 'approve' AND code_hash = ? AND used_at IS NULL AND code_expires > ?").get(userId, codeHash, now) as { id: string } | undefined;
    if (!row) return null;
    on(tx).prepare('UPDATE account_recovery SET used_at = ? WHERE id = ?').run(now, row.id);
    return row.id;
  }

  async get(tx: Tx, id: string): Promise<RecoveryRecord | null> {
    const row = on(tx).prepare('SELECT * FROM account_recovery WHERE id = ?').get(id) as Record<string, any> | undefined;
    return row ? toRecovery(row) : null;
  }

  async list(tx: Tx): Promise<RecoveryRecord[]> {
    return (on(tx).prepare('SELECT * FROM account_recovery ORDER BY created_at DESC, id DESC LIMIT 500').all() as Record<string, any>[]).map(toRecovery);
  }
}

function toRecovery(r: Record<string, any>): RecoveryRecord {
  const n = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  return {
    id: r.id, userId: Number(r.user_id), requestedBy: Number(r.requested_by), reason: r.reason, createdAt: Number(r.created_at), lapsesAt: Number(r.lapses_at),
    decidedBy: n(r.decided_by), decision: r.decision ?? null, decisionReason: r.decision_reason ?? null, decidedAt: n(r.decided_at),
    codeHash: r.code_hash ?? null, codeExpires: n(r.code_expires), usedAt: n(r.used_at),
  };
}
