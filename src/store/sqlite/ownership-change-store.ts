import type { OwnershipChangeRecord, OwnershipChangeStore } from '../../access/ownership-change-store.ts';
import type { SqliteMetadataStore } from './metadata-store.ts';
import { on } from './transactions.ts';
import type { Tx } from '../../core/transactions.ts';

export class SqliteOwnershipChangeStore implements OwnershipChangeStore {
  readonly #meta: SqliteMetadataStore;

  constructor(meta: SqliteMetadataStore) {
    this.#meta = meta;
  }

  async add(tx: Tx, c: Omit<OwnershipChangeRecord, 'decidedBy' | 'decision' | 'decisionReason' | 'decidedAt'>): Promise<void> {
    on(tx).prepare('INSERT INTO ownership_change (id, mailbox, row, owner_before, owner_after, gains, staged_by, staged_by_label, staged_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(c.id, c.mailbox, JSON.stringify({ ...c.row, why: c.why }), c.ownerBefore, c.ownerAfter, JSON.stringify(c.gains), c.stagedBy, c.stagedByLabel, c.stagedAt);
  }

  async decide(tx: Tx, id: string, d: { by: number; decision: 'approve' | 'deny'; reason: string; at: number }): Promise<void> {
    on(tx).prepare('UPDATE ownership_change SET decided_by = ?, decision = ?, decision_reason = ?, decided_at = ? WHERE id = ?').run(d.by, d.decision, d.reason, d.at, id);
  }

  async get(tx: Tx, id: string): Promise<OwnershipChangeRecord | null> {
    const row = on(tx).prepare('SELECT * FROM ownership_change WHERE id = ?').get(id) as Record<string, any> | undefined;
    return row ? toChange(row) : null;
  }

  async list(tx: Tx): Promise<OwnershipChangeRecord[]> {
    return (on(tx).prepare('SELECT * FROM ownership_change ORDER BY staged_at DESC, id DESC LIMIT 500').all() as Record<string, any>[]).map(toChange);
  }

  async notApprovedFor(tx: Tx, mailbox: string): Promise<OwnershipChangeRecord[]> {
    return (on(tx).prepare("SELECT * FROM ownership_change WHERE mailbox = ? AND (decision IS NULL OR decision <> 'approve') ORDER BY staged_at DESC, id DESC").all(mailbox) as Record<string, any>[]).map(toChange);
  }
}

function toChange(r: Record<string, any>): OwnershipChangeRecord {
  const n = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  const { why, ...row } = JSON.parse(r.row);
  return {
    id: r.id, mailbox: r.mailbox, row, why, ownerBefore: r.owner_before ?? null, ownerAfter: r.owner_after, gains: JSON.parse(r.gains),
    stagedBy: n(r.staged_by), stagedByLabel: r.staged_by_label, stagedAt: Number(r.staged_at), decidedBy: n(r.decided_by), decision: r.decision ?? null,
    decisionReason: r.decision_reason ?? null, decidedAt: n(r.decided_at),
  };
}
